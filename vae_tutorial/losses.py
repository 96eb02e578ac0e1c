"""The negative ELBO and its two terms, as pure functions.

Reductions are explicit: every function here returns one number per image,
summed over that image's pixels or latent dimensions. Averaging over the batch
is the caller's step (``ELBOTerms.mean``), so no silent ``reduction='mean'``
can rescale the reconstruction term against the KL.
Equation labels refer to the chapters ("The ELBO", "The KL term in closed form").
"""

from __future__ import annotations

import math
from typing import NamedTuple, Protocol

import torch

from .sampling import reparameterize

LOG_2PI = math.log(2 * math.pi)
MIXTURE_BLOCK = 1 << 20  # numbers in one (codes, components) matrix of log_gaussian_mixture: 8 MB in float64


class Likelihood(Protocol):
    """What elbo_terms needs of a decoder's p(x|z); likelihoods.py implements it (and imports this module)."""

    def log_prob(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor: ...


class Prior(Protocol):
    """What elbo_terms needs of p(z): the KL term per image; priors.py implements it (and imports this module)."""

    def kl(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor) -> torch.Tensor: ...


class ELBOTerms(NamedTuple):
    """The beta-weighted negative ELBO and its parts, in nats."""

    loss: torch.Tensor  # recon + beta * kl
    recon: torch.Tensor  # -E_q[log p(x|z)], one-sample estimate
    kl: torch.Tensor  # KL(q(z|x) || p(z)): closed form for N(0, I), one-sample estimate for a learned prior

    def mean(self) -> "ELBOTerms":
        """Average each per-image term over the batch."""
        return ELBOTerms(*(term.mean() for term in self))


class _BCEWithLogits(torch.autograd.Function):
    """Elementwise BCE from logits, the same numbers as F.binary_cross_entropy_with_logits.

    Written out because on CPUs PyTorch's version goes through log1p, which is
    not vectorised there and costs as much as a third of a training step; this
    one uses exp and log only, and the textbook gradient sigmoid(l) - x.
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        # -[x log s(l) + (1 - x) log(1 - s(l))] = max(l, 0) - x l + log(1 + exp(-|l|)): no overflow, no log(0)
        bce = logits.clamp_min(0).sub_(x * logits).add_(torch.exp(-logits.abs()).add_(1).log_())
        ctx.save_for_backward(logits, x)
        return bce

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        logits, x = ctx.saved_tensors
        grad_logits = grad * (torch.sigmoid(logits) - x) if ctx.needs_input_grad[0] else None
        grad_x = grad * -logits if ctx.needs_input_grad[1] else None
        return grad_logits, grad_x


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) under independent Bernoullis: BCE summed over each image's pixels -> (B,).

    (eq. bce) -sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)], p = sigmoid(logits),
    computed from logits so that it stays finite where log(sigmoid) underflows.
    """
    bce = _BCEWithLogits.apply(logits, x)  # (B, C, H, W)
    return bce.flatten(start_dim=1).sum(dim=1)  # (B,)


def bernoulli_entropy(x: torch.Tensor) -> torch.Tensor:
    """Entropy of independent Bernoulli(x_i) pixels, summed over each image -> (B,).

    (eq. bce-floor) H(x) = -sum_i [x_i log x_i + (1 - x_i) log(1 - x_i)], with 0 log 0 = 0:
    the smallest BCE any model can reach on grey-level targets x (at p = x).
    """
    entropy = torch.special.entr(x) + torch.special.entr(1 - x)  # (B, C, H, W); entr(a) = -a log a
    return entropy.flatten(start_dim=1).sum(dim=1)  # (B,)


def gaussian_kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) for each latent dimension separately -> (B, D).

    (eq. kl-gauss-1d) KL = -1/2 (1 + log sigma^2 - mu^2 - sigma^2)
    """
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) in closed form, summed over latent dimensions -> (B,).

    (eq. kl-gauss) KL = -1/2 sum_d (1 + logvar_d - mu_d^2 - exp(logvar_d))
    """
    return gaussian_kl_per_dim(mu, logvar).sum(dim=-1)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension -> z.shape[:-1]."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)


