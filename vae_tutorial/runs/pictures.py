"""The pictures a run writes beside its checkpoint: reconstructions and prior samples (PNG)."""

from __future__ import annotations

import os

import torch
from torchvision.utils import save_image

from ..checkpoint import atomic_write
from ..model import VAE


def reconstruction_pairs(model: VAE, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Originals in the first row, their reconstructions in the second -> (2N, C, H, W)."""
    device = next(model.parameters()).device
    recon = model.reconstruct(images.to(device), labels).cpu()  # (N, C, H, W)
    return torch.cat([images, recon])  # (2N, C, H, W)


def save_reconstructions(
    model: VAE, images: torch.Tensor, path: str | os.PathLike, labels: torch.Tensor | None = None
) -> None:
    """PNG: test images (top row) above their reconstructions (bottom row); labels for a conditional model."""
    pairs = reconstruction_pairs(model, images, labels)  # (2N, C, H, W)
    atomic_write(path, lambda file: save_image(pairs, file, format="png", nrow=images.shape[0], padding=2, pad_value=1.0))


def save_samples(model: VAE, path: str | os.PathLike, count: int = 64, seed: int = 0) -> None:
    """PNG: a grid of images decoded from draws of the prior N(0, I).

    A square grid of `count`; for a conditional model one row of 8 per class instead.
    """
    generator = torch.Generator(next(model.parameters()).device).manual_seed(seed)
    per_row, labels = int(count**0.5), None
    if model.config.conditional:
        per_row = 8
        labels = torch.arange(model.config.num_classes).repeat_interleave(per_row)  # (classes * 8,): 0..0, 1..1, ...
        count = labels.numel()
    samples = model.sample(count, generator=generator, labels=labels)
    atomic_write(path, lambda file: save_image(samples.cpu(), file, format="png", nrow=per_row, padding=2, pad_value=1.0))
