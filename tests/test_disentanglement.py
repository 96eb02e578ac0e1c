"""MIG and DCI where the answer is known, and the plausible wrong versions each test rejects."""

import math

import numpy as np
import pytest
import torch

from vae_tutorial.disentanglement import (dci, discretize, entropy, importance_matrix, mig, mig_per_factor,
                                          mutual_info_matrix)

SIZES = (3, 4, 10, 14, 14)  # the sprites' factors


def _factors(n: int = 3000, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randint(size, (n,), generator=generator) for size in SIZES], dim=1)  # (n, K), independent


def _faithful(factors: torch.Tensor, seed: int = 1) -> torch.Tensor:
    """Codes that are the factors: a different monotone map of each, and noise well inside one step."""
    generator = torch.Generator().manual_seed(seed)
    steps = factors.double() + 0.3 * (torch.rand(factors.shape, generator=generator, dtype=torch.float64) - 0.5)
    maps = [torch.exp, lambda t: -t, torch.atan, lambda t: t.pow(3), lambda t: 2 * t + 1]
    return torch.stack([f(steps[:, k] / 4) for k, f in enumerate(maps)], dim=1)  # (n, K)


def _rotated(codes: torch.Tensor, seed: int = 2) -> torch.Tensor:
    standard = (codes - codes.mean(0)) / codes.std(0)
    rotation, _ = torch.linalg.qr(torch.randn(codes.shape[1], codes.shape[1], generator=torch.Generator().manual_seed(seed),
                                              dtype=torch.float64))
    return standard @ rotation  # every code a mixture of every factor


