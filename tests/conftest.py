"""Shared fixtures: tiny IDX files written on the spot, and the real Fashion-MNIST when available."""

from __future__ import annotations

import os
import re
import signal
import struct
import subprocess
from pathlib import Path

import pytest
import torch

from vae_tutorial.config import env_path, env_switch
from vae_tutorial.data import DATA_ENV_VAR, Split

IDX_NAMES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def write_idx(path: Path, array: torch.Tensor) -> None:
    """Write a uint8 tensor in the IDX format (big-endian magic, dims, raw bytes)."""
    magic = 0x0800 | array.dim()  # 0x08 = unsigned byte, then the number of dimensions
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", size) for size in array.shape)
    path.write_bytes(header + array.contiguous().numpy().tobytes())


@pytest.fixture
def tiny_data_root(tmp_path: Path) -> Path:
    """A data root with FashionMNIST/raw holding 6 training and 4 test images of known content."""
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for train, count in ((True, 6), (False, 4)):
        pixels = (torch.arange(count * 28 * 28) % 256).to(torch.uint8).view(count, 28, 28)
        labels = torch.arange(count, dtype=torch.uint8) % 10
        images_name, labels_name = IDX_NAMES[train]
        write_idx(raw / images_name, pixels)
        write_idx(raw / labels_name, labels)
    return tmp_path


def under_ci() -> bool:
    """$CI as the README documents it: true (or 1, yes) under CI, false, 0, no, empty or unset elsewhere; else refused."""
    return env_switch("CI")


@pytest.fixture(scope="session")
def real_data_dir() -> str:
    """The folder named by $VAE_TUTORIAL_DATA; skipped without it, but an error under CI."""
    root = env_path(DATA_ENV_VAR)  # set but blank is refused
    if root is not None and (root / "FashionMNIST" / "raw").is_dir():
        return str(root)
    message = f"real Fashion-MNIST not found: set {DATA_ENV_VAR} to the folder that holds FashionMNIST/raw"
    if under_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def toy_split() -> Split:
    """64 random 'images' with structure (smooth blobs) that a VAE can learn quickly."""
    generator = torch.Generator().manual_seed(0)
    centres = torch.rand(64, 2, generator=generator) * 20 + 4  # (64, 2)
    grid = torch.stack(torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij"))  # (2, 28, 28)
    distance = (grid[None] - centres[:, :, None, None]).pow(2).sum(1)  # (64, 28, 28)
    images = torch.exp(-distance / 18).unsqueeze(1)  # (64, 1, 28, 28)
    return Split(images, torch.zeros(64, dtype=torch.long))


@pytest.fixture(scope="session")
def book_html(tmp_path_factory) -> Path:
    """The whole site built in quick mode with the design's command, `jupyter-book build book -W`, from
    a clean copy of the sources into a temporary folder (the developer's _build is left alone)."""
    from _browser import ROOT, copy_sources, require

    jupyter_book = require("jupyter-book", "install the book extra: pip install -e '.[dev]'")
    sources = copy_sources(tmp_path_factory.mktemp("book") / "sources")
    output = tmp_path_factory.mktemp("site")
    environ = {key: value for key, value in os.environ.items() if key != "VAE_TUTORIAL_REPOSITORY"}  # a reader's
    # default site: no repository given, so no repository, issue or Binder button (tests/test_book.py checks)
    env = {**environ, "VAE_TUTORIAL_QUICK": "1",
           "VAE_TUTORIAL_CACHE": str(env_path("VAE_TUTORIAL_CACHE") or ROOT / "runs" / "cache"),
           "VAE_TUTORIAL_DATA": str(env_path("VAE_TUTORIAL_DATA") or ROOT / "data")}
    command = [jupyter_book, "build", "book", "--path-output", str(output), "-W", "--keep-going"]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3000, cwd=sources)
    log = proc.stdout + proc.stderr
    (output / "build.log").write_text(log)
    problems = [line for line in log.splitlines() if re.search(r"WARNING|ERROR|Error", line) and "IPKernelApp" not in line]
    assert proc.returncode == 0, "book build failed:\n" + "\n".join(problems[-30:] or log.splitlines()[-30:])
    assert "build succeeded" in log
    return output / "_build" / "html"


TINY_MODEL = ["--hidden-dim", "8", "--latent-dim", "2", "--batch-size", "4", "--device", "cpu", "--no-progress"]


class Outcome:
    """What one command-line call did: exit code, stdout, stderr."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def failed(self, code: int, *fragments: str) -> "Outcome":
        """Assert the exit code, exactly one line on stderr, no traceback, and each fragment in that line."""
        assert self.code == code, (self.code, self.err)
        assert self.err.count("\n") == 1 and self.err.endswith("\n"), self.err
        assert "Traceback" not in self.err and "weights_only" not in self.err
        for fragment in fragments:
            assert fragment in self.err, (fragment, self.err)
        return self


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root: its bytes and its mode."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def cli(tmp_path: Path, capsys):
    """Run the command line in-process; assert that no file that existed under tmp_path was changed."""
    from vae_tutorial.cli import main

    def run(*argv, may_change: tuple[str, ...] = ()) -> Outcome:
        before = snapshot(tmp_path)
        capsys.readouterr()
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            code = main([str(a) for a in argv])
        finally:  # a stopped run leaves them ignored (its process is about to exit); this one goes on
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        out, err = capsys.readouterr()
        after = snapshot(tmp_path)
        for name, value in before.items():
            if not name.startswith(may_change):
                assert after.get(name) == value, f"{name} was changed or removed"
        return Outcome(code, out, err)

    return run


@pytest.fixture
def tiny_train(tiny_data_root: Path) -> list[str]:
    """`train` on the tiny IDX files with a tiny model, one epoch: add --out and more."""
    return ["train", "--epochs", "1", "--data-dir", str(tiny_data_root), *TINY_MODEL]


@pytest.fixture
def finished_run(tiny_train: list[str], tmp_path: Path) -> Path:
    """A finished one-epoch run in tmp_path/A (its own copy for every test)."""
    from vae_tutorial.cli import main

    assert main([*tiny_train, "--out", str(tmp_path / "A")]) == 0
    return tmp_path / "A"
