"""The decoder's distribution p(x|z): one small interface, three choices.

The decoder returns one number per pixel, its *logits*; a likelihood turns
them into a distribution over images. Each one gives the log-probability of x
summed over pixels (one number per image), the mean image and a draw.
Equation labels refer to the chapter "What the decoder can draw".
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .config import ModelConfig
from .losses import LOG_2PI, bernoulli_nll

SMALL_LOGIT = 1e-3  # below this |logit| the continuous Bernoulli's normaliser uses its Taylor series
SMALL_MEAN_LOGIT = 0.1  # below this |logit| the continuous Bernoulli's mean uses its Taylor series
SOFTPLUS_LINEAR = 30.0  # above this logit softplus(l) = l to float64 precision (exp(-30) ~ 1e-13)


class Likelihood(nn.Module):
    """p(x|z) given the decoder's logits (B, C, H, W)."""

    def log_prob(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) summed over each image's pixels -> (B,)."""
        raise NotImplementedError

    def mean(self, logits: torch.Tensor) -> torch.Tensor:
        """E[x|z], the image a decoder 'shows' -> (B, C, H, W)."""
        raise NotImplementedError

    def sample(self, logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One draw x ~ p(x|z), every pixel independent -> (B, C, H, W)."""
        raise NotImplementedError

    def log_prob_samples(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z_k) for k codes per image: logits (k, B, C, H, W), x (B, C, H, W) -> (k, B).

        What the importance-weighted estimate evaluates K times per image.
        """
        k = logits.shape[0]
        targets = x.expand(k, *x.shape).flatten(0, 1)  # (k*B, C, H, W)
        return self.log_prob(logits.flatten(0, 1), targets).view(k, -1)  # (k, B)


class Bernoulli(Likelihood):
    """Each pixel is 1 with probability sigmoid(logit): the book's default (eq. bernoulli-decoder)."""

    def log_prob(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return -bernoulli_nll(logits, x)  # (B,)

    def mean(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)

    def sample(self, logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.bernoulli(torch.sigmoid(logits), generator=generator)  # 0 or 1 per pixel

    def log_prob_samples(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(eq. bce) sum_i [x_i l_i - softplus(l_i)] for k codes per image -> (k, B).

        The same numbers as log_prob, in fewer passes over the (k, B, pixels)
        logits: the x-l term is one batched dot product per image (no copy of
        the targets per sample), and softplus(l) = log(1 + exp(l)) is summed
        from vectorised exp and log (torch's softplus goes through log1p, which
        is not vectorised on CPUs). Where exp(l) is below float precision the
        term it drops is under 1e-7 per pixel.
        """
        if torch.is_grad_enabled() and logits.requires_grad:  # the in-place passes below would break autograd
            return super().log_prob_samples(logits, x)
        k, batch = logits.shape[:2]
        flat = logits.reshape(k, batch, -1)  # (k, B, P)
        dot = torch.einsum("kbp,bp->kb", flat, x.reshape(batch, -1).to(flat.dtype))  # (k, B)
        softplus = flat.exp().add_(1).log_().sum(dim=-1)  # (k, B), one new (k, B, P) tensor
        if not torch.isfinite(softplus).all():  # exp overflowed (l > 88 in float32): again, safely
            safe = flat.clamp_max(SOFTPLUS_LINEAR).exp_().add_(1).log_().sum(dim=-1)  # (k, B)
            softplus = safe + (flat - SOFTPLUS_LINEAR).clamp_min_(0).sum(dim=-1)  # softplus(l) = l above the clamp
        return dot - softplus  # (k, B)


def continuous_bernoulli_log_norm(logits: torch.Tensor) -> torch.Tensor:
    """log C(lambda) of the continuous Bernoulli, elementwise, from the logit l of lambda.

    (eq. cb-norm) C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda), which in
    the logit l = log(lambda / (1 - lambda)) is C = l / tanh(l / 2), with C -> 2
    as l -> 0; near 0, log C = log 2 + l^2 / 12 + O(l^4).
    """
    small = logits.abs() < SMALL_LOGIT
    safe = torch.where(small, torch.ones_like(logits), logits)
    exact = torch.log(safe / torch.tanh(safe / 2))  # l / tanh(l/2) > 0 for every l != 0
    taylor = math.log(2) + logits.pow(2) / 12
    return torch.where(small, taylor, exact)


def continuous_bernoulli_mean(logits: torch.Tensor) -> torch.Tensor:
    """E[x] of the continuous Bernoulli, elementwise, from the logit l of lambda.

    (eq. cb-mean) E[x] = 1 / (1 - exp(-l)) - 1 / l, which is not lambda; near
    l = 0 it is 1/2 + l/12 - l^3/720 (computed from the logit, it keeps full
    precision near lambda = 1/2, where the form in lambda cancels digits).
    """
    small = logits.abs() < SMALL_MEAN_LOGIT
    safe = torch.where(small, torch.ones_like(logits), logits)
    exact = -1 / torch.expm1(-safe) - 1 / safe
    taylor = 0.5 + logits / 12 - logits.pow(3) / 720
    return torch.where(small, taylor, exact)


class ContinuousBernoulli(Likelihood):
    """Loaiza-Ganem & Cunningham (2019): the Bernoulli formula made a density on [0, 1].

    (eq. cb-density) p(x | lambda) = C(lambda) lambda^x (1 - lambda)^(1 - x), x in [0, 1].
    """

    def log_prob(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        log_norm = continuous_bernoulli_log_norm(logits).flatten(start_dim=1).sum(dim=1)  # (B,)
        return -bernoulli_nll(logits, x) + log_norm  # (B,)

    def mean(self, logits: torch.Tensor) -> torch.Tensor:
        return continuous_bernoulli_mean(logits)

    def sample(self, logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        uniform = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
        return torch.distributions.ContinuousBernoulli(logits=logits).icdf(uniform)  # inverse-CDF draw


class Gaussian(Likelihood):
    """x ~ N(sigmoid(logits), sigma^2) per pixel, sigma fixed or learned (one for all pixels).

    (eq. gauss-decoder) -log p(x|z) = ||x - m||^2 / (2 sigma^2) + P log sigma + P/2 log 2 pi,
    so with sigma fixed, minimising recon + KL is minimising ||x - m||^2 + 2 sigma^2 KL:
    squared error with beta = 2 sigma^2 (eq. sigma-beta).
    """

    def __init__(self, sigma: float | None = None, initial_sigma: float = 0.1) -> None:
        super().__init__()
        self.learned = sigma is None
        if self.learned:  # one log sigma for every pixel, trained with the rest of the model
            self.log_sigma = nn.Parameter(torch.tensor(math.log(initial_sigma)))
        else:
            self.register_buffer("log_sigma", torch.tensor(math.log(sigma)), persistent=False)

    @property
    def sigma(self) -> float:
        """The decoder's standard deviation, as a number."""
        return float(self.log_sigma.detach().exp())

    def log_prob(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        mean = torch.sigmoid(logits)  # (B, C, H, W), grey levels in (0, 1)
        squared = (x - mean).pow(2).flatten(start_dim=1).sum(dim=1)  # (B,)
        pixels = x[0].numel()
        log_sigma = self.log_sigma.to(logits.dtype)
        return -(squared * torch.exp(-2 * log_sigma) / 2 + pixels * (log_sigma + LOG_2PI / 2))  # (B,)

    def mean(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)

    def sample(self, logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.randn(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
        return torch.sigmoid(logits) + self.log_sigma.exp() * noise  # not clipped: the density's own draw


def make_likelihood(config: ModelConfig) -> Likelihood:
    """The likelihood a ModelConfig names."""
    if config.likelihood == "continuous-bernoulli":
        return ContinuousBernoulli()
    if config.likelihood == "gaussian":
        return Gaussian(config.gaussian_sigma)
    return Bernoulli()