def log_gaussian_mixture(
    z: torch.Tensor, means: torch.Tensor, logvars: torch.Tensor, log_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """log sum_j pi_j N(z; mean_j, diag exp(logvar_j)) in log-sum-exp form -> z.shape[:-1], in float64.

    z: (..., D); means, logvars: (J, D); log_weights: (J,), log pi, or None for equal weights. The aggregate posterior (eq. aggregate)
    and the mixture priors (eq. mixture-lse) are both this. sum_d (z_d - mean_jd)^2 / var_jd is expanded
    into two matrix products, so no (..., J, D) tensor is formed; in float64 because the expanded terms are
    large and cancel near a narrow component (float32 on MPS, which has no float64). The codes go through in
    blocks of at most MIXTURE_BLOCK / J, so that a mixture of many components never forms a (codes, J) matrix
    larger than MIXTURE_BLOCK numbers (the test set is scored 1,000 images at a time, the IWAE 5,000 codes).
    """
    wide = torch.float32 if z.device.type == "mps" else torch.float64
    z, means, logvars = z.to(wide), means.to(wide), logvars.to(wide)
    precision = torch.exp(-logvars)  # (J, D)
    scaled_means = means * precision  # (J, D)
    offset = LOG_2PI * z.shape[-1] + logvars.sum(dim=-1)  # (J,)
    centre = (means.pow(2) * precision).sum(dim=-1)  # (J,)
    log_weights = None if log_weights is None else log_weights.to(wide)
    codes = z.reshape(-1, z.shape[-1])  # (..., D) -> (N, D)
    rows = max(1, MIXTURE_BLOCK // means.shape[0])
    blocks = [_log_mixture_block(codes[start:start + rows], precision, scaled_means, centre, offset, log_weights)
              for start in range(0, codes.shape[0], rows)]
    log_p = torch.cat(blocks) if len(blocks) != 1 else blocks[0]  # (N,)
    return log_p.reshape(z.shape[:-1])  # (N,) -> (...)


def _log_mixture_block(z, precision, scaled_means, centre, offset, log_weights) -> torch.Tensor:
    """log_gaussian_mixture of (n, D) codes: the expansion of sum_d (z_d - mean_jd)^2 / var_jd -> (n,)."""
    squared = z.pow(2) @ precision.T - 2 * z @ scaled_means.T + centre  # (n, D) @ (D, J) -> (n, J)
    log_components = -0.5 * (offset + squared.clamp_min(0))  # (n, J)
    if log_weights is None:  # 1/J each, log J subtracted in the wide dtype
        return torch.logsumexp(log_components, dim=-1) - math.log(precision.shape[0])  # (n, J) -> (n,)
    return torch.logsumexp(log_components + log_weights, dim=-1)  # (n, J) -> (n,)


def gaussian_entropy(logvar: torch.Tensor) -> torch.Tensor:
    """H[N(mu, diag(exp(logvar)))] = 1/2 sum_d (log 2 pi + 1 + logvar_d), summed over the last dimension -> (...)."""
    return 0.5 * (LOG_2PI + 1 + logvar).sum(dim=-1)


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) under the prior p(z), summed over the last dimension -> z.shape[:-1]."""
    return -0.5 * (LOG_2PI + z.pow(2)).sum(dim=-1)


def monte_carlo_kl(
    mu: torch.Tensor, logvar: torch.Tensor, num_samples: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Estimate KL(q || N(0, I)) as the average of log q(z) - log p(z) over z ~ q -> (B,).

    (eq. kl-mc) Unbiased; its error shrinks like 1/sqrt(num_samples). For checking eq. kl-gauss.
    """
    eps = torch.randn((num_samples, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
    z = reparameterize(mu, logvar, eps)  # (S, B, D)
    return (log_normal(z, mu, logvar) - log_standard_normal(z)).mean(dim=0)  # (S, B) -> (B,)


def elbo_terms(
    logits: torch.Tensor,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
    likelihood: Likelihood | None = None,
    prior: Prior | None = None,
    z: torch.Tensor | None = None,
) -> ELBOTerms:
    """Per image: (eq. neg-elbo) loss = recon + beta * KL, with recon from eq. bce and KL from eq. kl-gauss.

    beta = 1 gives the negative ELBO of the VAE; beta > 1 the beta-VAE objective.
    likelihood: the decoder's p(x|z) (likelihoods.py); None is the Bernoulli of eq. bce.
    prior: p(z) (priors.py) with z, the draw the logits were decoded from; None is N(0, I) in closed form.
    Each field has shape (B,); call ``.mean()`` for the batch average.
    """
    recon = bernoulli_nll(logits, x) if likelihood is None else -likelihood.log_prob(logits, x)  # (B,)
    kl = gaussian_kl(mu, logvar) if prior is None else prior.kl(mu, logvar, z)  # (B,)
    return ELBOTerms(recon + beta * kl, recon, kl)


def capacity_objective(terms: ELBOTerms, gamma: float, capacity: float) -> torch.Tensor:
    """Burgess et al. (2018): mean recon + gamma * |mean KL - C| over the batch -> scalar.

    (eq. capacity) The KL is pulled towards a target C instead of towards zero.
    """
    return terms.recon.mean() + gamma * (terms.kl.mean() - capacity).abs()


def free_bits_kl(mu: torch.Tensor, logvar: torch.Tensor, free_bits: float) -> torch.Tensor:
    """Kingma et al. (2016): the KL term with `free_bits` nats per dimension left unpenalised -> scalar.

    (eq. free-bits) sum_d max(tau, mean over the batch of KL_d): a dimension whose
    average KL is below the floor tau gets no gradient from the KL term, so the
    objective gains nothing by switching it off entirely.
    """
    kl_per_dim = gaussian_kl_per_dim(mu, logvar).mean(dim=0)  # (B, D) -> (D,)
    return kl_per_dim.clamp_min(free_bits).sum()
