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

    Sized from CPU time: a step of 128 images about 10 ms on one core (an epoch about 1.5 s), DCI about 2 s a
    model: the twelve full-mode models in well under the chapter's 15 minutes on two cores.
    """
    if plan.quick:
        return SpritesBudget(epochs=2, seeds=(0,), metric_images=1000)
    return SpritesBudget(epochs=20, seeds=(0, 1, 2), metric_images=2000)


def load_sprites() -> tuple[Split, Split]:
    """The sprites' training and held-out splits, rendered by the package (no download)."""
    return load_data("sprites", True), load_data("sprites", False)


def kl_split_on(model: VAE, images: torch.Tensor, dataset_size: int | None = None, batch_size: int = TC_BATCH,
                seed: int = 0) -> dict[str, float]:
    """Index-code MI, total correlation and dimension-wise KL (eq. tc-split), averaged over minibatches -> nats.

    One draw z ~ q(z|x) per image (a fixed seed); q(z) estimated per minibatch of batch_size, weights eq. tc-weights.
    """
    generator = torch.Generator().manual_seed(seed)
    dataset_size = dataset_size or len(images)
    totals, count = torch.zeros(3, dtype=torch.float64), 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(images) - batch_size + 1, batch_size):  # whole minibatches only: one M for all
            mu, logvar = model.encoder(images[start:start + batch_size])  # (M, D), (M, D)
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)  # (M, D)
            parts = kl_decomposition(z.double(), mu.double(), logvar.double(), dataset_size)
            totals += torch.stack([term.sum() for term in parts])  # (3,)
            count += len(mu)
    mutual_info, total_correlation, dimension_kl = (totals / count).tolist()
    return {"mutual_info": mutual_info, "total_correlation": total_correlation, "dimension_kl": dimension_kl}


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
    """For each dimension j, 'z_j: factor (share)': the factor it carries most information about, from info (D, K)."""
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
