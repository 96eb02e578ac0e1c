"""A convolutional encoder and decoder with the same interface as the MLP ones."""

from __future__ import annotations

import torch
from torch import nn

from .conditioning import label_inputs, with_label
from .config import ModelConfig

CHANNELS = (32, 64)  # feature maps after the first and second stride-2 convolution


def _feature_shape(config: ModelConfig) -> tuple[int, int, int]:
    """Shape after two stride-2 convolutions: (64, H/4, W/4), e.g. (64, 7, 7)."""
    _, height, width = config.image_shape
    return CHANNELS[1], height // 4, width // 4


class ConvEncoder(nn.Module):
    """x -> (mu, logvar): two stride-2 convolutions, a hidden layer, the Gaussian parameters."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        channels, height, width = config.image_shape
        if height % 4 or width % 4:
            raise ValueError(f"the conv model needs height and width divisible by 4, got {height}x{width}")
        features = _feature_shape(config)
        self.num_classes = label_inputs(config)
        self.convs = nn.Sequential(
            nn.Conv2d(channels, CHANNELS[0], kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(CHANNELS[0], CHANNELS[1], kernel_size=4, stride=2, padding=1), nn.ReLU(),
        )
        self.hidden = nn.Linear(features[0] * features[1] * features[2] + self.num_classes, config.hidden_dim)
        self.gaussian = nn.Linear(config.hidden_dim, 2 * config.latent_dim)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.convs(x).flatten(start_dim=1)  # (B, C, H, W) -> (B, 64, H/4, W/4) -> (B, 64*H*W/16)
        h = torch.relu(self.hidden(with_label(f, labels, self.num_classes)))  # (B, hidden)
        mu, logvar = self.gaussian(h).chunk(2, dim=-1)  # (B, 2D) -> (B, D), (B, D)
        return mu, logvar


class ConvDecoder(nn.Module):
    """z -> pixel logits: a hidden layer, then two stride-2 transposed convolutions."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        channels = config.image_shape[0]
        self.features = _feature_shape(config)
        self.num_classes = label_inputs(config)
        self.hidden = nn.Sequential(
            nn.Linear(config.latent_dim + self.num_classes, config.hidden_dim), nn.ReLU(),
            nn.Linear(config.hidden_dim, self.features[0] * self.features[1] * self.features[2]), nn.ReLU(),
        )
        self.deconvs = nn.Sequential(
            nn.ConvTranspose2d(CHANNELS[1], CHANNELS[0], kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(CHANNELS[0], channels, kernel_size=4, stride=2, padding=1),
        )
        # Channels-last layout (pixels outer, channels inner): oneDNN's transposed convolutions run about
        # 1.5x faster on a CPU that way, the same numbers; it is what makes the IWAE evaluation affordable.
        self.deconvs.to(memory_format=torch.channels_last)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        f = self.hidden(with_label(z, labels, self.num_classes)).unflatten(-1, self.features)  # (B, D) -> (B, 64, H/4, W/4)
        f = f.contiguous(memory_format=torch.channels_last)  # same shape, channels-last layout
        return self.deconvs(f).contiguous()  # (B, C, H, W) logits, in the usual layout
