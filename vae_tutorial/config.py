"""Every hyperparameter in two frozen dataclasses, checked when they are built."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

ARCHITECTURES = ("mlp", "conv")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class ModelConfig:
    """The shape of the VAE: what goes in, how wide, how many latent dimensions."""

    image_shape: tuple[int, int, int] = (1, 28, 28)  # (channels, height, width) of one image
    hidden_dim: int = 400  # MLP hidden width: 400 ReLU as in the PyTorch VAE example (Kingma & Welling 2014: 500 tanh)
    latent_dim: int = 20  # D, the number of latent dimensions z_1..z_D
    arch: str = "mlp"  # "mlp" or "conv"

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))
        _require(len(self.image_shape) == 3, f"image_shape must be (C, H, W), got {self.image_shape}")
        _require(all(s >= 1 for s in self.image_shape), f"image_shape must be positive, got {self.image_shape}")
        _require(_is_int(self.latent_dim) and self.latent_dim >= 1, f"latent dim must be an integer >= 1, got {self.latent_dim}")
        _require(_is_int(self.hidden_dim) and self.hidden_dim >= 1, f"hidden dim must be an integer >= 1, got {self.hidden_dim}")
        _require(self.arch in ARCHITECTURES, f"arch must be one of {', '.join(ARCHITECTURES)}, got {self.arch!r}")

    @property
    def num_pixels(self) -> int:
        """Pixels per image (784 for Fashion-MNIST)."""
        channels, height, width = self.image_shape
        return channels * height * width


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimiser, objective weights, data and bookkeeping."""

    epochs: int = 50
    batch_size: int = 64
    lr: float = 1e-3  # Adam's step size
    beta: float = 1.0  # weight of the KL term: 1 is the VAE, > 1 the beta-VAE (Higgins et al. 2017)
    warmup_steps: int = 0  # KL warm-up: beta rises linearly from 0 over this many steps (0 = off)
    capacity_max: float | None = None  # controlled capacity C_max in nats (Burgess et al. 2018); None = off
    capacity_steps: int = 0  # steps over which C rises linearly from 0 to capacity_max
    gamma: float = 1000.0  # weight of |KL - C| when capacity is on
    binarize: bool = False  # dynamic binarization: draw x ~ Bernoulli(grey level) each batch
    seed: int = 0
    subset: int | None = None  # train on the first N training images only (quick runs)
    device: str = "auto"
    data_dir: str | None = None

    def __post_init__(self) -> None:
        _require(_is_int(self.epochs) and self.epochs >= 1, f"epochs must be an integer >= 1, got {self.epochs}")
        _require(_is_int(self.batch_size) and self.batch_size >= 1, f"batch size must be an integer >= 1, got {self.batch_size}")
        _require(_finite(self.lr) and self.lr > 0, f"learning rate must be a finite number > 0, got {self.lr}")
        _require(_finite(self.beta) and self.beta >= 0, f"beta must be a finite number >= 0, got {self.beta}")
        _require(_is_int(self.warmup_steps) and self.warmup_steps >= 0, f"warm-up steps must be >= 0, got {self.warmup_steps}")
        _require(_is_int(self.capacity_steps) and self.capacity_steps >= 0, f"capacity steps must be >= 0, got {self.capacity_steps}")
        if self.capacity_max is not None:
            _require(_finite(self.capacity_max) and self.capacity_max >= 0, f"capacity must be a finite number >= 0, got {self.capacity_max}")
        _require(_finite(self.gamma) and self.gamma >= 0, f"gamma must be a finite number >= 0, got {self.gamma}")
        _require(self.subset is None or (_is_int(self.subset) and self.subset >= 1), f"subset must be an integer >= 1, got {self.subset}")
        _require(self.device in DEVICES, f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")


def to_dict(config: ModelConfig | TrainConfig) -> dict:
    """A plain dict of a config, ready for JSON or a checkpoint."""
    values = asdict(config)
    if "image_shape" in values:
        values["image_shape"] = list(values["image_shape"])
    return values


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
