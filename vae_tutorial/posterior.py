"""Judging q over a data set: the aggregate posterior, ELBO surgery, per-image refinement of q.

Equation labels refer to the chapter "When latents go unused".
evaluate.py keeps the test ELBO, the IWAE estimate (and its decoder_log_likelihood) and the active units.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from .losses import gaussian_kl, log_gaussian_mixture, log_normal, log_standard_normal
from .sampling import reparameterize

LogLikelihood = Callable[[torch.Tensor], torch.Tensor]  # z (S, B, D) -> log p(x|z) (S, B)
LogDensity = Callable[[torch.Tensor], torch.Tensor]  # z (..., D) -> log p(z) (...)


def log_aggregate_posterior(
    z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, chunk_size: int = 1000
) -> torch.Tensor:
    """(eq. aggregate) log q(z) = log (1/N) sum_n N(z; mu_n, diag(exp(logvar_n))) -> (M,).

    z: (M, D) points; mu, logvar: (N, D), the N posteriors of the data set.
    Every component is used (no minibatch estimate), in float64, z chunk_size rows at a time.
    """
    pieces = [log_gaussian_mixture(z[start:start + chunk_size], mu, logvar)  # (m,): weight 1/N each
              for start in range(0, z.shape[0], chunk_size)]
    return torch.cat(pieces)  # (M,)


class Surgery(NamedTuple):
    """ELBO surgery (Hoffman and Johnson 2016) of a data set's posteriors, nats per image."""

    rate: float  # average KL(q(z|x_n) || p(z)): closed form against N(0, I), Monte Carlo against a learned prior
    information: float  # I_q(x; z), Monte Carlo
    marginal_kl: float  # KL(q(z) || p(z)), Monte Carlo
    # Standard errors of the two Monte Carlo estimates: the spread of the
    # per-image terms across images, so they overstate the Monte Carlo noise
    # (they also count how much the images differ): conservative.
    information_se: float
    marginal_kl_se: float
    # Monte Carlo standard error of information + marginal_kl: each image's
    # term has the closed-form KL as its exact mean, so only the noise counts.
    sum_se: float
    log_n: float  # log N, the ceiling on the information


def elbo_surgery(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    samples: int = 1,
    generator: torch.Generator | None = None,
    log_prior: LogDensity | None = None,
) -> Surgery:
    """(eq. surgery) average KL = I_q(x; z) + KL(q(z) || p(z)), each part estimated by Monte Carlo.

    mu, logvar: (N, D), the posteriors of N images, each image weighted 1/N.
    samples: draws z ~ q(z|x_n) per image; the mixture q(z) uses all N components exactly.
    log_prior: log p(z) of a learned prior (priors.py: model.prior.log_prob); None is N(0, I), whose
    rate is then exact (eq. kl-gauss). Against a learned prior the rate is the Monte Carlo average of
    log q(z|x_n) - log p(z), and sum_se the spread of its per-image values over the images.
    """
    n = mu.shape[0]
    eps = torch.randn((samples, *mu.shape), generator=generator, dtype=mu.dtype)  # (S, N, D)
    mu, logvar = mu.double(), logvar.double()  # float64: I is a small difference of large log-densities
    z = reparameterize(mu, logvar, eps.double())  # (S, N, D): draws from the aggregate posterior
    log_conditional = log_normal(z, mu, logvar)  # (S, N): log q(z|x_n)
    log_aggregate = log_aggregate_posterior(z.flatten(0, 1), mu, logvar).view(samples, n)  # (S, N)
    if log_prior is None:
        log_p = log_standard_normal(z)  # (S, N)
        kl = gaussian_kl(mu, logvar)  # (N,): E[information_n + marginal_n], exactly
    else:
        with torch.no_grad():
            log_p = log_prior(z.float()).double()  # (S, N): the learned p(z), a float32 model's
        kl = (log_conditional - log_p).mean(dim=0)  # (N,): estimated, no closed form
    information = (log_conditional - log_aggregate).mean(dim=0)  # (N,): one estimate per image
    marginal = (log_aggregate - log_p).mean(dim=0)  # (N,)

    def se(values: torch.Tensor) -> float:
        return values.std().item() / math.sqrt(n)

    # each image's information + marginal has the exact KL as its mean: only the Monte Carlo noise counts;
    # against a learned prior that KL is itself estimated, so the spread of the per-image estimates bounds it
    noise = information + marginal - kl if log_prior is None else kl - kl.mean()  # (N,)
    return Surgery(
        rate=kl.mean().item(),
        information=information.mean().item(),
        marginal_kl=marginal.mean().item(),
        information_se=se(information),
        marginal_kl_se=se(marginal),
        sum_se=noise.pow(2).mean().sqrt().item() / math.sqrt(n),
        log_n=math.log(n),
    )


def elbo_per_image(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    log_px_given_z: LogLikelihood,
    samples: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(eq. elbo) E_q[log p(x|z)] - KL(q || p) per image, the expectation from `samples` draws -> (B,)."""
    eps = torch.randn((samples, *mu.shape), generator=generator, dtype=mu.dtype)  # (S, B, D)
    z = reparameterize(mu, logvar, eps)  # (S, B, D)
    return log_px_given_z(z).mean(dim=0) - gaussian_kl(mu, logvar)  # (B,)


def refine_posterior(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    log_px_given_z: LogLikelihood,
    steps: int = 100,
    lr: float = 0.05,
    samples: int = 8,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(eq. refine) Gradient ascent on each image's own ELBO over its mu and logvar -> (B, D), (B, D).

    Starts from the given q (the encoder's output); Adam on a reparameterized
    estimate with `samples` fresh draws per step, its step size falling linearly
    from lr to 0 so that the last iterate settles instead of jittering by lr.
    The images are independent: the summed ELBO's gradient for image b involves
    image b's parameters only.
    Only mu and logvar are updated; the decoder's parameters and their .grad are left as they are.
    """
    mu = mu.detach().clone().requires_grad_(True)
    logvar = logvar.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([mu, logvar], lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    with torch.enable_grad():
        for _ in range(steps):
            elbo = elbo_per_image(mu, logvar, log_px_given_z, samples, generator)  # (B,)
            # autograd.grad, not backward: nothing accumulates in the decoder's .grad
            mu.grad, logvar.grad = torch.autograd.grad(-elbo.sum(), [mu, logvar])
            optimizer.step()
            schedule.step()
    return mu.detach(), logvar.detach()
