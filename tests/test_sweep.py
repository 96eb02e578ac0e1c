import pytest

import vae_tutorial.runs.cache as cache
from vae_tutorial.config import ModelConfig, TrainConfig
from vae_tutorial.runs.sweep import plot_rate_distortion, sweep_betas, write_table


def test_sweep_trains_once_and_orders_rate_by_beta(toy_split, tmp_path, monkeypatch):
    model_config = ModelConfig(hidden_dim=64, latent_dim=4)
    train_config = TrainConfig(epochs=4, batch_size=16, device="cpu")
    rows = sweep_betas(model_config, train_config, [0.5, 4.0], toy_split, toy_split, tmp_path / "runs")
    assert [r["beta"] for r in rows] == [0.5, 4.0]
    assert rows[0]["test_kl"] > rows[1]["test_kl"]  # a heavier KL weight buys a lower rate ...
    assert rows[0]["test_recon"] < rows[1]["test_recon"]  # ... at a higher distortion

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run was trained again")

    monkeypatch.setattr(cache, "fit", no_training)
    again = sweep_betas(model_config, train_config, [0.5, 4.0], toy_split, toy_split, tmp_path / "runs")
    assert [r["test_loss"] for r in again] == pytest.approx([r["test_loss"] for r in rows])
    # each row keeps its model's per-epoch record, cached or not ("The beta-VAE" compares epochs)
    for row in (*rows, *again):
        assert [h["epoch"] for h in row["history"]] == [1, 2, 3, 4]
    assert again[0]["history"][-1]["test_kl"] == pytest.approx(rows[0]["test_kl"])

    csv_path, md_path = write_table(rows, tmp_path)
    assert csv_path.read_text().splitlines()[0].startswith("beta,test_loss,test_recon,test_kl")
    assert md_path.read_text().count("\n") == 4
    plot_rate_distortion(rows, tmp_path / "rd.png")
    assert (tmp_path / "rd.png").stat().st_size > 1000


def test_a_sweeps_progress_line_names_the_model_it_trains(toy_split, tmp_path):
    """Chapter 7's sweep trains five models under one line: the line says which one, and when it evaluates."""
    from vae_tutorial.book.progress import TrainingStatus

    lines = []
    status = TrainingStatus("beta sweep", 2, display_line=lines.append)
    sweep_betas(ModelConfig(hidden_dim=16, latent_dim=2), TrainConfig(epochs=2, batch_size=16, device="cpu"),
                [0.5, 4.0], toy_split, toy_split, tmp_path / "runs", callback=status)
    epochs = [line for line in lines if "epoch 1 of 2" in line]
    assert [line.splitlines()[0] for line in epochs] == ["beta sweep, beta 0.5 (model 1 of 2):",
                                                          "beta sweep, beta 4 (model 2 of 2):"], lines
    assert any("evaluating" in line for line in lines), lines
