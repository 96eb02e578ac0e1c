"""Disentanglement against known factors: the mutual information gap and DCI.

Both take codes (N, D) floats (posterior means, say) and factors (N, K) integer indices, and return
numbers in [0, 1], 1 the best. They judge different things: MIG (Chen et al. 2018) asks whether each
factor lives in one latent dimension (a factor copied into two dimensions scores 0 for it);
DCI disentanglement (Eastwood and Williams 2018) asks whether each latent dimension serves one factor
(a copy is no fault there; DCI's completeness is what it lowers).

Estimators, which are choices and differ between papers (so scores are not one scale across them):
- MIG here bins the codes you pass (posterior means, as disentanglement_lib does, Locatello et al. 2019),
  not Chen et al.'s estimator, which reads I(z_j; v_k) from the sampled posterior q(z_j|x) and so sees its
  variance. A mean-based MIG counts a switched-off unit (variance 1) whose mean still follows a factor, however
  slightly, as a full copy of it. The bins have equal mass (disentanglement_lib's np.histogram bins have equal
  width), so the score ignores monotone maps of a code; a factor's few values make tight clusters, and a bin
  that straddles two of them mixes them, so a perfect code scores a little below 1.
- DCI uses Eastwood and Williams' formula with random-forest classifiers and impurity importances, fitted on
  half the codes; they used lasso and random-forest regressors, disentanglement_lib gradient-boosted trees.
"""

from __future__ import annotations

import math

import numpy as np
import torch

BINS = 20  # equal-mass bins per code (disentanglement_lib also uses 20, of equal width)


def discretize(codes: torch.Tensor, bins: int = BINS) -> torch.Tensor:
    """Each column cut into `bins` equal-mass bins (ties kept together) -> (N, D) int64.

    Equal mass rather than equal width: the bins, and so every mutual information below, do not change
    under a monotone map of a code (as the true mutual information does not), nor with its outliers.
    """
    codes = torch.as_tensor(codes, dtype=torch.float64)
    ordered = codes.sort(dim=0).values  # (N, D)
    cuts = (torch.arange(1, bins) * codes.shape[0]) // bins  # (bins - 1,) ranks where a bin ends
    edges = ordered[cuts].T.contiguous()  # (D, bins - 1), values of the codes themselves
    return torch.stack([torch.bucketize(column, edge, right=True) for column, edge in zip(codes.T.contiguous(), edges)], dim=1)


def entropy(labels: torch.Tensor) -> float:
    """H of the empirical distribution of integer labels (N,), in nats."""
    p = torch.bincount(labels - labels.min()).double() / labels.numel()
    return float(-(p[p > 0] * p[p > 0].log()).sum())


def mutual_information(a: torch.Tensor, b: torch.Tensor) -> float:
    """I(a; b) of two integer label vectors (N,) from their contingency table, in nats."""
    a, b = a - a.min(), b - b.min()
    joint = torch.bincount(a * (int(b.max()) + 1) + b).double()  # cell counts, a-major
    joint = torch.nn.functional.pad(joint, (0, (int(a.max()) + 1) * (int(b.max()) + 1) - joint.numel()))
    joint = joint.view(int(a.max()) + 1, int(b.max()) + 1) / a.numel()  # (|a|, |b|)
    outer = joint.sum(dim=1, keepdim=True) * joint.sum(dim=0, keepdim=True)  # p(a) p(b)
    cells = joint > 0
    return float((joint[cells] * (joint[cells] / outer[cells]).log()).sum())


def mutual_info_matrix(codes: torch.Tensor, factors: torch.Tensor, bins: int = BINS) -> torch.Tensor:
    """I(z_j; v_k) for every latent dimension j and factor k, codes binned -> (D, K), nats."""
    binned, factors = discretize(codes, bins), torch.as_tensor(factors, dtype=torch.int64)
    return torch.tensor([[mutual_information(z, v) for v in factors.T] for z in binned.T], dtype=torch.float64)


