"""Checkpoints: written atomically, read back with torch.load(weights_only=True)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError

FORMAT = "vae_tutorial.checkpoint/1"
REQUIRED_KEYS = ("format", "model_config", "train_config", "model_state", "history")


def atomic_write(path: str | os.PathLike, write: Any) -> None:
    """Call write(file_object) on a temporary file beside path, then rename it over path.

    A crash mid-write leaves the previous file intact, never a half-written one.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write a checkpoint dict (see REQUIRED_KEYS) atomically."""
    state = {"format": FORMAT, **state}
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise ValueError(f"checkpoint state lacks {missing}")
    atomic_write(path, lambda file: torch.save(state, file))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a checkpoint; any problem becomes one CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - a corrupt file can make the unpickler raise almost anything
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path} is not a readable checkpoint ({first_line})") from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a vae_tutorial checkpoint")
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise CheckpointError(f"{path} is incomplete: it lacks {', '.join(missing)}")
    return state


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the trained VAE from a checkpoint; returns (model in eval mode, the checkpoint dict)."""
    from .config import ModelConfig
    from .model import VAE

    state = load_checkpoint(path)
    try:
        model = VAE(ModelConfig(**state["model_config"]))
        model.load_state_dict(state["model_state"])
    except (TypeError, ValueError, RuntimeError, KeyError) as err:
        raise CheckpointError(f"{path} does not fit this package's VAE ({str(err).splitlines()[0]})") from err
    return model.to(device).eval(), state
