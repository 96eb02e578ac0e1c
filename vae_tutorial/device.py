"""Which device runs the model, and whether a model of a given size fits there."""

from __future__ import annotations

import os

import torch

from .config import ModelConfig
from .errors import DeviceError

TRAINING_COPIES = 4  # weights, gradients and Adam's two moments, each as large as the model


def pick_device(name: str = "auto") -> torch.device:
    """The named device, or for "auto" the best one available: cuda, then mps, then cpu."""
    has_mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda: this machine has no CUDA GPU that torch can use; use --device cpu or auto")
    if name == "mps" and not has_mps:
        raise DeviceError("--device mps: this machine has no Apple GPU (MPS) that torch can use; use --device cpu or auto")
    return torch.device(name)


def parameter_count(config: ModelConfig) -> int:
    """How many numbers the VAE of this config holds, counted without allocating them."""
    from .model import VAE

    with torch.device("meta"):
        return sum(p.numel() for p in VAE(config).parameters())


def available_bytes(device: torch.device) -> int | None:
    """Free memory on the device (None when it cannot be told)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_model_fits(config: ModelConfig, device: torch.device) -> None:
    """Refuse, before allocating anything, a model whose training state cannot fit in memory."""
    needed = parameter_count(config) * 4 * TRAINING_COPIES  # float32
    free = available_bytes(device)
    if free is not None and needed > free:
        raise DeviceError(f"a model of latent dim {config.latent_dim} and hidden dim {config.hidden_dim} needs about "
                          f"{needed / 2**30:.1f} GiB to train, and {device.type} has {free / 2**30:.1f} GiB free: "
                          "choose a smaller --latent-dim or --hidden-dim")
