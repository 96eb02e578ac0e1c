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

from .checkpoint import CHECKPOINT_NAME, METRICS_NAME, atomic_write, json_safe, load_checkpoint, save_checkpoint
from .config import ModelConfig, TrainConfig, check_together, to_dict
from .data import Split, binarize, binarized_test_split, labelled_minibatches, load_data
from .device import check_model_fits, pick_device
from .errors import DeviceError, OutputError, TrainingDiverged, first_line
from .evaluate import evaluate_elbo
from .kl_decomposition import kl_decomposition, tc_objective
from .losses import capacity_objective, elbo_terms, free_bits_kl
from .model import VAE
from .resume import restore_run, resumed_configs
from .schedules import beta_at, capacity_at

__all__ = ["CHECKPOINT_NAME", "METRICS_NAME", "FitResult", "fit", "pick_device", "resumed_configs", "set_seed"]
EpochCallback = Callable[[dict, VAE], None]


class FitResult(NamedTuple):
    model: VAE
    history: list[dict]  # one record per epoch; losses in nats per image
    cached: bool = False  # loaded from cached_fit's folder, not trained by this call


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch so that a run can be repeated exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def fit(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train_data: Split | None = None,
    test_data: Split | None = None,
    out_dir: str | Path | None = None,
    resume: str | Path | None = None,
    callback: EpochCallback | None = None,
    progress: bool = False,
    resume_state: dict | None = None,
) -> FitResult:
    """Train a VAE for train_config.epochs epochs in total (counting resumed ones).

    resume: a checkpoint to continue; resume_state: that checkpoint, already read (load_checkpoint), so it is read once.
    """
    state = resume_state if resume_state is not None or not resume else load_checkpoint(resume, for_resume=True)
    if state:
        model_config, train_config = resumed_configs(state, train_config, resume)
    check_together(model_config, train_config)  # a ValueError, as the configs' own checks
    device = pick_device(train_config.device)
    check_model_fits(model_config, device)
    set_seed(train_config.seed)
    train_data = (train_data or load_data(train_config.data, True, train_config.data_dir)).head(train_config.subset)
    test_data = test_data or load_data(train_config.data, False, train_config.data_dir)
    if train_config.binarize:  # judged on binary pixels, like the data it learns from
        test_data = binarized_test_split(test_data)
    try:
        model = VAE(model_config).to(device)
    except (RuntimeError, MemoryError) as err:  # torch.OutOfMemoryError is a RuntimeError
        raise DeviceError(f"a model of latent dim {model_config.latent_dim} does not fit in {device.type} memory "
                          f"({first_line(err)[:120]})") from err
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.lr, fused=device.type in ("cpu", "cuda"))
    shuffle_rng = torch.Generator().manual_seed(train_config.seed)
    noise_rng = torch.Generator(device=device).manual_seed(train_config.seed + 1)
    history: list[dict] = []
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    if state:
        history = restore_run(state, resume, model, optimizer, shuffle_rng, noise_rng, train_config.seed + 1)
    step = history[-1]["step"] if history else 0  # optimisation steps taken so far (for the schedules)
    hint = "a resumed run keeps its --lr: start a new run with a smaller one" if state else "try a smaller --lr"
    first_step = step  # this call's first update: a loss that is not finite before it is not the learning rate's
    for epoch in range(len(history) + 1, train_config.epochs + 1):
        start = time.perf_counter()
        train_means, step = _train_epoch(model, optimizer, train_data, train_config, step, shuffle_rng, noise_rng,
                                         progress, epoch, hint, first_step)
        seconds = time.perf_counter() - start
        test = evaluate_elbo(model, test_data.images, labels=test_data.labels)  # the negative ELBO (beta = 1)
        if not all(math.isfinite(v) for v in test.values()):  # never saved, so never "the last good checkpoint"
            raise TrainingDiverged(f"the test loss became {test['loss']} at epoch {epoch}; {hint}")
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
    if config.tc_weight is not None:
        return {"beta": 1.0, "tc_weight": config.tc_weight}
    return {"beta": beta_at(step, config.beta, config.warmup_steps)}


