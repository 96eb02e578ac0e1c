"""The command line against hostile input: each case ends in one line and a non-zero exit, or in the work done.

Every case here was a traceback, a hang, a silent exit or a lost file before
it was fixed; the test reproduces it and asserts the promise the README makes.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vae_tutorial.cli
import vae_tutorial.device as device_module
import vae_tutorial.train as train_module
from conftest import IDX_NAMES, Outcome, write_idx
from vae_tutorial.checkpoint import load_checkpoint
from vae_tutorial.cli import main
from vae_tutorial.config import ModelConfig, TrainConfig
from vae_tutorial.errors import describe_error
from vae_tutorial.runs.cache import cached_fit

ROOT = Path(__file__).resolve().parents[1]


def _run(argv, stdin_shell: str = "", env: dict | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    """The command line in a child process, its streams set up by a shell (e.g. `2>&-` closes stderr)."""
    command = " ".join([sys.executable, "-m", "vae_tutorial", *(f"'{a}'" for a in map(str, argv))]) + stdin_shell
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(["sh", "-c", command], env=environment, cwd=cwd, capture_output=True, timeout=300)


# Hangs and silent failures


def test_a_sweep_refuses_an_endless_iwae_before_training(cli, tiny_data_root, tmp_path):
    cli("sweep", "--betas", "1", "2", "--epochs", "1", "--data-dir", tiny_data_root, "--hidden-dim", "8",
        "--latent-dim", "2", "--no-progress", "--iwae-samples", "100000000000", "--out", tmp_path / "sweep").failed(
        1, "IWAE with K=100000000000 on 2 models would take about", "--allow-slow")
    assert not (tmp_path / "sweep").exists()


@pytest.mark.parametrize("kind", ["fifo", "device", "trailing slash", "dangling link", "lock", "key",
                                  "sweep table", "temporary file", "large file"])
def test_json_targets_that_are_not_a_users_file(kind, cli, finished_run, tmp_path):
    target = {"fifo": tmp_path / "pipe", "device": "/dev/zero", "empty": "", "trailing slash": f"{tmp_path}/new/",
              "dangling link": tmp_path / "link", "lock": finished_run / ".vae_tutorial.lock",
              "key": tmp_path / "key.json", "sweep table": tmp_path / "sweep.md",
              "temporary file": tmp_path / ".e.json.abc.tmp", "large file": tmp_path / "big.json"}[kind]
    if kind == "fifo":
        os.mkfifo(target)  # reading it would block for ever
    if kind == "dangling link":
        os.symlink(tmp_path / "nowhere", target)
    if kind == "large file":
        with open(target, "wb") as file:
            file.truncate(1 << 30)  # sparse: a gigabyte that reads as zeros
    cli("evaluate", finished_run / "checkpoint.pt", "--json", target).failed(1, "--json")
    assert not (finished_run / ".vae_tutorial.lock").exists()


@pytest.mark.parametrize("closed", ["2>&-", ">&-", ">/dev/full", "2>/dev/full"])
def test_closed_or_full_streams_never_stop_the_work(closed, tiny_data_root, tmp_path):
    result = _run(["train", "--epochs", "2", "--data-dir", tiny_data_root, "--hidden-dim", "8", "--latent-dim", "2",
                   "--batch-size", "4", "--out", tmp_path / "run"], f" {closed}")
    assert result.returncode == 0, result.stderr
    assert len(load_checkpoint(tmp_path / "run" / "checkpoint.pt")["history"]) == 2
    evaluated = _run(["evaluate", tmp_path / "run" / "checkpoint.pt", "--data-dir", tiny_data_root,
                      "--json", tmp_path / "e.json"], f" {closed}")
    assert evaluated.returncode == 0 and json.loads((tmp_path / "e.json").read_text())["test_images"] == 4


def test_a_path_the_terminal_cannot_spell(tiny_data_root, tmp_path):
    result = _run(["train", "--epochs", "1", "--data-dir", tiny_data_root, "--hidden-dim", "8", "--latent-dim", "2",
                   "--out", tmp_path / "ü"], env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0 and (tmp_path / "ü" / "checkpoint.pt").exists()
    assert b"\\xfc" in result.stdout and b"done: test negative ELBO" in result.stdout


def test_messages_say_what_failed_and_where():
    assert describe_error(MemoryError()) == "out of memory"
    assert describe_error(PermissionError(13, "Permission denied", "/data/x")) == "Permission denied: /data/x"


# Data files


def _idx_header(path: Path, count: int, item_shape: tuple[int, ...]) -> None:
    """An IDX file whose header says `count` items, its size matching (sparse: nothing is really written)."""
    header = bytes([0, 0, 8, 1 + len(item_shape)]) + b"".join(n.to_bytes(4, "big") for n in (count, *item_shape))
    with open(path, "wb") as file:
        file.write(header)
        file.truncate(len(header) + count * math.prod(item_shape))


@pytest.mark.parametrize("case, fragment", [
    ("absurd count", "holds 10001 items"), ("no images", "holds 0 items"), ("labels short", "do not belong together"),
    ("label 200", "label 200"), ("folder", "is a folder"), ("unreadable", "Permission denied"),
])
def test_malformed_data_files(case, fragment, finished_run, tiny_data_root, monkeypatch, capsys):
    capsys.readouterr()
    raw = tiny_data_root / "FashionMNIST" / "raw"
    images, labels = (raw / name for name in IDX_NAMES[False])
    if case == "absurd count":
        _idx_header(images, 10_001, (28, 28))
    elif case == "no images":
        _idx_header(images, 0, (28, 28))
    elif case == "labels short":
        write_idx(labels, torch.zeros(3, dtype=torch.uint8))
    elif case == "label 200":
        write_idx(labels, torch.full((4,), 200, dtype=torch.uint8))
    elif case == "folder":
        images.unlink()
        images.mkdir()
    else:  # as chmod 000 does for a user other than root (the tests may run as root)
        real_open = Path.open
        monkeypatch.setattr(Path, "open", lambda self, *a, **k: _denied(self) if self == images else real_open(self, *a, **k))
    code = main(["evaluate", str(finished_run / "checkpoint.pt"), "--data-dir", str(tiny_data_root)])
    result = Outcome(code, *capsys.readouterr()).failed(1, fragment)
    assert str(raw) in result.err  # the message names the file or folder


def _denied(path):
    raise PermissionError(13, "Permission denied", str(path))


def test_an_empty_data_variable_is_refused_and_nothing_is_downloaded(cli, finished_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAE_TUTORIAL_DATA", "")
    cli("evaluate", finished_run / "checkpoint.pt").failed(1, "VAE_TUTORIAL_DATA is set but blank")
    assert not (tmp_path / "data").exists()


# Memory


def test_a_step_that_cannot_fit_is_refused_up_front(cli, tiny_train, tmp_path, monkeypatch):
    monkeypatch.setattr(device_module, "available_bytes", lambda device: 8 * 2**30)
    cli(*tiny_train, "--hidden-dim", "20000", "--batch-size", "60000", "--out", tmp_path / "run").failed(
        1, "with batches of 60000 needs about", "GiB", "--batch-size")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("latent", ["1000000000000000000", "100000000000000000000000"])
def test_sizes_beyond_what_torch_can_count(latent, cli, tiny_train, tmp_path, monkeypatch):
    cli(*tiny_train, "--latent-dim", latent, "--out", tmp_path / "run").failed(2, "latent dim must be an integer from 1 to")
    monkeypatch.setattr("vae_tutorial.config.MAX_WIDTH", 10**30)  # past the flag's bound, the size check holds too
    monkeypatch.setattr("vae_tutorial.config.MAX_INT", 10**30)  # (and past the bound on any integer setting)
    cli(*tiny_train, "--latent-dim", latent, "--out", tmp_path / "run").failed(1, "too large to build")


def test_running_out_of_memory_during_a_run_keeps_the_last_epoch(cli, tiny_train, tmp_path, monkeypatch):
    real_epoch = train_module._train_epoch

    def second_epoch_fails(*args, **kwargs):
        if args[8] == 2:  # _train_epoch(model, optimizer, data, config, step, shuffle_rng, noise_rng, progress, epoch, hint)
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 4800000000 bytes.")
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(train_module, "_train_epoch", second_epoch_fails)
    cli(*tiny_train, "--epochs", "3", "--out", tmp_path / "run").failed(
        1, "ran out of cpu memory while training", "(epoch 1)")


# Crafted checkpoints


def _crafted(run: Path, tmp_path: Path, change) -> Path:
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    change(state)
    torch.save(state, tmp_path / "crafted.pt")
    return tmp_path / "crafted.pt"


CRAFTED = {
    "empty train_config": (lambda s: s.update(train_config={}), "train_config lacks"),
    "train_config a list": (lambda s: s.update(train_config=[1, 2]), "not a table of settings"),
    "history of ints": (lambda s: s.update(history=[1, 2]), "is a int, not a record"),
    "history an int": (lambda s: s.update(history=5), "history is not a list"),
    "no step": (lambda s: s["history"][0].pop("step"), "no step count"),
    "beta a string": (lambda s: s["train_config"].update(beta="4"), "beta must be a finite number"),
    # weights against settings: evaluate counts them before it builds the model (a crafted size costs no
    # memory), resume as it loads them; either way one line naming the file, in words that differ
    "class count against weights": (lambda s: s["model_config"].update(conditional=True, num_classes=5),
                                    "crafted.pt"),
    "extra state key": (lambda s: s["model_state"].update(extra=torch.zeros(1)), "crafted.pt"),
    "same count, other names": (lambda s: s["model_state"].update(extra=s["model_state"].pop(next(iter(s["model_state"])))),
                                "state_dict"),
    "later format": (lambda s: s.update(format="vae_tutorial.checkpoint/2"), "written by a newer vae_tutorial"),
    "foreign format": (lambda s: s.update(format="something/1"), "not a vae_tutorial checkpoint"),
    "model_state a list": (lambda s: s.update(model_state=[1]), "model_state is not a table"),
}


@pytest.mark.parametrize("name", list(CRAFTED))
@pytest.mark.parametrize("command", ["evaluate", "resume"])
def test_crafted_checkpoints_are_refused_in_one_line(name, command, cli, tiny_train, finished_run, tmp_path):
    change, fragment = CRAFTED[name]
    path = _crafted(finished_run, tmp_path, change)
    argv = ["evaluate", path] if command == "evaluate" else [*tiny_train, "--epochs", "2", "--resume", path,
                                                              "--out", tmp_path / "R"]
    cli(*argv).failed(1, "crafted.pt", fragment)
    assert not (tmp_path / "R").exists()


def test_a_resumed_history_holding_a_nan_keeps_the_new_epoch(cli, tiny_train, finished_run, tmp_path):
    path = _crafted(finished_run, tmp_path, lambda s: s["history"][0].update(train_loss=float("nan")))
    assert cli(*tiny_train, "--epochs", "2", "--resume", path, "--out", tmp_path / "R").code == 0
    history = json.loads((tmp_path / "R" / "metrics.json").read_text())  # strict JSON: the NaN is null
    assert [r["epoch"] for r in history] == [1, 2] and history[0]["train_loss"] is None


def test_an_infinite_kl_is_reported_not_discarded(cli, finished_run, tmp_path):
    def blow_up_one_variance(state):
        bias = state["model_state"]["encoder.gaussian.bias"]  # (2D,): means, then log-variances
        bias[-1] = 1e4  # exp(1e4) = inf in float32: that dimension's KL is infinite
    path = _crafted(finished_run, tmp_path, blow_up_one_variance)
    result = cli("evaluate", path, "--json", tmp_path / "e.json")
    # reported, not discarded; but a loss that is no number fails the command (tests/test_sixth_hostile_pass.py)
    assert result.code == 1 and "the report above shows where" in result.err, result.err
    report = json.loads((tmp_path / "e.json").read_text())
    assert None in report["kl_per_dim"] and "test_loss" in report


# Files where they do not belong


def test_resuming_a_cached_run_in_place_is_refused(cli, tiny_train, finished_run):
    (finished_run / "key.json").write_text("{}")
    cli(*tiny_train, "--epochs", "2", "--resume", finished_run / "checkpoint.pt").failed(1, "is a cached run")
    assert len(load_checkpoint(finished_run / "checkpoint.pt")["history"]) == 1


@pytest.mark.parametrize("kind, fragment", [("file", "is a file, not a folder"), ("dev null", "is a file, not a folder"),
                                            ("dangling link", "broken symbolic link")])
def test_out_that_is_not_a_folder(kind, fragment, cli, tiny_train, tmp_path):
    out = {"file": tmp_path / "notes.txt", "dev null": Path("/dev/null"), "dangling link": tmp_path / "link"}[kind]
    if kind == "file":
        out.write_text("mine")
    if kind == "dangling link":
        os.symlink(tmp_path / "nowhere", out)
    cli(*tiny_train, "--out", out).failed(1, fragment)


def test_a_lock_that_cannot_be_removed_does_not_hide_the_real_error(cli, tiny_train, tmp_path, monkeypatch):
    real_unlink = Path.unlink

    def read_only_lock(self, *args, **kwargs):
        if self.name == ".vae_tutorial.lock":
            raise PermissionError(13, "Permission denied", str(self))
        return real_unlink(self, *args, **kwargs)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "unlink", read_only_lock)
    monkeypatch.setattr(train_module, "save_checkpoint", full_disk)
    cli(*tiny_train, "--out", tmp_path / "run").failed(1, "cannot save epoch 1", "No space left on device")


def test_a_corrupt_cached_checkpoint_is_set_aside_and_trained_again(toy_split, tmp_path, capfd):
    model, config = ModelConfig(hidden_dim=8, latent_dim=2), TrainConfig(epochs=1, batch_size=16, device="cpu")
    cached_fit(model, config, toy_split, toy_split, root=tmp_path)
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (folder / "checkpoint.pt").write_bytes(b"half a checkpoint")
    capfd.readouterr()
    result = cached_fit(model, config, toy_split, toy_split, root=tmp_path)
    assert not result.cached and (folder / "checkpoint.pt.unreadable").read_bytes() == b"half a checkpoint"
    assert "could not be read" in capfd.readouterr().err and load_checkpoint(folder / "checkpoint.pt")


# Misleading messages


@pytest.mark.parametrize("flags, fragment", [
    (["--capacity", "5", "--beta", "4"], "replaces beta"),
    (["--capacity", "5", "--warmup-steps", "100"], "replaces beta and its warm-up"),
    (["--gamma", "5"], "only act with a capacity target"),
    (["--capacity-steps", "50"], "only act with a capacity target"),
    (["--likelihood", "gaussian", "--gaussian-sigma", "1e-320"], ">= 0.0001"),
])
def test_flags_that_would_be_ignored_or_blamed_wrongly(flags, fragment, cli, tiny_train, tmp_path):
    cli(*tiny_train, *flags, "--out", tmp_path / "run").failed(2, fragment)
    assert not (tmp_path / "run").exists()


def test_resume_refuses_flags_it_would_drop(cli, tiny_train, finished_run, tmp_path):
    cli(*tiny_train, "--epochs", "2", "--resume", finished_run / "checkpoint.pt", "--beta", "4", "--conditional",
        "--out", tmp_path / "R").failed(1, "--beta 4.0 (the checkpoint has 1.0)", "--conditional True")
    assert cli(*tiny_train, "--epochs", "2", "--resume", finished_run / "checkpoint.pt", "--beta", "1",
               "--out", tmp_path / "R").code == 0  # the same value typed again is fine


def test_ctrl_c_or_a_broken_torch_while_importing(cli, monkeypatch):
    class Failing:
        def __init__(self, error):
            self.error = error

        def find_spec(self, name, path=None, target=None):
            if name == "vae_tutorial.cli.commands":
                raise self.error
            return None

    monkeypatch.delitem(sys.modules, "vae_tutorial.cli.commands", raising=False)
    monkeypatch.delattr(vae_tutorial.cli, "commands", raising=False)
    for error, code, fragment in ((KeyboardInterrupt(), 130, "interrupted"),
                                  (ImportError("libtorch.so: cannot map", name="torch"), 1, "cannot import torch")):
        monkeypatch.setattr(sys, "meta_path", [Failing(error), *sys.meta_path])
        cli("evaluate", "x.pt").failed(code, fragment)
        sys.meta_path.pop(0)


# A second adversarial pass (after the fixes above)


def test_a_crafted_optimizer_setting_is_refused_before_the_first_step(cli, tiny_train, finished_run, tmp_path):
    path = _crafted(finished_run, tmp_path, lambda s: s["optimizer_state"]["param_groups"][0].update(lr="fast"))
    cli(*tiny_train, "--epochs", "2", "--resume", path, "--out", tmp_path / "R").failed(1, "crafted.pt", "'fast'")


@pytest.mark.parametrize("weight, fragment", [(torch.zeros(8, dtype=torch.complex64), "complex64 values"),
                                              (torch.full((8,), float("nan")), "NaN or infinite")])
@pytest.mark.parametrize("command", ["evaluate", "resume"])
def test_weights_that_no_run_saves(weight, fragment, command, cli, tiny_train, finished_run, tmp_path):
    path = _crafted(finished_run, tmp_path, lambda s: s["model_state"].update({"decoder.hidden.bias": weight}))
    argv = ["evaluate", path] if command == "evaluate" else [*tiny_train, "--epochs", "2", "--resume", path]
    cli(*argv).failed(1, "decoder.hidden.bias", fragment)


def test_minus_zero_is_zero(cli, tiny_data_root, tmp_path):
    assert cli("sweep", "--betas", "0", "-0", "--epochs", "1", "--data-dir", tiny_data_root, "--hidden-dim", "8",
               "--latent-dim", "2", "--no-progress", "--out", tmp_path / "sweep").code == 0
    assert len(list((tmp_path / "sweep" / "runs").iterdir())) == 1
    assert TrainConfig(beta=-0.0).beta.hex() == "0x0.0p+0"


@pytest.mark.parametrize("flag", ["--out", "--resume", "--data-dir"])
def test_an_empty_path_is_a_bad_flag_not_the_default(flag, cli, tiny_train, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli(*tiny_train, flag, "").failed(2, flag, "must not be empty")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("signals", [("SIGTERM", "SIGINT", "SIGHUP"), ("SIGTERM", "SIGTERM"), ("SIGINT", "SIGHUP")])
def test_signals_in_quick_succession_end_like_the_first(signals, tiny_train, tmp_path):
    import signal as signals_module
    import time

    from test_cli_signals import _start

    proc = _start([*tiny_train, "--epochs", "100000", "--out", tmp_path / "run"])
    try:
        assert "training a" in proc.stdout.readline() and proc.stdout.readline().startswith("epoch   1")
        for name in signals:
            proc.send_signal(getattr(signals_module, name))
            time.sleep(0.05)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + getattr(signals_module, signals[0]), err
    assert err.count("\n") == 1 and err.startswith("interrupted: the last good checkpoint is"), err


@pytest.mark.parametrize("content, fragment", [(b"\0\0\x08", "ends inside its header"), (b"", "the file is empty"),
                                               ("extra", "extra bytes at its end")])
def test_idx_files_cut_short_or_too_long_say_which(content, fragment, cli, finished_run, tiny_data_root):
    images = tiny_data_root / "FashionMNIST" / "raw" / IDX_NAMES[False][0]
    images.write_bytes(images.read_bytes() + b"\0" if content == "extra" else content)
    cli("evaluate", finished_run / "checkpoint.pt", "--data-dir", tiny_data_root).failed(1, fragment)
