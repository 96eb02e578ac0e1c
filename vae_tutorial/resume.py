"""Resuming a run: the settings it keeps, and its weights, optimizer and generators put back.

A checkpoint that does not fit (wrong shapes, missing state, settings this
version cannot use) becomes one CheckpointError that says why.
"""

from __future__ import annotations

from pathlib import Path

from .checkpoint import restore_generator
from .config import ModelConfig, TrainConfig, to_dict
from .errors import CheckpointError, telling_line


def restore_run(state, path, model, optimizer, shuffle_rng, noise_rng, noise_seed) -> list[dict]:
    """Load a checkpoint's weights, optimizer and generators; a checkpoint that does not fit is one CheckpointError."""
    try:
        model.load_state_dict(state["model_state"])
        optimizer.load_state_dict(state["optimizer_state"])
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
