"""Train once, reuse everywhere: runs cached in folders named by their configuration.

The chapters and the sweep ask for a model by its settings; the first ask
trains it, later asks (another chapter, another build) load the checkpoint.
The key holds the settings, a version of the code and checkpoint format, and a
fingerprint of the training images, so a stale or foreign run is never served.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from . import __version__
from .checkpoint import FORMAT, atomic_write, load_model
from .config import ModelConfig, TrainConfig, to_dict
from .data import Split, load_split
from .device import pick_device
from .errors import CheckpointError
from .runfolder import claimed_folder
from .train import CHECKPOINT_NAME, METRICS_NAME, EpochCallback, FitResult, fit

CACHE_ENV_VAR = "VAE_TUTORIAL_CACHE"
CACHE_FORMAT = 2  # raise when training changes what a configuration learns
KEY_NAME = "key.json"  # beside each cached checkpoint: everything its folder name stands for
IGNORED = ("device", "data_dir")  # where a run happens does not change what it learns
# Settings added in 0.3 at their defaults are left out of the key, so runs cached before they existed stay valid.
LATER_DEFAULTS = {"likelihood": "bernoulli", "gaussian_sigma": None, "conditional": False, "num_classes": 10,
                  "free_bits": 0.0}


def cache_root(root: str | os.PathLike | None = None) -> Path:
    """The cache folder: the argument, else $VAE_TUTORIAL_CACHE, else ./runs/cache."""
    return Path(root or os.environ.get(CACHE_ENV_VAR) or Path("runs") / "cache")


def data_fingerprint(split: Split) -> str:
    """A short hash of a split's images (and their number): which data a model learnt from."""
    images = split.images.detach().cpu().contiguous()
    digest = hashlib.sha1(str(tuple(images.shape)).encode())
    digest.update(memoryview(images.numpy()).cast("B"))
    return digest.hexdigest()[:12]


def run_settings(model_config: ModelConfig, train_config: TrainConfig, train_data: Split) -> dict:
    """Everything that decides what a cached run holds."""
    values = {**to_dict(model_config), **{k: v for k, v in to_dict(train_config).items() if k not in IGNORED}}
    values = {k: v for k, v in values.items() if k not in LATER_DEFAULTS or v != LATER_DEFAULTS[k]}
    return {**values, "code": f"{__version__}/{CACHE_FORMAT}/{FORMAT}", "train_data": data_fingerprint(train_data)}


def run_key(model_config: ModelConfig, train_config: TrainConfig, train_data: Split | None = None) -> str:
    """A readable, unique folder name for a configuration, e.g. mlp-z20-beta1-e50-3f9a1c2e."""
    train_data = (train_data or load_split(True, train_config.data_dir)).head(train_config.subset)
    return _folder_name(model_config, train_config, run_settings(model_config, train_config, train_data))


def _folder_name(model_config: ModelConfig, train_config: TrainConfig, settings: dict) -> str:
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    variant = "".join(f"-{part}" for part in _variant(model_config, train_config))
    return f"{model_config.arch}-z{model_config.latent_dim}-beta{train_config.beta:g}{variant}-e{train_config.epochs}-{digest}"


def _variant(model_config: ModelConfig, train_config: TrainConfig) -> list[str]:
    """What sets a run apart from the default VAE, in the folder name, e.g. ['gaussian', 'fb0.5']."""
    parts = [] if model_config.likelihood == "bernoulli" else [model_config.likelihood]
    parts += ["cond"] if model_config.conditional else []
    parts += ["binary"] if train_config.binarize else []
    parts += [f"fb{train_config.free_bits:g}"] if train_config.free_bits else []
    parts += [f"warm{train_config.warmup_steps}"] if train_config.warmup_steps else []
    return parts


def cached_fit(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train_data: Split | None = None,
    test_data: Split | None = None,
    root: str | os.PathLike | None = None,
    callback: EpochCallback | None = None,
    progress: bool = False,
) -> FitResult:
    """fit() unless this exact configuration has been trained before; then load it.

    On a cache hit the saved history is replayed through the callback, so live
    plots draw the same curves. An interrupted run is resumed where it stopped.
    The model is on the training device either way.
    """
    train_data = (train_data or load_split(True, train_config.data_dir)).head(train_config.subset)
    settings = run_settings(model_config, train_config, train_data)
    out = cache_root(root) / _folder_name(model_config, train_config, settings)  # the images hashed once
    checkpoint = out / CHECKPOINT_NAME
    with claimed_folder(out, written=(CHECKPOINT_NAME, METRICS_NAME, KEY_NAME), refuse=False):  # checked by _verified
        if checkpoint.exists():
            model, state = _verified(checkpoint, settings, pick_device(train_config.device))
            history = state["history"]
            if history and history[-1]["epoch"] >= train_config.epochs:
                for record in history if callback else ():
                    callback(record, model)
                return FitResult(model, history, cached=True)
        text = (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode()
        atomic_write(out / KEY_NAME, lambda file: file.write(text))
        return fit(model_config, train_config, train_data, test_data, out_dir=out,
                   resume=checkpoint if checkpoint.exists() else None, callback=callback, progress=progress)


def _verified(checkpoint: Path, settings: dict, device: torch.device) -> tuple[torch.nn.Module, dict]:
    """The cached model, if its folder's key and its own settings are exactly the ones asked for."""
    key_path = checkpoint.parent / KEY_NAME
    try:
        saved = json.loads(key_path.read_text())
    except (OSError, ValueError):
        saved = None
    model, state = load_model(checkpoint, device)
    stored = {**state["model_config"], **{k: v for k, v in state["train_config"].items() if k not in IGNORED}}
    expected = {k: v for k, v in settings.items() if k in stored}
    if saved != settings or {k: stored[k] for k in expected} != expected:
        raise CheckpointError(f"the cached run {checkpoint.parent} does not hold the run asked for (another version "
                              f"or other data or settings): delete that folder to train it again")
    return model, state
