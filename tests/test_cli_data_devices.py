"""Plausible but wrong data, missing devices and models too large: one line, exit 1, no folder left behind."""

import struct

import pytest
import torch

from vae_tutorial.checkpoint import restore_generator

IMAGES = "FashionMNIST/raw/train-images-idx3-ubyte"


def _idx(code: int, sizes: tuple[int, ...], payload: bytes | None = None) -> bytes:
    header = bytes([0, 0, code, len(sizes)]) + b"".join(struct.pack(">I", s) for s in sizes)
    count = 1
    for s in sizes:
        count *= s
    return header + (payload if payload is not None else bytes(count))


BAD_IMAGE_FILES = {
    "float type code": (_idx(0x0D, (6, 28, 28), bytes(6 * 28 * 28 * 4)), "type code 0x0d"),
    "32x32 images": (_idx(0x08, (6, 32, 32)), "items of 32x32"),
    "odd magic number": (b"\x1f\x8b\x08\x00" + bytes(100), "not an IDX file"),
    "empty file": (b"", "the file is empty"),
    "two dimensions": (_idx(0x08, (6, 784)), "2 dimensions"),
    "truncated": (_idx(0x08, (6, 28, 28))[:500], "truncated"),
}


@pytest.mark.parametrize("name", list(BAD_IMAGE_FILES))
def test_wrong_image_files(name, cli, tiny_train, tiny_data_root, tmp_path):
    content, fragment = BAD_IMAGE_FILES[name]
    (tiny_data_root / IMAGES).write_bytes(content)
    cli(*tiny_train, "--out", tmp_path / "out").failed(1, fragment)
    assert not (tmp_path / "out").exists()


def test_wrong_label_file(cli, tiny_train, tiny_data_root, tmp_path):
    (tiny_data_root / "FashionMNIST/raw/t10k-labels-idx1-ubyte").write_bytes(_idx(0x08, (4, 2)))
    cli(*tiny_train, "--out", tmp_path / "out").failed(1, "2 dimensions")


def test_data_path_that_is_a_file(cli, tiny_train, tmp_path):
    (tmp_path / "data.zip").write_bytes(b"PK")
    cli(*tiny_train, "--data-dir", tmp_path / "data.zip", "--out", tmp_path / "out").failed(1, "is a file, not a folder")


def test_missing_data_folder(cli, tiny_train, tmp_path):
    cli(*tiny_train, "--data-dir", tmp_path / "nowhere", "--out", tmp_path / "out").failed(1, "Fashion-MNIST not found")
    assert not (tmp_path / "out").exists()


def test_offline_download_is_one_line(cli, tiny_train, tmp_path, monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there: the download fails at once
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    result = cli(*tiny_train, "--data-dir", tmp_path / "empty", "--download", "--out", tmp_path / "out")
    result.failed(1, "the download failed")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("device", ["cuda", "mps"])
@pytest.mark.parametrize("command", ["train", "resume", "evaluate", "sweep"])
def test_a_device_this_machine_lacks(device, command, cli, tiny_train, finished_run, tmp_path):
    available = torch.cuda.is_available() if device == "cuda" else torch.backends.mps.is_available()
    if available:
        pytest.skip(f"this machine has {device}")
    argv = {
        "train": [*tiny_train, "--out", tmp_path / "new"],
        "resume": [*tiny_train, "--epochs", "2", "--resume", finished_run / "checkpoint.pt", "--out", tmp_path / "new"],
        "evaluate": ["evaluate", finished_run / "checkpoint.pt", "--json", tmp_path / "new" / "e.json"],
        "sweep": ["sweep", "--betas", "1", *tiny_train[1:], "--out", tmp_path / "new"],
    }[command]
    cli(*argv, "--device", device).failed(1, f"--device {device}")
    assert not (tmp_path / "new").exists()


def test_a_model_too_large_for_memory(cli, tiny_train, tmp_path):
    cli(*tiny_train, "--latent-dim", "10000000", "--hidden-dim", "400", "--out", tmp_path / "huge" / "run").failed(1, "choose a smaller")
    assert not (tmp_path / "huge").exists()


def test_generator_state_of_another_device_type_is_not_forced_in():
    cuda_like_state = torch.zeros(16, dtype=torch.uint8)  # a CUDA generator's state is 16 bytes, a CPU one's 5056
    generator = torch.Generator()
    restore_generator(generator, cuda_like_state, seed=7)
    assert torch.equal(generator.get_state(), torch.Generator().manual_seed(7).get_state())
    saved = torch.Generator().manual_seed(3).get_state()
    restore_generator(generator, saved, seed=7)
    assert torch.equal(generator.get_state(), saved)
