"""What each command-line command does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from pathlib import Path

from ..checkpoint import atomic_write, json_safe, load_checkpoint, load_model
from ..config import EvalConfig, ModelConfig, TrainConfig, describe
from ..data import DATA_ENV_VAR, binarized_test_split, load_data
from ..device import check_model_fits, out_of_memory, pick_device
from ..errors import ConfigError, DeviceError, Interrupted, OutputError, TrainingDiverged, VAETutorialError, first_line
from ..evaluate import iwae_seconds_estimate
from ..model import VAE
from ..resume import resumed_configs
from ..runs.folder import CHECKPOINT_NAME, METRICS_NAME, RUN_FILES, claimed_folder
from ..runs.pictures import save_reconstructions, save_samples
from ..runs.report import evaluate_checkpoint, format_report
from ..runs.sweep import markdown_table, plot_rate_distortion, sweep_betas, write_table
from ..runs.targets import SWEEP_FILES, json_target, refuse_owned_folder
from ..train import fit
from .options import config_values, flag_names

RESUME_MAY_CHANGE = ("epochs", "device", "data_dir")  # a resumed run keeps every other setting of its checkpoint
MAX_EVAL_SECONDS = 86400  # an evaluation estimated to take longer than a day is refused unless --allow-slow


def configs_from_args(args: argparse.Namespace, beta: float) -> tuple[ModelConfig, TrainConfig]:
    """Build and check both configs; a bad value becomes a ConfigError (settings that must agree across the
    two were checked at parse time, cli.check_combinations, and fit() checks them again for library callers)."""
    try:
        return ModelConfig(**config_values(args, ModelConfig)), TrainConfig(**config_values(args, TrainConfig, beta=beta))
    except ValueError as err:
        raise ConfigError(str(err)) from err


def default_run_name(model_config: ModelConfig, train_config: TrainConfig) -> str:
    """A folder name that tells the run's main settings apart, e.g. mlp-z20-beta1-seed0."""
    return f"{model_config.arch}-z{model_config.latent_dim}-beta{train_config.beta:g}-seed{train_config.seed}"


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
    """A progress bar only on a terminal, and not with --no-progress (nor when stderr is closed: 2>&-)."""
    try:
        return not args.no_progress and sys.stderr is not None and sys.stderr.isatty()
    except (ValueError, OSError):  # a stream closed under us
        return False


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
    model_config, train_config = configs_from_args(args, beta)
    device = pick_device(args.device)  # every check before the output folder is made
    state = None
    if resume:  # the run goes on with the checkpoint's own settings
        state = load_checkpoint(resume, for_resume=True)  # read once: fit() is handed this state
        model_config, train_config = resumed_configs(state, train_config, resume)
        refuse_changed_settings(args, (model_config, train_config), resume)
        done = len(state["history"])
        if done >= train_config.epochs:
            raise ConfigError(f"{resume} has already trained {done} epochs: ask for more with --epochs")
        out = out or Path(resume).parent
    out = out or Path("runs") / default_run_name(model_config, train_config)
    refuse_owned_folder(out)
    check_model_fits(model_config, device, train_config.batch_size)
    download = True if args.download else None
    train_data, test_data = (load_data(args.data, train, args.data_dir, download) for train in (True, False))
    with claimed_folder(out, continuing=Path(resume) if resume else None):
        say(f"training a {describe(model_config, train_config)} on "
            f"{len(train_data.head(train_config.subset))} images, {device}; writing to {out}")
        try:
            result = fit(model_config, train_config, train_data, test_data, out_dir=out, resume=resume,
                         resume_state=state, callback=print_epoch, progress=show_progress(args))
            save_reconstructions(result.model, test_data.images[:16], out / "reconstructions.png", test_data.labels[:16])
            save_samples(result.model, out / "samples.png")
        except KeyboardInterrupt as err:
            raise Interrupted(f"interrupted: {kept(out)}", exit_code_of(err)) from err
        except OSError as err:
            raise OutputError(f"cannot write to {out}: {err.strerror or err}; {kept(out)}") from err
        except (TrainingDiverged, OutputError) as err:
            raise type(err)(f"{err}; {kept(out)}") from err
        except (RuntimeError, MemoryError) as err:
            if not out_of_memory(err):
                raise
            raise DeviceError(f"ran out of {device.type} memory while training ({first_line(err)[:100]}): use a "
                              f"smaller --batch-size or --hidden-dim; {kept(out)}") from err
    return out, result


