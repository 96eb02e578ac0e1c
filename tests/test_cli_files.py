"""Adversarial files: no finished run is overwritten, no checkpoint is replaced by a report, bad checkpoints are one line."""

import io
import json
import os
import pickle

import pytest
import torch

import vae_tutorial.runs.report as report
from vae_tutorial.checkpoint import load_checkpoint


def test_resume_into_another_finished_run_is_refused(cli, finished_run, tiny_train, tmp_path):
    assert cli(*tiny_train, "--seed", "1", "--out", tmp_path / "B").code == 0
    cli(*tiny_train, "--epochs", "2", "--resume", finished_run / "checkpoint.pt", "--out", tmp_path / "B").failed(
        1, "already holds another run")


@pytest.mark.parametrize("present", [["metrics.json"], ["metrics.json", "samples.png"], ["reconstructions.png"]])
def test_a_folder_with_run_files_but_no_checkpoint_is_not_overwritten(present, cli, tiny_train, finished_run, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    for name in present:
        (other / name).write_bytes(b"earlier work")
    cli(*tiny_train, "--out", other).failed(1, "already holds another run")
    cli(*tiny_train, "--epochs", "2", "--resume", finished_run / "checkpoint.pt", "--out", other).failed(1, "another run")


def test_training_into_a_finished_run_is_refused(cli, tiny_train, finished_run):
    cli(*tiny_train, "--epochs", "2", "--out", finished_run).failed(1, "already holds a checkpoint", "--resume")


def test_resume_into_a_new_folder_leaves_the_original(cli, tiny_train, finished_run, tmp_path):
    assert cli(*tiny_train, "--epochs", "2", "--resume", finished_run / "checkpoint.pt", "--out", tmp_path / "C").code == 0
    assert [r["epoch"] for r in json.loads((tmp_path / "C" / "metrics.json").read_text())] == [1, 2]


def test_resume_in_place_continues(cli, tiny_train, finished_run):
    out = cli(*tiny_train, "--epochs", "2", "--resume", finished_run / "checkpoint.pt", may_change=("A",))
    assert out.code == 0 and len(load_checkpoint(finished_run / "checkpoint.pt")["history"]) == 2


def test_resume_of_a_run_that_is_done(cli, tiny_train, finished_run):
    cli(*tiny_train, "--resume", finished_run / "checkpoint.pt").failed(1, "already trained 1 epochs")


@pytest.mark.parametrize("name", ["checkpoint.pt", "metrics.json", "samples.png"])
def test_json_never_replaces_a_runs_file(name, cli, finished_run, tiny_data_root, monkeypatch):
    monkeypatch.setattr(report, "evaluate_checkpoint", _no_evaluation)
    cli("evaluate", finished_run / "checkpoint.pt", "--data-dir", tiny_data_root, "--json", finished_run / name).failed(
        1, "uses for its own files")


def _no_evaluation(*args, **kwargs):
    raise AssertionError("the --json target must be checked before the evaluation")


@pytest.mark.parametrize("target", ["notes.txt", "missing/e.json", "a-file/e.json", "A", "same-as-checkpoint"])
def test_json_target_checked_before_the_work(target, cli, finished_run, tiny_data_root, tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("my notes")
    (tmp_path / "a-file").write_text("")
    if target == "same-as-checkpoint":
        os.link(finished_run / "checkpoint.pt", tmp_path / "same-as-checkpoint")
    monkeypatch.setattr(report, "evaluate_checkpoint", _no_evaluation)
    cli("evaluate", finished_run / "checkpoint.pt", "--data-dir", tiny_data_root, "--json", tmp_path / target).failed(1, "--json")


def test_json_report_may_be_rewritten(cli, finished_run, tiny_data_root, tmp_path):
    argv = ["evaluate", finished_run / "checkpoint.pt", "--data-dir", tiny_data_root, "--json", tmp_path / "e.json"]
    assert cli(*argv).code == 0
    assert cli(*argv, may_change=("e.json",)).code == 0
    assert json.loads((tmp_path / "e.json").read_text(), parse_constant=_strict)["test_images"] == 4


def _strict(name):
    raise AssertionError(f"{name} is not JSON")


def test_metrics_are_strict_json(finished_run):
    assert json.loads((finished_run / "metrics.json").read_text(), parse_constant=_strict)[0]["epoch"] == 1


class Hostile:
    def __reduce__(self):
        return (os.system, ("touch HACKED",))


def _hostile_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({"format": "x", "payload": Hostile()}, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"PK\x03\x04 truncated", pickle.dumps(Hostile(), protocol=4), "hostile"])
@pytest.mark.parametrize("command", ["evaluate", "resume"])
def test_unreadable_checkpoints(content, command, cli, tiny_train, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "broken.pt"
    path.write_bytes(_hostile_bytes() if content == "hostile" else content)
    argv = ["evaluate", path] if command == "evaluate" else [*tiny_train, "--epochs", "2", "--resume", path]
    readable_kind = content == "hostile" or content.startswith(b"PK")  # the zip archive torch.save writes, or half of one
    cli(*argv).failed(1, "not a readable checkpoint" if readable_kind else "is not a checkpoint")
    assert not (tmp_path / "HACKED").exists()


def _tampered(run, tmp_path, change) -> str:
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    change(state)
    torch.save(state, tmp_path / "t.pt")
    return str(tmp_path / "t.pt")


TAMPERINGS = {
    "wrong tensor shapes": lambda s: s["model_config"].update(latent_dim=3),
    "no optimizer state": lambda s: s.pop("optimizer_state"),
    "no noise rng": lambda s: s.pop("noise_rng"),
    "unknown config key": lambda s: s["train_config"].update(momentum=0.9),
    "bad config value": lambda s: s["train_config"].update(lr=-1.0),
    "optimizer moments of another shape": lambda s: [v.update(exp_avg=torch.zeros(3)) for v in s["optimizer_state"]["state"].values()],
    "rng state of the wrong type": lambda s: s.update(shuffle_rng=torch.zeros(3)),
    "history out of order": lambda s: s["history"][0].update(epoch=7),
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_resume_with_a_checkpoint_that_does_not_fit(name, cli, tiny_train, finished_run, tmp_path):
    path = _tampered(finished_run, tmp_path, TAMPERINGS[name])
    cli(*tiny_train, "--epochs", "2", "--resume", path, "--out", tmp_path / "R").failed(1, "t.pt")
    assert not (tmp_path / "R").exists()


def test_resume_from_a_folder(cli, tiny_train, finished_run):
    cli(*tiny_train, "--epochs", "2", "--resume", finished_run).failed(1, "is not a checkpoint: it is a folder")


def test_out_below_a_regular_file(cli, tiny_train, tmp_path):
    (tmp_path / "a-file").write_text("")
    cli(*tiny_train, "--out", tmp_path / "a-file" / "out").failed(1, "cannot write to the output folder")


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_follow_the_umask(umask, tiny_train, tmp_path):
    from vae_tutorial.cli import main

    previous = os.umask(umask)
    try:
        assert main([*tiny_train, "--out", str(tmp_path / "U")]) == 0
    finally:
        os.umask(previous)
    for name in ("checkpoint.pt", "metrics.json", "samples.png"):
        assert (tmp_path / "U" / name).stat().st_mode & 0o777 == 0o666 & ~umask