def _noise(n: int = 3000, dims: int = 5, seed: int = 3) -> torch.Tensor:
    return torch.randn(n, dims, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# --- wrong versions, each one a slip that is easy to make ------------------------------------------------------

def mig_code_entropy(codes, factors) -> float:
    """The gap normalised by the entropy of the (binned) latent code instead of the factor's."""
    info = mutual_info_matrix(codes, factors)  # (D, K)
    top = info.topk(2, dim=0)
    code_entropy = torch.tensor([entropy(column) for column in discretize(codes).T])  # (D,)
    return float(((top.values[0] - top.values[1]) / code_entropy[top.indices[0]]).mean())


def mig_gap_between_factors(codes, factors) -> float:
    """The gap taken, for each latent dimension, between the two factors it knows most about."""
    info = mutual_info_matrix(codes, factors)  # (D, K)
    entropies = torch.tensor([entropy(v) for v in factors.T])
    top = (info / entropies).topk(2, dim=1).values  # (D, 2)
    return float((top[:, 0] - top[:, 1]).mean())


def dci_unweighted(codes, factors) -> float:
    """DCI disentanglement as a plain mean over codes, without weighting each by its importance."""
    from vae_tutorial.disentanglement import importance_matrix

    importance, _ = importance_matrix(codes, factors)
    importance = importance + 1e-12  # an unused code's row is uniform (as in dci), not 0 / 0
    per_code = importance / importance.sum(axis=1, keepdims=True)
    return float((1 - (-(per_code * np.log(per_code)).sum(axis=1) / math.log(per_code.shape[1]))).mean())


# --- MIG ------------------------------------------------------------------------------------------------------

def test_mig_of_codes_that_are_the_factors_is_near_one():
    factors = _factors()
    assert mig(_faithful(factors), factors) > 0.9
    assert mig_code_entropy(_faithful(factors), factors) < 0.75  # the wrong entropy: log 20 bins, not log 3 shapes


def test_mig_of_a_rotation_is_much_lower_and_of_noise_near_zero():
    factors = _factors()
    good = mig(_faithful(factors), factors)
    assert mig(_rotated(_faithful(factors)), factors) < good / 2
    assert mig(_noise(), factors) < 0.03


def test_mig_penalises_a_factor_copied_into_two_dimensions():
    """Two dimensions that both hold the position x: the gap for x is zero, so MIG loses a fifth."""
    factors = _factors()
    codes = _faithful(factors)
    copied = torch.cat([codes, codes[:, 3:4].exp()], dim=1)  # (n, K + 1)
    assert mig(copied, factors) == pytest.approx(mig(codes, factors) * 4 / 5, abs=0.03)
    assert mig_gap_between_factors(copied, factors) > 0.9  # the gap between factors sees no fault


def test_mig_per_factor_names_the_factor_a_copy_costs():
    """MIG is the mean of the per-factor gaps; a copy of x zeroes x's gap and leaves the others as they were."""
    factors = _factors()
    codes = _faithful(factors)
    copied = torch.cat([codes, codes[:, 3:4].exp()], dim=1)
    before, after = mig_per_factor(codes, factors), mig_per_factor(copied, factors)
    assert after[3] < 0.05 and before[3] > 0.8
    keep = [0, 1, 2, 4]
    torch.testing.assert_close(after[keep], before[keep], atol=0.02, rtol=0)
    assert mig(copied, factors) == pytest.approx(after.mean().item(), abs=1e-9)
    constant = torch.cat([factors, torch.zeros(len(factors), 1, dtype=factors.dtype)], dim=1)
    assert mig_per_factor(codes, constant)[-1].isnan()  # a factor that does not vary has no gap


def test_mig_does_not_change_under_a_monotone_map_of_a_code():
    factors = _factors()
    codes = _faithful(factors)
    squashed = torch.cat([torch.sigmoid(3 * codes[:, :1]), codes[:, 1:]], dim=1)
    assert mig(squashed, factors) == pytest.approx(mig(codes, factors), abs=1e-12)


# --- DCI ------------------------------------------------------------------------------------------------------

def test_dci_of_codes_that_are_the_factors_is_near_one():
    factors = _factors()
    scores = dci(_faithful(factors), factors)
    assert scores["disentanglement"] > 0.9 and scores["completeness"] > 0.9 and scores["informativeness"] > 0.95


def test_dci_of_a_rotation_is_much_lower_and_of_noise_near_zero():
    factors = _factors()
    good = dci(_faithful(factors), factors)["disentanglement"]
    assert dci(_rotated(_faithful(factors)), factors)["disentanglement"] < good / 2
    noise = dci(_noise(), factors)
    assert noise["disentanglement"] < 0.1 and noise["completeness"] < 0.1


def test_dci_disentanglement_does_not_penalise_a_copy_but_completeness_does():
    """Eastwood and Williams: D asks whether each code serves one factor (a copy does); C whether each factor
    lives in one code (x now lives in two)."""
    factors = _factors()
    codes = _faithful(factors)
    copied = dci(torch.cat([codes, codes[:, 3:4].exp()], dim=1), factors)
    alone = dci(codes, factors)
    assert copied["disentanglement"] > 0.9
    assert copied["completeness"] < alone["completeness"] - 0.05


def test_dci_weighs_codes_by_their_importance_so_unused_dimensions_do_not_count():
    """Five faithful codes and five of noise (a VAE's inactive units): D stays high; an unweighted mean halves it.
    (With codes this exact the forests never split on the noise; noisy codes: the test after next.)"""
    factors = _factors()
    codes = torch.cat([_faithful(factors), 0.01 * _noise()], dim=1)
    assert dci(codes, factors)["disentanglement"] > 0.8
    assert dci_unweighted(codes, factors) < 0.6


def test_impurity_importances_give_noise_dimensions_weight_once_codes_are_noisy():
    """The bias chapter 13 measures: beside exact codes the forests never split on pure noise; beside codes
    with noise of a tenth of their range they do, and the noise dimensions take a share of the importance."""
    factors = _factors()
    scaled = factors.double() / (torch.tensor(SIZES, dtype=torch.float64) - 1)
    noise = _noise()
    exact = torch.cat([torch.tanh(3 * scaled - 1.5), noise], dim=1)
    noisy = torch.cat([torch.tanh(3 * scaled - 1.5) + 0.1 * _noise(seed=4), noise], dim=1)
    share = {name: importance_matrix(c, factors)[0][5:].sum() / importance_matrix(c, factors)[0].sum()
             for name, c in (("exact", exact), ("noisy", noisy))}
    assert share["exact"] < 0.01 and share["noisy"] > 0.05, share


def test_bad_input_is_refused():
    factors = _factors(10)
    with pytest.raises(ValueError):
        mig(torch.zeros(10, 1), factors)
    with pytest.raises(ValueError):
        mig(torch.zeros(9, 3), factors)
    with pytest.raises(ValueError):
        dci(torch.zeros(10, 3), factors.double())
