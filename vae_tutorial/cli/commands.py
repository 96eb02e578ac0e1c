"""What each command-line command does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import sys
from pathlib import Path

from ..checkpoint import atomic_write, json_safe, load_checkpoint, load_model, model_from_state
from ..config import EvalConfig, ModelConfig, TrainConfig, describe
from ..data import DATA_ENV_VAR, binarized_test_split, load_data
from ..device import check_model_fits, out_of_memory, pick_device, what_helps
from ..errors import (CheckpointError, ConfigError, DeviceError, Interrupted, OutputError, TrainingDiverged,
                      VAETutorialError, first_line, printable)
from ..evaluate import iwae_seconds_estimate
from ..model import VAE
from ..resume import resumed_configs
from ..runs.folder import CHECKPOINT_NAME, METRICS_NAME, PICTURES, RUN_FILES, claimed_folder, file_identity
from ..runs.pictures import save_reconstructions, save_samples
from ..runs.report import evaluate_checkpoint, format_report
from ..runs.sweep import markdown_table, plot_rate_distortion, sweep_betas, write_table
from ..runs.targets import SWEEP_FILES, json_target, refuse_owned_folder
from ..train import FitResult, fit
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


def say(text: str, lines: bool = False) -> None:
    """Print a line (with lines, a block of them), control characters escaped (a path may hold any); a reader that
    went away (`| head -1`) silences the output, it does not stop the work."""
    try:
        print(printable(text, newlines=lines), flush=True)
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


def kept(out: Path, trained: bool = False) -> str:
    """What survives in `out`: its checkpoint and the epoch it holds, or nothing; trained: every epoch asked for
    is in it, and a picture it lacks can be made from it (a resume that asks for no more epochs writes them)."""
    checkpoint = out / CHECKPOINT_NAME
    try:
        epoch = load_checkpoint(checkpoint)["history"][-1]["epoch"]
    except (VAETutorialError, IndexError, KeyError, TypeError):
        return "no checkpoint was saved"
    missing = [name for name in PICTURES if not (out / name).exists()]
    if trained and missing:
        return (f"the checkpoint {checkpoint} holds all {epoch} epochs, but {' and '.join(missing)} "
                f"{'was' if len(missing) == 1 else 'were'} not written: write them with "
                f"`vae-tutorial train --resume {checkpoint} --epochs {epoch}`")
    return f"the last good checkpoint is {checkpoint} (epoch {epoch})"


def missing_pictures(out: Path, resume: str) -> list[str]:
    """The pictures a finished run in its own folder lacks (stopped while they were written): a resume makes them."""
    try:
        own_folder = os.path.samefile(out, Path(resume).parent)
    except OSError:
        return []
    return [name for name in PICTURES if not (out / name).exists()] if own_folder else []


def write_pictures(model, test_data, out: Path, names: tuple[str, ...] = PICTURES) -> None:
    """reconstructions.png and samples.png of a trained model (each written atomically)."""
    if "reconstructions.png" in names:
        save_reconstructions(model, test_data.images[:16], out / "reconstructions.png", test_data.labels[:16])
    if "samples.png" in names:
        save_samples(model, out / "samples.png")


def run_training(args: argparse.Namespace, beta: float, out: Path | None, resume: str | None = None) -> tuple:
    """Train one model into `out`, then write its pictures; returns (out, FitResult).

    A resumed run whose checkpoint has every epoch asked for, in its own folder that lacks a picture (a run
    stopped while writing them), writes the missing pictures and trains nothing (FitResult.cached).
    """
    state, identity, pictures_only = None, None, []
    if resume:  # the run goes on with the checkpoint's own settings; the flags typed beside it must agree with them
        identity = file_identity(resume)
        state = load_checkpoint(resume, for_resume=True)  # read once: fit() is handed this state
        if file_identity(resume) != identity:
            raise ConfigError(f"{resume} changed while it was read (another run is writing it): resume it when "
                              "that run is done")
        requested = TrainConfig(epochs=args.epochs, device=args.device, data_dir=args.data_dir)
        model_config, train_config = resumed_configs(state, requested, resume)
        refuse_changed_settings(args, (model_config, train_config), resume)
        out = out or Path(resume).parent
        done = len(state["history"])
        pictures_only = missing_pictures(out, resume) if done == train_config.epochs else []
        if done >= train_config.epochs and not pictures_only:
            raise ConfigError(f"{resume} has already trained {done} epochs: ask for more with --epochs")
    else:
        model_config, train_config = configs_from_args(args, beta)
    device = pick_device(train_config.device)  # every check before the output folder is made
    out = out or Path("runs") / default_run_name(model_config, train_config)
    refuse_owned_folder(out)
    check_model_fits(model_config, device, train_config.batch_size, resumed=bool(resume))
    download = True if args.download else None
    train_data, test_data = (load_data(train_config.data, train, args.data_dir, download)  # a resumed run's own
                             for train in (True, False))
    if resume:
        refuse_other_images(resume, model_config, test_data)
    trained = bool(pictures_only)  # every epoch asked for is in the checkpoint
    with claimed_folder(out, continuing=(Path(resume), identity) if resume else None):  # checked under the lock
        try:
            if pictures_only:
                say(f"{resume} holds all {done} epochs; writing the missing {' and '.join(pictures_only)} to {out}")
                result = FitResult(model_from_state(state, resume, device), state["history"], cached=True)
                write_pictures(result.model, test_data, out, tuple(pictures_only))
                return out, result
            say(f"training a {describe(model_config, train_config)} on "
                f"{len(train_data.head(train_config.subset))} images, {device}; writing to {out}")
            result = fit(model_config, train_config, train_data, test_data, out_dir=out, resume=resume,
                         resume_state=state, callback=print_epoch, progress=show_progress(args))
            trained = True
            write_pictures(result.model, test_data, out)
        except KeyboardInterrupt as err:
            raise Interrupted(f"interrupted: {kept(out, trained)}", exit_code_of(err)) from err
        except OSError as err:
            raise OutputError(f"cannot write to {out}: {err.strerror or err}; {kept(out, trained)}") from err
        except (TrainingDiverged, OutputError) as err:
            raise type(err)(f"{err}; {kept(out, trained)}") from err
        except (RuntimeError, MemoryError) as err:
            if not out_of_memory(err):
                raise
            raise DeviceError(f"ran out of {device.type} memory while training ({first_line(err)[:100]}): "
                              f"{what_helps(model_config, train_config.batch_size, bool(resume))}; "
                              f"{kept(out, trained)}") from err
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
    wrote = "the missing pictures" if result.cached else f"{CHECKPOINT_NAME}, {METRICS_NAME}, {', '.join(PICTURES)}"
    say(f"done: test negative ELBO {last['test_loss']:.2f} nats per image after {last['epoch']} epochs; "
        f"wrote {wrote} to {out}")
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
    refuse_other_images(args.checkpoint, model_config, test_data)
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
    say(format_report(results, describe(model_config, train_config)), lines=True)
    if target:
        text = (json.dumps(json_safe(results), indent=2, allow_nan=False) + "\n").encode()  # NaN and infinity: null
        try:
            atomic_write(target, lambda file: file.write(text))
        except OSError as err:
            raise OutputError(f"cannot write {target}: {err.strerror or err}") from err
    # finite weights can still overflow on the way (every weight times 1e30): the report above, and the
    # JSON, show where (a KL per dimension of null), but a loss that is no number fails the command, as it
    # fails training (a sixth hostile pass: exit 0 before)
    broken = [name for name in ("test_loss", "iwae_nll") if results.get(name) is not None
              and not math.isfinite(results[name])]
    if broken:
        raise TrainingDiverged(f"{args.checkpoint}: the model's {broken[0].replace('_', ' ')} is "
                               f"{results[broken[0]]} on the test images (its weights overflow): the report "
                               "above shows where")
    return 0


def refuse_dropped_betas(out: Path, betas: list[float]) -> None:
    """A sweep folder is reused, but its tables are replaced: refuse a sweep that would drop betas they hold."""
    table = out / "sweep.csv"
    for name in ("sweep.csv", "sweep.md"):  # refused now, not after the training: they are written last
        written = out / name
        if written.is_symlink() or (written.exists() and not written.is_file()):
            what = "a symbolic link" if written.is_symlink() else "not a plain file (a folder, pipe or device)"
            raise OutputError(f"{written} is {what}, and the sweep writes its table there: remove it, or choose "
                              "another --out")
    if not table.is_file():
        return
    # a file there that is not a table this package wrote is someone's work: refused, never replaced (a sixth
    # hostile pass found garbage, an empty file and a beta of nan all overwritten, or answered with advice
    # that could not be followed)
    not_ours = f"{table} is not a sweep table this package wrote"
    advice = "move it away, or choose another --out"
    try:
        held = {float(row["beta"]) for row in csv.DictReader(table.read_text().splitlines())}
    except (OSError, ValueError, KeyError, TypeError, csv.Error) as error:
        raise OutputError(f"{not_ours} ({printable(first_line(error))[:120]}): {advice}") from None
    if not held or not all(math.isfinite(beta) for beta in held):
        raise OutputError(f"{not_ours} (it holds {'no rows' if not held else 'a beta that is not a number'}): "
                          f"{advice}")
    dropped = sorted(held - set(betas))
    if dropped:
        raise OutputError(f"{out}/sweep.csv holds beta {', '.join(f'{b:g}' for b in dropped)}, which this sweep "
                          "would drop from its tables: include them in --betas (cached, they cost no training), "
                          "or choose another --out")


def refuse_other_images(checkpoint: str, model_config: ModelConfig, data) -> None:
    """A checkpoint whose model cannot take its data: images of another shape, or, for a conditional model,
    labels beyond its classes. One line, before any work."""
    shape = tuple(data.images.shape[1:])  # (C, H, W)
    if tuple(model_config.image_shape) != shape:
        raise CheckpointError(f"{checkpoint} holds a model of {'x'.join(map(str, model_config.image_shape))} images, "
                              f"but its data has {'x'.join(map(str, shape))} images: it cannot run on them")
    classes = int(data.labels.max()) + 1 if len(data.labels) else 0
    if model_config.conditional and classes > model_config.num_classes:
        raise CheckpointError(f"{checkpoint} holds a conditional model of {model_config.num_classes} classes, but its "
                              f"data has {classes}: it cannot be told their labels")


def refuse_slow_iwae(model: VAE, test_data, samples: int, device, allow_slow: bool, models: int = 1) -> None:
    """Refuse, before the work, IWAE evaluations that would take more than MAX_EVAL_SECONDS here in all.

    The same estimate for every command that runs one: timed on one batch of `model` (its weights do not change
    the time, so an untrained model stands in for the sweep's models before they are trained).
    """
    if not samples or allow_slow:
        return
    try:
        seconds = models * iwae_seconds_estimate(model, test_data.images, samples, labels=test_data.labels)
    except (RuntimeError, MemoryError) as err:
        if not out_of_memory(err):
            raise
        raise DeviceError(f"ran out of {device.type} memory timing the IWAE on one batch ({first_line(err)[:100]}): "
                          f"{what_helps(model.config, 1)}; nothing was written") from err
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
    with claimed_folder(out, written=SWEEP_FILES, refuse=False):  # a sweep folder is meant to be reused
        if any((out / name).exists() for name in RUN_FILES):  # under the lock: a run finishing now counts too
            raise OutputError(f"{out} holds a training run: choose another --out for the sweep")
        refuse_dropped_betas(out, args.betas)
        say(f"sweep over beta = {', '.join(f'{b:g}' for b in args.betas)}: {train_config.epochs} epochs each; "
            f"runs cached under {out / 'runs'}")
        try:
            rows = sweep_betas(model_config, train_config, args.betas, train_data, test_data, out / "runs",
                               iwae_samples=args.iwae_samples, callback=print_epoch)
            csv_path, md_path = write_table(rows, out)
            plot_rate_distortion(rows, out / "rate_distortion.png")
        except KeyboardInterrupt as err:
            kept = (f": the finished runs are kept under {out / 'runs'}"
                    if any((out / "runs").glob("*/checkpoint.pt")) else ": no run had finished an epoch")
            raise Interrupted(f"interrupted{kept}", exit_code_of(err)) from err
        except OSError as err:
            raise OutputError(f"cannot write to {out}: {err.strerror or err}; finished runs are kept under {out / 'runs'}") from err
    say(markdown_table(rows), lines=True)
    say(f"wrote {csv_path}, {md_path} and {out / 'rate_distortion.png'}")
    return 0
