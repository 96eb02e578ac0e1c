"""What each command-line command does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

from .checkpoint import atomic_write, load_checkpoint, load_model
from .cli_options import config_values
from .config import EvalConfig, ModelConfig, TrainConfig
from .data import binarized_test_split, load_split
from .device import check_model_fits, pick_device
from .errors import (
    ConfigError,
    Interrupted,
    OutputError,
    TrainingDiverged,
    VAETutorialError,
)
from .resume import resumed_configs
from .runfolder import CHECKPOINT_NAME, METRICS_NAME, RUN_FILES, claimed_folder
from .train import fit

SWEEP_FILES = ("sweep.csv", "sweep.md", "rate_distortion.png")
MAX_EVAL_SECONDS = 86400  # an evaluation estimated to take longer than a day is refused unless --allow-slow


def configs_from_args(args: argparse.Namespace, beta: float) -> tuple[ModelConfig, TrainConfig]:
    """Build and check both configs; a bad value becomes a ConfigError."""
    try:
        return ModelConfig(**config_values(args, ModelConfig)), TrainConfig(**config_values(args, TrainConfig, beta=beta))
    except ValueError as err:
        raise ConfigError(str(err)) from err


def default_run_name(model_config: ModelConfig, train_config: TrainConfig) -> str:
    """A folder name that tells the run's main settings apart, e.g. mlp-z20-beta1-seed0."""
    return f"{model_config.arch}-z{model_config.latent_dim}-beta{train_config.beta:g}-seed{train_config.seed}"


def describe(model_config: ModelConfig, train_config: TrainConfig) -> str:
    """The model in a few words, e.g. 'mlp VAE (latent 20, beta 1, gaussian likelihood)'."""
    parts = [f"latent {model_config.latent_dim}", f"beta {train_config.beta:g}"]
    if model_config.likelihood != "bernoulli":
        parts.append(f"{model_config.likelihood} likelihood")
    if train_config.free_bits:
        parts.append(f"free bits {train_config.free_bits:g}")
    kind = "conditional VAE" if model_config.conditional else "VAE"
    return f"{model_config.arch} {kind} ({', '.join(parts)})"


def say(text: str) -> None:
    """Print a line; a reader that went away (`| head -1`) silences the output, it does not stop the work."""
    try:
        print(text, flush=True)
    except (OSError, ValueError):  # BrokenPipeError, or stdout closed
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # later writes and the flush at exit go nowhere, quietly
        except (OSError, ValueError, AttributeError):
            pass


def show_progress(args: argparse.Namespace) -> bool:
    """A progress bar only on a terminal, and not with --no-progress."""
    return not args.no_progress and sys.stderr.isatty()


def print_epoch(record: dict, _model) -> None:
    """The per-epoch line of the train and sweep commands."""
    say(f"epoch {record['epoch']:3d}  train {record['train_loss']:8.2f}  test {record['test_loss']:8.2f} "
        f"(recon {record['test_recon']:7.2f}, KL {record['test_kl']:6.2f})  {record['epoch_seconds']:5.1f}s")


def kept(out: Path) -> str:
    """What survives in `out`: its checkpoint and the epoch it holds, or nothing."""
    try:
        epoch = load_checkpoint(out / CHECKPOINT_NAME)["history"][-1]["epoch"]
    except (VAETutorialError, IndexError, KeyError, TypeError):
        return "no checkpoint was saved"
    return f"the last good checkpoint is {out / CHECKPOINT_NAME} (epoch {epoch})"


def run_training(args: argparse.Namespace, beta: float, out: Path | None, resume: str | None = None) -> tuple:
    """Train one model into `out`, then write its pictures; returns (out, FitResult)."""
    from .plots import save_reconstructions, save_samples

    model_config, train_config = configs_from_args(args, beta)
    device = pick_device(args.device)  # every check before the output folder is made
    if resume:  # the run goes on with the checkpoint's own settings
        state = load_checkpoint(resume, for_resume=True)
        model_config, train_config = resumed_configs(state, train_config, resume)
        done = len(state["history"])
        if done >= train_config.epochs:
            raise ConfigError(f"{resume} has already trained {done} epochs: ask for more with --epochs")
        out = out or Path(resume).parent
    out = out or Path("runs") / default_run_name(model_config, train_config)
    check_model_fits(model_config, device)
    download = True if args.download else None
    train_data, test_data = load_split(True, args.data_dir, download), load_split(False, args.data_dir, download)
    with claimed_folder(out, continuing=Path(resume) if resume else None):
        say(f"training a {describe(model_config, train_config)} on "
            f"{len(train_data.head(train_config.subset))} images, {device}; writing to {out}")
        try:
            result = fit(model_config, train_config, train_data, test_data, out_dir=out, resume=resume,
                         callback=print_epoch, progress=show_progress(args))
            save_reconstructions(result.model, test_data.images[:16], out / "reconstructions.png", test_data.labels[:16])
            save_samples(result.model, out / "samples.png")
        except KeyboardInterrupt as err:
            raise Interrupted(f"interrupted: {kept(out)}", exit_code_of(err)) from err
        except OSError as err:
            raise OutputError(f"cannot write to {out}: {err.strerror or err}; {kept(out)}") from err
        except (TrainingDiverged, OutputError) as err:
            raise type(err)(f"{err}; {kept(out)}") from err
    return out, result


