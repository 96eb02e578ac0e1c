"""Every hyperparameter in two frozen dataclasses, checked when they are built."""

from __future__ import annotations

import math
import os
from dataclasses import Field, asdict, dataclass, field, fields
from pathlib import Path

from .errors import ConfigError

ARCHITECTURES = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "continuous-bernoulli", "gaussian")  # p(x|z), see likelihoods.py
DEVICES = ("auto", "cpu", "cuda", "mps")
PRIORS = ("standard", "mixture", "vamp")  # p(z), see priors.py
DATASETS = ("fashion-mnist", "sprites")  # data.load_data: read from disk, or rendered by sprites.py (known factors)
PRIOR_COMPONENTS = {"mixture": 10, "vamp": 500}  # J by default; Tomczak and Welling (2018) use 500 pseudo-inputs
MAX_COMPONENTS = 100_000
MAX_WIDTH = 10_000_000  # latent or hidden units: far beyond any machine's memory, well inside what torch can index
MIN_SIGMA = 1e-4  # the smallest fixed decoder sigma: far below a grey level's step, far above float32's overflow
GAMMA_DEFAULT = 1000.0  # Burgess et al. (2018)'s weight of |KL - C|
MAX_FLOAT = 1e38  # the model computes in float32 (largest 3.4e38): a setting beyond it overflows there, or is lost
IN_FLOAT32 = f" and at most {MAX_FLOAT:g} (the model computes in float32)"
SWITCH = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}  # any case
FLOAT_FIELDS = ("lr", "beta", "capacity_max", "gamma", "free_bits", "tc_weight")  # stored as floats, so that beta=4 and beta=4.0 are one run


IDENTITY = ("arch", "latent_dim", "beta", "epochs", "seed")  # named in every description, before the variant
PLACE = ("device", "data_dir")  # where a run happens, not what it learns: never part of its description


