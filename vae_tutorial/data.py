"""Fashion-MNIST (or the package's sprites) as in-memory tensors, and shuffled minibatches straight from memory.

The classic pipeline (a Dataset that turns each item into a PIL image, then
``ToTensor``, then a DataLoader that collates) spends most of an epoch in
Python. Here a split is read once into one float tensor and a minibatch is a
single indexing operation.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from . import sprites
from .config import DATASETS, env_path
from .errors import DataError, first_line

DATA_ENV_VAR = "VAE_TUTORIAL_DATA"
DEFAULT_DATA_DIR = "data"
IMAGE_SIZE = (28, 28)  # (height, width) of a Fashion-MNIST image
IDX_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MAX_IMAGES = {True: 60_000, False: 10_000}  # the most items a split's IDX file may hold (Fashion-MNIST's sizes)
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


@dataclass(frozen=True)
class Split:
    """One split of the data: images in [0, 1], their class labels, and their factor indices where known."""

    images: torch.Tensor  # (N, 1, 28, 28) float32, grey levels in [0, 1]
    labels: torch.Tensor  # (N,) int64, indices into CLASS_NAMES (the sprites: their shape)
    factors: torch.Tensor | None = None  # (N, K) int64, the generative factors' indices (sprites.FACTORS); None for Fashion-MNIST

    def __len__(self) -> int:
        return self.images.shape[0]

    def head(self, n: int | None) -> "Split":
        """The first n examples (all of them when n is None)."""
        if n is None:
            return self
        return Split(self.images[:n], self.labels[:n], None if self.factors is None else self.factors[:n])


def load_data(
    data: str, train: bool, data_dir: str | os.PathLike | None = None, download: bool | None = None
) -> Split:
    """A split of the named data set: Fashion-MNIST read by load_split, or the sprites rendered here."""
    if data == "sprites":  # nothing to read: data_dir and download do not apply
        factors = sprites.split_factors(train)  # (N, 5)
        return Split(sprites.render(factors), factors[:, sprites.FACTORS.index("shape")].clone(), factors)
    if data != "fashion-mnist":
        raise DataError(f"unknown data set {data!r}: choose one of {', '.join(DATASETS)}")
    return load_split(train, data_dir, download)


def resolve_data_root(data_dir: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """Where to look for the data, and whether downloading there is allowed.

    Order: the explicit argument, then $VAE_TUTORIAL_DATA, then ./data. Only
    the default ./data is downloaded into; a folder the user names is expected
    to hold the files already (pass download=True to load_split to override).
    """
    if data_dir is not None:
        return Path(data_dir), False
    from_env = env_path(DATA_ENV_VAR)  # set but blank is refused: never ./data in its place
    if from_env is not None:
        return from_env, False
    return Path(DEFAULT_DATA_DIR), True


def load_split(
    train: bool, data_dir: str | os.PathLike | None = None, download: bool | None = None
) -> Split:
    """Read the train (60,000) or test (10,000) split of Fashion-MNIST into memory."""
    from torchvision.datasets import FashionMNIST

    root, may_download = resolve_data_root(data_dir)
    download = may_download if download is None else download
    raw = root / "FashionMNIST" / "raw"
    if root.exists() and not root.is_dir():
        raise DataError(f"the data path {root} is a file, not a folder: name the folder that holds FashionMNIST/raw/")
    for folder in (root, raw):
        if folder.exists() and not folder.is_dir():
            raise DataError(f"{folder} is a file, not a folder: the data path must hold FashionMNIST/raw/ as folders")
        if folder.exists() and not os.access(folder, os.R_OK | os.X_OK):
            raise DataError(f"cannot read the data folder {folder}: check its permissions")
    names = IDX_FILES[train]
    counts = [check_idx(raw / name, shape, MAX_IMAGES[train]) for name, shape in zip(names, ((None, *IMAGE_SIZE), (None,)))
              if (raw / name).exists() or (raw / name).is_symlink()]
    if len(counts) == 2 and counts[0] != counts[1]:
        raise DataError(f"{raw} holds {counts[0]} images but {counts[1]} labels in {names[1]}: the files do not belong together")
    created = [folder for folder in (raw, raw.parent, root) if not folder.exists()]
    try:
        dataset = FashionMNIST(str(root), train=train, download=download)
    except RuntimeError as err:
        _remove_empty(created)
        if "not found" not in str(err).lower() and not str(err).startswith("Error downloading"):
            raise DataError(f"cannot read Fashion-MNIST in {raw}: {first_line(err)}") from err
        raise DataError(_missing_message(raw, download)) from err
    except (OSError, ValueError, AssertionError, EOFError) as err:  # truncated or malformed files, failed downloads
        _remove_empty(created)
        what = "download or read" if download else "read"
        raise DataError(f"cannot {what} Fashion-MNIST in {raw}: {first_line(err)}") from err
    labels = dataset.targets.long()  # (N,)
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CLASS_NAMES)):
        raise DataError(f"{raw / names[1]} holds label {int(labels.max())}: Fashion-MNIST's labels are 0 to {len(CLASS_NAMES) - 1}")
    pixels = dataset.data  # (N, 28, 28) uint8
    images = pixels.unsqueeze(1).float().div_(255.0)  # (N, 1, 28, 28) float32
    return Split(images, labels)


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed download made, innermost first, if it left them empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def check_idx(path: Path, shape: tuple[int | None, ...], max_count: int) -> int:
    """Refuse a file that is not an IDX file of unsigned bytes with this shape (None: any count up to max_count).

    Returns the number of items. Only the header is read: a file is checked before it is loaded whole.
    """
    if not path.is_file():
        raise DataError(f"cannot read {path}: it is {'a folder' if path.is_dir() else 'not a plain file'}, not an IDX file")
    try:
        with path.open("rb") as file:
            header = file.read(4 + 4 * len(shape))
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or first_line(err)}") from err
    if not header:
        raise DataError(f"cannot read {path}: the file is empty")
    if header[:2] != b"\0\0"[:len(header[:2])]:
        raise DataError(f"cannot read {path}: not an IDX file (it starts with {header[:4].hex()}, not 0000)")
    if len(header) < 4 + 4 * len(shape):
        raise DataError(f"cannot read {path}: it ends inside its header ({len(header)} bytes)")
    code, dims = header[2], header[3]
    if code != 0x08:
        raise DataError(f"cannot read {path}: IDX type code 0x{code:02x}, not 0x08 (unsigned bytes) as Fashion-MNIST does")
    if dims != len(shape) or len(header) < 4 + 4 * dims:
        raise DataError(f"cannot read {path}: {dims} dimensions, not {len(shape)} as Fashion-MNIST's")
    sizes = struct.unpack(f">{dims}I", header[4:])
    if any(want is not None and got != want for got, want in zip(sizes, shape)):
        raise DataError(f"cannot read {path}: items of {'x'.join(map(str, sizes[1:]))}, not {'x'.join(map(str, shape[1:]))}")
    if not 1 <= sizes[0] <= max_count:
        raise DataError(f"cannot read {path}: it says it holds {sizes[0]} items; this split of Fashion-MNIST has "
                        f"1 to {max_count}")
    expected, size = len(header) + math.prod(sizes), path.stat().st_size
    if size != expected:
        how = "truncated?" if size < expected else "extra bytes at its end"
        raise DataError(f"cannot read {path}: {size} bytes, not the {expected} its header promises ({how})")
    return sizes[0]


def _missing_message(raw: Path, tried_download: bool) -> str:
    tried = " (the download failed)" if tried_download else ""
    return (
        f"Fashion-MNIST not found in {raw}{tried}: set {DATA_ENV_VAR} or --data-dir to a folder "
        f"that holds FashionMNIST/raw/, or run once with internet access to download into ./{DEFAULT_DATA_DIR}"
    )


def minibatches(
    images: torch.Tensor,
    batch_size: int,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[torch.Tensor]:
    """Yield minibatches of images (the last one may be smaller), reshuffled on each call."""
    count = images.shape[0]
    order = torch.randperm(count, generator=generator) if shuffle else torch.arange(count)  # (N,)
    for start in range(0, count, batch_size):
        yield images[order[start : start + batch_size]]  # (B, 1, 28, 28)


def labelled_minibatches(
    split: Split,
    batch_size: int,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (images, labels) minibatches, in the same order minibatches() gives for the same generator."""
    count = len(split)
    order = torch.randperm(count, generator=generator) if shuffle else torch.arange(count)  # (N,)
    for start in range(0, count, batch_size):
        chosen = order[start : start + batch_size]  # (B,)
        yield split.images[chosen], split.labels[chosen]  # (B, 1, 28, 28), (B,)


def binarize(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Dynamic binarization: each pixel becomes 1 with probability equal to its grey level."""
    return torch.bernoulli(images, generator=generator)


def binarized_test_split(split: Split, seed: int = 1234) -> Split:
    """A test split binarized once, with a fixed seed, so that every evaluation sees the same 0/1 pixels."""
    return Split(binarize(split.images, generator=torch.Generator().manual_seed(seed)), split.labels, split.factors)