def _train_epoch(model, optimizer, data, config, step, shuffle_rng, noise_rng, progress, epoch, hint, first_step=0):
    """One pass over the training data.

    Returns per-image means of the negative ELBO (loss = recon + KL), its parts,
    and the objective actually minimised (recon + beta KL, the capacity objective, or beta-TCVAE's).
    """
    from tqdm.auto import tqdm

    device = next(model.parameters()).device
    model.train()
    sums, seen = torch.zeros(4, dtype=torch.float64), 0
    batches = labelled_minibatches(data, config.batch_size, shuffle=True, generator=shuffle_rng)
    total = math.ceil(len(data) / config.batch_size)
    for x, labels in tqdm(batches, total=total, desc=f"epoch {epoch}/{config.epochs}", disable=not progress,
                          leave=False):
        x = x.to(device, non_blocking=True)
        if config.binarize:
            x = binarize(x, generator=noise_rng)
        out = model(x, generator=noise_rng, labels=labels)  # labels matter to a conditional model only
        beta = beta_at(step, config.beta, config.warmup_steps)
        terms = elbo_terms(out.logits, x, out.mu, out.logvar, beta, model.likelihood, model.prior, out.z)
        if config.free_bits > 0:
            objective = terms.recon.mean() + beta * free_bits_kl(out.mu, out.logvar, config.free_bits)
        elif config.tc_weight is not None:  # beta at 1: recon + KL + (lambda - 1) TC, TC on this minibatch
            objective = tc_objective(terms, kl_decomposition(out.z, out.mu, out.logvar, len(data)), config.tc_weight)
        elif config.capacity_max is None:
            objective = terms.loss.mean()
        else:
            objective = capacity_objective(terms, config.gamma, capacity_at(step, config.capacity_max, config.capacity_steps))
        recon, kl = terms.recon.detach().sum(), terms.kl.detach().sum()
        batch_sums = torch.stack([recon + kl, recon, kl, objective.detach() * x.shape[0]]).cpu().double()  # MPS has no float64
        if not torch.isfinite(batch_sums).all():
            elbo_finite = bool(torch.isfinite(batch_sums[:3]).all())
            if elbo_finite and config.capacity_max is not None:  # a resumed run keeps its --gamma, as its --lr
                advice = ("a resumed run keeps its --gamma: start a new run with a smaller one" if first_step
                          else "try a smaller --gamma")
            elif step == first_step:  # no update has been made by this run (fresh or resumed): not the learning rate
                advice = ("this is before any update, so the settings or the data make it so, not the learning rate"
                          + (" (a resumed run's weights are those of its checkpoint: check the data, --data-dir)"
                             if first_step else ""))
            else:
                advice = hint
            raise TrainingDiverged(f"the loss became {batch_sums[3].item() / x.shape[0]} at epoch {epoch}, step {step}; "
                                   f"{advice}")
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        optimizer.step()
        sums += batch_sums
        seen += x.shape[0]
        step += 1
    loss, recon, kl, objective = (sums / seen).tolist()
    return {"loss": loss, "recon": recon, "kl": kl, "objective": objective}, step


def _save(out_dir, model, optimizer, model_config, train_config, history, shuffle_rng, noise_rng) -> None:
    """Rewrite the checkpoint, then metrics.json (derived from it); a failed write leaves the previous file whole."""
    text = json.dumps(json_safe(history), indent=2, allow_nan=False).encode()  # strict JSON: NaN and infinity as null
    try:
        save_checkpoint(out_dir / CHECKPOINT_NAME, {
            "model_config": to_dict(model_config), "train_config": to_dict(train_config),
            "model_state": model.state_dict(), "optimizer_state": optimizer.state_dict(), "history": history,
            "shuffle_rng": shuffle_rng.get_state(), "noise_rng": noise_rng.get_state(),
        })
        atomic_write(out_dir / METRICS_NAME, lambda file: file.write(text))
    except OSError as err:
        raise OutputError(f"cannot save epoch {history[-1]['epoch']} in {out_dir}: {err.strerror or err}") from err
