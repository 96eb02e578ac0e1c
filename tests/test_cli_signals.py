"""Signals, a closed stdout, a full disk, concurrent runs, divergence: the last good checkpoint always survives."""

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vae_tutorial.runs.pictures as pictures
import vae_tutorial.train as train_module
from vae_tutorial.checkpoint import load_checkpoint
from vae_tutorial.config import ModelConfig, TrainConfig
from vae_tutorial.data import Split
from vae_tutorial.errors import TrainingDiverged
from vae_tutorial.runs.folder import claimed_folder

ROOT = Path(__file__).resolve().parents[1]
SMALL = ModelConfig(hidden_dim=8, latent_dim=2)


def _default_signals() -> None:
    """In the child: the dispositions a terminal gives, whatever the test runner inherited (a background job ignores SIGINT)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _start(argv, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}  # two runs at once share two cores
    return subprocess.Popen([sys.executable, "-m", "vae_tutorial", *map(str, argv)], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_signals, **kwargs)


@pytest.fixture
def start():
    """_start, with every child killed and reaped when the test ends, passed or failed (no process left behind)."""
    children = []

    def run(argv, **kwargs) -> subprocess.Popen:
        children.append(_start(argv, **kwargs))
        return children[-1]

    yield run
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate()


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_keeps_the_last_finished_epoch(sig, code, start, tiny_train, tmp_path):
    proc = start([*tiny_train, "--epochs", "100000", "--out", tmp_path / "run"])
    assert "training a" in proc.stdout.readline() and proc.stdout.readline().startswith("epoch   1")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code and err.count("\n") == 1 and "Traceback" not in err
    epoch = load_checkpoint(tmp_path / "run" / "checkpoint.pt")["history"][-1]["epoch"]
    assert err.startswith("interrupted: the last good checkpoint is") and f"(epoch {epoch})" in err
    assert not (tmp_path / "run" / ".vae_tutorial.lock").exists()


def test_a_closed_stdout_does_not_stop_training(start, tiny_train, tmp_path):
    proc = start([*tiny_train, "--epochs", "10", "--out", tmp_path / "run"])
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    proc.wait(timeout=120)
    assert proc.returncode == 0 and proc.stderr.read() == ""
    assert len(json.loads((tmp_path / "run" / "metrics.json").read_text())) == 10


def test_two_runs_on_one_folder(start, tiny_train, tmp_path):
    procs = [start([*tiny_train, "--epochs", "30", "--out", tmp_path / "run"]) for _ in range(2)]
    results = [(p.wait(timeout=180), p.stderr.read()) for p in procs]
    assert sorted(code for code, _ in results) == [0, 1]
    err = next(err for code, err in results if code == 1)
    assert err.count("\n") == 1 and ("in use by another run" in err or "already holds a checkpoint" in err)
    assert len(load_checkpoint(tmp_path / "run" / "checkpoint.pt")["history"]) == 30


def test_a_folder_in_use_is_refused(cli, tiny_train, tmp_path):
    with claimed_folder(tmp_path / "busy"):
        cli(*tiny_train, "--out", tmp_path / "busy", may_change=("busy",)).failed(1, "in use by another run")
    assert list((tmp_path / "busy").iterdir()) == []  # the refused run took nothing, the claim left no lock file


def test_ctrl_c_during_a_checkpoint_write_finishes_the_write(cli, tiny_train, tmp_path, monkeypatch):
    calls = []
    real_save = torch.save

    def save_interrupted(obj, file, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of epoch 2's write
        return real_save(obj, file, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save_interrupted)
    # as at a terminal, whatever launched pytest (a background job starts with SIGINT ignored, and the run keeps that)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = cli(*tiny_train, "--epochs", "3", "--out", tmp_path / "run")
    finally:
        signal.signal(signal.SIGINT, previous)
    result.failed(130, "interrupted: the last good checkpoint is", "(epoch 2)")
    assert not list((tmp_path / "run").glob(".*.tmp"))


def test_ctrl_c_in_the_first_epoch_claims_nothing(cli, tiny_train, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "_train_epoch", interrupted)
    cli(*tiny_train, "--out", tmp_path / "new" / "run").failed(130, "no checkpoint was saved")
    assert not (tmp_path / "new").exists()


def test_orphaned_temporary_files_are_cleaned(cli, tiny_train, finished_run):
    orphan = finished_run / ".checkpoint.pt.k1ll3d.tmp"
    orphan.write_bytes(b"half a checkpoint")
    assert cli(*tiny_train, "--epochs", "2", "--resume", finished_run / "checkpoint.pt", may_change=("A",)).code == 0
    assert not orphan.exists()


def test_a_picture_that_cannot_be_written(cli, tiny_train, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pictures, "save_image", full)
    cli(*tiny_train, "--out", tmp_path / "run").failed(1, "No space left on device", "holds all 1 epochs, but",
                                                        "write them with `vae-tutorial train --resume")


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs (room for one tiny checkpoint, not two) (skipped where mounting is not permitted)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_keeps_the_last_good_checkpoint(cli, tiny_train, small_disk):
    result = cli(*tiny_train, "--epochs", "50", "--out", small_disk / "run")
    result.failed(1, "No space left on device", "the last good checkpoint is")
    history = load_checkpoint(small_disk / "run" / "checkpoint.pt")["history"]
    assert f"(epoch {len(history)})" in result.err and len(history) < 50
    assert not list((small_disk / "run").glob(".*.tmp"))


def test_a_nan_test_loss_is_never_saved(toy_split, tmp_path):
    config = TrainConfig(epochs=2, batch_size=16, device="cpu")
    train_module.fit(SMALL, config, toy_split, toy_split, out_dir=tmp_path)
    poisoned = Split(toy_split.images.clone().fill_(float("nan")), toy_split.labels)
    with pytest.raises(TrainingDiverged, match="test loss became nan at epoch 3; a resumed run keeps its --lr"):
        train_module.fit(SMALL, TrainConfig(epochs=3, batch_size=16, device="cpu"), toy_split, poisoned,
                         out_dir=tmp_path, resume=tmp_path / "checkpoint.pt")
    assert len(load_checkpoint(tmp_path / "checkpoint.pt")["history"]) == 2


def test_an_overflowing_gamma_is_not_blamed_on_the_lr(toy_split):
    config = TrainConfig(epochs=1, batch_size=16, device="cpu", capacity_max=20.0, gamma=1e38)
    with pytest.raises(TrainingDiverged, match="try a smaller --gamma") as caught:
        train_module.fit(SMALL, config, toy_split, toy_split)
    assert "--lr" not in str(caught.value)
