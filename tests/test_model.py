import pytest
import torch
from torch.testing import assert_close

from vae_tutorial.config import ModelConfig, TrainConfig
from vae_tutorial.model import VAE, reparameterize


def test_reparameterized_sample_has_the_right_moments():
    mu = torch.tensor([1.5, -2.0])
    logvar = torch.tensor([0.0, 2 * torch.log(torch.tensor(3.0)).item()])  # sigma = 1 and 3
    z = reparameterize(mu.expand(200_000, 2), logvar.expand(200_000, 2), generator=torch.Generator().manual_seed(0))
    assert_close(z.mean(0), mu, atol=0.03, rtol=0)
    assert_close(z.std(0), torch.tensor([1.0, 3.0]), atol=0.03, rtol=0)


def test_same_eps_gives_the_same_z_and_eps_is_used_exactly():
    mu, logvar, eps = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 3)
    assert_close(reparameterize(mu, logvar, eps), reparameterize(mu, logvar, eps))
    assert_close(reparameterize(mu, logvar, eps), mu + torch.exp(0.5 * logvar) * eps)


def test_gradients_reach_mu_and_logvar():
    mu = torch.randn(4, 3, requires_grad=True)
    logvar = torch.randn(4, 3, requires_grad=True)
    eps = torch.randn(4, 3)
    reparameterize(mu, logvar, eps).sum().backward()
    assert_close(mu.grad, torch.ones(4, 3))  # dz/dmu = 1
    assert_close(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps)  # dz/dlogvar = sigma * eps / 2


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("latent_dim", [1, 2, 20])
def test_shapes(arch, latent_dim):
    model = VAE(ModelConfig(latent_dim=latent_dim, hidden_dim=32, arch=arch))
    x = torch.rand(5, 1, 28, 28)
    out = model(x)
    assert out.logits.shape == (5, 1, 28, 28)
    assert out.mu.shape == out.logvar.shape == out.z.shape == (5, latent_dim)
    samples = model.sample(3)
    assert samples.shape == (3, 1, 28, 28)
    assert 0 <= samples.min() and samples.max() <= 1
    assert model.reconstruct(x).shape == (5, 1, 28, 28)


def test_default_sizes_come_from_the_config():
    model = VAE()
    assert model.encoder.hidden.out_features == 400
    assert model.encoder.gaussian.out_features == 2 * 20


@pytest.mark.parametrize("kwargs", [{"latent_dim": 0}, {"hidden_dim": -3}, {"arch": "transformer"}, {"image_shape": (28, 28)}])
def test_bad_model_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        ModelConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{"epochs": 0}, {"batch_size": -1}, {"beta": -0.5}, {"beta": float("nan")}, {"beta": float("inf")},
     {"lr": 0.0}, {"subset": 0}, {"device": "tpu"}, {"capacity_max": -1.0}, {"epochs": 2.5}],
)
def test_bad_training_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        TrainConfig(**kwargs)