def mig(codes: torch.Tensor, factors: torch.Tensor, bins: int = BINS) -> float:
    """Mutual information gap (Chen et al. 2018) of binned codes (disentanglement_lib's variant), in [0, 1].

    (eq. mig) MIG = 1/K sum_k [I(z_(1); v_k) - I(z_(2); v_k)] / H(v_k): for each factor, the gap between
    the two latent dimensions that know most about it, over what there is to know (the factor's entropy).
    A factor that does not vary (H = 0) has nothing to find and is left out.
    """
    gaps = mig_per_factor(codes, factors, bins)  # (K,), NaN where a factor does not vary
    return float(gaps[~gaps.isnan()].mean())


def mig_per_factor(codes: torch.Tensor, factors: torch.Tensor, bins: int = BINS) -> torch.Tensor:
    """Each factor's term of (eq. mig), its normalised gap -> (K,); NaN for a factor that does not vary."""
    _check(codes, factors)
    info = mutual_info_matrix(codes, factors, bins)  # (D, K)
    entropies = torch.tensor([entropy(v) for v in torch.as_tensor(factors).T])  # (K,)
    top = info.topk(2, dim=0).values  # (2, K): the largest and second largest over the latent dimensions
    gaps = (top[0] - top[1]) / entropies.clamp_min(1e-12)  # (K,)
    return torch.where(entropies > 0, gaps, torch.full_like(gaps, float("nan")))


def importance_matrix(codes: torch.Tensor, factors: torch.Tensor, seed: int = 0) -> tuple[np.ndarray, float]:
    """R_jk, how much code j serves to predict factor k (random forests' impurity importances), and the accuracy.

    One forest per factor (a classifier: shape is categorical), fitted on half the data; its importances
    sum to one over the codes. Returns (R (D, K), mean test accuracy on the other half).
    """
    from sklearn.ensemble import RandomForestClassifier

    x, y = np.asarray(codes, dtype=np.float64), np.asarray(factors, dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    train, test = order[: len(x) // 2], order[len(x) // 2:]
    importances, accuracies = [], []
    for k in range(y.shape[1]):
        forest = RandomForestClassifier(n_estimators=30, max_features=None, min_samples_leaf=5, random_state=seed, n_jobs=1)
        forest.fit(x[train], y[train, k])
        importances.append(forest.feature_importances_)  # (D,)
        accuracies.append(forest.score(x[test], y[test, k]))
    return np.stack(importances, axis=1), float(np.mean(accuracies))  # (D, K)


def dci(codes: torch.Tensor, factors: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """DCI (Eastwood and Williams 2018): disentanglement, completeness and informativeness, each in [0, 1].

    (eq. dci) D = sum_j rho_j (1 - H_K(P_j.)), P_jk = R_jk / sum_k R_jk, rho_j = sum_k R_jk / sum_jk R_jk:
    each code's importance spread over the factors, weighted by how much the code matters at all (so an
    unused dimension does not count); C is the same over codes for each factor; I is the forests' accuracy.
    """
    _check(codes, factors)
    importance, accuracy = importance_matrix(codes, factors, seed)  # (D, K)
    importance = np.clip(importance, 0, None) + 1e-12
    num_codes, num_factors = importance.shape
    per_code = importance / importance.sum(axis=1, keepdims=True)  # (D, K), rows sum to one
    code_entropy = -(per_code * np.log(per_code)).sum(axis=1) / math.log(num_factors)  # (D,), in [0, 1]
    weight = importance.sum(axis=1) / importance.sum()  # (D,)
    per_factor = importance / importance.sum(axis=0, keepdims=True)  # (D, K), columns sum to one
    factor_entropy = -(per_factor * np.log(per_factor)).sum(axis=0) / math.log(num_codes)  # (K,)
    return {"disentanglement": float((weight * (1 - code_entropy)).sum()),
            "completeness": float((1 - factor_entropy).mean()), "informativeness": accuracy}


def _check(codes, factors) -> None:
    """Codes (N, D >= 2) and factors (N, K) of one length, else a ValueError."""
    codes, factors = torch.as_tensor(codes), torch.as_tensor(factors)
    if codes.dim() != 2 or factors.dim() != 2 or len(codes) != len(factors) or codes.shape[1] < 2:
        raise ValueError(f"codes (N, D >= 2) and factors (N, K) of the same N, got {tuple(codes.shape)} and "
                         f"{tuple(factors.shape)}")
    if factors.is_floating_point() or not torch.isfinite(codes.double()).all():
        raise ValueError("factors must be integer indices and codes finite numbers")
