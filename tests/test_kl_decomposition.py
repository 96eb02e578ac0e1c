"""The KL split in three on a minibatch (Chen et al. 2018), checked where the answer is known.

Gaussian codes: data x ~ N(0, C - s^2 I) stand in for the encoder's means and q(z|x) = N(x, s^2 I), so
q(z) = N(0, C) with C a correlation matrix R (unit diagonal). Then, in closed form,
  TC = -1/2 log det R,  DWKL = 0 (each q(z_d) is N(0, 1)),  MI = 1/2 log det R - D log s,
and the three add up to the average KL, -D log s. The data set is large (N = 60,000, like Fashion-MNIST),
so a minibatch is a fresh draw of M means.
"""

import math

import pytest
import torch

from vae_tutorial.kl_decomposition import kl_decomposition, kl_parts, log_importance_weights, tc_objective
from vae_tutorial.losses import elbo_terms, gaussian_kl

D, S, RHO, N = 3, 0.6, 0.6, 60_000


def _correlation(rho: float = RHO) -> torch.Tensor:
    r = torch.full((D, D), rho, dtype=torch.float64)
    return r.fill_diagonal_(1.0)


def _batch(batch_size: int, generator: torch.Generator, rho: float = RHO):
    """A minibatch of M images' posteriors and one draw from each: z, mu, logvar, all (M, D)."""
    spread = torch.linalg.cholesky(_correlation(rho) - S**2 * torch.eye(D, dtype=torch.float64))
    mu = torch.randn(batch_size, D, generator=generator, dtype=torch.float64) @ spread.T  # (M, D)
    z = mu + S * torch.randn(batch_size, D, generator=generator, dtype=torch.float64)  # (M, D)
    return z, mu, torch.full_like(mu, 2 * math.log(S))


