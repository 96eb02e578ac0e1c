"""What a conditional VAE adds to its networks: the class label as a one-hot input.

Equation label (eq. cvae) refers to the chapter "Conditional VAEs". Used by the
MLP (model.py) and the convolutional (conv.py) encoders and decoders alike.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig


def label_inputs(config: ModelConfig) -> int:
    """Extra inputs a label adds to the encoder and to the decoder: one-hot width, or 0."""
    return config.num_classes if config.conditional else 0


def with_label(h: torch.Tensor, labels: torch.Tensor | None, num_classes: int) -> torch.Tensor:
    """Append the one-hot label to each row of h (a conditional model), or return h as it is.

    (eq. cvae) the conditional VAE's encoder q(z|x, y) and decoder p(x|z, y) see y this way.
    """
    if num_classes == 0:
        return h
    if labels is None:
        raise ValueError("a conditional model needs the class labels of its images")
    one_hot = nn.functional.one_hot(labels.to(h.device).long(), num_classes).to(h.dtype)  # (B,) -> (B, classes)
    one_hot = one_hot.expand(*h.shape[:-1], num_classes)  # (..., B, classes): z may carry sample dims first
    return torch.cat([h, one_hot], dim=-1)  # (..., B, width + classes)
