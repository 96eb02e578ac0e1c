"""An output folder claimed for one run: locked while it runs, never overwritten, not left empty."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..checkpoint import CHECKPOINT_NAME, METRICS_NAME
from ..errors import FolderError
from .lock import LOCK_NAME, hold_lock

PICTURES = ("reconstructions.png", "samples.png")
RUN_FILES = (CHECKPOINT_NAME, METRICS_NAME, *PICTURES)  # what a run writes; any one of them means "a run lives here"


def file_identity(path: str | os.PathLike) -> tuple | None:
    """Which file a path names now, and which version of it: a rewrite (atomic or in place) changes it; None if absent."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


@contextmanager
def claimed_folder(
    out: Path, continuing: tuple[Path, tuple | None] | None = None, written: tuple[str, ...] = RUN_FILES, refuse: bool = True,
    wait: bool = False, links_refused: bool = True,
) -> Iterator[Path]:
    """Hold an exclusive claim on `out` for the whole run.

    With refuse, a folder that holds any of `written` is refused unless the run
    continues the checkpoint found there, exactly as it read it: `continuing` is (its path, its file_identity
    when read), checked here under the lock, so a run that rewrote it meanwhile is never overwritten; cleans temporary files that killed
    writes left; removes the folders it created if the run fails before
    writing anything into them. With wait, a folder in use is waited for (the cache: the other
    process is training the very model asked for), not refused. With links_refused, a file of `written`
    that is a symbolic link is refused before any work (the cache sets such an entry aside instead).
    """
    out = Path(out)
    created = _make_folders(out)
    failed = True
    try:
        lock = hold_lock(out, wait)
        try:
            if links_refused:
                _refuse_links(out, written)
            _clean_orphans(out, written)
            if refuse:
                _refuse_other_run(out, continuing, written)
            yield out
            failed = False
        finally:
            try:
                (out / LOCK_NAME).unlink(missing_ok=True)  # while still holding the lock
            except OSError:  # a folder made read-only meanwhile: the file stays, unlocked and harmless
                pass
            os.close(lock)
    finally:
        if failed:
            for folder in reversed(created):
                try:
                    folder.rmdir()  # only succeeds when the failed run left it empty
                except OSError:
                    break


def _refuse_links(out: Path, written: tuple[str, ...]) -> None:
    """Before any work: a file this run would write that is a symbolic link, dangling or not, is refused
    (writing it would either go through the link or replace it), so nothing is lost to a late refusal."""
    links = [name for name in written if (out / name).is_symlink()]
    if links:
        raise FolderError(f"{out / links[0]} is a symbolic link, and nothing is written through a link: "
                          "remove it, or name another folder")


def _make_folders(out: Path) -> list[Path]:
    """Create out and its missing parents (returned, outermost first). out itself may not be a symbolic link:
    everything a run writes would land where it points. (Links among its parents are the user's own path,
    as a home folder may be, and are followed.)"""
    if out.is_symlink() and not out.exists():
        raise FolderError(f"the output folder {out} is a broken symbolic link: name a folder")
    if out.is_symlink():
        raise FolderError(f"the output folder {out} is a symbolic link to {os.readlink(out)}, and nothing is "
                          "written through a link: name the folder itself")
    if out.exists() and not out.is_dir():
        raise FolderError(f"the output folder {out} is a file, not a folder: name a folder")
    missing = [folder for folder in (out, *out.parents) if not folder.exists()][::-1]  # outermost first
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FolderError(f"cannot write to the output folder {out}: {err.strerror or err}") from err
    return missing


def _clean_orphans(out: Path, written: tuple[str, ...]) -> None:
    """Remove the temporary files of atomic writes that a killed process never finished."""
    for name in written:
        for orphan in out.glob(f".{name}.*.tmp"):
            if orphan.is_dir() and not orphan.is_symlink():  # not one of ours: a bare "Is a directory" before
                raise FolderError(f"{orphan} is a folder named like a temporary file of an unfinished write, "
                                  "which the run would remove: move it away, or choose another --out")
            orphan.unlink(missing_ok=True)


def _refuse_other_run(out: Path, continuing: tuple[Path, tuple | None] | None, written: tuple[str, ...]) -> None:
    found = [name for name in written if (out / name).exists()]
    if not found:
        return
    checkpoint = out / CHECKPOINT_NAME
    if checkpoint.exists() and not stat.S_ISREG(checkpoint.stat().st_mode):  # /dev/zero, a pipe, a folder: no run
        raise FolderError(f"{out} holds a {CHECKPOINT_NAME} that is not a file (a folder, device or pipe, or a link "
                          "to one), so no run can continue it: choose another --out")
    if continuing is not None and checkpoint.exists() and os.path.samefile(checkpoint, continuing[0]):
        if file_identity(checkpoint) == continuing[1]:
            return
        raise FolderError(f"{checkpoint} was rewritten by another run after this one read it: nothing was written; "
                          f"resume it again to continue from its newest epoch")
    if continuing is None and checkpoint.exists():
        raise FolderError(f"{out} already holds a checkpoint: continue it with --resume {checkpoint}, or choose another --out")
    raise FolderError(f"{out} already holds another run ({', '.join(found)}): choose another --out")
