"""The decoder's likelihoods against torch.distributions, and their place in the model and the loss."""

import math

import pytest
import torch
from torch.testing import assert_close

from vae_tutorial.config import ModelConfig
from vae_tutorial.likelihoods import (
    Bernoulli,
    ContinuousBernoulli,
    Gaussian,
    continuous_bernoulli_log_norm,
    make_likelihood,
)
from vae_tutorial.losses import elbo_terms
from vae_tutorial.model import VAE

SHAPE = (5, 1, 4, 4)


def _logits_and_grey(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    logits = 4 * torch.randn(SHAPE, generator=generator, dtype=torch.float64)
    x = torch.rand(SHAPE, generator=generator, dtype=torch.float64)
    return logits, x


def test_bernoulli_matches_torch_on_binary_pixels():
    logits, x = _logits_and_grey()
    x = (x > 0.5).double()
    expected = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert_close(Bernoulli().log_prob(logits, x), expected)


def test_continuous_bernoulli_matches_torch():
    logits, x = _logits_and_grey(1)
    expected = torch.distributions.ContinuousBernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert_close(ContinuousBernoulli().log_prob(logits, x), expected)


@pytest.mark.parametrize("logit", [-30.0, -5.0, -0.3, -1e-4, 0.0, 2e-4, 1e-3, 0.7, 8.0, 40.0])
def test_continuous_bernoulli_normaliser_integrates_to_one(logit):
    """(eq. cb-norm) C(lambda) * integral of lambda^x (1 - lambda)^(1 - x) over [0, 1] is 1."""
    logit = torch.tensor(logit, dtype=torch.float64)
    x = torch.linspace(0, 1, 200_001, dtype=torch.float64)
    log_unnormalised = x * torch.nn.functional.logsigmoid(logit) + (1 - x) * torch.nn.functional.logsigmoid(-logit)
    integral = torch.trapezoid(torch.exp(log_unnormalised + continuous_bernoulli_log_norm(logit)), x)
    assert integral.item() == pytest.approx(1.0, abs=1e-6)


def test_continuous_bernoulli_normaliser_is_smooth_at_one_half():
    """The Taylor branch and the exact one agree where they meet (|l| = 1e-3)."""
    inside = continuous_bernoulli_log_norm(torch.tensor([0.999e-3], dtype=torch.float64))
    outside = continuous_bernoulli_log_norm(torch.tensor([1.001e-3], dtype=torch.float64))
    assert abs(inside - outside).item() < 1e-9
    assert continuous_bernoulli_log_norm(torch.tensor(0.0)).item() == pytest.approx(math.log(2))


def test_continuous_bernoulli_mean_is_not_lambda():
    logits = torch.tensor([-3.0, 0.0, 3.0])
    mean = ContinuousBernoulli().mean(logits)
    assert mean[1].item() == pytest.approx(0.5, abs=1e-7)
    assert mean[2] < torch.sigmoid(logits[2]) - 0.1  # pulled towards 1/2 compared with lambda


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_continuous_bernoulli_mean_by_quadrature(dtype):
    """(eq. cb-mean) the mean is the integral of x p(x); in float32 too, also right beside lambda = 1/2."""
    logits = torch.tensor([-25.0, -4.0, -0.11, -0.09, -1e-3, 0.0, 2e-3, 0.099, 0.101, 0.8, 6.0, 30.0], dtype=torch.float64)
    x = torch.linspace(0, 1, 400_001, dtype=torch.float64)[:, None]  # (points, 1)
    log_density = (x * torch.nn.functional.logsigmoid(logits) + (1 - x) * torch.nn.functional.logsigmoid(-logits)
                   + continuous_bernoulli_log_norm(logits))  # (points, logits)
    expected = torch.trapezoid(x * log_density.exp(), x, dim=0)
    mean = ContinuousBernoulli().mean(logits.to(dtype)).double()
    assert_close(mean, expected, rtol=0, atol=1e-9 if dtype == torch.float64 else 1e-6)  # float32: a few ulps of 1/2


@pytest.mark.parametrize("sigma", [0.05, 1.0, None])
def test_gaussian_matches_torch(sigma):
    logits, x = _logits_and_grey(2)
    likelihood = Gaussian(sigma).double()
    scale = likelihood.log_sigma.exp()
    expected = torch.distributions.Normal(torch.sigmoid(logits), scale).log_prob(x).flatten(1).sum(1)
    assert_close(likelihood.log_prob(logits, x), expected)


def test_fixed_sigma_is_a_beta_on_squared_error():
    """(eq. sigma-beta) the gradients of recon + KL and of (SSE + 2 sigma^2 KL) / (2 sigma^2) are equal."""
    sigma = 0.3
    logits, x = _logits_and_grey(3)
    logits.requires_grad_(True)
    mu = torch.randn(SHAPE[0], 3, dtype=torch.float64, requires_grad=True)
    logvar = torch.zeros(SHAPE[0], 3, dtype=torch.float64)
    loss = elbo_terms(logits, x, mu, logvar, likelihood=Gaussian(sigma).double()).loss.sum()
    grads = torch.autograd.grad(loss, (logits, mu))
    sse = (x - torch.sigmoid(logits)).pow(2).flatten(1).sum(1)
    kl = 0.5 * mu.pow(2).sum(1)
    rescaled = ((sse + 2 * sigma**2 * kl) / (2 * sigma**2)).sum()
    for grad, other in zip(grads, torch.autograd.grad(rescaled, (logits, mu))):
        assert_close(grad, other)


def test_learned_sigma_is_a_parameter_and_fixed_sigma_is_not():
    learned = VAE(ModelConfig(likelihood="gaussian", hidden_dim=8, latent_dim=2))
    fixed = VAE(ModelConfig(likelihood="gaussian", gaussian_sigma=0.2, hidden_dim=8, latent_dim=2))
    assert "likelihood.log_sigma" in dict(learned.named_parameters())
    assert "likelihood.log_sigma" not in dict(fixed.named_parameters())
    assert "likelihood.log_sigma" not in fixed.state_dict()  # a fixed sigma lives in the config
    assert fixed.likelihood.sigma == pytest.approx(0.2)


def test_learned_sigma_moves_towards_the_error_it_sees():
    """Gradient descent on -log p(x|z) alone drives sigma to sqrt(mean squared error per pixel)."""
    logits, x = _logits_and_grey(4)
    likelihood = Gaussian(None, initial_sigma=1.0).double()
    optimizer = torch.optim.Adam(likelihood.parameters(), lr=0.05)
    for _ in range(400):
        optimizer.zero_grad()
        (-likelihood.log_prob(logits, x).sum()).backward()
        optimizer.step()
    optimum = (x - torch.sigmoid(logits)).pow(2).mean().sqrt().item()
    assert likelihood.sigma == pytest.approx(optimum, rel=1e-3)


@pytest.mark.parametrize("name, kind", [("bernoulli", Bernoulli), ("continuous-bernoulli", ContinuousBernoulli),
                                        ("gaussian", Gaussian)])
def test_samples_live_where_each_distribution_lives(name, kind):
    likelihood = make_likelihood(ModelConfig(likelihood=name))
    assert isinstance(likelihood, kind)
    logits, _ = _logits_and_grey(5)
    generator = torch.Generator().manual_seed(0)
    draws = likelihood.sample(logits.float(), generator=generator)
    assert draws.shape == SHAPE
    if name == "bernoulli":
        assert set(draws.unique().tolist()) <= {0.0, 1.0}
    elif name == "continuous-bernoulli":
        assert draws.min() >= 0 and draws.max() <= 1
        assert ((draws > 0.01) & (draws < 0.99)).any()  # grey levels, not only 0 and 1
    else:
        assert (draws != likelihood.mean(logits.float())).all()


@pytest.mark.parametrize("name", ["bernoulli", "continuous-bernoulli", "gaussian"])
def test_model_means_and_loss_use_its_likelihood(name):
    torch.manual_seed(0)
    model = VAE(ModelConfig(likelihood=name, hidden_dim=16, latent_dim=3))
    x = torch.rand(4, 1, 28, 28)
    out = model(x)
    terms = elbo_terms(out.logits, x, out.mu, out.logvar, likelihood=model.likelihood)
    assert_close(terms.recon, -model.likelihood.log_prob(out.logits, x))
    assert_close(model.reconstruct(x), model.likelihood.mean(model.decoder(model.encoder(x)[0])))
    assert model.sample(2).shape == (2, 1, 28, 28)


def test_a_fixed_sigma_needs_the_gaussian_likelihood():
    with pytest.raises(ValueError, match="gaussian likelihood"):
        ModelConfig(gaussian_sigma=0.5)
    for too_small in (0.0, 1e-320, 5e-5):  # 1e-320 overflowed the loss at the first step
        with pytest.raises(ValueError, match=">= 0.0001"):
            ModelConfig(likelihood="gaussian", gaussian_sigma=too_small)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        ModelConfig(likelihood="poisson")


@pytest.mark.parametrize("extremes", [False, True])
@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-9), (torch.float32, 2e-3)])
def test_bernoulli_log_prob_samples_is_log_prob_for_each_sample(dtype, tolerance, extremes):
    """The IWAE's fast path (no copied targets, softplus from exp and log) gives log_prob's numbers."""
    generator = torch.Generator().manual_seed(6)
    logits = (5 * torch.randn(7, 3, 1, 28, 28, generator=generator)).clamp(-25, 25).to(dtype)  # (k, B, C, H, W)
    if extremes:
        logits[0, 0, 0, 0, :2] = torch.tensor([-800.0, 450.0])  # where exp under- or overflows, in float64 too
    x = torch.rand(3, 1, 28, 28, generator=generator).to(dtype)
    x[1] = x[1].round()  # one binary image among grey ones
    fast = Bernoulli().log_prob_samples(logits, x)  # (k, B)
    slow = torch.stack([Bernoulli().log_prob(sample, x) for sample in logits])  # (k, B)
    assert fast.shape == (7, 3)
    assert_close(fast, slow, rtol=0, atol=tolerance)


@pytest.mark.parametrize("name", ["continuous-bernoulli", "gaussian"])
def test_log_prob_samples_of_the_other_likelihoods(name):
    likelihood = make_likelihood(ModelConfig(likelihood=name))
    logits, x = torch.randn(4, 2, 1, 4, 4), torch.rand(2, 1, 4, 4)
    expected = torch.stack([likelihood.log_prob(sample, x) for sample in logits])
    assert_close(likelihood.log_prob_samples(logits, x), expected)
