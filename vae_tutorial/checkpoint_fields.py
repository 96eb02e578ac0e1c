"""What a checkpoint must hold, field by field: checked before any of it is used.

A checkpoint is a file a user can hand us from anywhere. Every field is checked
for its type and range here, so that a crafted or damaged one is refused in
one line that names the field, never a traceback from deep in training or
evaluation.
"""

from __future__ import annotations

from typing import Any

import torch

from .config import ModelConfig, TrainConfig, check_together
from .errors import CheckpointError, first_line

FORMAT_NAME, FORMAT_VERSION = "vae_tutorial.checkpoint", 1
FORMAT = f"{FORMAT_NAME}/{FORMAT_VERSION}"
REQUIRED_KEYS = ("format", "model_config", "train_config", "model_state", "history")
RESUME_KEYS = ("optimizer_state", "shuffle_rng", "noise_rng")  # what a checkpoint needs to be continued
CORE_SETTINGS = {  # settings every checkpoint of this format has held; later ones may be missing (their defaults)
    "model_config": ("hidden_dim", "latent_dim"),
    "train_config": ("epochs", "batch_size", "lr", "beta", "seed"),
}
RECORD_NUMBERS = ("train_loss", "test_loss", "test_recon", "test_kl")  # what the commands print of an epoch


def check_fields(state: Any, path: object, for_resume: bool = False) -> tuple[ModelConfig, TrainConfig]:
    """Refuse a checkpoint that does not describe a model this package can run; its two configs otherwise."""
    if not isinstance(state, dict) or not isinstance(state.get("format"), str):
        raise CheckpointError(f"{path} is not a vae_tutorial checkpoint")
    _check_format(state["format"], path)
    missing = [key for key in REQUIRED_KEYS + (RESUME_KEYS if for_resume else ()) if key not in state]
    if missing:
        raise CheckpointError(f"{path} is incomplete: it lacks {', '.join(missing)}")
    model_config = _config(state, "model_config", ModelConfig, path)
    train_config = _config(state, "train_config", TrainConfig, path)
    try:
        check_together(model_config, train_config)  # each valid, but not together (no run could have written it)
    except ValueError as err:
        raise CheckpointError(f"{path} holds settings this version cannot use ({first_line(err)[:200]})") from err
    _check_tensors(state["model_state"], "model_state", path)
    _check_weights(state["model_state"], path)
    _check_history(state["history"], path)
    if for_resume:
        if not isinstance(state["optimizer_state"], dict):
            raise CheckpointError(f"{path} is damaged: its optimizer_state is a {type(state['optimizer_state']).__name__}")
        for key in ("shuffle_rng", "noise_rng"):
            if not (isinstance(state[key], torch.Tensor) and state[key].dtype == torch.uint8 and state[key].dim() == 1):
                raise CheckpointError(f"{path} is damaged: its {key} is not a random generator's state")
    return model_config, train_config


def _check_format(name: str, path: object) -> None:
    prefix, _, version = name.partition("/")
    if prefix != FORMAT_NAME or not version.isdigit() or len(version) > 9:  # 5,000 digits: no int() of it
        raise CheckpointError(f"{path} is not a vae_tutorial checkpoint (its format is {name[:60]!r})")
    if int(version) > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer vae_tutorial (checkpoint format {version}; this "
                              f"version reads format {FORMAT_VERSION}): upgrade the package to use it")
    if int(version) < FORMAT_VERSION:
        raise CheckpointError(f"{path} has the old checkpoint format {version}, which this version cannot read")


def _config(state: dict, key: str, config_class: type, path: object):
    values = state[key]
    if not isinstance(values, dict) or not all(isinstance(name, str) for name in values):
        raise CheckpointError(f"{path} is damaged: its {key} is a {type(values).__name__}, not a table of settings")
    absent = [name for name in CORE_SETTINGS[key] if name not in values]
    if absent:
        raise CheckpointError(f"{path} is damaged: its {key} lacks {', '.join(absent)}")
    try:
        return config_class(**values)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path} holds settings this version cannot use ({first_line(err)[:200]})") from err


def _check_tensors(values: Any, key: str, path: object) -> None:
    if not isinstance(values, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in values.items()):
        raise CheckpointError(f"{path} is damaged: its {key} is not a table of named tensors")


def _check_weights(weights: dict, path: object) -> None:
    """Real floating-point weights (float16/32/64, cast on loading), every one finite: a run never saves a NaN."""
    for name, tensor in weights.items():
        if tensor.is_complex() or not tensor.is_floating_point() or tensor.is_sparse or tensor.is_meta:
            raise CheckpointError(f"{path} is damaged: its weight {name} holds {tensor.dtype} values, not real numbers")
        # a run saves each weight whole; one whose values are repeats of a few stored ones (a stride of 0,
        # torch.expand) claims far more numbers than the file holds, and reading it would allocate them all
        if tensor.untyped_storage().nbytes() < tensor.numel() * tensor.element_size():
            raise CheckpointError(f"{path} is damaged: its weight {name} claims {tensor.numel():,} values but "
                                  f"stores {tensor.untyped_storage().nbytes():,} bytes (not a weight a run saves)")
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"{path} is damaged: its weight {name} holds NaN or infinite values")


def _check_history(history: Any, path: object) -> None:
    """A non-empty list of epoch records, numbered 1, 2, ..., each with its step count and its numbers."""
    if not isinstance(history, list) or not history:
        raise CheckpointError(f"{path} is damaged: its history is not a list of epochs")
    for number, record in enumerate(history, start=1):
        where = f"{path} is damaged: epoch record {number} of its history"
        if not isinstance(record, dict):
            raise CheckpointError(f"{where} is a {type(record).__name__}, not a record")
        if record.get("epoch") != number or type(record.get("epoch")) is not int:
            raise CheckpointError(f"{where} says epoch {record.get('epoch')!r}: the history is not a sequence of epochs")
        step = record.get("step")
        if type(step) is not int or not 0 <= step <= 2**53:
            raise CheckpointError(f"{where} has no step count (a whole number >= 0), got {step!r}")
        for name in RECORD_NUMBERS:
            value = record.get(name)
            if not _is_number(value):
                raise CheckpointError(f"{where} has no number for {name}, got {value!r}")
        if not all(_is_number(v) for k, v in record.items() if k not in ("epoch", "step")):
            raise CheckpointError(f"{where} holds something other than numbers")


def _is_number(value: object) -> bool:
    """A float, or an int a float can hold (not a bool); NaN and infinity count: JSON output writes them as null."""
    return isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 2**53)
