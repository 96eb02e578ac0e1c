"""The line under a chapter's training cell: epoch k of n, time left, or where the model came from."""

from __future__ import annotations

import pytest

from vae_tutorial.book.progress import TrainingStatus, duration, steps
from vae_tutorial.train import FitResult


@pytest.mark.parametrize("seconds, text", [(4.4, "4 s"), (59.6, "1 min 00 s"), (200, "3 min 20 s"),
                                           (3725, "1 h 02 min")])
def test_duration_reads_as_a_person_says_it(seconds, text):
    assert duration(seconds) == text


def _status(epochs):
    lines = []
    return TrainingStatus("VAE", epochs, display_line=lines.append), lines


def test_each_epoch_replaces_the_line_with_the_epoch_of_the_total_and_the_time_left():
    status, lines = _status(50)
    assert "training 50 epochs" in lines[0]  # shown before the first epoch ends
    status({"epoch": 1, "epoch_seconds": 18.0, "beta": 1.0})
    status({"epoch": 2, "epoch_seconds": 18.0, "beta": 1.0})
    assert lines[-1] == "VAE:\n  epoch 2 of 50, 18.0 s each, about 14 min 24 s left"
    status({"epoch": 50, "epoch_seconds": 18.0, "beta": 1.0})
    assert "left" not in lines[-1] and "epoch 50 of 50" in lines[-1]


def test_the_longest_line_fits_the_sites_column():
    status, lines = _status(50)
    status({"epoch": 1, "epoch_seconds": 1234.5, "beta": 0.125})
    status.finish_all(trained=5, loaded=5)
    assert max(len(line) for text in lines for line in text.splitlines()) <= 72, lines


def test_a_warm_up_or_a_sweep_names_the_kl_weight_in_force():
    status, lines = _status(3)
    status({"epoch": 1, "epoch_seconds": 2.0, "beta": 4.0})
    assert lines[-1].startswith("VAE:\n  epoch 1 of 3 (KL weight 4), 2.0 s each")


def test_the_last_line_tells_a_cached_model_from_a_trained_one():
    history = [{"epoch": e, "epoch_seconds": s} for e, s in [(1, 10.0), (2, 12.0), (3, 30.0)]]
    status, lines = _status(3)
    status.finish(FitResult(None, history, cached=True))
    assert lines[-1] == "VAE:\n  loaded from the cache (3 epochs, 12.0 s each)"
    status.finish(FitResult(None, history))
    assert lines[-1].startswith("VAE:\n  trained 3 epochs in ") and "cache" not in lines[-1]
    status.finish_all(trained=2, loaded=3)
    assert "2 models trained in " in lines[-1] and "3 models loaded from the cache" in lines[-1]
    status.finish_all(trained=0, loaded=5)  # a student's second Run All: nothing about training
    assert lines[-1].endswith("\n  5 models loaded from the cache") and "trained" not in lines[-1]
    status.finish_all(trained=1, loaded=0)
    assert "1 model trained in " in lines[-1] and "cache" not in lines[-1]


def test_a_long_loop_says_its_step_and_time_left_then_its_total(monkeypatch):
    clock = iter(range(0, 1000, 2))  # each call of the clock: 2 s later
    monkeypatch.setattr("vae_tutorial.book.progress.time.monotonic", lambda: next(clock))
    lines = []
    seen = list(steps(4, "fitting q", display_line=lines.append))
    assert seen == [0, 1, 2, 3]
    assert lines[0] == "fitting q: 4 steps"
    assert lines[1] == "fitting q: step 1 of 4, about 6 s left"  # 2 s a step so far, 3 steps to go
    assert lines[-1].startswith("fitting q: 4 steps in ") and "left" not in lines[-1]
    assert max(len(line) for line in lines) <= 72


def test_a_loop_over_a_dict_counts_its_keys_in_the_unit_given():
    lines = []
    fits = {"standard": 1, "mixture": 2, "vamp": 3}
    assert list(steps(fits, "judging", unit="prior", display_line=lines.append)) == list(fits)
    assert lines[0] == "judging: 3 priors" and lines[-1].startswith("judging: 3 priors in ")


@pytest.mark.parametrize("nothing", [0, [], {}])
def test_a_loop_of_nothing_is_refused(nothing):
    with pytest.raises(ValueError, match="at least one step"):
        list(steps(nothing, "nothing"))
