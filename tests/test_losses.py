import math

import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence
from torch.testing import assert_close

from vae_tutorial.losses import (
    ELBOTerms, bernoulli_nll, capacity_objective, elbo_terms, gaussian_kl, gaussian_kl_per_dim, log_normal,
    log_standard_normal,
    monte_carlo_kl,
)


def random_posterior(batch: int = 8, dim: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    mu = torch.randn(batch, dim, generator=generator, dtype=torch.float64)
    logvar = torch.randn(batch, dim, generator=generator, dtype=torch.float64)
    return mu, logvar


def test_kl_is_zero_when_posterior_equals_prior():
    zeros = torch.zeros(3, 7)
    assert_close(gaussian_kl(zeros, zeros), torch.zeros(3))


def test_kl_is_positive_away_from_the_prior():
    mu, logvar = random_posterior(batch=1000)
    kl = gaussian_kl(mu, logvar)
    assert kl.shape == (1000,)
    assert (kl > 0).all()


def test_kl_matches_torch_distributions():
    mu, logvar = random_posterior()
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    p = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    assert_close(gaussian_kl(mu, logvar), kl_divergence(q, p))
    assert_close(gaussian_kl_per_dim(mu, logvar).sum(-1), gaussian_kl(mu, logvar))


def test_monte_carlo_kl_converges_to_closed_form():
    mu, logvar = random_posterior(batch=4, dim=3)
    exact = gaussian_kl(mu, logvar)
    errors = []
    for samples in (100, 10_000, 1_000_000):
        estimate = monte_carlo_kl(mu, logvar, samples, generator=torch.Generator().manual_seed(1))
        errors.append((estimate - exact).abs().mean().item())
    assert errors[2] < errors[0]
    assert errors[2] < 0.01 * exact.mean().item()


def test_log_normal_matches_torch_distributions():
    mu, logvar = random_posterior()
    z = torch.randn_like(mu)
    expected = Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    assert_close(log_normal(z, mu, logvar), expected)


@pytest.mark.parametrize("targets", ["binary", "grey"])
def test_bce_equals_hand_written_sum(targets):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 1, 28, 28, generator=generator, dtype=torch.float64)
    x = torch.rand(4, 1, 28, 28, generator=generator, dtype=torch.float64)
    if targets == "binary":
        x = x.round()
    p = torch.sigmoid(logits)
    by_hand = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)
    assert_close(bernoulli_nll(logits, x), by_hand)


def test_bce_stays_finite_for_large_logits():
    logits = torch.tensor([[-200.0, 200.0, 120.0, -120.0]]).view(1, 1, 2, 2)
    x = torch.tensor([[1.0, 0.0, 0.5, 0.5]]).view(1, 1, 2, 2)
    p = torch.sigmoid(logits)
    naive = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum()
    assert not torch.isfinite(naive)  # the textbook formula overflows here ...
    nll = bernoulli_nll(logits, x)
    assert torch.isfinite(nll).all()  # ... the logits form does not
    assert_close(nll, torch.tensor([200.0 + 200.0 + 60.0 + 60.0]), rtol=1e-4, atol=1e-3)


def test_elbo_terms_weight_the_kl_by_beta():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 1, 28, 28, generator=generator)
    x = torch.rand(5, 1, 28, 28, generator=generator)
    mu, logvar = torch.randn(5, 4, generator=generator), torch.randn(5, 4, generator=generator)
    plain, heavy = elbo_terms(logits, x, mu, logvar, beta=1.0), elbo_terms(logits, x, mu, logvar, beta=4.0)
    assert plain.loss.shape == (5,)
    assert_close(plain.loss, plain.recon + plain.kl)
    assert_close(heavy.loss, heavy.recon + 4.0 * heavy.kl)
    assert_close(plain.mean().loss, plain.loss.mean())


def test_reductions_are_sums_over_pixels_not_means():
    logits = torch.zeros(2, 1, 28, 28)  # p = 1/2 everywhere: log 2 nats per pixel
    x = torch.ones(2, 1, 28, 28)
    assert_close(bernoulli_nll(logits, x), torch.full((2,), 784 * math.log(2)))


def test_capacity_objective_penalises_distance_from_target():
    terms = ELBOTerms(torch.tensor([3.0, 5.0]), torch.tensor([1.0, 3.0]), torch.tensor([2.0, 2.0]))
    assert_close(capacity_objective(terms, gamma=10.0, capacity=2.0), torch.tensor(2.0))
    assert_close(capacity_objective(terms, gamma=10.0, capacity=5.0), torch.tensor(2.0 + 30.0))


def test_bce_and_its_gradient_match_pytorch():
    generator = torch.Generator().manual_seed(0)
    logits = (5 * torch.randn(3, 1, 28, 28, generator=generator, dtype=torch.float64)).requires_grad_()
    x = torch.rand(3, 1, 28, 28, generator=generator, dtype=torch.float64).requires_grad_()
    reference = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    ours = bernoulli_nll(logits, x)
    assert_close(ours, reference)
    assert torch.autograd.gradcheck(bernoulli_nll, (logits[:1, :, :3, :3], x[:1, :, :3, :3]))
    weights = torch.randn(3, dtype=torch.float64)
    expected = torch.autograd.grad((reference * weights).sum(), (logits, x))
    actual = torch.autograd.grad((ours * weights).sum(), (logits, x))
    assert_close(actual[0], expected[0])
    assert_close(actual[1], expected[1])


def test_bce_floor_is_reached_at_p_equals_x_and_nowhere_else():
    from vae_tutorial.losses import bernoulli_entropy

    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x[0, 0, 0, :5] = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5], dtype=torch.float64)  # 0 log 0 = 0 at the edges
    floor = bernoulli_entropy(x)
    assert torch.isfinite(floor).all()
    at_x = bernoulli_nll(torch.logit(x.clamp(1e-12, 1 - 1e-12)), x)
    assert_close(at_x, floor, atol=1e-6, rtol=0)
    elsewhere = bernoulli_nll(torch.logit(x.clamp(1e-12, 1 - 1e-12)) + 0.3, x)
    assert (elsewhere > floor).all()
    assert bernoulli_entropy(torch.ones(1, 1, 2, 2)).item() == 0.0


def test_log_standard_normal_is_the_prior_density():
    z = torch.randn(3, 5, 4, dtype=torch.float64)
    assert_close(log_standard_normal(z), Normal(0.0, 1.0).log_prob(z).sum(-1))
