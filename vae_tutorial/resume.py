"""Resuming a run: the settings it keeps, and its weights, optimizer and generators put back.

A checkpoint that does not fit (wrong shapes, missing state, settings this
version cannot use) becomes one CheckpointError that says why.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from .checkpoint import restore_generator
from .config import ModelConfig, TrainConfig, to_dict
from .errors import CheckpointError, telling_line


def restore_run(state, path, model, optimizer, shuffle_rng, noise_rng, noise_seed) -> list[dict]:
    """Load a checkpoint's weights, optimizer and generators; a checkpoint that does not fit is one CheckpointError."""
    try:
        model.load_state_dict(state["model_state"])
        optimizer.load_state_dict(state["optimizer_state"])
        for group in optimizer.param_groups:  # Adam would only trip over a crafted value at its first step
            _check_adam_settings(group)
        for param in model.parameters():  # Adam would only notice a wrong moment shape at its first step
            for value in optimizer.state.get(param, {}).values():
                if value.dim() > 0 and value.shape != param.shape:
                    raise ValueError(f"optimizer state of shape {tuple(value.shape)} for a parameter of {tuple(param.shape)}")
        shuffle_rng.set_state(state["shuffle_rng"])
        restore_generator(noise_rng, state["noise_rng"], noise_seed + len(state["history"]))
        history = list(state["history"])
        if [record["epoch"] for record in history] != list(range(1, len(history) + 1)):
            raise ValueError("its history is not a sequence of epochs")
    except (TypeError, ValueError, RuntimeError, KeyError, AttributeError) as err:
        raise CheckpointError(f"{path} cannot be resumed: it does not fit its own settings ({telling_line(err)})") from err
    return history


def _check_adam_settings(group: dict) -> None:
    """lr, eps and weight decay finite numbers >= 0 (lr > 0); betas two numbers in [0, 1)."""
    def number(value) -> float:
        value = value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 else value
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"its optimizer holds {value!r} where a number belongs")
        return float(value)

    if number(group.get("lr")) <= 0 or number(group.get("eps")) < 0 or number(group.get("weight_decay", 0.0)) < 0:
        raise ValueError("its optimizer's learning rate, eps or weight decay is out of range")
    betas = group.get("betas")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2 or not all(0 <= number(b) < 1 for b in betas):
        raise ValueError(f"its optimizer's betas are {betas!r}, not two numbers in [0, 1)")


def resumed_configs(state: dict, requested: TrainConfig, path: str | Path = "the checkpoint") -> tuple[ModelConfig, TrainConfig]:
    """A resumed run keeps its model and training settings; only epochs, device and data come from the caller."""
    try:
        saved = TrainConfig(**state["train_config"])
        model_config = ModelConfig(**state["model_config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path} holds settings this version cannot use ({telling_line(err)})") from err
    train_config = TrainConfig(**{**to_dict(saved), "epochs": requested.epochs, "device": requested.device,
                                  "data_dir": requested.data_dir})
    return model_config, train_config
