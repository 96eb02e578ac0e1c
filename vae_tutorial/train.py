"""Training: Adam on the beta-weighted negative ELBO, one epoch at a time.

After each epoch the test split is evaluated, a record is appended to the
history, the callback (live plots in the chapters) is called, and, given an
output folder, the checkpoint and metrics.json are rewritten atomically.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from .checkpoint import atomic_write, load_checkpoint, save_checkpoint
from .config import ModelConfig, TrainConfig, to_dict
from .data import Split, binarize, binarized_test_split, load_split, minibatches
from .errors import TrainingDiverged
from .evaluate import evaluate_elbo
from .losses import capacity_objective, elbo_terms
from .model import VAE
from .schedules import beta_at, capacity_at

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.json"
EpochCallback = Callable[[dict, VAE], None]


class FitResult(NamedTuple):
    model: VAE
    history: list[dict]  # one record per epoch; losses in nats per image


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch so that a run can be repeated exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name: str = "auto") -> torch.device:
    """The named device, or for "auto" the best one available: cuda, then mps, then cpu."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def fit(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train_data: Split | None = None,
    test_data: Split | None = None,
    out_dir: str | Path | None = None,
    resume: str | Path | None = None,
    callback: EpochCallback | None = None,
    progress: bool = False,
) -> FitResult:
    """Train a VAE for train_config.epochs epochs in total (counting resumed ones)."""
    state = load_checkpoint(resume) if resume else None
    if state:
        model_config, train_config = resumed_configs(state, train_config)
    device = pick_device(train_config.device)
    set_seed(train_config.seed)
    train_data = (train_data or load_split(True, train_config.data_dir)).head(train_config.subset)
    test_data = test_data or load_split(False, train_config.data_dir)
    if train_config.binarize:  # judged on binary pixels, like the data it learns from
        test_data = binarized_test_split(test_data)
    model = VAE(model_config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.lr, fused=device.type in ("cpu", "cuda"))
    shuffle_rng = torch.Generator().manual_seed(train_config.seed)
    noise_rng = torch.Generator(device=device).manual_seed(train_config.seed + 1)
    history: list[dict] = []
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    if state:
        model.load_state_dict(state["model_state"])
        optimizer.load_state_dict(state["optimizer_state"])
        shuffle_rng.set_state(state["shuffle_rng"])
        noise_rng.set_state(state["noise_rng"])
        history = list(state["history"])
    step = history[-1]["step"] if history else 0  # optimisation steps taken so far (for the schedules)
    for epoch in range(len(history) + 1, train_config.epochs + 1):
        start = time.perf_counter()
        train_means, step = _train_epoch(model, optimizer, train_data, train_config, step, shuffle_rng, noise_rng, progress, epoch)
        seconds = time.perf_counter() - start
        test = evaluate_elbo(model, test_data.images)  # the negative ELBO (beta = 1), whatever was optimised
        record = {"epoch": epoch, **{f"train_{k}": v for k, v in train_means.items()},
                  **{f"test_{k}": v for k, v in test.items()}, **_schedule(train_config, step),
                  "epoch_seconds": seconds, "step": step}
        history.append(record)
        if out_dir is not None:
            _save(Path(out_dir), model, optimizer, model_config, train_config, history, shuffle_rng, noise_rng)
        if callback is not None:
            callback(record, model)
    return FitResult(model, history)


def _schedule(config: TrainConfig, step: int) -> dict:
    """The KL weight (and capacity target) in force at this step, for the epoch's record."""
    if config.capacity_max is not None:
        return {"capacity": capacity_at(step, config.capacity_max, config.capacity_steps), "gamma": config.gamma}
    return {"beta": beta_at(step, config.beta, config.warmup_steps)}


def _train_epoch(model, optimizer, data, config, step, shuffle_rng, noise_rng, progress, epoch):
    """One pass over the training data.

    Returns per-image means of the negative ELBO (loss = recon + KL), its parts,
    and the objective actually minimised (recon + beta KL, or the capacity objective).
    """
    from tqdm.auto import tqdm

    device = next(model.parameters()).device
    model.train()
    sums, seen = torch.zeros(4, dtype=torch.float64), 0
    batches = minibatches(data.images, config.batch_size, shuffle=True, generator=shuffle_rng)
    total = math.ceil(len(data) / config.batch_size)
    for x in tqdm(batches, total=total, desc=f"epoch {epoch}/{config.epochs}", disable=not progress, leave=False):
        x = x.to(device, non_blocking=True)
        if config.binarize:
            x = binarize(x, generator=noise_rng)
        out = model(x, generator=noise_rng)
        terms = elbo_terms(out.logits, x, out.mu, out.logvar, beta_at(step, config.beta, config.warmup_steps))
        if config.capacity_max is None:
            objective = terms.loss.mean()
        else:
            objective = capacity_objective(terms, config.gamma, capacity_at(step, config.capacity_max, config.capacity_steps))
        recon, kl = terms.recon.detach().sum(), terms.kl.detach().sum()
        batch_sums = torch.stack([recon + kl, recon, kl, objective.detach() * x.shape[0]]).double().cpu()
        if not torch.isfinite(batch_sums).all():
            raise TrainingDiverged(f"the loss became {batch_sums[3].item() / x.shape[0]} at epoch {epoch}, step {step}; "
                                   "try a smaller --lr")
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        optimizer.step()
        sums += batch_sums
        seen += x.shape[0]
        step += 1
    loss, recon, kl, objective = (sums / seen).tolist()
    return {"loss": loss, "recon": recon, "kl": kl, "objective": objective}, step


def _save(out_dir, model, optimizer, model_config, train_config, history, shuffle_rng, noise_rng) -> None:
    save_checkpoint(out_dir / CHECKPOINT_NAME, {
        "model_config": to_dict(model_config), "train_config": to_dict(train_config),
        "model_state": model.state_dict(), "optimizer_state": optimizer.state_dict(), "history": history,
        "shuffle_rng": shuffle_rng.get_state(), "noise_rng": noise_rng.get_state(),
    })
    text = json.dumps(history, indent=2).encode()
    atomic_write(out_dir / METRICS_NAME, lambda file: file.write(text))


def resumed_configs(state: dict, requested: TrainConfig) -> tuple[ModelConfig, TrainConfig]:
    """A resumed run keeps its model and training settings; only epochs, device and data come from the caller."""
    saved = TrainConfig(**state["train_config"])
    train_config = TrainConfig(**{**to_dict(saved), "epochs": requested.epochs, "device": requested.device,
                                  "data_dir": requested.data_dir})
    return ModelConfig(**state["model_config"]), train_config
