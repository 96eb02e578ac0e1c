"""--data sprites and --tc-weight on the command line: checked like every flag, in names, reports and the cache."""

import json

import pytest

import vae_tutorial.runs.cache as cache
from vae_tutorial.config import ModelConfig, TrainConfig, describe

TINY = ["--epochs", "1", "--latent-dim", "3", "--hidden-dim", "16", "--batch-size", "64", "--device", "cpu",
        "--no-progress"]


@pytest.mark.parametrize("flags, fragment", [
    (["--data", "mnist"], "--data"),
    (["--data", "sprites", "--conditional"], "--conditional"),
    (["--tc-weight", "-1"], "TC weight"), (["--tc-weight", "nan"], "TC weight"),
    (["--tc-weight", "4", "--beta", "4"], "--beta"), (["--tc-weight", "4", "--capacity", "10"], "--capacity"),
    (["--tc-weight", "4", "--free-bits", "0.5"], "--free-bits"), (["--tc-weight", "4", "--prior", "mixture"], "--prior"),
])
def test_bad_combinations_get_one_line_and_exit_2(flags, fragment, cli, tmp_path):
    cli("train", *flags, "--out", tmp_path / "never").failed(2, fragment)
    if "--beta" not in flags:  # the sweep takes --betas instead
        cli("sweep", *flags, "--betas", "1", "--out", tmp_path / "never").failed(2, fragment)
    assert not (tmp_path / "never").exists()


def test_train_and_evaluate_a_sprites_model_from_the_command_line(cli, tmp_path):
    """A beta-TCVAE on sprites: trained with no data folder at all, then scored against the held-out factors."""
    out = tmp_path / "run"
    trained = cli("train", "--data", "sprites", "--tc-weight", "6", "--subset", "256", *TINY, "--out", out)
    assert trained.code == 0, trained.err
    assert "on sprites" in trained.out and "TC weight 6" in trained.out and "256 images" in trained.out
    history = json.loads((out / "metrics.json").read_text())
    assert history[-1]["tc_weight"] == 6.0
    report = cli("evaluate", out / "checkpoint.pt", "--json", tmp_path / "eval.json", "--device", "cpu", "--no-progress")
    assert report.code == 0, report.err
    results = json.loads((tmp_path / "eval.json").read_text())
    assert results["data"] == "sprites" and results["tc_weight"] == 6.0 and results["test_images"] == 4704
    assert 0 <= results["mig"] <= 1 and 0 <= results["dci_disentanglement"] <= 1
    assert "MIG" in report.out


def test_the_cache_key_of_a_standard_run_is_unchanged_and_new_runs_are_named(toy_split):
    """data and tc_weight stay out of the key at their defaults (runs cached before them stay valid)."""
    small = ModelConfig(hidden_dim=8, latent_dim=2)
    standard = cache.run_settings(small, TrainConfig(epochs=1), toy_split)
    assert "data" not in standard and "tc_weight" not in standard
    assert cache.run_key(small, TrainConfig(epochs=1), toy_split) == cache.run_key(
        small, TrainConfig(epochs=1, data="fashion-mnist"), toy_split)
    sprites = cache.run_key(small, TrainConfig(epochs=1, data="sprites", tc_weight=6), toy_split)
    assert sprites.startswith("mlp-z2-beta1-h8-tc6-sprites-e1-"), sprites
    assert describe(small, TrainConfig(data="sprites", tc_weight=6)) == "mlp VAE (latent 2, hidden 8, TC weight 6, on sprites)"
