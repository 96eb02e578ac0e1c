"""Checkpoints: written atomically, read back with torch.load(weights_only=True)."""

from __future__ import annotations

import io
import os
import signal
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError, first_line

FORMAT = "vae_tutorial.checkpoint/1"
REQUIRED_KEYS = ("format", "model_config", "train_config", "model_state", "history")
RESUME_KEYS = ("optimizer_state", "shuffle_rng", "noise_rng")  # what a checkpoint needs to be continued


def atomic_write(path: str | os.PathLike, write: Any) -> None:
    """Call write(file_object) on a temporary file beside path, then rename it over path.

    A crash mid-write leaves the previous file intact, never a half-written one;
    Ctrl-C waits until the write is complete. The file follows the umask.
    """
    path = Path(path)
    with deferred_interrupts():
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(handle, 0o666 & ~current_umask())  # mkstemp makes 0600; a plain open() would follow the umask
            with os.fdopen(handle, "wb") as file:
                write(file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM until the block is done, then act on them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda number, frame: caught.append(number)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in caught[:1]:
            handler = previous[sig]
            if callable(handler):
                handler(sig, None)  # the default SIGINT handler raises KeyboardInterrupt here
            elif handler == signal.SIG_DFL:
                signal.raise_signal(sig)


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write a checkpoint dict (see REQUIRED_KEYS) atomically."""
    state = {"format": FORMAT, **state}
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise ValueError(f"checkpoint state lacks {missing}")
    with deferred_interrupts():  # Ctrl-C lets the checkpoint of a finished epoch be written first
        buffer = io.BytesIO()
        torch.save(state, buffer)  # in memory first: torch.save would turn a full disk into a cryptic "unexpected pos"
        atomic_write(path, lambda file: file.write(buffer.getbuffer()))


def load_checkpoint(path: str | os.PathLike, for_resume: bool = False) -> dict[str, Any]:
    """Read and validate a checkpoint; any problem becomes one CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}" + (" (it is a folder)" if path.is_dir() else ""))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols on stderr
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - a corrupt file can make the unpickler raise almost anything
        raise CheckpointError(f"{path} is not a readable checkpoint ({_reason(err)})") from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a vae_tutorial checkpoint")
    missing = [key for key in REQUIRED_KEYS + (RESUME_KEYS if for_resume else ()) if key not in state]
    if missing:
        raise CheckpointError(f"{path} is incomplete: it lacks {', '.join(missing)}")
    return state


def _reason(err: Exception) -> str:
    """Why torch.load failed, in a few words; never torch's advice to load with weights_only=False."""
    text = str(err).strip()
    if "weights_only" in text or "Unpickl" in type(err).__name__:
        return "it holds something other than tensors and plain values, and is refused unread"
    return first_line(err)


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the trained VAE from a checkpoint; returns (model in eval mode, the checkpoint dict)."""
    from .config import ModelConfig
    from .model import VAE

    state = load_checkpoint(path)
    try:
        model = VAE(ModelConfig(**state["model_config"]))
        model.load_state_dict(state["model_state"])
    except (TypeError, ValueError, RuntimeError, KeyError) as err:
        raise CheckpointError(f"{path} does not fit this package's VAE ({first_line(err)})") from err
    return model.to(device).eval(), state


def restore_generator(generator: torch.Generator, state: torch.Tensor, seed: int) -> None:
    """Restore a generator's state; one saved on another device type cannot be, so re-seed it instead."""
    if state.numel() == generator.get_state().numel():
        generator.set_state(state)
    else:  # a CPU state into a CUDA generator (or back): a fresh stream, still a function of the run
        generator.manual_seed(seed)
