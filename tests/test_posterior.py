import math

import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal
from torch.testing import assert_close

from vae_tutorial.config import ModelConfig
from vae_tutorial.evaluate import decoder_log_likelihood
from vae_tutorial.losses import log_normal
from vae_tutorial.model import VAE
from vae_tutorial.posterior import (
    elbo_per_image,
    elbo_surgery,
    log_aggregate_posterior,
    refine_posterior,
)


def posteriors(n: int, d: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randn(n, d, generator=g) * 0.5 - 1


@pytest.mark.parametrize("chunk_size", [7, 1000])
def test_aggregate_posterior_is_the_mixture_of_torch_distributions(chunk_size):
    mu, logvar = posteriors(30, 3)
    mixture = MixtureSameFamily(Categorical(torch.ones(30)), Independent(Normal(mu, (0.5 * logvar).exp()), 1))
    z = torch.randn(50, 3, generator=torch.Generator().manual_seed(1)) * 2
    assert_close(log_aggregate_posterior(z, mu, logvar, chunk_size).float(), mixture.log_prob(z), rtol=1e-5, atol=1e-5)


def test_identical_posteriors_carry_no_information():
    """All images share one q(z|x): I = 0 and the whole rate is KL(q(z) || p(z))."""
    mu, logvar = torch.full((200, 2), 0.7), torch.full((200, 2), -1.0)
    surgery = elbo_surgery(mu, logvar, samples=4, generator=torch.Generator().manual_seed(0))
    assert abs(surgery.information) < 1e-9
    assert abs(surgery.marginal_kl - surgery.rate) < 4 * surgery.marginal_kl_se + 1e-9


def test_separated_posteriors_carry_log_n_nats():
    """Narrow posteriors far apart: z names its image, so I = H(x) = log N exactly, the ceiling."""
    n = 64
    mu = torch.arange(n, dtype=torch.float32).view(n, 1) * 10.0 - 320.0  # 10 apart, sigma 0.01
    surgery = elbo_surgery(mu, torch.full((n, 1), math.log(1e-4)), generator=torch.Generator().manual_seed(0))
    assert surgery.log_n == pytest.approx(math.log(n))
    assert surgery.information == pytest.approx(math.log(n), abs=1e-6)


def test_surgery_adds_up_and_respects_the_bounds():
    mu, logvar = posteriors(500, 4)
    surgery = elbo_surgery(mu, logvar, samples=8, generator=torch.Generator().manual_seed(2))
    # (eq. surgery) the two Monte Carlo parts add up to the closed-form average KL, within noise
    assert abs(surgery.information + surgery.marginal_kl - surgery.rate) < 4 * surgery.sum_se
    assert 0 < surgery.information <= surgery.log_n
    assert surgery.marginal_kl > 0
    assert surgery.sum_se < 0.1 * surgery.rate  # the errors are small enough to mean something


def test_surgery_standard_errors_match_the_spread_over_seeds():
    """sum_se is the Monte Carlo error of I + KL; information_se does not understate I's."""
    mu, logvar = posteriors(300, 3, seed=5)
    mu = mu * torch.linspace(0, 4, 300).view(300, 1)  # KLs that differ a lot from image to image
    g = torch.Generator().manual_seed(0)  # one stream: fresh generators seeded 0, 1, 2... are not independent enough
    runs = [elbo_surgery(mu, logvar, generator=g) for _ in range(40)]
    sums = torch.tensor([r.information + r.marginal_kl for r in runs], dtype=torch.float64)
    infos = torch.tensor([r.information for r in runs], dtype=torch.float64)
    sum_se = sum(r.sum_se for r in runs) / len(runs)
    # 40 seeds: the sample std is within about 25% of the true one (3 standard errors)
    # the spread of the per-image KLs is not Monte Carlo noise: counting it would make this ratio about 0.25
    assert 0.7 < sums.std().item() / sum_se < 1.35
    assert infos.std().item() < 1.35 * runs[0].information_se


class LinearGaussian1D:
    """p(z) = N(0, 1), p(x|z) = N(w z + b, s^2 I): the true posterior is a 1-D Gaussian, log p(x) exact."""

    def __init__(self, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.w, self.b, self.s2 = torch.randn(5, generator=g), torch.randn(5, generator=g), 0.25
        self.x = self.b + self.w * torch.randn(6, 1, generator=g) + 0.5 * torch.randn(6, 5, generator=g)  # (B, 5)

    def log_px_given_z(self, z: torch.Tensor) -> torch.Tensor:  # (S, B, 1) -> (S, B)
        mean = z * self.w + self.b  # (S, B, 5)
        return log_normal(self.x, mean, torch.full_like(mean, math.log(self.s2)))

    def posterior(self) -> tuple[torch.Tensor, torch.Tensor]:
        precision = 1 + (self.w @ self.w) / self.s2
        mean = (self.x - self.b) @ self.w / self.s2 / precision  # (B,)
        return mean.view(-1, 1), torch.full((6, 1), -math.log(precision))

    def log_px(self) -> torch.Tensor:
        covariance = torch.outer(self.w, self.w) + self.s2 * torch.eye(5)
        return torch.distributions.MultivariateNormal(self.b, covariance).log_prob(self.x)  # (B,)


def test_elbo_per_image_is_log_px_at_the_true_posterior():
    model = LinearGaussian1D()
    mu, logvar = model.posterior()
    g = torch.Generator()
    elbo = elbo_per_image(mu, logvar, model.log_px_given_z, samples=20000, generator=g.manual_seed(0))
    assert_close(elbo, model.log_px(), rtol=0, atol=0.03)  # ELBO = log p(x) at q = p(z|x); 0.03 = 6 standard errors
    shifted = elbo_per_image(mu + 0.5, logvar, model.log_px_given_z, samples=20000, generator=g.manual_seed(0))
    assert (shifted < model.log_px() - 0.1).all()  # any other q pays KL(q || p(z|x)) > 0


def test_refinement_finds_the_true_posterior_and_closes_the_gap():
    model = LinearGaussian1D()
    true_mu, true_logvar = model.posterior()
    mu, logvar = true_mu + 1.0, true_logvar + 1.5  # a poor "encoder" output
    refined = refine_posterior(mu, logvar, model.log_px_given_z, steps=400, lr=0.05, samples=16,
                               generator=torch.Generator().manual_seed(0))
    assert_close(refined[0], true_mu, atol=0.05, rtol=0)
    assert_close(refined[1], true_logvar, atol=0.15, rtol=0)
    g = torch.Generator().manual_seed(1)
    before = elbo_per_image(mu, logvar, model.log_px_given_z, 4000, g)
    after = elbo_per_image(*refined, model.log_px_given_z, 4000, g)
    assert (model.log_px() - before).min() > 1.0  # a real gap to close
    assert (model.log_px() - after).abs().max() < 0.05


def test_refinement_raises_a_vae_elbo_and_leaves_the_decoder_alone():
    torch.manual_seed(0)
    model = VAE(ModelConfig(hidden_dim=32, latent_dim=3))
    x = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    before_weights = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        mu, logvar = model.encoder(x)
    log_px_given_z = decoder_log_likelihood(model, x)
    refined = refine_posterior(mu, logvar, log_px_given_z, steps=60, lr=0.05, samples=4,
                               generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        elbo_before = elbo_per_image(mu, logvar, log_px_given_z, 500, g.manual_seed(2))
        elbo_after = elbo_per_image(*refined, log_px_given_z, 500, g.manual_seed(2))
    assert (elbo_after > elbo_before).all()  # every image's own ELBO rises
    for p, p0 in zip(model.parameters(), before_weights):
        assert torch.equal(p, p0) and p.grad is None


def test_decoder_log_likelihood_matches_the_model_s_likelihood():
    model = VAE(ModelConfig(hidden_dim=16, latent_dim=2))
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    z = torch.randn(4, 3, 2, generator=torch.Generator().manual_seed(1))  # (S, B, D)
    with torch.no_grad():
        got = decoder_log_likelihood(model, x)(z)  # (S, B)
        want = torch.stack([model.likelihood.log_prob(model.decoder(z[s]), x) for s in range(4)])
    assert_close(got, want)
