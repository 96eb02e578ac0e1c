"""The chapters' pictures: image grids with labelled rows and columns, loss curves."""

from __future__ import annotations

import numpy as np
import torch
from torchvision.utils import make_grid


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