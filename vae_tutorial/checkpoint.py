"""Checkpoints: written atomically, read back with torch.load(weights_only=True)."""

from __future__ import annotations

import io
import math
import os
import signal
import stat
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from .checkpoint_fields import FORMAT, REQUIRED_KEYS, check_fields
from .config import ModelConfig
from .device import parameter_count
from .errors import CheckpointError, FolderError, first_line, telling_line
from .model import VAE

CHECKPOINT_NAME = "checkpoint.pt"  # the two files a run's folder holds besides its pictures
METRICS_NAME = "metrics.json"
ARCHIVE_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive
MAX_UNPACKED_EXTRA = 64 * 2**20  # bytes an archive may unpack to beyond 8 times its size (torch.save: none)
LEGACY_MAGIC = b"\x80\x02\x8a\x0a"  # ... or, before torch 1.6 (or asked to), a pickle that opens with its magic number
HELD_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
__all__ = ["CHECKPOINT_NAME", "FORMAT", "METRICS_NAME", "atomic_write", "json_safe", "load_checkpoint", "load_model", "model_from_state", "save_checkpoint"]


def atomic_write(path: str | os.PathLike, write: Any) -> None:
    """Call write(file_object) on a temporary file beside path, then rename it over path.

    A crash mid-write leaves the previous file intact, never a half-written one;
    Ctrl-C waits until the write is complete. The file follows the umask. A symbolic
    link where the file belongs is refused (FolderError): nothing is written through
    a link, nor is the link replaced.
    """
    path = Path(path)
    if path.is_symlink():
        raise FolderError(f"{path} is a symbolic link, and nothing is written through a link: "
                          "remove it, or write elsewhere")
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


def json_safe(value):
    """A copy of value ready for strict JSON: every NaN or infinite float, however deep, becomes None (null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold back SIGINT, SIGTERM and SIGHUP until the block is done, then act on them (an ignored one stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = [sig for sig in HELD_SIGNALS if signal.getsignal(sig) != signal.SIG_IGN]
    previous = {sig: signal.signal(sig, lambda number, frame: caught.append(number)) for sig in held}
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
    _refuse_non_checkpoint(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols on stderr
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - a corrupt file can make the unpickler raise almost anything
        raise CheckpointError(f"{path} is not a readable checkpoint ({_reason(err)})") from err
    check_fields(state, path, for_resume)
    return state


def _refuse_non_checkpoint(path: Path) -> None:
    """Refuse, unread, what no torch.save writes: no file, a folder, device or pipe, a file that opens otherwise."""
    try:
        info = path.stat()
    except OSError:
        raise CheckpointError(f"no checkpoint at {path}") from None
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
        raise CheckpointError(f"{path} is not a checkpoint: it is {what}, not a file")
    try:
        with path.open("rb") as file:
            head = file.read(len(ARCHIVE_MAGIC))
    except OSError as err:
        raise CheckpointError(f"cannot read the checkpoint {path}: {err.strerror or err}") from err
    if head not in (ARCHIVE_MAGIC, LEGACY_MAGIC):
        what = "it is empty" if not head else "it is not the zip archive torch.save writes"
        raise CheckpointError(f"{path} is not a checkpoint: {what}")
    if head == ARCHIVE_MAGIC:
        _check_archive(path, info.st_size)


def _check_archive(path: Path, size: int) -> None:
    """Before torch reads it: what the archive unpacks to is bounded by its size (torch.save stores records
    uncompressed, so a few-kB file that unpacks to gigabytes is crafted), and every record matches its CRC
    (a flipped byte in the weights would otherwise load as a quietly different model)."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(record.file_size for record in archive.infolist())
            if unpacked > 8 * size + MAX_UNPACKED_EXTRA:
                raise CheckpointError(f"{path} is not a checkpoint torch.save wrote: its {size:,} bytes unpack to "
                                      f"{unpacked:,}")
            broken = archive.testzip()  # reads each record, checking its CRC
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError) as err:
        raise CheckpointError(f"{path} is not a readable checkpoint ({first_line(err)})") from err
    if broken is not None:
        raise CheckpointError(f"{path} is damaged: its record {broken} does not match its checksum")


def _reason(err: Exception) -> str:
    """Why torch.load failed, in a few words; never torch's advice to load with weights_only=False."""
    text = str(err).strip()
    if "weights_only" in text or "Unpickl" in type(err).__name__:
        return "it holds something other than tensors and plain values, and is refused unread"
    return first_line(err)


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the trained VAE from a checkpoint; returns (model in eval mode, the checkpoint dict)."""
    state = load_checkpoint(path)
    return model_from_state(state, path, device), state


def model_from_state(state: dict[str, Any], path: str | os.PathLike, device: str | torch.device = "cpu") -> torch.nn.Module:
    """The VAE a checkpoint dict describes (one load_checkpoint has checked), with its weights, in eval mode on device."""
    config = ModelConfig(**state["model_config"])
    held = sum(t.numel() for t in state["model_state"].values() if isinstance(t, torch.Tensor))
    expected = parameter_count(config)  # counted, not allocated: a crafted size is refused before any memory is taken
    if held != expected:
        raise CheckpointError(f"{path} does not fit this package's VAE (its settings call for {expected:,} weights, "
                              f"it holds {held:,})")
    try:
        model = VAE(config)
        model.load_state_dict(state["model_state"])
    except (TypeError, ValueError, RuntimeError, KeyError) as err:
        raise CheckpointError(f"{path} does not fit this package's VAE ({telling_line(err)})") from err
    return model.to(device).eval()


def restore_generator(generator: torch.Generator, state: torch.Tensor, seed: int) -> None:
    """Restore a generator's state; one saved on another device type cannot be, so re-seed it instead."""
    if state.numel() == generator.get_state().numel():
        generator.set_state(state)
    else:  # a CPU state into a CUDA generator (or back): a fresh stream, still a function of the run
        generator.manual_seed(seed)
