"""A resumed run never overwrites a newer one, and every message tells the truth (issue 32).

Each case was a lost file, a silent surprise or a misleading line before it was fixed; beside each one
the issue named sits a sibling it did not name, which had the same cause.
"""

import json
import os
import signal
import stat
from pathlib import Path

import pytest
import torch

import vae_tutorial.cli.commands as commands
import vae_tutorial.device as device_module
import vae_tutorial.losses as losses
import vae_tutorial.runs.pictures as pictures
import vae_tutorial.train as train_module
from vae_tutorial.book.chapter import QUICK_ENV_VAR, budget
from vae_tutorial.book.exercises import SOLUTIONS_ENV_VAR, checking_solutions
from vae_tutorial.checkpoint import load_checkpoint
from vae_tutorial.cli.main import UsageError, build_parser, main
from vae_tutorial.config import ModelConfig, TrainConfig, env_switch
from vae_tutorial.data import Split
from vae_tutorial.errors import ConfigError, TrainingDiverged, printable
from vae_tutorial.posterior import log_aggregate_posterior
from vae_tutorial.runs.cache import CACHE_ENV_VAR, cache_root, cached_fit

ROOT = Path(__file__).resolve().parents[1]
SMALL = ModelConfig(hidden_dim=8, latent_dim=2)


def _epochs(folder: Path) -> int:
    return len(load_checkpoint(folder / "checkpoint.pt")["history"])


# Lost work: a resume that read the checkpoint before another run rewrote it


@pytest.mark.parametrize("meanwhile", ["a resume to 3 epochs", "a fresh run of 2 epochs"])
def test_a_resume_never_overwrites_the_run_that_rewrote_its_checkpoint(meanwhile, cli, tiny_train, finished_run,
                                                                       monkeypatch):
    """The issue's case (another resume finished first) and its sibling (the folder's run was started afresh)."""
    checkpoint = finished_run / "checkpoint.pt"
    real_load_data = commands.load_data
    other = [*tiny_train, "--epochs", "3", "--resume", checkpoint] if meanwhile.startswith("a resume") else \
        [*tiny_train, "--epochs", "2", "--out", finished_run]

    def another_run_finishes_first(*args, **kwargs):  # between reading the checkpoint and taking the folder's lock
        monkeypatch.setattr(commands, "load_data", real_load_data)
        if not meanwhile.startswith("a resume"):
            for name in ("checkpoint.pt", "metrics.json", "reconstructions.png", "samples.png"):
                (finished_run / name).unlink()
        assert main([str(a) for a in other]) == 0
        return real_load_data(*args, **kwargs)

    monkeypatch.setattr(commands, "load_data", another_run_finishes_first)
    result = cli(*tiny_train, "--epochs", "2", "--resume", checkpoint, may_change=("A",))
    result.failed(1, "was rewritten by another run after this one read it", "nothing was written")
    newer = 3 if meanwhile.startswith("a resume") else 2
    assert _epochs(finished_run) == newer
    assert len(json.loads((finished_run / "metrics.json").read_text())) == newer


def test_a_sweep_checks_for_a_training_run_under_its_lock(cli, tiny_data_root, tmp_path, monkeypatch):
    """Sibling: the sweep looked for a run's files before taking the folder, so a run finishing then was missed."""
    real_claim = commands.claimed_folder

    def a_run_finishes_then(out, *args, **kwargs):
        (Path(out) / "checkpoint.pt").write_bytes(b"a run that has just finished")
        return real_claim(out, *args, **kwargs)

    (tmp_path / "sweep").mkdir()
    monkeypatch.setattr(commands, "claimed_folder", a_run_finishes_then)
    cli("sweep", "--betas", "1", "--epochs", "1", "--data-dir", tiny_data_root, "--hidden-dim", "8", "--latent-dim", "2",
        "--no-progress", "--out", tmp_path / "sweep").failed(1, "holds a training run")
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == ["checkpoint.pt"]


# Lost work: pictures that a stopped run never wrote


