"""The chapters' model cache is a user's path too: what a student's Run All meets when the cache folder is in the
way, a file in it is not what it should be, or another process holds the run. One line each, never a hang."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import vae_tutorial.runs.cache as cache
import vae_tutorial.runs.lock as lock
from vae_tutorial.config import ModelConfig, TrainConfig
from vae_tutorial.errors import FolderError
from vae_tutorial.runs.lock import LOCK_NAME

SMALL = ModelConfig(hidden_dim=8, latent_dim=2)
SETTINGS = TrainConfig(epochs=1, batch_size=16, device="cpu")


@pytest.fixture
def deadline():
    """Fail a test that hangs, instead of hanging the suite: what a blocked read or a wait would do."""
    def ring(*_):
        raise TimeoutError("the cache hung for 60 s")
    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _run_folder(root: Path, data) -> Path:
    return root / cache.run_key(SMALL, SETTINGS, data)


def _fit(root, data):
    return cache.cached_fit(SMALL, SETTINGS, data, data, root=root)


def test_a_cache_that_is_a_file_is_one_line_naming_the_cache_and_what_to_do(toy_split, tmp_path):
    root = tmp_path / "cache"
    root.write_text("not a folder")
    with pytest.raises(FolderError) as caught:
        _fit(root, toy_split)
    message = str(caught.value)
    assert "\n" not in message and "model cache" in message and str(root) in message
    # where the cache comes from is said for both kinds of caller: a fifth hostile pass found the variable
    # named alone to a sweep's user, whose cache is <--out>/runs and whom the variable does not reach
    assert "the chapters take theirs from $VAE_TUTORIAL_CACHE, a sweep and the benchmarks from their --out" in message


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_a_key_that_is_not_a_file_is_set_aside_without_hanging_or_exhausting_memory(kind, toy_split, tmp_path, capfd, deadline):
    first = _fit(tmp_path, toy_split)
    key = _run_folder(tmp_path, toy_split) / "key.json"
    key.unlink()
    if kind == "fifo":
        os.mkfifo(key)  # reading it blocked forever
    elif kind == "dev-zero":
        key.symlink_to("/dev/zero")  # reading it never ended: MemoryError under a limit
    else:
        key.mkdir()
    again = _fit(tmp_path, toy_split)
    assert not again.cached and first.cached is False  # trained again, as a damaged key is
    assert "not a file" in capfd.readouterr().err
    assert json.loads(key.read_text())["code"]  # a fresh key in its place


def test_a_name_to_move_aside_that_is_taken_by_a_folder_gets_the_next_free_name(toy_split, tmp_path, capfd):
    _fit(tmp_path, toy_split)
    folder = _run_folder(tmp_path, toy_split)
    (folder / "key.json").write_text("{damaged")
    taken = folder / "checkpoint.pt.unreadable"
    taken.mkdir()
    (taken / "something.txt").write_text("a student's file")  # the move used to fail: "Directory not empty"
    assert not _fit(tmp_path, toy_split).cached
    assert (taken / "something.txt").read_text() == "a student's file"
    assert (folder / "checkpoint.pt.unreadable-2").is_file()
    assert "checkpoint.pt.unreadable-2" in capfd.readouterr().err


@pytest.mark.parametrize("dangling", [True, False])
def test_a_lock_file_that_is_a_link_is_refused_and_nothing_is_written_at_its_target(dangling, toy_split, tmp_path):
    folder = _run_folder(tmp_path / "cache", toy_split)
    folder.mkdir(parents=True)
    target = tmp_path / "elsewhere.txt"
    if not dangling:
        target.write_text("someone else's file")
    (folder / LOCK_NAME).symlink_to(target)
    with pytest.raises(FolderError, match="symbolic link"):
        _fit(tmp_path / "cache", toy_split)
    assert target.exists() is not dangling and (dangling or target.read_text() == "someone else's file")


def test_a_lock_file_that_is_a_pipe_is_refused(toy_split, tmp_path, deadline):
    folder = _run_folder(tmp_path, toy_split)
    folder.mkdir(parents=True)
    os.mkfifo(folder / LOCK_NAME)
    with pytest.raises(FolderError, match="not a plain file"):
        _fit(tmp_path, toy_split)


HOLDER = """
import sys, time
from pathlib import Path
from vae_tutorial.runs.lock import hold_lock
hold_lock(Path(sys.argv[1]), wait=False)
print("held", flush=True)
time.sleep(120)
"""


def test_a_stopped_holder_is_named_and_not_waited_for_forever(toy_split, tmp_path, capfd, monkeypatch, deadline):
    folder = _run_folder(tmp_path, toy_split)
    folder.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        os.kill(holder.pid, signal.SIGSTOP)  # Ctrl-Z in the terminal that trains it
        monkeypatch.setattr(lock, "STOPPED_GRACE_SECONDS", 1.0)
        monkeypatch.setattr(lock, "NOTE_AFTER_SECONDS", 0.0)
        started = time.monotonic()
        with pytest.raises(FolderError) as caught:
            _fit(tmp_path, toy_split)
        assert time.monotonic() - started < 30
        message = str(caught.value)
        assert f"process {holder.pid}" in message and "stopped" in message and f"kill -CONT {holder.pid}" in message
        assert f"waiting for process {holder.pid}" in capfd.readouterr().err  # said whom it waited for
    finally:
        holder.kill()
        holder.wait()


def test_a_working_holder_is_waited_for_and_named(toy_split, tmp_path, capfd, monkeypatch, deadline):
    folder = _run_folder(tmp_path, toy_split)
    folder.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER.replace("120", "3"), str(folder)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(lock, "NOTE_AFTER_SECONDS", 0.5)
        result = _fit(tmp_path, toy_split)  # the holder ends after 3 s; then this run trains
        assert not result.cached and f"waiting for process {holder.pid}" in capfd.readouterr().err
    finally:
        holder.kill()
        holder.wait()


def test_a_package_error_in_a_notebook_is_one_line_not_a_traceback():
    """What a student's Run All shows: IPython renders the package's errors as the command line prints them."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from vae_tutorial.errors import FolderError\n"
        "raise FolderError('the model cache cannot be used: it is a file\\x1b[2J')")])
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True)
    client.execute()
    error = next(o for o in notebook.cells[0].outputs if o.output_type == "error")
    assert error.traceback == ["FolderError: the model cache cannot be used: it is a file\\x1b[2J"]
