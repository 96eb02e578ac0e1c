"""All the numbers that judge one trained model, as a dict and as text."""

from __future__ import annotations

import torch

from ..data import Split
from ..disentanglement import dci, mig
from ..evaluate import active_units, evaluate_elbo, iwae_log_likelihood, posterior_statistics
from ..model import VAE


def evaluate_model(
    model: VAE, test_data: Split, batch_size: int = 500, iwae_samples: int = 0, progress: bool = False
) -> dict:
    """Test negative ELBO with recon and KL, IWAE estimate of -log p(x), active units; nats per image.

    On data with known factors (the sprites), also MIG and DCI of the posterior means against them.

    With a learned prior the KL (rate) is a one-draw estimate per image, averaged over the test set, and
    there is no KL per latent dimension (a mixture does not split over dimensions): kl_per_dim is None.
    """
    labels = test_data.labels  # used by a conditional model only
    elbo = evaluate_elbo(model, test_data.images, batch_size=batch_size, labels=labels)
    stats = posterior_statistics(model, test_data.images, batch_size=batch_size, labels=labels)
    active = active_units(stats["mu"])
    results = {
        "test_loss": elbo["loss"],  # negative ELBO at beta = 1, whatever beta the model was trained with
        "test_recon": elbo["recon"],  # distortion (Alemi et al. 2018)
        "test_kl": elbo["kl"],  # rate
        "iwae_nll": None,
        "iwae_samples": iwae_samples,
        "active_units": int(active.sum()),
        "latent_dim": int(active.numel()),
        "kl_per_dim": ([round(v, 4) for v in stats["kl"].mean(dim=0).tolist()]
                       if model.config.prior == "standard" else None),
        "test_images": len(test_data),
        **disentanglement_scores(stats["mu"], test_data.factors),
    }
    if iwae_samples > 0:
        log_px = iwae_log_likelihood(model, test_data.images, iwae_samples, progress=progress, labels=labels)
        results["iwae_nll"] = float(-log_px.mean())
    return results


def disentanglement_scores(codes: torch.Tensor, factors: torch.Tensor | None) -> dict:
    """MIG and DCI of the codes (N, D) against the factors (N, K); None each without factors or with one dimension."""
    if factors is None or codes.shape[1] < 2:
        return {"mig": None, "dci_disentanglement": None, "dci_completeness": None, "dci_informativeness": None}
    scores = dci(codes, factors)
    return {"mig": mig(codes, factors), **{f"dci_{name}": value for name, value in scores.items()}}


def evaluate_checkpoint(
    model: VAE, state: dict, test_data: Split, batch_size: int = 500, iwae_samples: int = 0, progress: bool = False
) -> dict:
    """evaluate_model's numbers plus what the checkpoint says about the run (arch, beta, epochs)."""
    history = state.get("history") or [{}]
    return {
        **evaluate_model(model, test_data, batch_size, iwae_samples, progress),
        "epochs": history[-1].get("epoch"),
        "beta": state["train_config"].get("beta"),
        "arch": state["model_config"].get("arch"),
        "likelihood": state["model_config"].get("likelihood", "bernoulli"),
        "gaussian_sigma": _gaussian_sigma(model),  # fixed or learned; None for the other likelihoods
        "conditional": bool(state["model_config"].get("conditional", False)),
        "prior": model.config.prior,
        "prior_components": model.config.prior_components,
        "free_bits": state["train_config"].get("free_bits", 0.0),
        "binarize": bool(state["train_config"].get("binarize", False)),
        "data": state["train_config"].get("data", "fashion-mnist"),
        "tc_weight": state["train_config"].get("tc_weight"),
    }


def _gaussian_sigma(model: VAE) -> float | None:
    sigma = getattr(model.likelihood, "sigma", None)
    return None if sigma is None else round(sigma, 6)


def format_report(results: dict, model_description: str) -> str:
    """Human-readable lines for the evaluate command; model_description from config.describe."""
    learned = results.get("gaussian_sigma") is not None and "sigma" not in model_description  # a fixed one is described
    sigma = f", learned sigma {results['gaussian_sigma']:.4g}" if learned else ""
    lines = [
        f"model: {model_description}{sigma}, {results['epochs']} epochs; "
        f"{results['test_images']} test images, nats per image",
        f"test negative ELBO  {results['test_loss']:.2f}",
        f"  reconstruction    {results['test_recon']:.2f}  (distortion)",
        f"  KL                {results['test_kl']:.2f}  (rate)",
    ]
    if results["iwae_nll"] is not None:
        lines.append(f"-log p(x), IWAE K={results['iwae_samples']}  {results['iwae_nll']:.2f}")
    lines.append(f"active units        {results['active_units']} of {results['latent_dim']}")
    if results["kl_per_dim"] is not None:  # None under a learned prior
        kl = torch.tensor(results["kl_per_dim"])
        order = kl.argsort(descending=True)[:5].tolist()
        lines.append("largest KL per dim  " + ", ".join(f"z{d}: {kl[d]:.2f}" for d in order))
    if results.get("mig") is not None:  # data with known factors
        lines.append(f"disentanglement     MIG {results['mig']:.3f}, DCI disentanglement {results['dci_disentanglement']:.3f}, "
                     f"completeness {results['dci_completeness']:.3f}, informativeness {results['dci_informativeness']:.3f}")
    return "\n".join(lines)
