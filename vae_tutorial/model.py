"""The VAE: an encoder q(z|x), the reparameterized sample, a decoder p(x|z).

Equation labels refer to the chapters: (eq. reparam) is in "The
reparameterization trick", (eq. bernoulli-decoder) in "The model".
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .config import ModelConfig


class VAEOutput(NamedTuple):
    """What one forward pass returns; every tensor has the batch first."""

    logits: torch.Tensor  # (B, C, H, W) pixel logits; sigmoid(logits) are Bernoulli means
    mu: torch.Tensor  # (B, D) posterior means
    logvar: torch.Tensor  # (B, D) posterior log-variances
    z: torch.Tensor  # (B, D) the reparameterized sample


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


class MLPEncoder(nn.Module):
    """x -> (mu, logvar): one hidden ReLU layer, then the two Gaussian parameters."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.hidden = nn.Linear(config.num_pixels, config.hidden_dim)
        self.gaussian = nn.Linear(config.hidden_dim, 2 * config.latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.hidden(x.flatten(start_dim=1)))  # (B, C*H*W) -> (B, hidden)
        mu, logvar = self.gaussian(h).chunk(2, dim=-1)  # (B, 2D) -> (B, D), (B, D)
        return mu, logvar


class MLPDecoder(nn.Module):
    """z -> pixel logits: one hidden ReLU layer, then one logit per pixel."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.image_shape = config.image_shape
        self.hidden = nn.Linear(config.latent_dim, config.hidden_dim)
        self.logits = nn.Linear(config.hidden_dim, config.num_pixels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.hidden(z))  # (B, D) -> (B, hidden)
        return self.logits(h).unflatten(-1, self.image_shape)  # (B, C*H*W) -> (B, C, H, W)


class VAE(nn.Module):
    """Encoder, reparameterization and decoder, built from a ModelConfig."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        if self.config.arch == "conv":
            from .conv import ConvDecoder, ConvEncoder

            self.encoder, self.decoder = ConvEncoder(self.config), ConvDecoder(self.config)
        else:
            self.encoder, self.decoder = MLPEncoder(self.config), MLPDecoder(self.config)

    def forward(
        self, x: torch.Tensor, eps: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encode x, draw one z per image, decode it to logits."""
        mu, logvar = self.encoder(x)  # (B, C, H, W) -> (B, D), (B, D)
        z = reparameterize(mu, logvar, eps=eps, generator=generator)  # (B, D)
        return VAEOutput(self.decoder(z), mu, logvar, z)

    @torch.no_grad()
    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode draws from the prior p(z) = N(0, I) to pixel probabilities (eq. bernoulli-decoder)."""
        device = next(self.parameters()).device
        z = torch.randn(count, self.config.latent_dim, generator=generator, device=device)  # (count, D)
        return torch.sigmoid(self.decoder(z))  # (count, C, H, W)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities decoded from the posterior means: the model's best guess of x."""
        mu, _ = self.encoder(x)  # (B, D)
        return torch.sigmoid(self.decoder(mu))  # (B, C, H, W)