def exit_code_of(err: BaseException) -> int:
    """The exit code of an interruption: 143 for SIGTERM, 130 for Ctrl-C."""
    return getattr(err, "exit_code", 130)


def train(args: argparse.Namespace) -> int:
    """`train`: one model, its checkpoint, metrics and pictures."""
    out, result = run_training(args, args.beta, Path(args.out) if args.out else None, args.resume)
    last = result.history[-1]
    say(f"done: test negative ELBO {last['test_loss']:.2f} nats per image after {last['epoch']} epochs; "
        f"wrote {CHECKPOINT_NAME}, {METRICS_NAME}, reconstructions.png, samples.png to {out}")
    return 0


def json_target(path: str, checkpoint: str) -> Path:
    """Check, before any work, that --json may be written: never over a run's files, always somewhere writable."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"--json {target} is a folder: name a file")
    if target.name in RUN_FILES or (target.exists() and Path(checkpoint).exists() and os.path.samefile(target, checkpoint)):
        raise OutputError(f"--json {target} would replace a training run's own file: name another file")
    if target.exists():
        try:
            earlier = json.loads(target.read_text())
        except (OSError, ValueError, UnicodeDecodeError):
            earlier = None
        if not (isinstance(earlier, dict) and "test_loss" in earlier):
            raise OutputError(f"--json {target} exists and is not an earlier evaluate report: name another file")
    try:
        with tempfile.TemporaryFile(dir=target.parent or "."):
            pass
    except OSError as err:
        raise OutputError(f"cannot write --json {target}: {err.strerror or err}") from err
    return target


def evaluate(args: argparse.Namespace) -> int:
    """`evaluate`: every test-set number of a checkpoint, printed and optionally written as JSON."""
    from .report import evaluate_checkpoint, format_report

    config = EvalConfig(**config_values(args, EvalConfig))
    device = pick_device(config.device)
    target = json_target(args.json, args.checkpoint) if args.json else None  # before the work, not after
    model, state = load_model(args.checkpoint, device)
    test_data = load_split(False, config.data_dir or os.environ.get("VAE_TUTORIAL_DATA") or state["train_config"].get("data_dir"))
    if state["train_config"].get("binarize"):  # evaluated as it was trained: on binary pixels
        test_data = binarized_test_split(test_data)
    if config.iwae_samples and not config.allow_slow:
        refuse_absurd_evaluations(model, test_data, config, device)
    try:
        results = evaluate_checkpoint(model, state, test_data, config.batch_size, config.iwae_samples,
                                      progress=show_progress(args))
    except KeyboardInterrupt as err:
        raise Interrupted("interrupted: nothing was written", exit_code_of(err)) from err
    say(format_report(results))
    if target:
        strict = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in results.items()}
        text = (json.dumps(strict, indent=2, allow_nan=False) + "\n").encode()
        try:
            atomic_write(target, lambda file: file.write(text))
        except OSError as err:
            raise OutputError(f"cannot write {target}: {err.strerror or err}") from err
    return 0


def refuse_absurd_evaluations(model, test_data, config: EvalConfig, device) -> None:
    """Refuse, before the work, an IWAE evaluation that would take more than MAX_EVAL_SECONDS here."""
    from .evaluate import iwae_seconds_estimate

    seconds = iwae_seconds_estimate(model, test_data.images, config.iwae_samples, labels=test_data.labels)
    if seconds > MAX_EVAL_SECONDS:
        raise ConfigError(f"IWAE with K={config.iwae_samples} on {len(test_data)} test images would take about "
                          f"{seconds / 86400:.1f} days on {device.type} (measured on one batch): "
                          f"use a smaller --iwae-samples, or --allow-slow to run it anyway")


def sweep(args: argparse.Namespace) -> int:
    """`sweep`: one cached model per beta, a table and a rate-distortion plot."""
    from .sweep import markdown_table, plot_rate_distortion, sweep_betas, write_table

    model_config, train_config = configs_from_args(args, beta=args.betas[0])
    check_model_fits(model_config, pick_device(args.device))
    out = Path(args.out)
    download = True if args.download else None
    train_data, test_data = load_split(True, args.data_dir, download), load_split(False, args.data_dir, download)
    if any((out / name).exists() for name in RUN_FILES):
        raise OutputError(f"{out} holds a training run: choose another --out for the sweep")
    with claimed_folder(out, written=SWEEP_FILES, refuse=False):  # a sweep folder is meant to be reused
        say(f"sweep over beta = {', '.join(f'{b:g}' for b in args.betas)}: {train_config.epochs} epochs each; "
            f"runs cached under {out / 'runs'}")
        try:
            rows = sweep_betas(model_config, train_config, args.betas, train_data, test_data, out / "runs",
                               iwae_samples=args.iwae_samples, callback=print_epoch)
            csv_path, md_path = write_table(rows, out)
            plot_rate_distortion(rows, out / "rate_distortion.png")
        except KeyboardInterrupt as err:
            raise Interrupted(f"interrupted: the finished runs are kept under {out / 'runs'}", exit_code_of(err)) from err
        except OSError as err:
            raise OutputError(f"cannot write to {out}: {err.strerror or err}; finished runs are kept under {out / 'runs'}") from err
    say(markdown_table(rows))
    say(f"wrote {csv_path}, {md_path} and {out / 'rate_distortion.png'}")
    return 0
