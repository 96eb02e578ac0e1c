"""What "What beta buys" needs: its budget, the sprites, one model's scores, traversals labelled by factor.

The maths is in the package's top modules (disentanglement.py, kl_decomposition.py, sprites.py); this
module only batches it over a test split and lays the results out for the chapter.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data import Split, load_data
from ..disentanglement import dci, entropy, mig, mutual_info_matrix
from ..evaluate import evaluate_elbo, posterior_statistics
from ..kl_decomposition import kl_decomposition
from ..model import VAE
from ..sprites import FACTORS
from .chapter import Budget

SPRITES_LATENT = 10  # latent dimensions of the chapter's models: twice the five factors
TC_BATCH = 500  # test images per minibatch of the KL split (its bias shrinks as this grows)


@dataclass(frozen=True)
class SpritesBudget:
    """How much the disentanglement chapter trains and measures."""

    epochs: int  # per model
    seeds: tuple[int, ...]  # per setting (objective and weight)
    metric_images: int  # test images the metrics (MIG, DCI) are computed on


def sprites_budget(plan: Budget) -> SpritesBudget:
    """Full mode: three seeds, 20 epochs on all 18,816 training sprites; quick mode: one seed, 2 epochs.

    Measured on the shared CPUs (the chapter prints it from the run): an epoch took about 2 s (beta 8) to 6 s
    (beta 1), the twelve full-mode models about 15 minutes of training in all, before scoring.
    """
    if plan.quick:
        return SpritesBudget(epochs=2, seeds=(0,), metric_images=1000)
    return SpritesBudget(epochs=20, seeds=(0, 1, 2), metric_images=2000)


def load_sprites() -> tuple[Split, Split]:
    """The sprites' training and held-out splits, rendered by the package (no download)."""
    return load_data("sprites", True), load_data("sprites", False)


def kl_split_of(mu: torch.Tensor, logvar: torch.Tensor, batch_size: int = TC_BATCH, seed: int = 0) -> dict[str, float]:
    """Index-code MI, TC and dimension-wise KL (eq. tc-split) of the N posteriors N(mu, exp(logvar)) (N, D) -> nats.

    q(z) is their empirical aggregate, 1/N sum_n q(z|x_n) over these N (so the TC depends on N, most where the
    posteriors are narrow and I(x; z) nears log N). One draw z ~ q(z|x) per row (a fixed seed); q(z) estimated on
    near-equal minibatches of about batch_size that cover every row once, weights eq. tc-weights.
    """
    generator = torch.Generator().manual_seed(seed)
    mu, logvar = mu.double(), logvar.double()  # (N, D), (N, D)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator, dtype=torch.float64)  # (N, D)
    totals = torch.zeros(3, dtype=torch.float64)
    for rows in torch.arange(len(mu)).tensor_split(max(1, round(len(mu) / batch_size))):  # every row, once
        parts = kl_decomposition(z[rows], mu[rows], logvar[rows], len(mu))
        totals += torch.stack([term.sum() for term in parts])  # (3,)
    mutual_info, total_correlation, dimension_kl = (totals / len(mu)).tolist()
    return {"mutual_info": mutual_info, "total_correlation": total_correlation, "dimension_kl": dimension_kl}


def kl_split_on(model: VAE, images: torch.Tensor, batch_size: int = TC_BATCH, seed: int = 0) -> dict[str, float]:
    """The split (eq. tc-split) of a model's posteriors on these images, q(z) their empirical aggregate -> nats."""
    model.eval()
    with torch.no_grad():
        mu, logvar = model.encoder(images)  # (N, D), (N, D)
    return kl_split_of(mu, logvar, batch_size, seed)


def normalised_info(codes: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """I(z_j; v_k) / H(v_k): the share of each factor's entropy each latent dimension carries -> (D, K)."""
    entropies = torch.tensor([entropy(v) for v in factors.T], dtype=torch.float64)  # (K,)
    return mutual_info_matrix(codes, factors) / entropies  # (D, K)


def score_model(model: VAE, test: Split, metric_images: int) -> dict:
    """Test -ELBO, recon and rate; the KL split; MIG and DCI on the first metric_images test images."""
    elbo = evaluate_elbo(model, test.images)
    stats = posterior_statistics(model, test.images)
    codes, factors = stats["mu"][:metric_images], test.factors[:metric_images]  # (n, D), (n, K)
    scores = dci(codes, factors)
    return {"test_loss": elbo["loss"], "test_recon": elbo["recon"], "test_kl": elbo["kl"],
            **kl_split_on(model, test.images), "mig": mig(codes, factors),
            "dci_disentanglement": scores["disentanglement"], "dci_completeness": scores["completeness"],
            "dci_informativeness": scores["informativeness"], "kl_per_dim": stats["kl"].mean(dim=0),
            "info": normalised_info(codes, factors)}


def factor_labels(info: torch.Tensor, dims: list[int]) -> list[str]:
    """For each dimension j, 'z_j: factor share': the factor of which it carries the largest share I/H, info (D, K)."""
    best = info.argmax(dim=1)  # (D,)
    return [f"z{j}: {FACTORS[int(best[j])]} {info[j, best[j]]:.2f}" for j in dims]


def traversal(model: VAE, image: torch.Tensor, dims: list[int], values: torch.Tensor) -> torch.Tensor:
    """Decode one image's posterior mean with one dimension at a time set to each value -> (dims * values, 1, H, W)."""
    model.eval()
    with torch.no_grad():
        mu, _ = model.encoder(image)  # (1, D)
        z = mu.repeat(len(dims) * len(values), 1)  # (dims * values, D)
        for row, d in enumerate(dims):
            z[row * len(values):(row + 1) * len(values), d] = values
        return torch.sigmoid(model.decoder(z))  # (dims * values, 1, H, W)
