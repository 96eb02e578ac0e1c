"""Nothing the program writes goes through a symbolic link: a link where one of its files belongs is
refused in one line, before any work, and nothing is created or changed at the link's target."""

from __future__ import annotations

import os

import pytest

from vae_tutorial.checkpoint import atomic_write
from vae_tutorial.errors import FolderError
from vae_tutorial.runs.folder import RUN_FILES


@pytest.fixture(params=["dangling", "to a file"])
def planted(request, tmp_path):
    """A link at tmp_path/run/<name> to a file outside the folder: absent (dangling) or a user's file."""
    outside = tmp_path / "elsewhere" / "precious.txt"
    outside.parent.mkdir()
    if request.param == "to a file":
        outside.write_text("a user's file")

    def plant(name: str):
        link = tmp_path / "run" / name
        link.parent.mkdir(exist_ok=True)
        os.symlink(outside, link)
        return link, outside

    return plant


def _untouched(link, outside, existed: bool):
    assert link.is_symlink() and os.readlink(link) == str(outside)  # the link itself is left as it was
    assert outside.exists() == existed and (not existed or outside.read_text() == "a user's file")
    assert [p.name for p in outside.parent.iterdir()] == ([outside.name] if existed else [])


def test_a_file_written_where_a_link_is_is_refused(planted):
    link, outside = planted("metrics.json")
    existed = outside.exists()
    with pytest.raises(FolderError, match="symbolic link"):
        atomic_write(link, lambda file: file.write(b"{}"))
    _untouched(link, outside, existed)
    assert not [p for p in link.parent.iterdir() if p.name.endswith(".tmp")]  # no temporary file left


@pytest.mark.parametrize("name", RUN_FILES)
def test_train_refuses_a_link_among_its_files_before_training(planted, name, cli, tiny_train):
    link, outside = planted(name)
    existed = outside.exists()
    cli(*tiny_train, "--out", link.parent).failed(1, "symbolic link", name)
    _untouched(link, outside, existed)
    assert sorted(p.name for p in link.parent.iterdir()) == [name]  # no checkpoint, no lock left behind
