"""The conditional model, free bits, and the new flags from the command line to evaluate --json."""

import dataclasses
import json

import pytest
import torch
from torch.testing import assert_close

from vae_tutorial.cli import main
from vae_tutorial.config import ModelConfig, TrainConfig, describe
from vae_tutorial.data import Split, labelled_minibatches, minibatches
from vae_tutorial.losses import free_bits_kl, gaussian_kl_per_dim
from vae_tutorial.model import VAE, with_label


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_the_label_changes_what_the_decoder_draws(arch):
    torch.manual_seed(0)
    model = VAE(ModelConfig(conditional=True, arch=arch, hidden_dim=16, latent_dim=3))
    z = torch.randn(1, 3).expand(10, 3)  # one code, ten labels
    images = torch.sigmoid(model.decoder(z, torch.arange(10)))  # (10, 1, 28, 28)
    assert images.shape == (10, 1, 28, 28)
    assert (images[1:] - images[0]).abs().amax(dim=(1, 2, 3)).min() > 0  # every label gives another image
    out = model(torch.rand(10, 1, 28, 28), labels=torch.arange(10))
    assert out.logits.shape == (10, 1, 28, 28)


def test_a_conditional_model_refuses_to_run_without_labels():
    model = VAE(ModelConfig(conditional=True, hidden_dim=8, latent_dim=2))
    with pytest.raises(ValueError, match="needs the class labels"):
        model(torch.rand(2, 1, 28, 28))


def test_an_unconditional_model_ignores_labels():
    torch.manual_seed(0)
    model = VAE(ModelConfig(hidden_dim=8, latent_dim=2))
    x, eps = torch.rand(3, 1, 28, 28), torch.randn(3, 2)
    assert_close(model(x, eps=eps).logits, model(x, eps=eps, labels=torch.tensor([1, 2, 3])).logits)


def test_with_label_appends_a_one_hot_row_even_under_sample_dimensions():
    h = torch.zeros(4, 2, 3)  # (k, B, width)
    joined = with_label(h, torch.tensor([0, 2]), 3)  # (k, B, width + 3)
    assert joined.shape == (4, 2, 6)
    assert joined[:, 1, 3:].tolist() == [[0.0, 0.0, 1.0]] * 4


def test_labelled_minibatches_follow_the_same_shuffle():
    images = torch.arange(10.0).view(10, 1, 1, 1)
    split = Split(images, torch.arange(10) * 10)
    plain = list(minibatches(images, 4, generator=torch.Generator().manual_seed(3)))
    pairs = list(labelled_minibatches(split, 4, generator=torch.Generator().manual_seed(3)))
    for x, (x2, y) in zip(plain, pairs):
        assert_close(x, x2)
        assert_close(y, x2.flatten().long() * 10)  # each label stays with its image


def test_free_bits_leave_small_dimensions_unpenalised():
    """(eq. free-bits) sum_d max(lambda, mean KL_d): no gradient to a dimension below lambda."""
    mu = torch.tensor([[0.1, 2.0], [0.0, 2.0]], requires_grad=True)  # dim 0: tiny KL, dim 1: 2 nats
    logvar = torch.zeros(2, 2)
    value = free_bits_kl(mu, logvar, free_bits=0.5)
    per_dim = gaussian_kl_per_dim(mu, logvar).mean(0)
    assert value.item() == pytest.approx(0.5 + per_dim[1].item())
    value.backward()
    assert mu.grad[:, 0].abs().max() == 0  # below lambda: the KL term does not push it to the prior
    assert mu.grad[:, 1].abs().min() > 0


def test_free_bits_and_capacity_are_refused_together():
    with pytest.raises(ValueError, match="choose one"):
        TrainConfig(free_bits=0.5, capacity_max=10.0)
    with pytest.raises(ValueError, match="free bits"):
        TrainConfig(free_bits=-0.1)


@pytest.mark.parametrize("flags, fragment", [
    (["--likelihood", "poisson"], "--likelihood"),
    (["--gaussian-sigma", "0.5"], "gaussian likelihood"),
    (["--likelihood", "gaussian", "--gaussian-sigma", "0"], "--gaussian-sigma"),
    (["--likelihood", "gaussian", "--gaussian-sigma", "nan"], "--gaussian-sigma"),
    (["--free-bits", "-1"], "--free-bits"),
    (["--free-bits", "inf"], "--free-bits"),
    (["--free-bits", "0.5", "--capacity", "10"], "choose one"),
    (["--conditional", "yes"], "unrecognized arguments"),
])
def test_bad_new_flags(flags, fragment, cli, tmp_path):
    cli("train", *flags, "--out", tmp_path / "never").failed(2, fragment)
    assert not (tmp_path / "never").exists()

MODEL_FIELDS = {field.name for field in dataclasses.fields(ModelConfig)}


@pytest.mark.parametrize("flags, expected", [
    (["--likelihood", "continuous-bernoulli"], {"likelihood": "continuous-bernoulli"}),
    (["--likelihood", "gaussian", "--gaussian-sigma", "0.25"], {"likelihood": "gaussian", "gaussian_sigma": 0.25}),
    (["--likelihood", "gaussian"], {"likelihood": "gaussian"}),
    (["--conditional", "--free-bits", "0.25"], {"conditional": True, "free_bits": 0.25}),
])
def test_new_flags_train_and_reach_evaluate_json(flags, expected, tiny_data_root, tmp_path, capsys):
    out, data = tmp_path / "run", str(tiny_data_root)
    assert main(["train", "--epochs", "1", "--hidden-dim", "16", "--latent-dim", "3", *flags,
                 "--data-dir", data, "--out", str(out), "--no-progress"]) == 0
    assert "nan" not in (out / "metrics.json").read_text().lower()
    assert main(["evaluate", str(out / "checkpoint.pt"), "--data-dir", data, "--iwae-samples", "3",
                 "--json", str(tmp_path / "e.json")]) == 0
    report = json.loads((tmp_path / "e.json").read_text())
    for key, value in expected.items():
        assert report[key] == value, key
    if expected.get("likelihood") == "gaussian" and "gaussian_sigma" not in expected:
        assert report["gaussian_sigma"] != pytest.approx(0.1)  # learned: it moved from where it started
    assert report["iwae_nll"] is not None
    printed = capsys.readouterr().out
    assert printed.count(describe(ModelConfig(hidden_dim=16, latent_dim=3, **{k: v for k, v in expected.items()
                                                                               if k in MODEL_FIELDS}),
                                  TrainConfig(free_bits=expected.get("free_bits", 0.0)))) == 2  # trained, evaluated
