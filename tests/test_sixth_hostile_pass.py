"""What a sixth hostile pass found (118 cases, 13 defects), the classes closed here, each with a sibling.

- A crafted checkpoint of 14 kB whose weights are one number repeated (a stride of 0) made the checks
  allocate gigabytes; a weight decay of 1e30 in a resumed optimizer froze the weights while the run said
  it trained; weights times 1e30, all finite, were evaluated to NaN with exit 0.
- A sweep replaced a sweep.csv it had not written (garbage, empty), or refused a beta of nan with advice
  that could not be followed.
- Running out of memory where no check foresaw it (the data load) gave a traceback.
- The chapters' helpers: train_model(epochs=0) trained the reference epochs, load_data() before
  chapter_setup() raised a bare KeyError, and the wrong kind of argument failed deep inside.
- A bound on an integer flag was said only as its lower half ("must be >= 0, got 10**23").
"""

from __future__ import annotations


import json

import pytest
import torch

from test_fifth_hostile_pass import _cli, _one_line, _one_trained_checkpoint, _restore, trained  # noqa: F401
from vae_tutorial.checkpoint import load_checkpoint
from vae_tutorial.errors import CheckpointError, ConfigError


def test_a_weight_that_repeats_one_stored_number_is_refused_before_it_is_read(tmp_path, trained):
    state = torch.load(trained, weights_only=False)
    name, weight = max(state["model_state"].items(), key=lambda item: item[1].numel())
    state["model_state"][name] = torch.full((1,), 0.001).expand(*weight.shape)  # claims every value, stores one
    torch.save(state, tmp_path / "expanded.pt")
    with pytest.raises(CheckpointError, match=rf"its weight {name} claims [\d,]+ values but stores 4 bytes"):
        load_checkpoint(tmp_path / "expanded.pt")
    state["model_state"][name] = torch.randn(2 * weight.shape[0], *weight.shape[1:])[:weight.shape[0]]  # a view
    torch.save(state, tmp_path / "view.pt")  # torch.save keeps the whole storage: more than it needs is fine
    load_checkpoint(tmp_path / "view.pt")


@pytest.mark.parametrize(("key", "value"), [("weight_decay", 1e30), ("weight_decay", 1e-4), ("eps", 1e-3),
                                            ("betas", (0.5, 0.999))])
def test_an_adam_constant_this_code_never_changes_is_refused_on_resume(trained, key, value):
    state = torch.load(trained, weights_only=False)
    assert _restore(state)
    state["optimizer_state"]["param_groups"][0][key] = value  # in range, but never what this code's Adam has
    with pytest.raises(CheckpointError, match=rf"crafted.pt cannot be resumed.*{key}="):
        _restore(state)