def test_sigterm_while_the_pictures_are_written_says_how_to_make_them(cli, tiny_train, tmp_path, monkeypatch):
    real_save_image = pictures.save_image

    def terminated_meanwhile(*args, **kwargs):
        monkeypatch.setattr(pictures, "save_image", real_save_image)
        os.kill(os.getpid(), signal.SIGTERM)  # held back until reconstructions.png is whole, then acted on
        return real_save_image(*args, **kwargs)

    monkeypatch.setattr(pictures, "save_image", terminated_meanwhile)
    out = tmp_path / "run"
    result = cli(*tiny_train, "--out", out)
    result.failed(143, "holds all 1 epochs, but samples.png was not written",
                  f"vae-tutorial train --resume {out / 'checkpoint.pt'} --epochs 1")
    assert (out / "reconstructions.png").exists() and not (out / "samples.png").exists()
    made = cli(*tiny_train, "--resume", out / "checkpoint.pt", "--epochs", "1", may_change=("run",))
    assert made.code == 0 and "writing the missing samples.png" in made.out, made.err
    assert (out / "samples.png").read_bytes().startswith(b"\x89PNG") and _epochs(out) == 1


@pytest.mark.parametrize("lost", [("samples.png",), ("reconstructions.png", "samples.png")])
def test_a_full_disk_or_a_kill_while_the_pictures_are_written(lost, cli, tiny_train, finished_run):
    """Sibling: no signal to catch (kill -9, a full disk): the pictures are missing all the same, and a resume makes them."""
    before = {name: (finished_run / name).read_bytes() for name in ("checkpoint.pt", "metrics.json")}
    for name in lost:
        (finished_run / name).unlink()
    made = cli(*tiny_train, "--resume", finished_run / "checkpoint.pt", "--epochs", "1", may_change=("A",))
    assert made.code == 0, made.err
    assert all((finished_run / name).exists() for name in ("reconstructions.png", "samples.png"))
    assert {name: (finished_run / name).read_bytes() for name in before} == before  # nothing trained
    cli(*tiny_train, "--resume", finished_run / "checkpoint.pt", "--epochs", "1").failed(1, "has already trained 1 epochs")


# Silent surprises: abbreviated flags


def test_a_flag_that_is_a_prefix_of_another_is_not_that_flag(cli, tiny_data_root, tmp_path):
    cli("sweep", "--betas", "1", "2", "--beta", "4", "--epochs", "1", "--data-dir", tiny_data_root,
        "--out", tmp_path / "sweep").failed(2, "unrecognized arguments: --beta 4")
    assert not (tmp_path / "sweep").exists()


def _long_options(parser) -> dict[str, set[str]]:
    commands_ = parser._subparsers._group_actions[0].choices
    return {name: {o for a in sub._actions for o in a.option_strings if o.startswith("--")}
            for name, sub in commands_.items()}


@pytest.mark.parametrize("command", ["train", "evaluate", "sweep"])
def test_no_command_takes_an_abbreviated_flag(command):
    parser = build_parser()
    options = _long_options(parser)[command]
    base = {"train": [], "evaluate": ["c.pt"], "sweep": ["--betas", "1"]}[command]
    prefixes = {o[:n] for o in options for n in range(3, len(o)) if o[:n] not in options}
    assert len(prefixes) > 20
    for prefix in sorted(prefixes):
        with pytest.raises(UsageError, match="unrecognized arguments"):
            parser.parse_args([command, *base, prefix, "1"])


def test_betas_typed_twice_are_all_kept():
    """Sibling: a second --betas replaced the first one's betas as silently as --beta did."""
    assert build_parser().parse_args(["sweep", "--betas", "1", "2", "--betas", "4"]).betas == [1.0, 2.0, 4.0]


# Silent surprises: environment variables


@pytest.mark.parametrize("text", ["on", "y", "2", "1.0", "off", "ja", " 1 1"])
@pytest.mark.parametrize("name, read", [(QUICK_ENV_VAR, budget), (SOLUTIONS_ENV_VAR, checking_solutions)])
def test_a_switch_that_is_neither_on_nor_off_is_refused(text, name, read, monkeypatch):
    """VAE_TUTORIAL_QUICK as the issue found it; VAE_TUTORIAL_SOLUTIONS is its sibling (`on` checked nothing)."""
    monkeypatch.setenv(name, text)
    with pytest.raises(ConfigError, match=f"{name}=.* is neither on"):
        read()


@pytest.mark.parametrize("text, on", [("1", True), ("true", True), ("YES", True), (" yes ", True), ("0", False),
                                      ("false", False), ("No", False), ("", False), (None, False)])
