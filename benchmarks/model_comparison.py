"""MLP against conv at several betas: the Results table's rows, from real runs.

    VAE_TUTORIAL_DATA=../shared/data python benchmarks/model_comparison.py \
        --archs mlp conv --betas 1 4 --epochs 50 --batch-size 128 \
        --iwae-samples 5000 --iwae-images 10000 --results book/results.json
    # the learned priors (chapter 12), and seeds for the seed-to-seed spread:
    VAE_TUTORIAL_DATA=../shared/data python benchmarks/model_comparison.py \
        --archs mlp --betas 1 --priors mixture vamp --seeds 0 1 2 --results book/results.json

Trains each model once (cached under --out, so a second call only evaluates),
then prints one markdown row per model: test negative ELBO, recon, KL over the
whole test split, the IWAE estimate of -log p(x) on the first --iwae-images
test images (the one-sample ELBO on the same images beside it), active units,
and training seconds per epoch on this machine. Every argument, and the results file to merge into,
is checked before the first model trains.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

from _cli import Parser, UsageError, count, nonempty, run, value_parser
from results_table import TEST_IMAGES, read_results, refuse_unwritable
from vae_tutorial.runs.runtime import tune_for_cpu

tune_for_cpu()  # the command line's start-up setting (runtime.py), before torch loads

from vae_tutorial.checkpoint import atomic_write  # noqa: E402
from vae_tutorial.config import ARCHITECTURES, PRIORS, ModelConfig, TrainConfig  # noqa: E402
from vae_tutorial.data import load_split  # noqa: E402
from vae_tutorial.evaluate import evaluate_elbo  # noqa: E402
from vae_tutorial.runs.report import evaluate_model  # noqa: E402
from vae_tutorial.runs.sweep import sweep_betas  # noqa: E402


def row_key(row: dict) -> tuple:
    """What makes a results row one run: arch, beta, prior and seed (rows from before the priors are standard)."""
    return row["arch"], row["beta"], row.get("prior", "standard"), row["seed"]


def earlier_results(args: argparse.Namespace) -> list[dict]:
    """The rows already in --results (none when it does not exist yet); a broken file is refused (ResultsError)."""
    if not args.results:
        return []
    path = Path(args.results)
    refuse_unwritable(path, "book/results.json")
    return read_results(path) if path.exists() or path.is_symlink() else []


def merge_results(rows: list[dict], args: argparse.Namespace) -> None:
    """Replace the rows of the same run in --results (the file the Results table is made from), read again now."""
    if not args.results:
        return
    path = Path(args.results)
    new = [{**r, "epochs": args.epochs, "batch_size": args.batch_size} for r in rows]
    kept = [r for r in earlier_results(args) if row_key(r) not in {row_key(n) for n in new}]
    text = json.dumps(kept + new, indent=2) + "\n"
    atomic_write(path, lambda file: file.write(text.encode()))  # never through a link, never half written
    print(f"merged into {path}; run benchmarks/results_table.py to update the tables")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments, each checked here by the config dataclasses' own checks (before anything trains)."""
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", choices=ARCHITECTURES, default=list(ARCHITECTURES))
    parser.add_argument("--betas", nargs="+", type=value_parser(TrainConfig, "beta", "float"), default=[1.0, 4.0])
    parser.add_argument("--epochs", type=value_parser(TrainConfig, "epochs", "int"), default=50)
    parser.add_argument("--batch-size", type=value_parser(TrainConfig, "batch_size", "int"), default=128)
    parser.add_argument("--seeds", nargs="+", type=value_parser(TrainConfig, "seed", "int"), default=[0])
    parser.add_argument("--priors", nargs="+", default=["standard"], choices=PRIORS)
    parser.add_argument("--iwae-samples", type=count(), default=5000)
    parser.add_argument("--iwae-images", type=count(1, TEST_IMAGES, what=" (test images)"), default=TEST_IMAGES)
    parser.add_argument("--out", type=nonempty, default="runs/compare")
    parser.add_argument("--results", type=nonempty, default=None, metavar="JSON",
                        help="merge the rows into this results file (book/results.json makes the Results table)")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    earlier_results(args)  # a broken results file is refused now, not after the training
    train, test = load_split(True), load_split(False)
    iwae_test = test.head(args.iwae_images)
    rows = []
    for arch, prior, seed in itertools.product(args.archs, args.priors, args.seeds):
        trained = sweep_betas(ModelConfig(arch=arch, prior=prior), TrainConfig(
            epochs=args.epochs, batch_size=args.batch_size, seed=seed), args.betas, train, test, Path(args.out) / "runs")
        for row in trained:
            iwae = evaluate_model(row["model"], iwae_test, iwae_samples=args.iwae_samples, progress=True)
            elbo_same_images = evaluate_elbo(row["model"], iwae_test.images)["loss"]
            rows.append({**{k: v for k, v in row.items() if k not in ("model", "kl_per_dim", "cached")}, "arch": arch,
                         "prior": prior, "prior_components": row["model"].config.prior_components, "seed": seed,
                         "iwae_nll": iwae["iwae_nll"], "iwae_samples": args.iwae_samples,
                         "iwae_images": len(iwae_test), "elbo_iwae_images": elbo_same_images,
                         "latent_dim": iwae["latent_dim"]})
            print(json.dumps(rows[-1]), flush=True)
    text = json.dumps(rows, indent=2)
    atomic_write(Path(args.out, "comparison.json"), lambda file: file.write(text.encode()))
    merge_results(rows, args)
    print(f"\n{args.epochs} epochs, batch {args.batch_size}, seeds {args.seeds}; nats per image; "
          f"IWAE K={args.iwae_samples} on the first {args.iwae_images} test images\n")
    print("| model | prior | seed | beta | -ELBO | recon | KL | -ELBO (IWAE images) | IWAE -log p(x) | active units | s/epoch |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['arch']} | {r['prior']} | {r['seed']} | {r['beta']:g} | {r['test_loss']:.2f} | {r['test_recon']:.2f} | {r['test_kl']:.2f} | "
              f"{r['elbo_iwae_images']:.2f} | {r['iwae_nll']:.2f} | {r['active_units']} | {r['seconds_per_epoch']:.1f} |")


if __name__ == "__main__":
    sys.exit(run(main))
