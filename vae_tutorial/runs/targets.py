"""Where a command may write: checked before the work, so a refusal never costs a training or an evaluation.

The package owns some names (a run's files, its lock, a cached run's key, a
sweep's tables, the temporary files of atomic writes): a user's path that
names one of them is never a target, and neither is anything that is not a
plain file (a folder, a pipe, a device, a broken link).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

from ..errors import OutputError
from .folder import LOCK_NAME, RUN_FILES

KEY_NAME = "key.json"  # beside each cached checkpoint: everything its folder name stands for (cache.py)
SWEEP_FILES = ("sweep.csv", "sweep.md", "rate_distortion.png")
OWNED_NAMES = (*RUN_FILES, LOCK_NAME, KEY_NAME, *SWEEP_FILES)
MAX_REPORT_BYTES = 1 << 20  # an evaluate report is a few hundred bytes; a larger file is not one


def owned(name: str) -> bool:
    """True for a file name the package writes for its own runs."""
    return name in OWNED_NAMES or (name.startswith(".") and name.endswith(".tmp"))


def json_target(text: str, checkpoint: str) -> Path:
    """Check that --json may be written: a plain file of the user's, or an earlier report; never a run's file."""
    if not text.strip():
        raise OutputError("--json needs a file name")
    target = Path(text)
    if text.endswith(os.sep) or target.is_dir():
        raise OutputError(f"--json {target} is a folder: name a file")
    if owned(target.name):
        raise OutputError(f"--json {target} is a name vae_tutorial uses for its own files: name another file")
    if target.is_symlink() and not target.exists():
        raise OutputError(f"--json {target} is a broken symbolic link: name a file")
    if target.exists():
        _refuse_unless_earlier_report(target, checkpoint)
    folder = target.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"cannot write --json {target}: {folder} {what}")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OutputError(f"cannot write --json {target}: {err.strerror or err}") from err
    return target


def _refuse_unless_earlier_report(target: Path, checkpoint: str) -> None:
    info = target.stat()
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"--json {target} is not a plain file (a device, a pipe or a socket): name a file")
    if Path(checkpoint).exists() and os.path.samefile(target, checkpoint):
        raise OutputError(f"--json {target} is the checkpoint itself: name another file")
    if info.st_size > MAX_REPORT_BYTES:
        raise OutputError(f"--json {target} exists and is not an earlier evaluate report ({info.st_size} bytes): "
                          "name another file")
    try:
        earlier = json.loads(target.read_bytes())
    except (OSError, ValueError) as err:
        earlier = err
    if not (isinstance(earlier, dict) and "test_loss" in earlier):
        raise OutputError(f"--json {target} exists and is not an earlier evaluate report: name another file")


def refuse_owned_folder(out: Path) -> None:
    """A cached run's folder (a sweep's or a chapter's) is the cache's: a user's run never trains there."""
    try:
        cached = (out / KEY_NAME).exists()
    except OSError:  # a name too long to look up: the output folder's own check will say so, naming --out
        cached = False
    if cached:
        raise OutputError(f"{out} is a cached run (of a sweep or a chapter), which the cache may replace: "
                          "train or resume into a folder of your own with --out")

