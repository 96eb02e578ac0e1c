"""The VAE: an encoder q(z|x), the reparameterized sample, a decoder p(x|z).

Equation labels refer to the chapters: (eq. reparam) is in "The
reparameterization trick", (eq. bernoulli-decoder) in "The model".
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .conditioning import label_inputs, with_label
from .config import ModelConfig
from .conv import ConvDecoder, ConvEncoder
from .likelihoods import make_likelihood
from .priors import make_prior
from .sampling import reparameterize

# reparameterize and with_label live below the model (sampling.py, conditioning.py); the chapters import them from here
__all__ = ["MLPDecoder", "MLPEncoder", "VAE", "VAEOutput", "reparameterize", "with_label"]


class VAEOutput(NamedTuple):
    """What one forward pass returns; every tensor has the batch first."""

    logits: torch.Tensor  # (B, C, H, W) pixel logits; sigmoid(logits) are Bernoulli means
    mu: torch.Tensor  # (B, D) posterior means
    logvar: torch.Tensor  # (B, D) posterior log-variances
    z: torch.Tensor  # (B, D) the reparameterized sample


class MLPEncoder(nn.Module):
    """x (and a label, if conditional) -> (mu, logvar): one hidden ReLU layer, then the Gaussian parameters."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.num_classes = label_inputs(config)
        self.hidden = nn.Linear(config.num_pixels + self.num_classes, config.hidden_dim)
        self.gaussian = nn.Linear(config.hidden_dim, 2 * config.latent_dim)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        x = with_label(x.flatten(start_dim=1), labels, self.num_classes)  # (B, C*H*W [+ classes])
        h = torch.relu(self.hidden(x))  # (B, hidden)
        mu, logvar = self.gaussian(h).chunk(2, dim=-1)  # (B, 2D) -> (B, D), (B, D)
        return mu, logvar


class MLPDecoder(nn.Module):
    """z (and a label, if conditional) -> pixel logits: one hidden ReLU layer, then one logit per pixel."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.image_shape = config.image_shape
        self.num_classes = label_inputs(config)
        self.hidden = nn.Linear(config.latent_dim + self.num_classes, config.hidden_dim)
        self.logits = nn.Linear(config.hidden_dim, config.num_pixels)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = torch.relu(self.hidden(with_label(z, labels, self.num_classes)))  # (B, D [+ classes]) -> (B, hidden)
        return self.logits(h).unflatten(-1, self.image_shape)  # (B, C*H*W) -> (B, C, H, W)


class VAE(nn.Module):
    """Encoder, reparameterization, decoder, the decoder's likelihood and the prior, built from a ModelConfig.

    A conditional model (config.conditional) takes the class labels wherever it
    takes images or codes; an unconditional one ignores labels.
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        self.likelihood = make_likelihood(self.config)
        if self.config.arch == "conv":
            self.encoder, self.decoder = ConvEncoder(self.config), ConvDecoder(self.config)
        else:
            self.encoder, self.decoder = MLPEncoder(self.config), MLPDecoder(self.config)
        self.prior = make_prior(self.config, self.encoder)  # p(z): N(0, I) unless learned (priors.py)

    def forward(
        self,
        x: torch.Tensor,
        eps: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        labels: torch.Tensor | None = None,
    ) -> VAEOutput:
        """Encode x, draw one z per image, decode it to logits (labels: (B,) class indices, if conditional)."""
        mu, logvar = self.encoder(x, labels)  # (B, C, H, W) -> (B, D), (B, D)
        z = reparameterize(mu, logvar, eps=eps, generator=generator)  # (B, D)
        return VAEOutput(self.decoder(z, labels), mu, logvar, z)

    @torch.no_grad()
    def sample(
        self, count: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Decode draws from the prior p(z) (N(0, I) unless learned) to mean images, e.g. pixel probabilities
        (eq. bernoulli-decoder)."""
        z = self.prior.sample(count, generator=generator)  # (count, D)
        return self.likelihood.mean(self.decoder(z, labels))  # (count, C, H, W)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Mean images decoded from the posterior means: the model's best guess of x."""
        mu, _ = self.encoder(x, labels)  # (B, D)
        return self.likelihood.mean(self.decoder(mu, labels))  # (B, C, H, W)
