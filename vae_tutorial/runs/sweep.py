"""One model per beta: train (or reuse), evaluate, tabulate, plot rate against distortion."""

from __future__ import annotations

import csv
import dataclasses
import io
import statistics
from pathlib import Path

from ..checkpoint import atomic_write
from ..config import ModelConfig, TrainConfig
from ..data import Split
from .cache import cached_fit
from .report import evaluate_model

COLUMNS = ("beta", "test_loss", "test_recon", "test_kl", "iwae_nll", "active_units", "epochs", "seconds_per_epoch")


def sweep_betas(
    model_config: ModelConfig,
    train_config: TrainConfig,
    betas: list[float],
    train_data: Split,
    test_data: Split,
    cache: str | Path,
    iwae_samples: int = 0,
    callback=None,
) -> list[dict]:
    """Train or reuse one model per beta (all else equal) and evaluate each on the test split."""
    rows = []
    for number, beta in enumerate(betas, 1):
        if hasattr(callback, "start_model"):  # a progress line (book.progress.TrainingStatus) names each model
            callback.start_model(f"beta {beta:g} (model {number} of {len(betas)})")
        config = dataclasses.replace(train_config, beta=beta)
        result = cached_fit(model_config, config, train_data, test_data, root=cache, callback=callback)
        if hasattr(callback, "note"):
            callback.note("evaluating on the test images")
        metrics = {**evaluate_model(result.model, test_data, iwae_samples=iwae_samples), "epochs": len(result.history)}
        seconds = statistics.median(r["epoch_seconds"] for r in result.history)  # robust to a paused epoch
        rows.append({**{k: metrics[k] for k in COLUMNS if k in metrics}, "beta": beta,
                     "seconds_per_epoch": seconds, "kl_per_dim": metrics["kl_per_dim"], "model": result.model,
                     "history": result.history, "cached": result.cached})
    return rows


def write_table(rows: list[dict], out: Path) -> tuple[Path, Path]:
    """sweep.csv and sweep.md with one line per beta; returns both paths."""
    csv_path, md_path = out / "sweep.csv", out / "sweep.md"
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    for path, text in ((csv_path, table.getvalue()), (md_path, markdown_table(rows) + "\n")):
        atomic_write(path, lambda file, data=text.encode(): file.write(data))  # a full disk never leaves half a table
    return csv_path, md_path


def markdown_table(rows: list[dict]) -> str:
    """The sweep as a markdown pipe table, nats per image.

    distortion = recon, rate = KL, active = active units; the IWAE column
    only when it was computed.
    """
    with_iwae = any(r.get("iwae_nll") is not None for r in rows)
    # short headers, so that the table fits a phone
    head = ["beta", "-ELBO", "distortion", "rate",
            *(["IWAE -log p(x)"] if with_iwae else []),
            "active", "epochs", "s/epoch"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        iwae = [f"{r['iwae_nll']:.2f}" if r.get("iwae_nll") is not None else ""] if with_iwae else []
        cells = [f"{r['beta']:g}", f"{r['test_loss']:.2f}", f"{r['test_recon']:.2f}", f"{r['test_kl']:.2f}", *iwae,
                 str(r["active_units"]), str(r["epochs"]), f"{r['seconds_per_epoch']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_rate_distortion(rows: list[dict], path: Path | None = None, ax=None):
    """Rate (KL) against distortion (recon), one point per beta, with the lines of constant -ELBO."""
    import matplotlib

    if path is not None and ax is None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
    rates = [r["test_kl"] for r in rows]
    distortions = [r["test_recon"] for r in rows]
    ax.plot(rates, distortions, "o-")
    for r in rows:
        ax.annotate(f"beta={r['beta']:g}", (r["test_kl"], r["test_recon"]),
                    textcoords="offset points", xytext=(5, 5), fontsize=9)
    best = min(r["test_loss"] for r in rows)
    span = [0, max(rates) * 1.1]
    ax.plot(span, [best - x for x in span], ":", color="grey",
            label=rf"$\mathcal{{R}} + \mathcal{{D}}$ = {best:.1f} (best -ELBO)")
    ax.set_xlabel(r"rate $\mathcal{R}$ = mean KL(q(z|x) || p(z)), nats")
    ax.set_ylabel(r"distortion $\mathcal{D}$ = mean -log p(x|z), nats")
    ax.legend()
    if path is not None:
        atomic_write(path, lambda file: ax.figure.savefig(file, format="png", dpi=120))
    return ax
