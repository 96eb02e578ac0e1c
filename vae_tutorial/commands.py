"""What each command-line command does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .checkpoint import atomic_write, load_checkpoint, load_model
from .config import ModelConfig, TrainConfig
from .data import binarized_test_split, load_split
from .errors import ConfigError, VAETutorialError
from .train import CHECKPOINT_NAME, fit, pick_device, resumed_configs


def configs_from_args(args: argparse.Namespace, beta: float) -> tuple[ModelConfig, TrainConfig]:
    """Build and check both configs; a bad value becomes a ConfigError."""
    try:
        model_config = ModelConfig(latent_dim=args.latent_dim, hidden_dim=args.hidden_dim, arch=args.arch)
        train_config = TrainConfig(
            epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, beta=beta, seed=args.seed,
            warmup_steps=args.warmup_steps, capacity_max=args.capacity, capacity_steps=args.capacity_steps,
            gamma=args.gamma, binarize=args.binarize, subset=args.subset, device=args.device, data_dir=args.data_dir,
        )
    except ValueError as err:
        raise ConfigError(str(err)) from err
    return model_config, train_config


def default_run_name(model_config: ModelConfig, train_config: TrainConfig) -> str:
    """A folder name that tells the run's main settings apart, e.g. mlp-z20-beta1-seed0."""
    return f"{model_config.arch}-z{model_config.latent_dim}-beta{train_config.beta:g}-seed{train_config.seed}"


def prepare_output(out: Path, resuming: bool) -> None:
    """Create the output folder, prove it writable, and never overwrite a finished run."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise VAETutorialError(f"cannot write to the output folder {out}: {err.strerror or err}") from err
    if not resuming and (out / CHECKPOINT_NAME).exists():
        raise VAETutorialError(
            f"{out} already holds a checkpoint: continue it with --resume {out / CHECKPOINT_NAME}, or choose another --out"
        )


def show_progress(args: argparse.Namespace) -> bool:
    """A progress bar only on a terminal, and not with --no-progress."""
    return not args.no_progress and sys.stderr.isatty()


def print_epoch(record: dict, _model) -> None:
    """The per-epoch line of the train and sweep commands."""
    print(f"epoch {record['epoch']:3d}  train {record['train_loss']:8.2f}  test {record['test_loss']:8.2f} "
          f"(recon {record['test_recon']:7.2f}, KL {record['test_kl']:6.2f})  {record['epoch_seconds']:5.1f}s", flush=True)


def run_training(args: argparse.Namespace, beta: float, out: Path | None, resume: str | None = None) -> tuple:
    """Train one model into `out`, then write its pictures; returns (out, FitResult)."""
    from .plots import save_reconstructions, save_samples

    model_config, train_config = configs_from_args(args, beta)
    if resume:  # the run goes on with the checkpoint's own settings
        state = load_checkpoint(resume)
        model_config, train_config = resumed_configs(state, train_config)
        done = state["history"][-1]["epoch"] if state["history"] else 0
        if done >= train_config.epochs:
            raise VAETutorialError(f"{resume} has already trained {done} epochs: ask for more with --epochs")
        out = out or Path(resume).parent
    out = out or Path("runs") / default_run_name(model_config, train_config)
    prepare_output(out, resuming=resume is not None)
    download = True if args.download else None
    train_data = load_split(True, args.data_dir, download)
    test_data = load_split(False, args.data_dir, download)
    device = pick_device(args.device)
    print(f"training a {model_config.arch} VAE (latent {model_config.latent_dim}, beta {train_config.beta:g}) on "
          f"{len(train_data.head(train_config.subset))} images, {device}; writing to {out}", flush=True)
    try:
        result = fit(model_config, train_config, train_data, test_data, out_dir=out, resume=resume,
                     callback=print_epoch, progress=show_progress(args))
    except VAETutorialError as err:
        kept = f"; the last good checkpoint is {out / CHECKPOINT_NAME}" if (out / CHECKPOINT_NAME).exists() else ""
        raise type(err)(f"{err}{kept}") from err
    save_reconstructions(result.model, test_data.images[:16], out / "reconstructions.png")
    save_samples(result.model, out / "samples.png")
    return out, result


def train(args: argparse.Namespace) -> int:
    """`train`: one model, its checkpoint, metrics and pictures."""
    out, result = run_training(args, args.beta, Path(args.out) if args.out else None, args.resume)
    last = result.history[-1]
    print(f"done: test negative ELBO {last['test_loss']:.2f} nats per image after {last['epoch']} epochs; "
          f"wrote {CHECKPOINT_NAME}, metrics.json, reconstructions.png, samples.png to {out}")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """`evaluate`: every test-set number of a checkpoint, printed and optionally written as JSON."""
    from .report import evaluate_checkpoint, format_report

    model, state = load_model(args.checkpoint, pick_device(args.device))
    test_data = load_split(False, args.data_dir or os.environ.get("VAE_TUTORIAL_DATA") or state["train_config"].get("data_dir"))
    if state["train_config"].get("binarize"):  # evaluated as it was trained: on binary pixels
        test_data = binarized_test_split(test_data)
    results = evaluate_checkpoint(model, state, test_data, args.batch_size, args.iwae_samples,
                                  progress=show_progress(args))
    print(format_report(results))
    if args.json:
        text = (json.dumps(results, indent=2) + "\n").encode()
        try:
            atomic_write(args.json, lambda file: file.write(text))
        except OSError as err:
            raise VAETutorialError(f"cannot write {args.json}: {err.strerror or err}") from err
    return 0


def sweep(args: argparse.Namespace) -> int:
    """`sweep`: one cached model per beta, a table and a rate-distortion plot."""
    from .sweep import markdown_table, plot_rate_distortion, sweep_betas, write_table

    model_config, train_config = configs_from_args(args, beta=args.betas[0])
    out = Path(args.out)
    prepare_output(out, resuming=True)
    download = True if args.download else None
    train_data, test_data = load_split(True, args.data_dir, download), load_split(False, args.data_dir, download)
    print(f"sweep over beta = {', '.join(f'{b:g}' for b in args.betas)}: {train_config.epochs} epochs each; "
          f"runs cached under {out / 'runs'}", flush=True)
    rows = sweep_betas(model_config, train_config, args.betas, train_data, test_data, out / "runs",
                       iwae_samples=args.iwae_samples, callback=print_epoch)
    csv_path, md_path = write_table(rows, out)
    plot_rate_distortion(rows, out / "rate_distortion.png")
    print(markdown_table(rows))
    print(f"wrote {csv_path}, {md_path} and {out / 'rate_distortion.png'}")
    return 0
