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


HOW_ADAM_RUNS = ("fused", "foreach", "capturable")  # implementation switches chosen per device (train.fit)


def restore_run(state, path, model, optimizer, shuffle_rng, noise_rng, noise_seed) -> list[dict]:
    """Load a checkpoint's weights, optimizer and generators; a checkpoint that does not fit is one CheckpointError."""
    try:
        model.load_state_dict(state["model_state"])
        fresh = [dict(group) for group in optimizer.param_groups]  # this code's Adam, before the file's
        optimizer.load_state_dict(state["optimizer_state"])
        for group, made_here in zip(optimizer.param_groups, fresh):  # Adam would only trip at its first step
            _check_adam_settings(group, made_here)
        for param in model.parameters():  # a crafted moment can crash Adam's kernels, not only raise
            _check_adam_moments(optimizer.state.get(param, {}), param)
        shuffle_rng.set_state(state["shuffle_rng"])
        restore_generator(noise_rng, state["noise_rng"], noise_seed + len(state["history"]))
        history = list(state["history"])
        if [record["epoch"] for record in history] != list(range(1, len(history) + 1)):
            raise ValueError("its history is not a sequence of epochs")
    except (TypeError, ValueError, RuntimeError, KeyError, AttributeError) as err:
        raise CheckpointError(f"{path} cannot be resumed: it does not fit its own settings ({telling_line(err)})") from err
    return history


def _check_adam_settings(group: dict, made_here: dict) -> None:
    """The same keys and switches (amsgrad, maximize, ...) as the Adam this code makes; lr and eps finite
    numbers > 0, weight decay >= 0; betas two numbers in [0, 1)."""
    if set(group) - {"params"} != set(made_here) - {"params"}:
        raise ValueError(f"its optimizer's settings are {sorted(set(group) - {'params'})}, not this version's Adam's")
    for key, value in made_here.items():
        if key in HOW_ADAM_RUNS:  # fused, foreach, capturable: how this device runs the same maths, not the file's
            group[key] = value
        elif (isinstance(value, bool) or value is None) and group[key] != value:
            raise ValueError(f"its optimizer has {key}={group[key]!r}, which this code never sets")
    def number(value) -> float:
        value = value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 else value
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"its optimizer holds {value!r} where a number belongs")
        return float(value)

    if number(group.get("lr")) <= 0 or number(group.get("eps")) <= 0 or number(group.get("weight_decay", 0.0)) < 0:
        raise ValueError("its optimizer's learning rate, eps or weight decay is out of range")
    betas = group.get("betas")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2 or not all(0 <= number(b) < 1 for b in betas):
        raise ValueError(f"its optimizer's betas are {betas!r}, not two numbers in [0, 1)")
    # and the constants this code never changes are this code's: a weight decay of 1e30 passed the range
    # check and froze every weight, the run saying it trained (a sixth hostile pass)
    for key in ("weight_decay", "eps", "betas"):
        theirs = [number(v) for v in group[key]] if key == "betas" else number(group[key])
        ours = [float(v) for v in made_here[key]] if key == "betas" else float(made_here[key])
        if theirs != ours:
            raise ValueError(f"its optimizer has {key}={group[key]!r}, where this code's Adam has {made_here[key]!r}")


def _check_adam_moments(moments: dict, param: torch.Tensor) -> None:
    """No state (no step taken yet), or exactly Adam's: a finite step >= 0, and two dense moments of the
    parameter's shape and dtype, finite, the second >= 0."""
    if not moments:
        return
    if set(moments) != {"step", "exp_avg", "exp_avg_sq"}:
        raise ValueError(f"its optimizer state holds {sorted(moments)}, not Adam's step, exp_avg and exp_avg_sq")
    step = moments["step"]
    step = step.item() if isinstance(step, torch.Tensor) and step.numel() == 1 and not step.is_complex() else step
    if not isinstance(step, (int, float)) or isinstance(step, bool) or not 0 <= step < 2**53:
        raise ValueError(f"its optimizer's step count is {step!r}")
    for name in ("exp_avg", "exp_avg_sq"):
        value = moments[name]
        if not isinstance(value, torch.Tensor) or value.layout != torch.strided or value.shape != param.shape \
                or value.dtype != param.dtype:
            described = (f"{value.layout} {value.dtype} of shape {tuple(value.shape)}"
                         if isinstance(value, torch.Tensor) else type(value).__name__)
            raise ValueError(f"its optimizer's {name} is a {described} for a parameter of "
                             f"{tuple(param.shape)} ({param.dtype})")
        if not torch.isfinite(value).all() or (name == "exp_avg_sq" and (value < 0).any()):
            raise ValueError(f"its optimizer's {name} holds values that are not finite"
                             + (" or are negative" if name == "exp_avg_sq" else ""))


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
