"""Pictures of a model: image grids, reconstructions, samples, loss curves."""

from __future__ import annotations

import os

import numpy as np
import torch
from torchvision.utils import make_grid, save_image

from .checkpoint import atomic_write
from .model import VAE


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


def show_images(images: torch.Tensor, nrow: int = 8, ax=None, title: str | None = None):
    """Draw a grid of (N, 1, H, W) images in [0, 1] on a matplotlib axis; returns the axis."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    grid = make_grid(images.detach().cpu(), nrow=nrow, padding=GRID_PADDING, pad_value=1.0)  # (3, H', W')
    ax.imshow(grid[0].numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


GRID_PADDING = 2  # pixels between the images of show_images' grid


def label_grid(ax, rows=(), cols=(), xlabel: str | None = None, ylabel: str | None = None, cell: int = 28):
    """Tick labels at the centres of a show_images grid's rows and columns (cell: an image's side in pixels)."""
    step = cell + GRID_PADDING  # from one image's start to the next
    ax.set_axis_on()
    ax.set_yticks([step / 2 + GRID_PADDING / 2 + step * i for i in range(len(rows))])
    ax.set_yticklabels(rows, fontsize=9)
    ax.set_xticks([step / 2 + GRID_PADDING / 2 + step * i for i in range(len(cols))])
    ax.set_xticklabels(cols, fontsize=9)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=9)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=9)


def plot_history(history: list[dict], axes=None):
    """Per-epoch curves: -ELBO, recon, KL (train and test), train minus test -ELBO.

    Draws into the first three axes given (a fourth, if given, gets the
    train-minus-test panel); without axes, a 2 x 2 figure 8 inches wide.
    Returns the axes.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(2, 2, figsize=(8, 5.4), constrained_layout=True)
    axes = np.ravel(axes)  # (2, 2) or (3,) -> flat
    epochs = [record["epoch"] for record in history]
    for ax, term, label in zip(axes, ("loss", "recon", "kl"), ("negative ELBO", "reconstruction", "KL")):
        ax.clear()
        for split, style in (("train", "-"), ("test", "--")):
            ax.plot(epochs, [record[f"{split}_{term}"] for record in history], style, marker=".", label=split)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("nats per image")
        ax.legend(fontsize=9)
    if len(axes) > 3:
        ax = axes[3]
        ax.clear()
        gap = [record["train_loss"] - record["test_loss"] for record in history]
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.plot(epochs, gap, "-", marker=".", color="C2")
        ax.set_title("train minus test, negative ELBO", fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("nats per image")
    for ax in axes:
        ax.tick_params(labelsize=9)
        if len(epochs) <= 10:
            ax.set_xticks(epochs)
    return axes