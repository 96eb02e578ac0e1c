import json
import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence
from torch.testing import assert_close

from vae_tutorial.config import ModelConfig, TrainConfig
from vae_tutorial.evaluate import active_units, importance_weighted_log_px, iwae_log_likelihood
from vae_tutorial.losses import bernoulli_nll, log_normal
from vae_tutorial.model import VAE
from vae_tutorial.train import fit


class LinearGaussian:
    """p(z) = N(0, I), p(x|z) = N(W z + b, s^2 I): log p(x) and the posterior are exact."""

    def __init__(self, data_dim: int = 6, latent_dim: int = 2, noise: float = 0.5, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.W = torch.randn(data_dim, latent_dim, generator=g, dtype=torch.float64)
        self.b = torch.randn(data_dim, generator=g, dtype=torch.float64)
        self.s2 = noise**2
        self.x = self.sample(8, g)

    def sample(self, count: int, g: torch.Generator) -> torch.Tensor:
        z = torch.randn(count, self.W.shape[1], generator=g, dtype=torch.float64)
        return z @ self.W.T + self.b + self.s2**0.5 * torch.randn(count, self.W.shape[0], generator=g, dtype=torch.float64)

    def log_px(self) -> torch.Tensor:
        covariance = self.W @ self.W.T + self.s2 * torch.eye(self.W.shape[0], dtype=torch.float64)
        return MultivariateNormal(self.b, covariance).log_prob(self.x)  # (B,)

    def posterior(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean (B, D) and full covariance (D, D) of p(z|x)."""
        precision = torch.eye(self.W.shape[1], dtype=torch.float64) + self.W.T @ self.W / self.s2
        covariance = torch.linalg.inv(precision)
        return (self.x - self.b) @ self.W @ covariance / self.s2, covariance

    def log_px_given_z(self, z: torch.Tensor) -> torch.Tensor:  # (k, B, D) -> (k, B)
        mean = z @ self.W.T + self.b  # (k, B, X)
        return log_normal(self.x, mean, torch.full_like(mean, math.log(self.s2)))


def imperfect_q(model: LinearGaussian) -> tuple[torch.Tensor, torch.Tensor]:
    """A diagonal q that is off the true posterior: shifted mean, wider variance."""
    mean, covariance = model.posterior()
    return mean + 0.3, torch.log(covariance.diagonal() * 2.0).expand_as(mean)


def test_iwae_is_exact_when_q_is_the_true_posterior():
    model = LinearGaussian(latent_dim=1)  # with one latent dim the true posterior is diagonal
    mean, covariance = model.posterior()
    logvar = torch.log(covariance.diagonal()).expand_as(mean)
    estimate = importance_weighted_log_px(mean, logvar, model.log_px_given_z, num_samples=7)
    assert_close(estimate, model.log_px())


def test_iwae_rises_to_log_px_from_the_elbo():
    model = LinearGaussian()
    mu, logvar = imperfect_q(model)
    exact = model.log_px()
    post_mean, post_cov = model.posterior()
    q = Normal(mu, torch.exp(0.5 * logvar))
    # ELBO = log p(x) - KL(q || p(z|x)), in closed form for Gaussians
    kl_to_posterior = kl_divergence(MultivariateNormal(mu, torch.diag_embed(q.variance)),
                                    MultivariateNormal(post_mean, post_cov))
    elbo = exact - kl_to_posterior
    gaps = {}
    for k in (1, 10, 100, 5000):
        runs = torch.stack([importance_weighted_log_px(mu, logvar, model.log_px_given_z, k,
                                                       generator=torch.Generator().manual_seed(seed))
                            for seed in range(20)])  # (20, B)
        gaps[k] = (exact - runs.mean(0)).mean().item()
    assert gaps[1] == pytest.approx((exact - elbo).mean().item(), rel=0.15)  # K = 1 is the ELBO on average
    assert gaps[1] > gaps[10] > gaps[100] > gaps[5000] > -0.01  # monotone in K, from below
    assert gaps[5000] < 0.1 * gaps[1]  # the tolerance shrinks with K


def test_iwae_of_a_vae_with_one_latent_dim_matches_quadrature():
    torch.manual_seed(0)
    model = VAE(ModelConfig(hidden_dim=32, latent_dim=1)).double().eval()
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1), dtype=torch.float64).round()
    grid = torch.linspace(-10, 10, 8001, dtype=torch.float64).view(-1, 1)  # (G, 1)
    with torch.no_grad():
        logits = model.decoder(grid)  # (G, 1, 28, 28)
        log_joint = torch.stack([-bernoulli_nll(logits, xi.expand_as(logits)) for xi in x], 1)  # (G, 3)
        log_joint = log_joint + Normal(0.0, 1.0).log_prob(grid)
    exact = torch.logsumexp(log_joint, 0) + math.log(grid[1, 0] - grid[0, 0])  # (3,)
    rough = iwae_log_likelihood(model, x, num_samples=1, batch_size=3)
    fine = iwae_log_likelihood(model, x, num_samples=20_000, batch_size=3, chunk_size=2_000)
    assert ((exact - fine).abs() < 0.05 * (exact - rough).abs() + 0.05).all()
    assert (fine <= exact + 0.05).all()


def test_active_units_on_a_constructed_case():
    g = torch.Generator().manual_seed(0)
    scales = torch.tensor([0.0, 0.05, 0.2, 1.0])  # variances 0, 0.0025, 0.04, 1
    mu = torch.randn(10_000, 4, generator=g) * scales + 3.0
    assert active_units(mu).tolist() == [False, False, True, True]


def test_capacity_pulls_the_kl_towards_its_target(toy_split):
    small = ModelConfig(hidden_dim=64, latent_dim=4)
    base = dict(epochs=15, batch_size=16, device="cpu")
    plain = fit(small, TrainConfig(**base), toy_split, toy_split).history[-1]["train_kl"]
    target = plain / 4
    capped = fit(small, TrainConfig(**base, capacity_max=target, gamma=50.0), toy_split, toy_split).history[-1]["train_kl"]
    assert abs(capped - target) < abs(plain - target) / 3


def test_an_evaluation_that_would_take_days_is_refused_up_front(tiny_data_root, tmp_path, cli, monkeypatch):
    """The estimate comes from timing one batch; over the limit: one line, exit 1, no report written."""
    from vae_tutorial.cli import commands

    data = str(tiny_data_root)
    cli("train", "--epochs", "1", "--hidden-dim", "8", "--latent-dim", "2", "--data-dir", data,
        "--out", tmp_path / "run", "--no-progress")
    checkpoint, report = tmp_path / "run" / "checkpoint.pt", tmp_path / "e.json"
    monkeypatch.setattr(commands, "MAX_EVAL_SECONDS", 1e-9)  # any evaluation is "too long" now
    cli("evaluate", checkpoint, "--data-dir", data, "--iwae-samples", "50", "--json", report).failed(
        1, "would take about", "--allow-slow")
    assert not report.exists()
    cli("evaluate", checkpoint, "--data-dir", data, "--iwae-samples", "0", "--json", report)  # no IWAE, no estimate
    assert report.exists()
    cli("evaluate", checkpoint, "--data-dir", data, "--iwae-samples", "50", "--allow-slow", "--json", report,
        may_change=("e.json",))
    assert json.loads(report.read_text())["iwae_samples"] == 50


def test_the_time_estimate_scales_with_k_and_images():
    from vae_tutorial.evaluate import iwae_seconds_estimate

    torch.manual_seed(0)
    model = VAE(ModelConfig(hidden_dim=32, latent_dim=4))
    images = torch.rand(1000, 1, 28, 28)
    small = iwae_seconds_estimate(model, images[:100], 100)
    large = iwae_seconds_estimate(model, images, 10_000)
    assert 30 < large / small < 3000  # 1000x the work; one probe each, so noisy, but not 10x off