def test_finite_weights_that_overflow_are_refused_by_evaluate_not_reported_as_nan(tmp_path, trained, tiny_data_root):
    state = torch.load(trained, weights_only=False)
    state["model_state"] = {name: w * 1e30 if w.is_floating_point() else w for name, w in state["model_state"].items()}
    torch.save(state, tmp_path / "big.pt")
    proc = _cli("evaluate", str(tmp_path / "big.pt"), "--iwae-samples", "0", "--data-dir", str(tiny_data_root),
                "--no-progress", "--json", str(tmp_path / "report.json"), cwd=tmp_path)
    _one_line(proc, 1, "big.pt: the model's test loss is nan", "the report above shows where")
    assert "test negative ELBO" in proc.stdout  # reported, not discarded: the JSON too, its NaNs as null
    assert json.loads((tmp_path / "report.json").read_text())["test_loss"] is None
    proc = _cli("evaluate", str(trained), "--iwae-samples", "0", "--data-dir", str(tiny_data_root), "--no-progress",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # the file as written evaluates


@pytest.mark.parametrize(("held", "said"), [
    ("garbage\x00\xff", "is not a sweep table this package wrote"),
    ("", "it holds no rows"),
    ("beta,test_loss\n", "it holds no rows"),  # a header alone: the sibling the pass did not try
    ("beta,test_loss\nnan,1\n", "a beta that is not a number"),
    ("beta,test_loss\n1e999,1\n", "a beta that is not a number"),
])
def test_a_sweep_csv_the_package_did_not_write_is_kept_and_refused(tmp_path, tiny_data_root, held, said):
    (tmp_path / "sw").mkdir()
    (tmp_path / "sw" / "sweep.csv").write_bytes(held.encode("latin-1"))
    proc = _cli("sweep", "--epochs", "1", "--batch-size", "2", "--hidden-dim", "8", "--latent-dim", "2",
                "--betas", "1", "--iwae-samples", "0", "--data-dir", str(tiny_data_root), "--no-progress",
                "--out", str(tmp_path / "sw"), cwd=tmp_path)
    _one_line(proc, 1, said, "move it away, or choose another --out")
    assert (tmp_path / "sw" / "sweep.csv").read_bytes() == held.encode("latin-1")
    assert not (tmp_path / "sw" / "runs").exists()  # refused before any training


def test_running_out_of_memory_where_no_check_foresaw_it_is_one_line(monkeypatch, capsys):
    import importlib

    from vae_tutorial.cli import commands

    cli = importlib.import_module("vae_tutorial.cli.main")  # the module; the package's `main` is its function

    def load_fails(args):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] . DefaultCPUAllocator: can't allocate memory: you "
                           "tried to allocate 188160000 bytes. Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr(commands, "train", load_fails)
    assert cli.main(["train", "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ran out of memory ("), err

    def a_bug(args):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    monkeypatch.setattr(commands, "train", a_bug)
    with pytest.raises(RuntimeError, match="shapes"):  # any other RuntimeError is a bug, and stays one
        cli.main(["train", "--epochs", "1"])


def test_an_integer_flag_past_its_upper_bound_says_the_bound(tmp_path):
    proc = _cli("train", "--warmup-steps", "9" * 23, "--epochs", "1", cwd=tmp_path)
    _one_line(proc, 2, "warm-up steps must be an integer >= 0 (at most 2**53)")


@pytest.mark.parametrize("name", [".checkpoint.pt.x.tmp", ".metrics.json.abc.tmp"])  # the pass tried the first
def test_a_folder_named_like_a_leftover_temporary_file_is_named_not_a_bare_oserror(tmp_path, tiny_data_root, name):
    (tmp_path / "o" / name).mkdir(parents=True)
    proc = _cli("train", "--epochs", "1", "--batch-size", "2", "--hidden-dim", "8", "--latent-dim", "2",
                "--data-dir", str(tiny_data_root), "--no-progress", "--out", str(tmp_path / "o"), cwd=tmp_path)
    _one_line(proc, 1, f"{name} is a folder named like a temporary file", "move it away")
    assert (tmp_path / "o" / name).is_dir()


def _split():
    from vae_tutorial.data import Split

    return Split(images=torch.zeros(4, 1, 28, 28), labels=torch.zeros(4, dtype=torch.long))


@pytest.mark.parametrize(("call", "said"), [
    (lambda tm, plan, s: tm(plan, s, s, epochs=0), "epochs must be an integer >= 1"),  # trained 2 epochs before
    (lambda tm, plan, s: tm(None, s, s), "first argument is the chapter's plan"),
    (lambda tm, plan, s: tm(plan, s.images, s), "train data is a Split"),
    (lambda tm, plan, s: tm(plan, s, s.images), "test data is a Split"),
])
def test_a_chapter_helper_given_the_wrong_thing_says_which(call, said):
    from vae_tutorial.book.chapter import Budget, train_model

    plan = Budget(quick=True, subset=4, epochs=1, reference_epochs=1, sweep_epochs=1, latent2d_epochs=1,
                  prior_epochs=1, prior2d_epochs=1)
    with pytest.raises((ConfigError, ValueError), match=said):  # a setting out of range: the ValueError of every config
        call(train_model, plan, _split())


def test_load_data_before_chapter_setup_follows_the_command_lines_rule(monkeypatch):
    from vae_tutorial.book import chapter

    calls = []
    monkeypatch.delenv("VAE_TUTORIAL_DATA", raising=False)
    monkeypatch.setattr(chapter, "load_split", lambda train, **kw: calls.append((train, kw)) or train)
    assert chapter.load_data() == (True, False)  # a bare KeyError before
    assert calls == [(True, {}), (False, {})]  # load_split's own rule: the variable, else ./data, downloaded
