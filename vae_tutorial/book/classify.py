"""Small pixel classifiers that judge generated images: nearest centroid and logistic regression.

"Generating a chosen class" asks whether a sample drawn for class c looks
like class c; these classifiers, trained on real images, answer it.
"""

from __future__ import annotations

import torch
from torch import nn


def class_centroids(images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The mean of each class's flattened images -> (classes, P); a class with no images gets NaN.

    (eq. centroid-rule) m_c = (1 / N_c) sum_{i: y_i = c} x_i
    """
    x = images.flatten(start_dim=1).float()  # (N, ...) -> (N, P)
    one_hot = nn.functional.one_hot(labels.long(), num_classes).to(x.dtype)  # (N, classes)
    sums = one_hot.T @ x  # (classes, P)
    return sums / one_hot.sum(dim=0).unsqueeze(1)  # (classes, P); 0/0 = NaN for an empty class


def nearest_centroid(centroids: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """The class whose centroid is nearest in Euclidean distance, for each image -> (N,).

    (eq. centroid-rule) y_hat = argmin_c ||x - m_c||^2
    """
    x = images.flatten(start_dim=1).to(centroids.dtype)  # (N, P)
    distances = torch.cdist(x, centroids)  # (N, classes)
    return distances.argmin(dim=1)


def fit_logistic(
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    weight_decay: float = 1e-4,
    max_iter: int = 50,
    seed: int = 0,
) -> nn.Linear:
    """Multinomial logistic regression on pixels, fitted by full-batch L-BFGS -> a Linear(P, classes).

    Minimises the mean cross-entropy plus weight_decay * ||W||^2; the logits are
    the returned layer applied to flattened images.
    """
    x = images.flatten(start_dim=1).float()  # (N, P)
    y = labels.long()  # (N,)
    generator = torch.Generator().manual_seed(seed)
    layer = nn.Linear(x.shape[1], num_classes)
    with torch.no_grad():  # a seeded start, whatever the global random state
        layer.weight.copy_(0.01 * torch.randn(layer.weight.shape, generator=generator))
        layer.bias.zero_()
    optimizer = torch.optim.LBFGS(layer.parameters(), max_iter=max_iter, history_size=10,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(layer(x), y) + weight_decay * layer.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return layer.requires_grad_(False)


@torch.no_grad()
def predict_logistic(layer: nn.Linear, images: torch.Tensor) -> torch.Tensor:
    """The most probable class under a fitted logistic regression, for each image -> (N,)."""
    return layer(images.flatten(start_dim=1).float()).argmax(dim=1)  # (N, classes) -> (N,)


def accuracy(predicted: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of predictions that equal the labels."""
    return (predicted == labels).float().mean().item()


def per_class_accuracy(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """For each true class, the fraction of its images predicted as that class -> (classes,); NaN if absent."""
    hits = torch.zeros(num_classes).index_add_(0, labels.long(), (predicted == labels).float())  # (classes,)
    counts = torch.bincount(labels.long(), minlength=num_classes).float()  # (classes,)
    return hits / counts


def class_shares(predicted: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The fraction of images assigned to each class -> (classes,), summing to 1."""
    return torch.bincount(predicted.long(), minlength=num_classes).float() / predicted.numel()
