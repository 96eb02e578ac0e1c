"""The lock that gives one process a run's folder: taken without following a link, and a wait that says whom
it waits for.

Two processes must never write one run (a chapter and a build asking the cache for the same model, a
sweep restarted in its folder). The holder keeps an exclusive flock on the folder's lock file for the
whole run and writes its process id into it; a process that waits (the cache) says whom it waits for,
and stops waiting, in one line, for a holder that is stopped (Ctrl-Z, SIGSTOP) rather than working.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

from ..errors import FolderError, printable

LOCK_NAME = ".vae_tutorial.lock"
STOPPED_GRACE_SECONDS = 10.0  # a holder stopped (Ctrl-Z, SIGSTOP) this long is reported, not waited for
NOTE_AFTER_SECONDS = 2.0  # a wait longer than this says whom it waits for


def hold_lock(out: Path, wait: bool = False) -> int:
    """An exclusive lock on out/LOCK_NAME (refused when held, unless wait); the file descriptor that holds it.

    The lock file is opened without following a link and must be a plain file: nothing is created or
    written through a link. The holder writes its process id into it, so a waiting process can say whom
    it waits for, and stops waiting (in one line) for a holder that is stopped rather than working.
    """
    path = out / LOCK_NAME
    while True:
        handle = _open_lock_file(path, out)
        try:
            import fcntl
        except ImportError:  # no fcntl (Windows): no lock, the rest still applies
            return handle
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            if not wait:
                os.close(handle)
                raise FolderError(f"{out} is in use by another run right now: wait for it to finish, or choose another --out") from None
            _wait_for_holder(handle, path, out)
        try:
            same = os.path.samestat(os.fstat(handle), os.stat(path, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            try:
                os.ftruncate(handle, 0)
                os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)  # whom a waiting process waits for
            except OSError as err:  # a full disk: the lock file goes, so the folders made for it can go too
                path.unlink(missing_ok=True)
                os.close(handle)
                raise FolderError(f"cannot write to the output folder {out}: {err.strerror or err}") from err
            return handle
        os.close(handle)  # the holder removed the file as we opened it: try again on the new one


def _open_lock_file(path: Path, out: Path) -> int:
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0), 0o666)
    except OSError as err:
        if path.is_symlink():
            raise FolderError(f"{path} is a symbolic link, and nothing is written through a link: remove it") from None
        raise FolderError(f"cannot write to the output folder {out}: {err.strerror or err}") from err
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise FolderError(f"{path} is not a plain file (a pipe or a device): remove it")
    return handle


def _wait_for_holder(handle: int, path: Path, out: Path) -> None:
    """Block until the lock is ours; say whom we wait for; refuse to wait for a holder that is stopped."""
    import fcntl

    started = time.monotonic()
    noted = stopped_since = None
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError:
            pass
        now = time.monotonic()
        holder = _holder(handle)
        if holder is not None and _is_stopped(holder):
            stopped_since = stopped_since or now
            if now - stopped_since >= STOPPED_GRACE_SECONDS:
                os.close(handle)
                raise FolderError(f"{out} is held by process {holder}, which is stopped (Ctrl-Z or SIGSTOP): "
                                  f"continue it (kill -CONT {holder}) or end it, then run this again") from None
        else:
            stopped_since = None
        if noted is None and now - started >= NOTE_AFTER_SECONDS:
            noted = holder
            whom = f"process {holder}" if holder else "another process"
            print(printable(f"note: waiting for {whom}, which is training this model in {out}"),
                  file=sys.stderr, flush=True)
        time.sleep(0.2)


def _holder(handle: int) -> int | None:
    """The process id the lock's holder wrote into the lock file, if any."""
    try:
        text = os.pread(handle, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _is_stopped(pid: int) -> bool:
    """True when the process is stopped (state T: Ctrl-Z, SIGSTOP) on this machine (Linux's /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return bool(fields) and fields[0] in ("T", "t")