def refuse_changed_settings(args: argparse.Namespace, configs: tuple, resume: str) -> None:
    """A flag typed with --resume that differs from the checkpoint's setting is refused, never dropped silently."""
    changed = []
    for config in configs:
        for field in dataclasses.fields(config):
            if field.name in args.explicit and field.name not in RESUME_MAY_CHANGE:
                typed, saved = getattr(args, field.name), getattr(config, field.name)
                if typed != saved:
                    changed.append(f"{flag_names(field)[0]} {typed} (the checkpoint has {saved})")
    if changed:
        raise ConfigError(f"--resume {resume} continues the run with its own settings, and {'; '.join(changed)}: "
                          "drop the flag, or start a new run")


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


def evaluate(args: argparse.Namespace) -> int:
    """`evaluate`: every test-set number of a checkpoint, printed and optionally written as JSON."""
    config = EvalConfig(**config_values(args, EvalConfig))
    device = pick_device(config.device)
    target = json_target(args.json, args.checkpoint) if args.json is not None else None  # before the work, not after
    model, state = load_model(args.checkpoint, device)
    model_config, train_config = ModelConfig(**state["model_config"]), TrainConfig(**state["train_config"])  # checked
    saved_data = None if DATA_ENV_VAR in os.environ else train_config.data_dir  # the variable, even empty, wins
    test_data = load_data(train_config.data, False, config.data_dir if config.data_dir is not None else saved_data)
    if train_config.binarize:  # evaluated as it was trained: on binary pixels
        test_data = binarized_test_split(test_data)
    refuse_slow_iwae(model, test_data, config.iwae_samples, device, config.allow_slow)
    try:
        results = evaluate_checkpoint(model, state, test_data, config.batch_size, config.iwae_samples,
                                      progress=show_progress(args))
    except KeyboardInterrupt as err:
        raise Interrupted("interrupted: nothing was written", exit_code_of(err)) from err
    except (RuntimeError, MemoryError) as err:
        if not out_of_memory(err):
            raise
        raise DeviceError(f"ran out of {device.type} memory while evaluating ({first_line(err)[:100]}): "
                          "use a smaller --batch-size; nothing was written") from err
    say(format_report(results, describe(model_config, train_config)))
    if target:
        text = (json.dumps(json_safe(results), indent=2, allow_nan=False) + "\n").encode()  # NaN and infinity: null
        try:
            atomic_write(target, lambda file: file.write(text))
        except OSError as err:
            raise OutputError(f"cannot write {target}: {err.strerror or err}") from err
    return 0


def refuse_slow_iwae(model: VAE, test_data, samples: int, device, allow_slow: bool, models: int = 1) -> None:
    """Refuse, before the work, IWAE evaluations that would take more than MAX_EVAL_SECONDS here in all.

    The same estimate for every command that runs one: timed on one batch of `model` (its weights do not change
    the time, so an untrained model stands in for the sweep's models before they are trained).
    """
    if not samples or allow_slow:
        return
    seconds = models * iwae_seconds_estimate(model, test_data.images, samples, labels=test_data.labels)
    if seconds > MAX_EVAL_SECONDS:
        what = f"{models} models" if models > 1 else f"{len(test_data)} test images"
        raise ConfigError(f"IWAE with K={samples} on {what} would take about {seconds / 86400:.1f} days on "
                          f"{device.type} (measured on one batch): use a smaller --iwae-samples, or --allow-slow "
                          "to run it anyway")


def sweep(args: argparse.Namespace) -> int:
    """`sweep`: one cached model per beta, a table and a rate-distortion plot."""
    model_config, train_config = configs_from_args(args, beta=args.betas[0])
    for beta in args.betas[1:]:
        configs_from_args(args, beta)  # each beta checked with the other flags (e.g. against --capacity)
    device = pick_device(args.device)
    check_model_fits(model_config, device, train_config.batch_size)
    out = Path(args.out)
    download = True if args.download else None
    train_data, test_data = (load_data(args.data, train, args.data_dir, download) for train in (True, False))
    refuse_slow_iwae(VAE(model_config).to(device), test_data, args.iwae_samples, device, args.allow_slow,
                     models=len(args.betas))
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
