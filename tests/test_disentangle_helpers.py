"""The disentanglement chapter's helpers (vae_tutorial/book/disentangle.py) on a small untrained model."""

import math

import pytest
import torch

from vae_tutorial.book import (Budget, factor_labels, kl_split_of, normalised_info, score_model, sprites_budget,
                               traversal)
from vae_tutorial.config import ModelConfig
from vae_tutorial.data import Split
from vae_tutorial.model import VAE
from vae_tutorial.sprites import FACTORS, render, split_factors


def _plan(quick: bool) -> Budget:
    return Budget(quick=quick, subset=4000 if quick else None, epochs=1, reference_epochs=1, sweep_epochs=1,
                  latent2d_epochs=1, prior_epochs=1, prior2d_epochs=1)


@pytest.fixture(scope="module")
def small_test() -> Split:
    factors = split_factors(False)[:600]  # (600, 5)
    return Split(render(factors), factors[:, 0].clone(), factors)


@pytest.fixture(scope="module")
def model() -> VAE:
    torch.manual_seed(0)
    return VAE(ModelConfig(latent_dim=4, hidden_dim=32))


def test_full_mode_trains_three_seeds_and_quick_mode_fewer():
    full, quick = sprites_budget(_plan(False)), sprites_budget(_plan(True))
    assert full.seeds == (0, 1, 2) and len(quick.seeds) < len(full.seeds) and quick.epochs < full.epochs


def test_the_split_covers_every_image_not_whole_batches_only():
    """650 posteriors in batches of about 200: the last 50, far from the rest, must count (none dropped)."""
    generator = torch.Generator().manual_seed(5)  # not kl_split_of's seed 0: draws independent of the means
    mu = 0.5 * torch.randn(650, 4, generator=generator, dtype=torch.float64)  # (650, 4)
    mu[600:] = 4.0  # a KL of about 33 nats each, against about 1 for the others
    logvar = torch.full_like(mu, math.log(0.25))
    parts = kl_split_of(mu, logvar, batch_size=200)
    rate = (0.5 * (logvar.exp() + mu.pow(2) - 1 - logvar)).sum(-1).mean().item()  # closed form, all 650
    assert abs(sum(parts.values()) - rate) < 0.2, (sum(parts.values()), rate)


def test_the_empirical_tc_of_independent_narrow_codes_is_large_and_depends_on_n():
    """q(z) is the mixture of the N posteriors: narrow ones give I near log N and a TC far from 0."""
    def code(n, sd):
        mu = torch.randn(n, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * math.sqrt(1 - sd**2)
        return mu, torch.full_like(mu, 2 * math.log(sd))
    small, large = kl_split_of(*code(300, 0.15)), kl_split_of(*code(1200, 0.15))
    assert abs(large["mutual_info"] - math.log(1200)) < 0.05 and large["total_correlation"] > 3
    assert abs(small["total_correlation"] - large["total_correlation"]) > 0.5
    assert abs(kl_split_of(*code(1200, 0.8))["total_correlation"]) < 0.1  # wide: the TC of 0


def test_labels_name_the_row_maximum_of_the_information_shares(model, small_test):
    codes = model.encoder(small_test.images)[0].detach()  # (600, 4)
    info = normalised_info(codes, small_test.factors)  # (4, 5)
    assert info.shape == (4, len(FACTORS)) and (info >= 0).all() and (info <= 1 + 1e-9).all()
    exact = normalised_info(small_test.factors[:, [3, 4]].double(), small_test.factors)  # codes that are x and y
    assert exact[0, 3] > 0.99 and exact[1, 4] > 0.99 and exact[0, 0] < 0.05
    assert factor_labels(exact, [0, 1]) == [f"z0: x {exact[0, 3]:.2f}", f"z1: y {exact[1, 4]:.2f}"]


def test_score_and_traversal_shapes(model, small_test):
    scores = score_model(model, small_test, metric_images=300)
    assert 0 <= scores["mig"] <= 1 and 0 <= scores["dci_disentanglement"] <= 1
    assert scores["info"].shape == (4, 5) and scores["kl_per_dim"].shape == (4,)
    images = traversal(model, small_test.images[:1], [0, 2], torch.linspace(-2, 2, 5))
    assert images.shape == (10, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert not torch.allclose(images[0], images[4])  # a swept dimension moves the decoded image