def setting(default, help: str, flag: str | None = None, choices: tuple | None = None,  # noqa: A002
            needs: dict | None = None, words: str | None = None, tag: str | None = None):
    """A dataclass field whose metadata the command line turns into a flag (cli_options.py).

    needs: other fields' values without which this one is refused (checked together).
    words, tag: how a run that changes this setting says so, e.g. "free bits {value:g}" in
    messages and reports, "fb{value:g}" in cached folder names (see variant()).
    """
    metadata = {"help": help, "flag": flag, "choices": choices, "needs": needs or {}, "words": words, "tag": tag}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class ModelConfig:
    """The shape of the VAE: what goes in, how wide, how many latent dimensions."""

    image_shape: tuple[int, int, int] = (1, 28, 28)  # (channels, height, width) of one image
    hidden_dim: int = setting(400, "hidden units", words="hidden {value}", tag="h{value}")  # width of the MLP's hidden layer (400 ReLU as in the PyTorch VAE example; Kingma & Welling 2014: 500 tanh)
    latent_dim: int = setting(20, "latent dimensions")  # D, the number of latent dimensions z_1..z_D
    arch: str = setting("mlp", "encoder/decoder architecture", choices=ARCHITECTURES)  # "mlp" or "conv"
    likelihood: str = setting("bernoulli", "the decoder's distribution p(x|z)", choices=LIKELIHOODS,
                              words="{value} likelihood", tag="{value}")
    gaussian_sigma: float | None = setting(
        None, "fixed standard deviation of the Gaussian decoder (default: learned)",
        needs={"likelihood": "gaussian"}, words="sigma {value:g}", tag="sigma{value:g}")  # MSE / (2 sigma^2): sigma sets the weight of the KL (beta = 2 sigma^2)
    conditional: bool = setting(False, "conditional VAE: encoder and decoder also see the class label",
                                words="conditional on the class", tag="cond")  # Sohn et al. 2015
    prior: str = setting("standard", "the prior p(z): the standard normal, or learned with the model "
                         "(a Gaussian mixture, or the VampPrior)", choices=PRIORS,
                         words="{value} prior", tag="{value}")  # priors.py
    prior_components: int | None = setting(
        None, "components J of a learned prior (default 10 for mixture, 500 for vamp)",
        needs={"prior": "mixture"}, words="{value} components", tag="k{value}")
    num_classes: int = 10  # labels a conditional model sees, one-hot (the ten Fashion-MNIST classes)

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))
        _require(len(self.image_shape) == 3, f"image_shape must be (C, H, W), got {self.image_shape}")
        _require(all(s >= 1 for s in self.image_shape), f"image_shape must be positive, got {self.image_shape}")
        _require(_is_int(self.latent_dim) and 1 <= self.latent_dim <= MAX_WIDTH,
                 f"latent dim must be an integer from 1 to {MAX_WIDTH:,}, got {self.latent_dim}")
        _require(_is_int(self.hidden_dim) and 1 <= self.hidden_dim <= MAX_WIDTH,
                 f"hidden dim must be an integer from 1 to {MAX_WIDTH:,}, got {self.hidden_dim}")
        _require(self.arch in ARCHITECTURES, f"arch must be one of {', '.join(ARCHITECTURES)}, got {self.arch!r}")
        _require(self.likelihood in LIKELIHOODS, f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {self.likelihood!r}")
        if _is_int(self.gaussian_sigma):
            object.__setattr__(self, "gaussian_sigma", float(self.gaussian_sigma))
        if self.gaussian_sigma is not None:
            _require(_finite(self.gaussian_sigma) and self.gaussian_sigma >= MIN_SIGMA,
                     f"gaussian sigma must be a finite number >= {MIN_SIGMA:g} (grey levels come in steps of 1/255; "
                     f"a smaller sigma makes the loss overflow){IN_FLOAT32}, got {self.gaussian_sigma}")
            _require(self.likelihood == "gaussian", "a fixed sigma (--gaussian-sigma) needs the gaussian likelihood (--likelihood gaussian)")
        _require(isinstance(self.conditional, bool), f"conditional must be true or false, got {self.conditional!r}")
        _require(self.prior in PRIORS, f"prior must be one of {', '.join(PRIORS)}, got {self.prior!r}")
        if self.prior == "standard":
            _require(self.prior_components is None,
                     "--prior-components sets a learned prior's size: add --prior mixture or --prior vamp, or drop it")
        else:
            if self.prior_components is None:  # one run, one name: the default J written out
                object.__setattr__(self, "prior_components", PRIOR_COMPONENTS[self.prior])
            _require(_is_int(self.prior_components) and 1 <= self.prior_components <= MAX_COMPONENTS,
                     f"prior components must be an integer from 1 to {MAX_COMPONENTS:,}, got {self.prior_components}")
        _require(not (self.prior == "vamp" and self.conditional),
                 "the VampPrior's pseudo-inputs carry no class label: a conditional model takes --prior standard or mixture")
        _require(_is_int(self.num_classes) and self.num_classes >= 2, f"num classes must be an integer >= 2, got {self.num_classes}")

    @property
    def num_pixels(self) -> int:
        """Pixels per image (784 for Fashion-MNIST)."""
        channels, height, width = self.image_shape
        return channels * height * width


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimiser, objective weights, data and bookkeeping."""

    epochs: int = setting(50, "epochs in total (a resumed run counts the ones it has)")
    batch_size: int = setting(64, "minibatch size", words="batch {value}", tag="bs{value}")
    lr: float = setting(1e-3, "Adam learning rate", words="lr {value:g}", tag="lr{value:g}")  # Adam's step size
    beta: float = setting(1.0, "KL weight: 1 = VAE, > 1 = beta-VAE")  # Higgins et al. 2017
    warmup_steps: int = setting(0, "KL warm-up: beta rises linearly from 0 over N steps (0 = off)",
                                words="KL warm-up {value} steps", tag="warm{value}")
    capacity_max: float | None = setting(None, "controlled capacity C_max in nats (default off); replaces beta",
                                         flag="--capacity", words="capacity {value:g} nats", tag="cap{value:g}")  # Burgess et al. 2018
    capacity_steps: int = setting(0, "steps for C to reach C_max", needs={"capacity_max": 1.0},
                                  words="reached in {value} steps", tag="in{value}")  # C rises linearly from 0 to capacity_max
    gamma: float = setting(GAMMA_DEFAULT, "weight of |KL - C| when capacity is on", needs={"capacity_max": 1.0},
                           words="gamma {value:g}", tag="gamma{value:g}")
    free_bits: float = setting(0.0, "free bits: nats of KL per latent dimension left unpenalised (0 = off)",
                              words="free bits {value:g}", tag="fb{value:g}")  # Kingma et al. 2016
    tc_weight: float | None = setting(None, "beta-TCVAE: the KL split into index-code MI + TC + dimension-wise KL, "
                                      "with this weight on the total correlation TC (default off)",
                                      words="TC weight {value:g}", tag="tc{value:g}")  # Chen et al. 2018, kl_decomposition.py
    binarize: bool = setting(False, "dynamically binarize pixels (x ~ Bernoulli(grey level) each batch)",
                            words="binarized pixels", tag="binary")
    seed: int = setting(0, "random seed: same seed, same numbers (on the CPU)")
    data: str = setting("fashion-mnist", "the data: fashion-mnist (read from --data-dir) or sprites (rendered "
                        "by the package, with known factors)", choices=DATASETS, words="on {value}", tag="{value}")
    subset: int | None = setting(None, "train on the first N training images (default all)",
                                 words="first {value} images", tag="n{value}")  # quick runs
    device: str = setting("auto", "auto = cuda, then mps, then cpu", choices=DEVICES)
    data_dir: str | None = setting(None, "folder holding FashionMNIST/raw (default $VAE_TUTORIAL_DATA, else ./data)")

    def __post_init__(self) -> None:
        for name in FLOAT_FIELDS:
            value = getattr(self, name)
            if _is_int(value) or isinstance(value, float):
                object.__setattr__(self, name, float(value) + 0.0)  # ints as floats; -0.0 as 0.0 (one run, one name)
        _require(_is_int(self.epochs) and self.epochs >= 1, f"epochs must be an integer >= 1{UP_TO_MAX_INT}, got {self.epochs}")
        _require(_is_int(self.batch_size) and self.batch_size >= 1, f"batch size must be an integer >= 1{UP_TO_MAX_INT}, got {self.batch_size}")
        _require(_finite(self.lr) and self.lr > 0, f"learning rate must be a finite number > 0{IN_FLOAT32}, got {self.lr}")
        _require(_finite(self.beta) and self.beta >= 0, f"beta must be a finite number >= 0{IN_FLOAT32}, got {self.beta}")
        _require(_is_int(self.warmup_steps) and self.warmup_steps >= 0, f"warm-up steps must be an integer >= 0{UP_TO_MAX_INT}, got {self.warmup_steps}")
        _require(_is_int(self.capacity_steps) and self.capacity_steps >= 0, f"capacity steps must be an integer >= 0{UP_TO_MAX_INT}, got {self.capacity_steps}")
        if self.capacity_max is not None:
            _require(_finite(self.capacity_max) and self.capacity_max >= 0, f"capacity must be a finite number >= 0{IN_FLOAT32}, got {self.capacity_max}")
        _require(_finite(self.gamma) and self.gamma >= 0, f"gamma must be a finite number >= 0{IN_FLOAT32}, got {self.gamma}")
        _require(_finite(self.free_bits) and self.free_bits >= 0, f"free bits must be a finite number >= 0{IN_FLOAT32}, got {self.free_bits}")
        _require(self.free_bits == 0 or self.capacity_max is None, "free bits (--free-bits) and a capacity target (--capacity) are two objectives: choose one")
        if self.capacity_max is None:
            _require(self.capacity_steps == 0 and self.gamma == GAMMA_DEFAULT,
                     "--capacity-steps and --gamma only act with a capacity target (--capacity): add one, or drop them")
        else:
            _require(self.beta == 1 and self.warmup_steps == 0,
                     "a capacity target (--capacity) replaces beta and its warm-up: drop --beta and --warmup-steps")
        if self.tc_weight is not None:
            _require(_finite(self.tc_weight) and self.tc_weight >= 0, f"TC weight must be a finite number >= 0{IN_FLOAT32}, got {self.tc_weight}")
            _require(self.beta == 1 and self.warmup_steps == 0 and self.capacity_max is None and self.free_bits == 0,
                     "beta-TCVAE (--tc-weight) weighs the KL's parts itself: drop --beta, --warmup-steps, --capacity "
                     "and --free-bits")
        _require(self.data in DATASETS, f"data must be one of {', '.join(DATASETS)}, got {self.data!r}")
        _require(_is_int(self.seed) and 0 <= self.seed < 2**32 - 1, f"seed must be an integer from 0 to 2**32 - 2, got {self.seed}")
        _require(self.subset is None or (_is_int(self.subset) and self.subset >= 1), f"subset must be an integer >= 1{UP_TO_MAX_INT}, got {self.subset}")
        _require(self.device in DEVICES, f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        _require(self.data_dir is None or (isinstance(self.data_dir, str) and self.data_dir.strip() != ""),
                 f"the data folder must be a path, got {self.data_dir!r}")


@dataclass(frozen=True)
class EvalConfig:
    """How the evaluate command judges a checkpoint."""

    batch_size: int = setting(500, "images per evaluation batch")
    iwae_samples: int = setting(0, "K for the importance-weighted estimate of -log p(x) (0 = skip)")
    allow_slow: bool = setting(False, "run an IWAE evaluation even when it would take more than a day")
    device: str = setting("auto", "auto = cuda, then mps, then cpu", choices=DEVICES)
    data_dir: str | None = setting(None, "folder holding FashionMNIST/raw (default $VAE_TUTORIAL_DATA, "
                                         "else the checkpoint's own, else ./data)")

    def __post_init__(self) -> None:
        _require(_is_int(self.batch_size) and self.batch_size >= 1, f"batch size must be an integer >= 1{UP_TO_MAX_INT}, got {self.batch_size}")
        _require(_is_int(self.iwae_samples) and self.iwae_samples >= 0, f"IWAE samples must be an integer >= 0{UP_TO_MAX_INT}, got {self.iwae_samples}")
        _require(self.device in DEVICES, f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")


def check_together(model_config: ModelConfig, train_config: TrainConfig) -> None:
    """Settings of the two configs that are each valid but do not go together (a ValueError)."""
    _require(train_config.free_bits == 0 or model_config.prior == "standard",
             "free bits (--free-bits) need the KL per latent dimension, which a learned prior (--prior "
             f"{model_config.prior}) does not split into: choose one")
    _require(train_config.tc_weight is None or model_config.prior == "standard",
             f"beta-TCVAE (--tc-weight) splits the KL against the standard normal prior, not --prior {model_config.prior}: "
             "choose one")
    _require(not (model_config.conditional and train_config.data == "sprites"),
             "the sprites have factors, not class labels: a conditional model (--conditional) needs --data fashion-mnist")


def variant(*configs: ModelConfig | TrainConfig) -> list[tuple[Field, object]]:
    """What sets a run apart from the default VAE: (field, value) for each setting away from its default.

    The one description of a run's variant: the command line's "training a ..." line, the
    evaluate report and the cache's folder names all format this list (words and tag of each field).
    """
    return [(f, getattr(config, f.name)) for config in configs for f in fields(config)
            if "help" in f.metadata and f.name not in IDENTITY + PLACE and getattr(config, f.name) != f.default]


def describe(model_config: ModelConfig, train_config: TrainConfig) -> str:
    """The model in a few words, e.g. 'mlp VAE (latent 20, beta 1, gaussian likelihood, sigma 0.1)'."""
    replaced = train_config.capacity_max is not None or train_config.tc_weight is not None
    weight = [] if replaced else [f"beta {train_config.beta:g}"]  # capacity, or the TC weight, replaces beta
    words = [f.metadata["words"].format(value=value) for f, value in variant(model_config, train_config)]
    return f"{model_config.arch} VAE ({', '.join([f'latent {model_config.latent_dim}', *weight, *words])})"


def variant_tags(model_config: ModelConfig, train_config: TrainConfig) -> list[str]:
    """The variant for a folder name, e.g. ['gaussian', 'fb0.5'] (empty for the default VAE)."""
    return [f.metadata["tag"].format(value=value) for f, value in variant(model_config, train_config)]


def to_dict(config: ModelConfig | TrainConfig) -> dict:
    """A plain dict of a config, ready for JSON or a checkpoint."""
    values = asdict(config)
    if "image_shape" in values:
        values["image_shape"] = list(values["image_shape"])
    return values


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


MAX_INT = 2**53  # a count, a step, a size: beyond this no float can hold it, and no run gets there
UP_TO_MAX_INT = " (at most 2**53)"  # the upper half of every integer bound, said in its message


def _is_int(value: object) -> bool:
    """An int (not a bool) that a float can still hold: --warmup-steps 10**400 is refused, not overflowed."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT


def _finite(value: object) -> bool:
    """A number float32 can hold (with room for exp(log(value))): a larger one overflows in the model."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and abs(value) <= MAX_FLOAT


def env_switch(name: str) -> bool:
    """An on/off environment variable: 1, true or yes (any case) is on; 0, false, no, empty or unset is off.

    Anything else (on, y, 2, 1.0) is refused in one line, never read as off.
    """
    text = os.environ.get(name, "")
    value = SWITCH.get(text.strip().lower())
    if value is None:
        raise ConfigError(f"{name}={text!r} is neither on (1, true or yes) nor off (0, false, no, or unset): "
                          "set one of these")
    return value


def env_path(name: str) -> Path | None:
    """A path (a folder, a file) named by an environment variable, or None when unset; set but blank is refused."""
    text = os.environ.get(name)
    if text is None:
        return None
    if not text.strip():
        raise ConfigError(f"{name} is set but blank ({text!r}): set it to a folder, or unset it for the default")
    return Path(text)
