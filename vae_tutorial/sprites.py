"""Sprites: a dSprites-like set with known factors, rendered by the package (no download).

A white shape on black, 28 x 28 like Fashion-MNIST, so every model of the book
applies unchanged. Five factors, every combination exactly once:
shape (square, ellipse, heart), scale, orientation, x and y position
(dSprites, Matthey et al. 2017: 64 x 64, 3 x 6 x 40 x 32 x 32 = 737,280 images).

Symmetry: a square turned by 90 degrees, and an ellipse by 180, is the same
image, so dSprites' orientation is not identifiable for them. Here each
shape's orientations cover exactly its own period (square 90, ellipse 180,
heart 360 degrees) in ORIENTATIONS equal steps: the orientation index is the
fraction of the turn that brings the shape back onto itself, and no two
combinations give the same image. Edges are anti-aliased (SUPERSAMPLE^2
points per pixel), so grey levels lie in [0, 1] and a turn by one step still
changes the pixels of the smallest shape. x and y move in whole pixels, so
each of the 3 x 4 x 10 shapes is drawn once and put in place.
"""

from __future__ import annotations

import math

import torch

SHAPES = ("square", "ellipse", "heart")
FACTORS = ("shape", "scale", "orientation", "x", "y")
FACTOR_SIZES = (3, 4, 10, 14, 14)  # 23,520 images; x and y in steps of one pixel
PERIODS = (math.pi / 2, math.pi, 2 * math.pi)  # the turn that maps each shape onto itself (radians)
IMAGE_SIDE = 28  # pixels; the book's models take (1, 28, 28)
MAX_RADIUS = 6.5  # pixels from the centre to the farthest point of a shape at scale 1, at any orientation
PATCH = 15  # pixels on a side of the patch a shape is drawn in, centred on its middle pixel
SCALES = (0.5, 1.0)  # the smallest and largest scale (as dSprites), relative to MAX_RADIUS
FIRST_CENTRE = PATCH // 2  # the leftmost (topmost) centre, in pixels: the patch, and a pixel of margin, inside the frame
SUPERSAMPLE = 8  # points per pixel along each axis
TEST_FRACTION = 0.2  # of all combinations, held out for evaluation
SPLIT_SEED = 28  # the one fixed shuffle that decides the split and the training order
HEART_CENTROID, HEART_RADIUS = 0.2935, 1.2935  # of (x^2 + y^2 - 1)^3 <= x^2 y^3: its centre of mass, its reach from it


def factor_grid() -> torch.Tensor:
    """Every combination of factor indices, once, in lexicographic order -> (N, 5) int64."""
    axes = [torch.arange(size) for size in FACTOR_SIZES]
    return torch.cartesian_prod(*axes)  # (N, 5)


def factor_values(factors: torch.Tensor) -> torch.Tensor:
    """Indices (N, 5) -> values (N, 5): shape id, scale, angle (radians), centre x and y (pixel indices)."""
    scale = SCALES[0] + (SCALES[1] - SCALES[0]) * factors[:, 1].double() / (FACTOR_SIZES[1] - 1)  # (N,)
    angle = factors[:, 2].double() / FACTOR_SIZES[2] * torch.tensor(PERIODS, dtype=torch.float64)[factors[:, 0]]  # (N,)
    x, y = (FIRST_CENTRE + factors[:, 3]).double(), (FIRST_CENTRE + factors[:, 4]).double()  # (N,), (N,)
    return torch.stack([factors[:, 0].double(), scale, angle, x, y], dim=1)  # (N, 5)


