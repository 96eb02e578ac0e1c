"""Drawing from the encoder's Gaussian q(z|x): the reparameterization trick.

Equation label (eq. reparam) refers to the chapter "The reparameterization trick".
The lowest layer of the model: it imports nothing from the package.
"""

from __future__ import annotations

import torch


def reparameterize(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    eps: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw z ~ N(mu, exp(logvar)) as a differentiable function of mu and logvar.

    (eq. reparam) z = mu + sigma * eps, sigma = exp(logvar / 2), eps ~ N(0, I).
    Pass eps to make the draw deterministic; otherwise it is sampled with generator.
    """
    if eps is None:
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps
