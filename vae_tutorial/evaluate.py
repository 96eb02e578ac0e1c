"""Judging a trained model on held-out data: test ELBO, importance-weighted log p(x), active units."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from .losses import elbo_terms, gaussian_kl_per_dim, log_normal, log_standard_normal
from .model import VAE
from .sampling import reparameterize

EVAL_SEED = 1234  # the noise of the one-sample ELBO on the test set is fixed, so epochs compare fairly


IWAE_BATCH, IWAE_CHUNK = 100, 50  # images per batch; samples per decoder call (5,000 rows stay in the CPU's cache)


def _batches(images: torch.Tensor, labels: torch.Tensor | None, batch_size: int):
    """(images, labels) slices in order; labels stay None for a model that does not use them."""
    for start in range(0, images.shape[0], batch_size):
        yield images[start:start + batch_size], None if labels is None else labels[start:start + batch_size]


@torch.no_grad()
def evaluate_elbo(
    model: VAE,
    images: torch.Tensor,
    batch_size: int = 1000,
    beta: float = 1.0,
    seed: int = EVAL_SEED,
    labels: torch.Tensor | None = None,
) -> dict[str, float]:
    """Average negative ELBO (beta-weighted loss), recon and KL per image over all of `images`.

    labels: (N,) class indices, needed by a conditional model only.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    totals = torch.zeros(3, dtype=torch.float64)
    for batch, y in _batches(images, labels, batch_size):
        batch = batch.to(device)
        out = model(batch, generator=generator, labels=y)
        terms = elbo_terms(out.logits, batch, out.mu, out.logvar, beta, model.likelihood, model.prior, out.z)
        totals += torch.stack([term.sum() for term in terms]).cpu().double()  # to the CPU first: MPS has no float64
    model.train(was_training)
    loss, recon, kl = (totals / images.shape[0]).tolist()
    return {"loss": loss, "recon": recon, "kl": kl}


def decoder_log_likelihood(
    model: VAE, x: torch.Tensor, labels: torch.Tensor | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """log p(x|z) of a batch x (B, C, H, W) under the model's decoder, as a function of z (k, B, D) -> (k, B).

    labels: (B,) class indices, needed by a conditional model only.
    """

    def log_px_given_z(z: torch.Tensor) -> torch.Tensor:
        k = z.shape[0]
        repeated = None if labels is None else labels.repeat(k)  # (B,) -> (k*B,), in z.flatten(0, 1)'s order
        logits = model.decoder(z.flatten(0, 1), repeated)  # (k, B, D) -> (k*B, C, H, W)
        return model.likelihood.log_prob_samples(logits.unflatten(0, z.shape[:2]), x)  # (k, B)

    return log_px_given_z


def importance_weighted_log_px(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    log_px_given_z: Callable[[torch.Tensor], torch.Tensor],
    num_samples: int,
    chunk_size: int = 100,
    generator: torch.Generator | None = None,
    log_prior: Callable[[torch.Tensor], torch.Tensor] = log_standard_normal,
) -> torch.Tensor:
    """(eq. iwae) log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x) = N(mu, exp(logvar)) -> (B,).

    log_px_given_z maps z of shape (k, B, D) to log p(x|z) of shape (k, B), log_prior z to log p(z)
    (the model's prior; N(0, I) by default). The
    K samples are drawn chunk_size at a time and folded into a running
    logsumexp, so memory is bounded by chunk_size, not K.
    """
    dtype = torch.float32 if mu.device.type == "mps" else torch.float64  # MPS has no float64
    running = torch.full(mu.shape[:1], -math.inf, device=mu.device, dtype=dtype)  # (B,)
    for start in range(0, num_samples, chunk_size):
        k = min(chunk_size, num_samples - start)
        eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)  # (k, B, D)
        z = reparameterize(mu, logvar, eps)  # (k, B, D)
        log_w = log_px_given_z(z) + log_prior(z) - log_normal(z, mu, logvar)  # (k, B)
        running = torch.logaddexp(running, torch.logsumexp(log_w.to(dtype), dim=0))  # (B,)
    return running - math.log(num_samples)


@torch.no_grad()
def iwae_log_likelihood(
    model: VAE,
    images: torch.Tensor,
    num_samples: int,
    batch_size: int = IWAE_BATCH,
    chunk_size: int = IWAE_CHUNK,
    seed: int = EVAL_SEED,
    progress: bool = False,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """Importance-weighted estimate of log p(x) for every image (Burda et al. 2016) -> (N,).

    For K = 1 it is a one-sample ELBO; as K grows it rises towards log p(x).
    labels: (N,) class indices, needed by a conditional model only (then it is log p(x|y)).
    """
    from tqdm.auto import tqdm

    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    prior = model.prior.frozen()  # a VampPrior's components, computed once
    estimates = []
    batches = _batches(images, labels, batch_size)
    for x, y in tqdm(batches, total=-(-images.shape[0] // batch_size), desc=f"IWAE K={num_samples}",
                     disable=not progress):
        x = x.to(device)

        mu, logvar = model.encoder(x, y)  # (B, D), (B, D)
        log_px_given_z = decoder_log_likelihood(model, x, y)
        estimates.append(importance_weighted_log_px(mu, logvar, log_px_given_z, num_samples, chunk_size, generator,
                                                    prior.log_prob))
    return torch.cat(estimates).cpu()  # (N,)


@torch.no_grad()
def iwae_seconds_estimate(
    model: VAE, images: torch.Tensor, num_samples: int, batch_size: int = IWAE_BATCH,
    chunk_size: int = IWAE_CHUNK, labels: torch.Tensor | None = None,
) -> float:
    """Seconds iwae_log_likelihood would take on all of `images`, from timing one chunk of one batch."""
    probe_samples = min(chunk_size, num_samples)
    probe = images[:batch_size]
    probe_labels = None if labels is None else labels[:batch_size]
    iwae_log_likelihood(model, probe[:2], 1, labels=None if probe_labels is None else probe_labels[:2])  # warm-up
    start = time.perf_counter()
    iwae_log_likelihood(model, probe, probe_samples, batch_size, chunk_size, labels=probe_labels)
    per_decoded = (time.perf_counter() - start) / (probe.shape[0] * probe_samples)  # seconds per image x sample
    return per_decoded * images.shape[0] * num_samples


@torch.no_grad()
def posterior_statistics(
    model: VAE, images: torch.Tensor, batch_size: int = 1000, labels: torch.Tensor | None = None
) -> dict[str, torch.Tensor]:
    """Posterior means and the closed-form KL per latent dimension for every image."""
    model.eval()
    device = next(model.parameters()).device
    means, kls = [], []
    for x, y in _batches(images, labels, batch_size):
        mu, logvar = model.encoder(x.to(device), y)  # (B, D), (B, D)
        means.append(mu.cpu())
        kls.append(gaussian_kl_per_dim(mu, logvar).cpu())
    return {"mu": torch.cat(means), "kl": torch.cat(kls)}  # (N, D) each


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> torch.Tensor:
    """Burda et al. (2016): a dimension is active when Var_x(E_q[z_d|x]) > threshold -> (D,) bool.

    mu: (N, D) posterior means over a data set.
    """
    return mu.var(dim=0) > threshold
