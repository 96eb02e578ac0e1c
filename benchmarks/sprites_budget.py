"""Seconds for the disentanglement chapter's budget: drawing the sprites, an epoch of each objective, an evaluation.

    python benchmarks/sprites_budget.py [--epochs 2] [--batch-size 64] [--latent-dim 10]

Prints wall and CPU seconds (the CPU seconds show how much of the wall time other work on the machine took),
and, for calibration on the same machine at the same moment, an epoch of as many Fashion-MNIST images.
"""

from __future__ import annotations

import os
import sys
import time

from _cli import Parser, run, value_parser
from vae_tutorial.config import ModelConfig, TrainConfig
from vae_tutorial.data import load_data
from vae_tutorial.runs.report import evaluate_model
from vae_tutorial.train import fit


def timed(work):
    """(result, wall seconds, CPU seconds of this process) of work()."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> None:
    """Measure and print."""
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=value_parser(TrainConfig, "epochs", "int"), default=2)
    parser.add_argument("--batch-size", type=value_parser(TrainConfig, "batch_size", "int"), default=64)
    parser.add_argument("--latent-dim", type=value_parser(ModelConfig, "latent_dim", "int"), default=10)
    args = parser.parse_args(argv)
    print(f"load average at the start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    (train, wall, cpu) = timed(lambda: load_data("sprites", True))
    test = load_data("sprites", False)
    print(f"sprites training split ({len(train)} images) drawn in {wall:.2f} s wall, {cpu:.2f} s CPU")
    model = ModelConfig(latent_dim=args.latent_dim)
    runs = {"beta-VAE beta 4": dict(beta=4.0), "beta-TCVAE lambda 6": dict(tc_weight=6.0)}
    fashion = load_data("fashion-mnist", True).head(len(train))
    for name, settings in runs.items():
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, device="cpu", data="sprites", **settings)
        result, wall, cpu = timed(lambda: fit(model, config, train, test))
        seconds = [r["epoch_seconds"] for r in result.history]
        print(f"{name}: {args.epochs} epochs in {wall:.1f} s wall, {cpu:.1f} s CPU; per epoch (training only) "
              f"{', '.join(f'{s:.1f}' for s in seconds)} s")
        scores, wall, cpu = timed(lambda: evaluate_model(result.model, test))
        print(f"  evaluation with MIG and DCI: {wall:.1f} s wall, {cpu:.1f} s CPU; MIG {scores['mig']:.3f}, "
              f"DCI {scores['dci_disentanglement']:.3f}")
    config = TrainConfig(epochs=1, batch_size=args.batch_size, device="cpu")
    result, wall, cpu = timed(lambda: fit(model, config, fashion, load_data("fashion-mnist", False)))
    print(f"calibration: one epoch of {len(fashion)} Fashion-MNIST images, {result.history[0]['epoch_seconds']:.1f} s")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    sys.exit(run(main))