def _estimate(batch_size: int, weights=None, draws: int = 8192, rho: float = RHO, seed: int = 0) -> torch.Tensor:
    """(MI, TC, DWKL) averaged over draws // M minibatches; weights(M) -> (M, M) log weights, default eq. tc-weights."""
    generator = torch.Generator().manual_seed(seed)
    totals = []
    for _ in range(draws // batch_size):
        z, mu, logvar = _batch(batch_size, generator, rho)
        log_weights = log_importance_weights(batch_size, N, torch.float64) if weights is None else weights(batch_size)
        totals.append(torch.stack([term.mean() for term in kl_parts(z, mu, logvar, log_weights)]))
    return torch.stack(totals).mean(dim=0)  # (3,)


def _truth(rho: float = RHO) -> torch.Tensor:
    log_det = torch.logdet(_correlation(rho)).item()
    return torch.tensor([0.5 * log_det - D * math.log(S), -0.5 * log_det, 0.0], dtype=torch.float64)


def paper_mws(batch_size: int) -> torch.Tensor:
    """Chen et al.'s minibatch-weighted sampling: 1/(NM) for every pair (weights summing to 1/N)."""
    return torch.full((batch_size, batch_size), -math.log(N * batch_size), dtype=torch.float64)


def unnormalised(batch_size: int) -> torch.Tensor:
    """The plain logsumexp over the batch, no weights at all (log(N M) left out)."""
    return torch.zeros(batch_size, batch_size, dtype=torch.float64)


def test_the_three_terms_add_up_to_the_kl_of_each_image():
    generator = torch.Generator().manual_seed(1)
    z, mu, logvar = _batch(64, generator)
    parts = kl_decomposition(z, mu, logvar, N)
    one_draw = -0.5 * (logvar + (z - mu).pow(2) / logvar.exp()).sum(-1) + 0.5 * z.pow(2).sum(-1)  # log q(z|x) - log p(z)
    torch.testing.assert_close(sum(parts), one_draw)
    total = _estimate(256).sum()  # averaged over many draws: the closed-form average KL
    assert abs(total.item() - (-D * math.log(S))) < 0.03
    big = _batch(200_000, generator)
    assert abs(gaussian_kl(big[1], big[2]).mean().item() - (-D * math.log(S))) < 0.03  # and so is the closed form


def test_known_answers_for_gaussian_codes():
    """TC = -1/2 log det R, DWKL = 0, MI = 1/2 log det R - D log s; and TC = 0 for independent codes."""
    estimate, truth = _estimate(512, draws=4096), _truth()
    assert truth[1] > 0.5  # the correlation is real: half a nat of total correlation
    torch.testing.assert_close(estimate, truth, atol=0.04, rtol=0)
    independent = _estimate(512, draws=4096, rho=0.0)
    assert abs(independent[1].item()) < 0.03


@pytest.mark.parametrize("wrong", [paper_mws, unnormalised])
def test_weights_that_do_not_sum_to_one_miss_the_known_answer(wrong):
    """Chen et al.'s 1/(NM) puts TC about (D - 1) log N too high; no weights, (D - 1) log M too low."""
    estimate, truth = _estimate(512, wrong, draws=4096), _truth()
    assert abs(estimate[1] - truth[1]) > 1.0
    offset = (D - 1) * (math.log(N) if wrong is paper_mws else -math.log(512))
    assert abs(estimate[1] - truth[1] - offset) < 0.1  # exactly the missing normalisation
    torch.testing.assert_close(estimate.sum(), truth.sum(), atol=0.03, rtol=0)  # the sum cannot tell


def test_chen_mws_differs_from_equal_weights_by_a_constant_but_from_ours_by_a_varying_amount():
    """Narrow posteriors (sd 0.1): MWS - (1/M) is (D - 1) log N for every draw; MWS - ours is not constant."""
    generator = torch.Generator().manual_seed(0)
    mu = torch.randn(64, D, generator=generator, dtype=torch.float64)  # (64, D)
    logvar = torch.full_like(mu, 2 * math.log(0.1))
    z = mu + 0.1 * torch.randn(mu.shape, generator=generator, dtype=torch.float64)

    def tc(log_weights):
        return kl_parts(z, mu, logvar, log_weights).total_correlation  # (64,)

    mws = tc(paper_mws(64))
    torch.testing.assert_close(mws - tc(torch.full((64, 64), -math.log(64), dtype=torch.float64)),
                               torch.full((64,), (D - 1) * math.log(N), dtype=torch.float64))
    offset = mws - tc(log_importance_weights(64, N, torch.float64))  # (64,)
    assert offset.max() - offset.min() > 3, offset


def test_the_bias_shrinks_as_the_batch_grows():
    """log of an unbiased estimate of q(z) is biased low: MI too high, DWKL too low, less so in larger batches."""
    truth = _truth()
    errors = [(_estimate(m, draws=4096) - truth).abs().max().item() for m in (8, 32, 128)]  # 0.36, 0.08, 0.02 here
    assert errors[0] > 0.2 and errors[-1] < 0.05, errors
    assert all(a > b for a, b in zip(errors, errors[1:])), errors


def test_weights_sum_to_one_and_a_batch_of_one_is_allowed():
    for m in (1, 2, 64):
        torch.testing.assert_close(log_importance_weights(m, 1000, torch.float64).exp().sum(1),
                                   torch.ones(m, dtype=torch.float64))
    with pytest.raises(ValueError):
        log_importance_weights(65, 64)


def test_beta_tcvae_objective_adds_only_the_extra_tc():
    generator = torch.Generator().manual_seed(2)
    z, mu, logvar = _batch(32, generator)
    logits, x = torch.randn(32, 1, 2, 2, dtype=torch.float64), torch.rand(32, 1, 2, 2, dtype=torch.float64)
    terms = elbo_terms(logits, x, mu, logvar)
    parts = kl_decomposition(z, mu, logvar, N)
    torch.testing.assert_close(tc_objective(terms, parts, 1.0), terms.loss.mean())  # lambda = 1: the VAE
    torch.testing.assert_close(tc_objective(terms, parts, 6.0) - tc_objective(terms, parts, 1.0),
                               5 * parts.total_correlation.mean())


def test_beta_tcvae_trains_in_the_one_loop(toy_split):
    """--tc-weight is one more term of fit()'s objective: the same loop, the same data, another objective."""
    from vae_tutorial.config import ModelConfig, TrainConfig
    from vae_tutorial.train import fit

    model = ModelConfig(hidden_dim=16, latent_dim=4)
    plain = fit(model, TrainConfig(epochs=1, batch_size=16, device="cpu"), toy_split, toy_split).history[-1]
    tc = fit(model, TrainConfig(epochs=1, batch_size=16, device="cpu", tc_weight=6.0), toy_split, toy_split).history[-1]
    assert tc["tc_weight"] == 6.0 and tc["beta"] == 1.0 and "tc_weight" not in plain
    assert tc["train_objective"] != tc["train_loss"]  # the TC term is in what was minimised
    assert plain["train_objective"] == pytest.approx(plain["train_loss"])
    assert math.isfinite(tc["test_loss"])