def inside(shape: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Whether points (u, v), in units of the shape's reach (up is +v), lie inside each shape -> bool, u's shape."""
    square = torch.maximum(u.abs(), v.abs()) <= 1 / math.sqrt(2)  # corners at radius 1
    ellipse = u.pow(2) + (2 * v).pow(2) <= 1  # semi-axes 1 and 1/2
    hx, hy = u * HEART_RADIUS, v * HEART_RADIUS + HEART_CENTROID  # back to the curve's own coordinates
    heart = (hx.pow(2) + hy.pow(2) - 1).pow(3) <= hx.pow(2) * hy.pow(3)
    return torch.where(shape == 0, square, torch.where(shape == 1, ellipse, heart))


def draw(shape: torch.Tensor, scale: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Shapes (ids), scales and angles (radians), each (n,), centred in a PATCH x PATCH square -> (n, 15, 15) float32.

    Each pixel holds the covered fraction of its SUPERSAMPLE^2 points: anti-aliased edges, grey levels in [0, 1].
    """
    shape, scale, angle = (torch.as_tensor(t, dtype=torch.float64)[:, None, None] for t in (shape, scale, angle))  # (n, 1, 1)
    offsets = (torch.arange(SUPERSAMPLE, dtype=torch.float64) + 0.5) / SUPERSAMPLE - 0.5  # (S,) inside a pixel
    points = (torch.arange(PATCH, dtype=torch.float64)[:, None] + offsets).flatten() - PATCH // 2  # (15 S,)
    rows, cols = torch.meshgrid(points, points, indexing="ij")  # (15 S, 15 S) each, 0 at the middle pixel
    dx, dy = cols / (scale * MAX_RADIUS), -rows / (scale * MAX_RADIUS)  # (n, 15 S, 15 S); up is +dy
    cos, sin = torch.cos(angle), torch.sin(angle)
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy  # turned back by the angle: the shape's own frame
    covered = inside(shape, u, v).float()  # (n, 15 S, 15 S)
    pooled = covered.unflatten(1, (PATCH, SUPERSAMPLE)).unflatten(3, (PATCH, SUPERSAMPLE))  # (n, 15, S, 15, S)
    return pooled.mean(dim=(2, 4))  # (n, 15, 15)


def patches() -> torch.Tensor:
    """Every shape at every scale and orientation of the grid, drawn once -> (3, 4, 10, 15, 15) float32."""
    grid = torch.cartesian_prod(*(torch.arange(size) for size in FACTOR_SIZES[:3]))  # (120, 3)
    values = factor_values(torch.cat([grid, torch.zeros(len(grid), 2, dtype=torch.int64)], dim=1))  # (120, 5)
    return draw(values[:, 0], values[:, 1], values[:, 2]).view(*FACTOR_SIZES[:3], PATCH, PATCH)  # (3, 4, 10, 15, 15)


def render(factors: torch.Tensor) -> torch.Tensor:
    """The images of these factor indices (N, 5) -> (N, 1, 28, 28) float32, grey levels in [0, 1].

    A position is a whole pixel, so an image is its shape's patch put in place: one scatter for all N.
    """
    drawn = patches()[factors[:, 0], factors[:, 1], factors[:, 2]]  # (N, 15, 15)
    span = torch.arange(PATCH)  # (15,)
    rows = (factors[:, 4, None, None] + span[None, :, None]).expand(-1, PATCH, PATCH)  # (N, 15, 15), top at y index
    cols = (factors[:, 3, None, None] + span[None, None, :]).expand(-1, PATCH, PATCH)  # (N, 15, 15)
    which = torch.arange(len(factors))[:, None, None].expand(-1, PATCH, PATCH)  # (N, 15, 15)
    images = torch.zeros(len(factors), IMAGE_SIDE, IMAGE_SIDE)  # (N, 28, 28)
    images[which, rows, cols] = drawn
    return images.unsqueeze(1)  # (N, 1, 28, 28)


def split_factors(train: bool) -> torch.Tensor:
    """The factor indices of the training or the held-out split, in a fixed shuffled order -> (n, 5).

    Shuffled once (SPLIT_SEED), so that the first n training images (--subset) are a random sample of
    the combinations, not the squares alone; the held-out split is the last TEST_FRACTION of that order.
    """
    grid = factor_grid()  # (N, 5)
    order = torch.randperm(len(grid), generator=torch.Generator().manual_seed(SPLIT_SEED))  # (N,)
    held_out = round(len(grid) * TEST_FRACTION)
    chosen = order[:-held_out] if train else order[-held_out:]
    return grid[chosen]  # (n, 5)
