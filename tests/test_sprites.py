"""The sprites: every combination of known factors once, deterministic, each factor visible, symmetry handled."""

import math

import pytest
import torch

from vae_tutorial import sprites
from vae_tutorial.data import load_data

SQUARE, ELLIPSE, HEART = range(3)


@pytest.fixture(scope="module")
def everything():
    grid = sprites.factor_grid()
    return grid, sprites.render(grid)


def test_every_combination_exactly_once_and_the_split_covers_it(everything):
    grid, images = everything
    assert len(grid) == math.prod(sprites.FACTOR_SIZES) == 23_520
    assert len(torch.unique(grid, dim=0)) == len(grid)
    train, test = sprites.split_factors(True), sprites.split_factors(False)
    assert len(test) == round(len(grid) * sprites.TEST_FRACTION) and len(train) + len(test) == len(grid)
    assert len(torch.unique(torch.cat([train, test]), dim=0)) == len(grid)  # disjoint, and together all of them
    for k, size in enumerate(sprites.FACTOR_SIZES):  # the held-out split sees every value of every factor
        assert set(test[:, k].tolist()) == set(range(size))
    assert train[:2000, 0].bincount().min() > 500  # shuffled: the first images (--subset) are not all squares


def test_images_are_grey_levels_in_the_book_s_shape_and_all_distinct(everything):
    _, images = everything
    assert images.shape == (23_520, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() == 0 and images.max() == 1
    assert ((images > 0) & (images < 1)).any()  # anti-aliased edges
    frame = torch.cat([images[..., 0, :], images[..., -1, :], images[..., :, 0], images[..., :, -1]], dim=-1)
    assert frame.max() == 0  # every shape lies wholly inside the frame
    assert len(torch.unique((images.flatten(1) * 255).round(), dim=0)) == len(images)  # even at 8 bits


def test_rendering_is_deterministic_and_fast_enough_to_skip_a_cache():
    import time

    start = time.perf_counter()
    first = load_data("sprites", False)
    seconds = time.perf_counter() - start
    second = load_data("sprites", False)
    torch.testing.assert_close(first.images, second.images, rtol=0, atol=0)
    assert torch.equal(first.factors, second.factors) and torch.equal(first.labels, first.factors[:, 0])
    assert seconds < 10, seconds  # the whole set takes about a second here
    head = first.head(5)
    assert torch.equal(head.factors, first.factors[:5]) and len(head) == 5


@pytest.mark.parametrize("factor", sprites.FACTORS)
def test_each_factor_changes_the_image(everything, factor):
    """One step of any factor, from every combination, changes some pixel by a visible amount."""
    grid, images = everything
    k = sprites.FACTORS.index(factor)
    size = sprites.FACTOR_SIZES[k]
    strides = torch.tensor([math.prod(sprites.FACTOR_SIZES[j + 1:]) for j in range(len(sprites.FACTORS))])
    here = torch.nonzero(grid[:, k] < size - 1).squeeze(1) if factor != "orientation" else torch.arange(len(grid))
    step = torch.where(grid[here, k] == size - 1, -(size - 1), 1)  # orientation wraps: the last step comes back to 0
    there = here + step * strides[k]
    assert torch.equal(grid[there, k], (grid[here, k] + 1) % size)
    change = (images[here] - images[there]).abs().flatten(1).amax(dim=1)
    assert change.min() > 0.05, (factor, change.min())


def test_symmetry_restricts_each_shape_s_orientations_to_its_period():
    """A square turned by 90 degrees and an ellipse by 180 are the same image; a heart needs the full turn."""
    angles = torch.linspace(0, 2 * math.pi, 7, dtype=torch.float64)[:-1]
    ones = torch.ones_like(angles)
    for shape, period in zip((SQUARE, ELLIPSE, HEART), sprites.PERIODS):
        turned = sprites.draw(shape * ones, ones, angles + period)
        torch.testing.assert_close(turned, sprites.draw(shape * ones, ones, angles), atol=1e-6, rtol=0)
        half = sprites.draw(shape * ones, ones, angles + period / 2)  # half the period is a different image
        assert (half - sprites.draw(shape * ones, ones, angles)).abs().amax() > 0.5
    assert sprites.PERIODS == (math.pi / 2, math.pi, 2 * math.pi)
    values = sprites.factor_values(sprites.factor_grid())
    for shape, period in enumerate(sprites.PERIODS):  # the grid's angles stay inside the period, in equal steps
        angles = values[values[:, 0] == shape, 2].unique()
        torch.testing.assert_close(angles, torch.arange(sprites.FACTOR_SIZES[2], dtype=torch.float64) * period / 10)


def test_dsprites_full_turn_would_repeat_images():
    """The wrong grid (every shape over 360 degrees, as dSprites) gives duplicate images: why the periods matter."""
    angles = torch.arange(10, dtype=torch.float64) * 2 * math.pi / 10
    ones = torch.ones_like(angles)
    square = (sprites.draw(SQUARE * ones, ones, angles).flatten(1) * 255).round()
    assert len(torch.unique(square, dim=0)) < len(angles)
