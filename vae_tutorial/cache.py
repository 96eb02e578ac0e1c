"""Train once, reuse everywhere: runs cached in folders named by their configuration.

The chapters and the sweep ask for a model by its settings; the first ask
trains it, later asks (another chapter, another build) load the checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .checkpoint import load_model
from .config import ModelConfig, TrainConfig, to_dict
from .data import Split
from .train import CHECKPOINT_NAME, EpochCallback, FitResult, fit

CACHE_ENV_VAR = "VAE_TUTORIAL_CACHE"
IGNORED = ("device", "data_dir")  # where a run happens does not change what it learns


def cache_root(root: str | os.PathLike | None = None) -> Path:
    """The cache folder: the argument, else $VAE_TUTORIAL_CACHE, else ./runs/cache."""
    return Path(root or os.environ.get(CACHE_ENV_VAR) or Path("runs") / "cache")


def run_key(model_config: ModelConfig, train_config: TrainConfig) -> str:
    """A readable, unique folder name for a configuration, e.g. mlp-z20-beta1-e50-3f9a1c2e."""
    settings = {**to_dict(model_config), **{k: v for k, v in to_dict(train_config).items() if k not in IGNORED}}
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    return f"{model_config.arch}-z{model_config.latent_dim}-beta{train_config.beta:g}-e{train_config.epochs}-{digest}"


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
    """
    out = cache_root(root) / run_key(model_config, train_config)
    checkpoint = out / CHECKPOINT_NAME
    if checkpoint.exists():
        model, state = load_model(checkpoint)
        history = state["history"]
        if history and history[-1]["epoch"] >= train_config.epochs:
            for record in history if callback else ():
                callback(record, model)
            return FitResult(model, history)
    return fit(model_config, train_config, train_data, test_data, out_dir=out,
               resume=checkpoint if checkpoint.exists() else None, callback=callback, progress=progress)
