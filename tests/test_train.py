import json

import pytest
import torch
from torch.testing import assert_close

from vae_tutorial.checkpoint import atomic_write, load_checkpoint, load_model, save_checkpoint
from vae_tutorial.config import ModelConfig, TrainConfig
from vae_tutorial.data import Split
from vae_tutorial.errors import CheckpointError, TrainingDiverged
from vae_tutorial.losses import elbo_terms
from vae_tutorial.model import VAE
from vae_tutorial.train import fit, set_seed

SMALL = ModelConfig(hidden_dim=64, latent_dim=4)


def quick_config(**overrides) -> TrainConfig:
    return TrainConfig(**{"epochs": 2, "batch_size": 16, "device": "cpu", **overrides})


def test_overfitting_one_batch_lowers_the_loss(toy_split):
    set_seed(0)
    model = VAE(SMALL)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = toy_split.images[:16]
    losses = []
    for _ in range(200):
        out = model(x)
        loss = elbo_terms(out.logits, x, out.mu, out.logvar).mean().loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_same_seed_same_numbers(toy_split):
    first = fit(SMALL, quick_config(), toy_split, toy_split).history
    second = fit(SMALL, quick_config(), toy_split, toy_split).history
    other = fit(SMALL, quick_config(seed=1), toy_split, toy_split).history
    strip = lambda history: [{k: v for k, v in r.items() if k != "epoch_seconds"} for r in history]  # noqa: E731
    assert strip(first) == strip(second)
    assert strip(first) != strip(other)


def test_history_records_train_and_test_terms_per_epoch(toy_split, tmp_path):
    history = fit(SMALL, quick_config(epochs=3), toy_split, toy_split, out_dir=tmp_path).history
    assert [r["epoch"] for r in history] == [1, 2, 3]
    for record in history:
        assert record["test_loss"] == pytest.approx(record["test_recon"] + record["test_kl"], rel=1e-6)
        assert record["epoch_seconds"] > 0
    assert json.loads((tmp_path / "metrics.json").read_text()) == history


def test_checkpoint_round_trip(toy_split, tmp_path):
    result = fit(SMALL, quick_config(epochs=1), toy_split, toy_split, out_dir=tmp_path)
    model, state = load_model(tmp_path / "checkpoint.pt")
    x, eps = toy_split.images[:4], torch.randn(4, SMALL.latent_dim)
    result.model.eval()
    assert_close(model(x, eps=eps).logits, result.model(x, eps=eps).logits)
    assert state["history"] == result.history


def test_resume_continues_exactly_where_it_stopped(toy_split, tmp_path):
    straight = fit(SMALL, quick_config(epochs=3), toy_split, toy_split).history
    fit(SMALL, quick_config(epochs=1), toy_split, toy_split, out_dir=tmp_path)
    resumed = fit(SMALL, quick_config(epochs=3), toy_split, toy_split, out_dir=tmp_path,
                  resume=tmp_path / "checkpoint.pt").history
    assert [r["epoch"] for r in resumed] == [1, 2, 3]
    for a, b in zip(straight, resumed):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)
        assert a["test_loss"] == pytest.approx(b["test_loss"], rel=1e-6)


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(toy_split, tmp_path):
    fit(SMALL, quick_config(epochs=1), toy_split, toy_split, out_dir=tmp_path)
    poisoned = Split(toy_split.images.clone(), toy_split.labels)
    poisoned.images[:, :, 0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="nan"):
        fit(SMALL, quick_config(epochs=2), poisoned, toy_split, out_dir=tmp_path, resume=tmp_path / "checkpoint.pt")
    assert [r["epoch"] for r in load_checkpoint(tmp_path / "checkpoint.pt")["history"]] == [1]


@pytest.mark.parametrize(
    "content", [b"", b"not a checkpoint at all", b"PK\x03\x04 truncated zip", b"root:x:0:0:root:/root:/bin/bash\n"]
)
def test_corrupt_checkpoints_are_refused(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_a_foreign_torch_file_is_not_a_checkpoint(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a vae_tutorial checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_truncated_checkpoint_is_refused(toy_split, tmp_path):
    fit(SMALL, quick_config(epochs=1), toy_split, toy_split, out_dir=tmp_path)
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"old")

    def broken(file):
        file.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [path]


def test_checkpoint_needs_its_keys(tmp_path):
    with pytest.raises(ValueError, match="lacks"):
        save_checkpoint(tmp_path / "c.pt", {"model_state": {}})


def test_losses_are_the_negative_elbo_and_the_objective_is_recorded_beside_them(toy_split):
    history = fit(SMALL, quick_config(beta=4.0), toy_split, toy_split).history
    for record in history:
        assert record["beta"] == 4.0
        assert record["train_loss"] == pytest.approx(record["train_recon"] + record["train_kl"], rel=1e-6)
        assert record["test_loss"] == pytest.approx(record["test_recon"] + record["test_kl"], rel=1e-6)
    first = history[0]  # the same batches make up all three training averages, so this holds exactly
    assert first["train_objective"] == pytest.approx(first["train_recon"] + 4.0 * first["train_kl"], rel=1e-6)


def test_warmup_and_capacity_are_recorded_per_epoch(toy_split):
    warm = fit(SMALL, quick_config(epochs=2, warmup_steps=8, beta=2.0), toy_split, toy_split).history
    assert [r["beta"] for r in warm] == [2.0 * 4 / 8, 2.0]  # 64 images / batch 16 = 4 steps an epoch
    capped = fit(SMALL, quick_config(epochs=2, capacity_max=5.0, capacity_steps=8, gamma=10.0), toy_split, toy_split)
    assert [r["capacity"] for r in capped.history] == [2.5, 5.0]
    assert all("beta" not in r for r in capped.history)
