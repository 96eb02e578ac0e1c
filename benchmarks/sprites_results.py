"""The disentanglement chapter's full-mode models, scored for the Results page: MIG, DCI, -ELBO, TC per seed.

    VAE_TUTORIAL_DATA=../shared/data python benchmarks/sprites_results.py --results book/sprites_results.json
    python benchmarks/results_table.py   # then the Results page's sprites table

Chapter 13's four settings (beta-VAE at beta 1, 4 and 8, beta-TCVAE with TC weight 4), each with the
chapter's seeds, epochs and training sprites, trained through the chapters' model cache
($VAE_TUTORIAL_CACHE, else runs/cache): after a full-mode build of the chapter nothing trains again, and
a model trained here is one the chapter then finds. Each model is scored as the chapter scores it
(vae_tutorial.book.score_model). Full mode only: the Results page holds the chapter's full-mode models.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from _cli import Parser, UsageError, nonempty, run
from results_table import ResultsError, read_sprites_results, refuse_unwritable
from vae_tutorial.runs.runtime import tune_for_cpu

tune_for_cpu()  # the command line's start-up setting (runtime.py), before torch loads

from vae_tutorial.book import SPRITES_LATENT, load_sprites, score_model, sprites_budget, train_model  # noqa: E402
from vae_tutorial.book.chapter import QUICK_ENV_VAR, budget  # noqa: E402
from vae_tutorial.checkpoint import atomic_write  # noqa: E402
from vae_tutorial.config import env_switch  # noqa: E402
from vae_tutorial.runs.cache import CACHE_ENV_VAR  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# chapter 13's settings, as its cell "Four settings" trains them (tests/test_scripts.py compares the two)
SETTINGS = {"beta 1": {"beta": 1.0}, "beta 4": {"beta": 4.0},
            "beta 8": {"beta": 8.0}, "TC 4": {"tc_weight": 4.0}}
SCORES = ("mig", "dci_disentanglement", "test_loss", "test_recon", "test_kl", "mutual_info",
          "total_correlation", "dimension_kl")


def parse_args(argv: list[str] | None = None):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=nonempty, default=None, metavar="JSON",
                        help="write the rows to this file (book/sprites_results.json makes the Results table)")
    args = parser.parse_args(argv)
    if args.results:
        refuse_unwritable(Path(args.results), "book/sprites_results.json")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if env_switch(QUICK_ENV_VAR):
        raise UsageError(f"{QUICK_ENV_VAR} is set: the Results page holds the chapter's full-mode models; unset it")
    if args.results and Path(args.results).exists():  # read_sprites_results refuses a pipe or a device too
        try:
            read_sprites_results(Path(args.results))  # a broken file is refused now, not after the training
        except ResultsError as err:
            raise UsageError(f"{err}; move it aside or fix it") from None
    os.environ.setdefault(CACHE_ENV_VAR, str(ROOT / "runs" / "cache"))  # the chapters' cache
    plan = budget()
    plan_sprites = sprites_budget(plan)
    train, test = load_sprites()
    rows = []
    for name, weight in SETTINGS.items():
        for seed in plan_sprites.seeds:
            fit = train_model(plan, train, test, plan_sprites.epochs, data="sprites", latent_dim=SPRITES_LATENT,
                              seed=seed, **weight)
            scores = score_model(fit.model, test, plan_sprites.metric_images)
            seconds = sorted(r["epoch_seconds"] for r in fit.history)
            rows.append({"setting": name, "beta": weight.get("beta", 1.0), "tc_weight": weight.get("tc_weight"),
                         "seed": seed, "epochs": plan_sprites.epochs, "train_images": len(train),
                         "test_images": len(test), "metric_images": plan_sprites.metric_images,
                         "latent_dim": SPRITES_LATENT, "seconds_per_epoch": seconds[len(seconds) // 2],
                         **{key: float(scores[key]) for key in SCORES}})
            print(json.dumps(rows[-1]), flush=True)
    if args.results:
        text = json.dumps(rows, indent=2) + "\n"
        atomic_write(args.results, lambda file: file.write(text.encode()))
        print(f"wrote {args.results}; run benchmarks/results_table.py to update the Results page")


if __name__ == "__main__":
    sys.exit(run(main))