def test_the_documented_switch_values(text, on, monkeypatch):
    if text is None:
        monkeypatch.delenv(QUICK_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(QUICK_ENV_VAR, text)
    assert budget().quick is on and env_switch(QUICK_ENV_VAR) is on


@pytest.mark.parametrize("text", ["", " ", "\t"])
def test_a_blank_cache_folder_is_refused(text, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CACHE_ENV_VAR, text)
    with pytest.raises(ConfigError, match=f"{CACHE_ENV_VAR} is set but blank"):
        cache_root()
    assert cache_root(tmp_path / "mine") == tmp_path / "mine"  # an argument still wins


def test_under_ci_takes_the_documented_values(monkeypatch):
    """Sibling: `CI=false` (or 0) counted as CI, so tests that should skip failed."""
    from conftest import under_ci

    for text, on in (("true", True), ("1", True), ("false", False), ("0", False), ("", False)):
        monkeypatch.setenv("CI", text)
        assert under_ci() is on
    monkeypatch.setenv("CI", "maybe")
    with pytest.raises(ConfigError, match="CI='maybe' is neither on"):
        under_ci()


def test_the_readme_names_every_variable_the_package_reads():
    readme = (ROOT / "README.md").read_text()
    names = {line.split('"')[1] for path in (ROOT / "vae_tutorial").rglob("*.py")
             for line in path.read_text().splitlines() if line.startswith(tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
             and "_ENV_VAR = " in line}
    assert {"VAE_TUTORIAL_DATA", "VAE_TUTORIAL_CACHE", "VAE_TUTORIAL_QUICK", "VAE_TUTORIAL_SOLUTIONS"} <= names
    for name in names | {"CI", "VAE_TUTORIAL_AXE"}:
        assert f"`{name}`" in readme.split("### Environment variables")[1], name


# Silent surprises: numbers float32 cannot hold


@pytest.mark.parametrize("flags, fragment", [
    (["--likelihood", "gaussian", "--gaussian-sigma", "1e308"], "gaussian sigma must be"),
    (["--capacity", "1e308"], "capacity must be"),  # sibling: then blamed on --gamma
    (["--lr", "1e39"], "learning rate must be"),  # sibling
])
def test_a_setting_beyond_float32_is_refused(flags, fragment, cli, tiny_train, tmp_path):
    cli(*tiny_train, *flags, "--out", tmp_path / "run").failed(2, fragment, "at most 1e+38")
    assert not (tmp_path / "run").exists()


def test_a_beta_beyond_float32_is_refused_in_a_sweep(cli, tiny_data_root, tmp_path):
    cli("sweep", "--betas", "1", "1e308", "--data-dir", tiny_data_root, "--out", tmp_path / "sweep").failed(
        2, "--betas", "at most 1e+38")
    assert not (tmp_path / "sweep").exists()


@pytest.mark.parametrize("stop", ["diverged", "Ctrl-C"])
def test_a_sweep_model_that_stops_in_its_first_epoch_leaves_no_key_alone(stop, cli, tiny_data_root, tmp_path,
                                                                          monkeypatch):
    """The issue's divergence (no beta, no run named; a folder holding only key.json), and its sibling, Ctrl-C."""
    real_epoch = train_module._train_epoch

    def beta_2_fails(model, optimizer, data, config, *args, **kwargs):
        if config.beta == 2:
            if stop == "Ctrl-C":
                raise KeyboardInterrupt
            raise TrainingDiverged("the loss became inf at epoch 1, step 0; this is before any update")
        return real_epoch(model, optimizer, data, config, *args, **kwargs)

    monkeypatch.setattr(train_module, "_train_epoch", beta_2_fails)
    result = cli("sweep", "--betas", "1", "2", "--epochs", "1", "--data-dir", tiny_data_root, "--hidden-dim", "8",
                 "--latent-dim", "2", "--no-progress", "--out", tmp_path / "sweep")
    if stop == "diverged":
        result.failed(1, "training the mlp VAE (latent 2, beta 2,", "nothing was cached")
    else:
        result.failed(130, "interrupted")
    runs = sorted(p.name for p in (tmp_path / "sweep" / "runs").iterdir())
    assert len(runs) == 1 and "-beta1-" in runs[0]  # beta 2's folder is gone, not left holding key.json


# Learned priors with many components


def test_a_mixture_is_scored_in_blocks_with_the_same_values_and_gradients(monkeypatch):
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(7, 5, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    means, logvars = torch.randn(11, 3, generator=generator), torch.randn(11, 3, generator=generator)
    weights = torch.log_softmax(torch.randn(11, generator=generator), dim=0)
    whole = losses.log_gaussian_mixture(z, means, logvars, weights)
    (grad_whole,) = torch.autograd.grad(whole.sum(), z)
    monkeypatch.setattr(losses, "MIXTURE_BLOCK", 40)  # 3 codes per block
    blocked = losses.log_gaussian_mixture(z, means, logvars, weights)
    (grad_blocked,) = torch.autograd.grad(blocked.sum(), z)
    assert blocked.shape == (7, 5)
    torch.testing.assert_close(blocked, whole)
    torch.testing.assert_close(grad_blocked, grad_whole)


def _largest_block(monkeypatch) -> list[int]:
    sizes = []
    real_block = losses._log_mixture_block

    def spy(z, precision, *args):
        sizes.append(z.shape[0] * precision.shape[0])
        return real_block(z, precision, *args)

    monkeypatch.setattr(losses, "_log_mixture_block", spy)
    return sizes


def test_many_components_never_form_a_matrix_of_codes_by_components(monkeypatch):
    """The test set is scored 1,000 images at a time: against 100,000 components that was 8e8 numbers a matrix."""
    sizes = _largest_block(monkeypatch)
    losses.log_gaussian_mixture(torch.zeros(1000, 2), torch.zeros(100_000, 2), torch.zeros(100_000, 2))
    assert sum(sizes) == 1000 * 100_000 and max(sizes) <= losses.MIXTURE_BLOCK


def test_the_aggregate_posterior_of_many_images_is_scored_in_blocks(monkeypatch):
    """Sibling: the aggregate posterior is a mixture with one component per image (10,000 in chapter 12)."""
    sizes = _largest_block(monkeypatch)
    mu, logvar = torch.zeros(3000, 2), torch.zeros(3000, 2)
    log_aggregate_posterior(torch.zeros(3000, 2), mu, logvar)
    assert sum(sizes) == 3000 * 3000 and max(sizes) <= losses.MIXTURE_BLOCK


def test_a_prior_too_large_for_memory_is_refused_before_the_work_with_what_helps(cli, tiny_train, tmp_path,
                                                                                 monkeypatch):
    standard = device_module.training_bytes(ModelConfig(), 64)
    mixture = ModelConfig(prior="mixture", prior_components=100_000)
    assert device_module.training_bytes(mixture, 64) - standard >= device_module.prior_bytes(mixture, 64) > 2**28
    monkeypatch.setattr(device_module, "available_bytes", lambda device: (standard + 2**28))
    cli(*tiny_train, "--hidden-dim", "400", "--latent-dim", "20", "--batch-size", "64", "--prior", "mixture",
        "--prior-components", "100000", "--out", tmp_path / "run").failed(
        1, "a mixture prior of 100,000 components", "fewer --prior-components (this mixture prior has 100,000)")
    assert not (tmp_path / "run").exists()
    assert cli(*tiny_train, "--out", tmp_path / "small").code == 0  # the standard prior still fits


def test_running_out_of_memory_while_timing_the_iwae_is_one_line(cli, finished_run, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 4000000000 bytes.")

    monkeypatch.setattr(commands, "iwae_seconds_estimate", out_of_memory)
    cli("evaluate", finished_run / "checkpoint.pt", "--iwae-samples", "5000").failed(
        1, "ran out of cpu memory timing the IWAE on one batch", "nothing was written")


# Messages that mislead: blame and advice for a resumed run


def _poisoned(split: Split) -> Split:
    return Split(split.images.clone().fill_(float("nan")), split.labels)


def test_an_infinite_loss_at_a_resumed_runs_first_step_is_not_blamed_on_the_lr(toy_split, tmp_path):
    config = TrainConfig(epochs=1, batch_size=16, device="cpu")
    train_module.fit(SMALL, config, toy_split, toy_split, out_dir=tmp_path)
    with pytest.raises(TrainingDiverged, match="before any update") as caught:
        train_module.fit(SMALL, TrainConfig(epochs=2, batch_size=16, device="cpu"), _poisoned(toy_split), toy_split,
                         out_dir=tmp_path, resume=tmp_path / "checkpoint.pt")
    assert "--lr" not in str(caught.value) and "step 4" in str(caught.value)


def test_a_resumed_capacity_run_is_not_told_to_change_its_gamma(toy_split, tmp_path):
    """Sibling: `try a smaller --gamma` to a resumed run, which refuses --gamma beside --resume."""
    config = TrainConfig(epochs=1, batch_size=16, device="cpu", capacity_max=20.0)
    train_module.fit(SMALL, config, toy_split, toy_split, out_dir=tmp_path)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    state["train_config"]["gamma"] = 1e38  # |KL - C| of over ten nats times 1e38 overflows float32
    torch.save(state, tmp_path / "checkpoint.pt")
    with pytest.raises(TrainingDiverged, match="a resumed run keeps its --gamma: start a new run"):
        train_module.fit(SMALL, TrainConfig(epochs=2, batch_size=16, device="cpu"), toy_split, toy_split,
                         out_dir=tmp_path, resume=tmp_path / "checkpoint.pt")


def _gaussian_run(cli, tiny_train, tmp_path, *flags) -> Path:
    assert cli(*tiny_train, "--likelihood", "gaussian", *flags, "--out", tmp_path / "G").code == 0
    return tmp_path / "G" / "checkpoint.pt"


def test_following_the_advice_beside_resume_earns_no_second_refusal(cli, tiny_train, tmp_path):
    checkpoint = _gaussian_run(cli, tiny_train, tmp_path, "--gaussian-sigma", "0.5")
    result = cli(*tiny_train, "--epochs", "2", "--resume", checkpoint, "--gaussian-sigma", "0.5", may_change=("G",))
    assert result.code == 0 and _epochs(checkpoint.parent) == 2, result.err
    cli(*tiny_train, "--epochs", "3", "--resume", checkpoint, "--gaussian-sigma", "0.25").failed(
        1, "--gaussian-sigma 0.25 (the checkpoint has 0.5)", "drop the flag, or start a new run")


def test_capacity_flags_beside_resume_are_checked_against_the_checkpoint(cli, tiny_train, tmp_path):
    """Sibling: --capacity-steps beside --resume was refused for want of a --capacity the checkpoint has."""
    assert cli(*tiny_train, "--capacity", "5", "--capacity-steps", "10", "--out", tmp_path / "C").code == 0
    result = cli(*tiny_train, "--epochs", "2", "--resume", tmp_path / "C" / "checkpoint.pt", "--capacity-steps", "10",
                 may_change=("C",))
    assert result.code == 0 and _epochs(tmp_path / "C") == 2, result.err


def test_a_resumed_runs_memory_advice_names_no_flag_it_would_refuse(cli, tiny_train, finished_run, monkeypatch):
    """Sibling: `choose a smaller --batch-size` to a resumed run, which refuses --batch-size beside --resume."""
    monkeypatch.setattr(device_module, "available_bytes", lambda device: 1)
    cli(*tiny_train, "--epochs", "2", "--resume", finished_run / "checkpoint.pt").failed(
        1, "a resumed run keeps its checkpoint's settings: start a new run with a smaller --batch-size")


# Messages that mislead: what is not a checkpoint


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as file:
        file.truncate(size)
    return path


@pytest.mark.parametrize("kind", ["random bytes", "zeros", "100 GB sparse", "metrics.json"])
@pytest.mark.parametrize("command", ["evaluate", "resume"])
def test_a_file_that_is_not_a_zip_is_not_a_checkpoint(kind, command, cli, tiny_train, finished_run, tmp_path,
                                                      tmp_path_factory):
    """metrics.json (handed over by mistake) is the sibling: it too was 'refused unread' as unsafe."""
    path = tmp_path / "x.pt" if kind != "100 GB sparse" else tmp_path_factory.mktemp("sparse") / "x.pt"  # not read by cli
    if kind == "random bytes":
        path.write_bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(1),
                                       dtype=torch.uint8).numpy().tobytes())
    elif kind == "zeros":
        path.write_bytes(bytes(4096))
    elif kind == "100 GB sparse":
        _sparse(path, 100 << 30)
    else:
        path = finished_run / "metrics.json"
    argv = ["evaluate", path] if command == "evaluate" else [*tiny_train, "--epochs", "2", "--resume", path,
                                                              "--out", tmp_path / "R"]
    result = cli(*argv).failed(1, f"{path} is not a checkpoint: it is not the zip archive torch.save writes")
    assert "unsafe" not in result.err and "refused unread" not in result.err


# Messages that mislead: the model cache's key


@pytest.mark.parametrize("damage", ["cut short", "not JSON", "missing", "a folder"])
def test_a_damaged_key_is_set_aside_and_the_model_trained_again(damage, toy_split, tmp_path, capfd):
    """A key cut short or garbled is the issue's case; a key missing or not a file are its siblings."""
    config = TrainConfig(epochs=1, batch_size=16, device="cpu")
    cached_fit(SMALL, config, toy_split, toy_split, root=tmp_path)
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    key = folder / "key.json"
    text = key.read_text()
    key.unlink()
    if damage == "cut short":
        key.write_text(text[: len(text) // 2])
    elif damage == "not JSON":
        key.write_bytes(b"\0" * 64)
    elif damage == "a folder":
        key.mkdir()
    capfd.readouterr()
    result = cached_fit(SMALL, config, toy_split, toy_split, root=tmp_path)
    err = capfd.readouterr().err
    assert not result.cached and "is trained again" in err and err.count("\n") == 1
    assert ("has no key.json" if damage == "missing" else "has a damaged key.json") in err
    assert (folder / "checkpoint.pt.unreadable").exists() and json.loads(key.read_text()) == json.loads(text)
    assert cached_fit(SMALL, config, toy_split, toy_split, root=tmp_path).cached  # and found from now on


# Messages that mislead: a checkpoint.pt that is not a file


@pytest.mark.parametrize("kind", ["link to /dev/zero", "folder", "fifo"])
def test_a_checkpoint_that_is_not_a_file_is_never_offered_for_resume(kind, cli, tiny_train, tmp_path):
    """The issue's link to /dev/zero, and its siblings: a folder or a named pipe of that name."""
    out = tmp_path / "out"
    out.mkdir()
    checkpoint = out / "checkpoint.pt"
    if kind == "link to /dev/zero":
        checkpoint.symlink_to("/dev/zero")
    elif kind == "folder":
        checkpoint.mkdir()
    else:
        os.mkfifo(checkpoint)
    said = (("symbolic link", "name another folder") if kind == "link to /dev/zero"
            else ("holds a checkpoint.pt that is not a file", "choose another --out"))
    result = cli(*tiny_train, "--out", out).failed(1, *said)
    assert "--resume" not in result.err
    cli(*tiny_train, "--epochs", "2", "--resume", checkpoint).failed(1, f"{checkpoint} is not a checkpoint: it is")
    assert not stat.S_ISREG(os.stat(checkpoint).st_mode)  # left as it was: nothing was written in its place


# Messages that mislead: control characters in paths


TITLE_AND_CLEAR = "\x1b]0;pwned\x07\x1b[2J"


def test_an_out_with_an_escape_sequence_is_printed_escaped(cli, tiny_train, tmp_path):
    out = tmp_path / f"run{TITLE_AND_CLEAR}"
    result = cli(*tiny_train, "--out", out)
    assert result.code == 0 and (out / "checkpoint.pt").exists()
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert f"run{printable(TITLE_AND_CLEAR)}" in result.out and "\\x1b]0;pwned\\x07\\x1b[2J" in result.out
    refused = cli(*tiny_train, "--out", out).failed(1, "already holds a checkpoint")
    assert "\x1b" not in refused.err


@pytest.mark.parametrize("path", [f"x{TITLE_AND_CLEAR}.pt", "x\rerror: all is well\n.pt", "x\u202eep.pt"])
def test_a_checkpoint_path_with_control_characters_is_printed_escaped(path, cli, tmp_path):
    """Sibling: stderr (a checkpoint's name), a carriage return or newline that would forge a line, a bidi override."""
    result = cli("evaluate", tmp_path / path).failed(1, "no checkpoint at")
    assert not any(char in result.err[:-1] for char in "\x1b\x07\r\n\u202e")


def test_the_cache_note_is_printed_escaped(toy_split, tmp_path, capfd):
    """Sibling: the chapters' cache note goes to stderr by its own print, not through the command line."""
    root = tmp_path / f"cache{TITLE_AND_CLEAR}"
    config = TrainConfig(epochs=1, batch_size=16, device="cpu")
    cached_fit(SMALL, config, toy_split, toy_split, root=root)
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    (folder / "checkpoint.pt").write_bytes(b"half a checkpoint")
    capfd.readouterr()
    cached_fit(SMALL, config, toy_split, toy_split, root=root)
    err = capfd.readouterr().err
    assert "could not be read" in err and "\x1b" not in err and "\\x1b" in err
