"""The averaged KL split in three on a minibatch (Chen et al. 2018; its first step Hoffman and Johnson 2016).

(eq. tc-split) E_p(x)[KL(q(z|x) || p(z))] = I_q(x; z) + KL(q(z) || prod_d q(z_d)) + sum_d KL(q(z_d) || p(z_d)):
the index-code mutual information, the total correlation (TC) and the dimension-wise KL, where
q(z) = 1/N sum_n q(z|x_n) is the aggregate posterior over the N images (Hoffman and Johnson split off the MI;
Chen et al. split the rest into TC and DWKL). It is the empirical aggregate of those N posteriors: where they are
narrow, MI nears log N and TC ~ rate - log N - DWKL, large even for independent dimensions, and N-dependent.

Per image, with z ~ q(z|x_i), the three terms are log-density differences that telescope:
  MI = log q(z|x_i) - log q(z),  TC = log q(z) - sum_d log q(z_d),  DWKL = sum_d log q(z_d) - log p(z),
so they add up to log q(z|x_i) - log p(z), the one-draw estimate of the KL, whatever q(z) is estimated as.

q(z) needs all N images; a minibatch of M stands in, each of its members weighted (eq. tc-weights):
  q(z_i) ~ w_self q(z_i|x_i) + w_other sum_{j != i} q(z_i|x_j),  w_self = 1/N,  w_other = (N - 1) / (N (M - 1)).
z_i was drawn from x_i, which is one of the N images for certain (weight 1/N); the other M - 1 are a
uniform sample of the remaining N - 1 (each standing for (N - 1)/(M - 1) of them), so the estimate of q(z_i)
is unbiased (each other image is in the batch with probability (M - 1)/(N - 1), which its weight undoes; rows
summing to one are not enough: equal weights 1/M do too, and are biased). It is a symmetric variant of Chen et al.'s minibatch stratified sampling (MSS,
their appendix: own weight 1/N, rows summing to one, the other weights not all equal). Their minibatch-weighted
sampling (MWS) gives every pair 1/(NM), weights summing to 1/N: its TC differs by exactly (D - 1) log N from
that of equal weights 1/M, but from ours by an amount that varies per draw (equal weights give the draw's own
posterior 1/M, not 1/N), up to about (D - 1) log N + log(N/M) where a draw's own term dominates; so neither
its value nor, for narrow posteriors, its gradient is ours.
The log of an unbiased estimate is still biased low (Jensen), most where the posteriors of a batch hardly
overlap: log q(z) and each log q(z_d) come out low. In a few wide dimensions MI comes out high and the
dimension-wise KL low, the TC little moved; in many dimensions log q(z) of the whole code has far fewer close
neighbours in a batch than each log q(z_d), and the TC comes out low. The bias shrinks as the batch grows
(tests/test_kl_decomposition.py; chapter 13 measures both cases).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .losses import ELBOTerms, LOG_2PI, log_normal, log_standard_normal


class KLParts(NamedTuple):
    """The KL of each image split in three, in nats (eq. tc-split); each field (B,)."""

    mutual_info: torch.Tensor  # log q(z|x) - log q(z): index-code mutual information
    total_correlation: torch.Tensor  # log q(z) - sum_d log q(z_d)
    dimension_kl: torch.Tensor  # sum_d [log q(z_d) - log p(z_d)]

    def mean(self) -> "KLParts":
        """Average each per-image term over the batch."""
        return KLParts(*(term.mean() for term in self))


def pairwise_log_q(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log q(z_i,d | x_j) for every draw i, image j and dimension d -> (B, B, D)."""
    z, mu, logvar = z[:, None, :], mu[None, :, :], logvar[None, :, :]  # (B, 1, D), (1, B, D), (1, B, D)
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar))  # (B, B, D)


def log_importance_weights(batch_size: int, dataset_size: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """(eq. tc-weights) log w_ij: 1/N for the image a draw came from, (N - 1)/(N (M - 1)) for the others -> (M, M).

    Each row sums to one. A batch of one has no other image: its own weight is then 1 (q(z) read as q(z|x)).
    """
    if not (1 <= batch_size <= dataset_size):
        raise ValueError(f"a batch of {batch_size} images cannot come from a data set of {dataset_size}")
    if batch_size == 1:
        return torch.zeros(1, 1, dtype=dtype, device=device)
    other = math.log(dataset_size - 1) - math.log(dataset_size) - math.log(batch_size - 1)
    weights = torch.full((batch_size, batch_size), other, dtype=dtype, device=device)  # (M, M)
    weights.fill_diagonal_(-math.log(dataset_size))
    return weights


def kl_parts(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, log_weights: torch.Tensor) -> KLParts:
    """The three terms of eq. tc-split for each draw z_i ~ q(z|x_i), with q(z) estimated by log_weights (M, M).

    z, mu, logvar: (M, D). The terms add up to log q(z|x) - log p(z) per image exactly, for any weights: that
    sum checks the plumbing, never the weights (the known-answer tests in tests/test_kl_decomposition.py do).
    """
    pairs = pairwise_log_q(z, mu, logvar)  # (M, M, D)
    log_qz = torch.logsumexp(pairs.sum(dim=-1) + log_weights, dim=1)  # (M, M) -> (M,)
    log_qz_dims = torch.logsumexp(pairs + log_weights[..., None], dim=1).sum(dim=-1)  # (M, M, D) -> (M, D) -> (M,)
    log_qz_given_x = log_normal(z, mu, logvar)  # (M,)
    return KLParts(log_qz_given_x - log_qz, log_qz - log_qz_dims, log_qz_dims - log_standard_normal(z))


def kl_decomposition(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int) -> KLParts:
    """Eq. tc-split on a minibatch of M draws z (M, D) from a data set of dataset_size images, weights eq. tc-weights."""
    return kl_parts(z, mu, logvar, log_importance_weights(z.shape[0], dataset_size, z.dtype, z.device))


def tc_objective(terms: ELBOTerms, parts: KLParts, tc_weight: float) -> torch.Tensor:
    """beta-TCVAE (Chen et al. 2018): mean of recon + KL + (lambda - 1) TC over the batch -> scalar.

    (eq. beta-tcvae) recon + MI + lambda TC + DWKL, with the KL in closed form (terms at beta = 1) and the
    TC estimated: the same objective in expectation as the three estimated terms, with less noise.
    """
    return terms.loss.mean() + (tc_weight - 1) * parts.total_correlation.mean()
