import math

import pytest
import torch
from torch.testing import assert_close

from vae_tutorial.book.classify import (
    accuracy,
    class_centroids,
    class_shares,
    fit_logistic,
    nearest_centroid,
    per_class_accuracy,
    predict_logistic,
)


def blobs(count_per_class: int = 50, num_classes: int = 3, spread: float = 0.3, seed: int = 0):
    """Images (N, 1, 2, 2) around one corner pixel per class, with their labels (N,)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_classes).repeat_interleave(count_per_class)  # (N,)
    centres = torch.eye(4)[:num_classes] * 3  # (classes, 4)
    x = centres[labels] + spread * torch.randn(len(labels), 4, generator=g)  # (N, 4)
    return x.view(-1, 1, 2, 2), labels


def test_centroids_are_class_means():
    images = torch.tensor([[0.0, 2.0], [2.0, 4.0], [10.0, 10.0]]).view(3, 1, 1, 2)
    labels = torch.tensor([0, 0, 2])
    centroids = class_centroids(images, labels, num_classes=3)
    assert_close(centroids[0], torch.tensor([1.0, 3.0]))
    assert_close(centroids[2], torch.tensor([10.0, 10.0]))
    assert torch.isnan(centroids[1]).all(), "a class without images has no centroid"


def test_nearest_centroid_picks_the_closest_mean():
    centroids = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    images = torch.tensor([[4.9, 3.0], [5.1, -3.0], [-1.0, 0.0]])
    assert nearest_centroid(centroids, images).tolist() == [0, 1, 0]


def test_nearest_centroid_separates_blobs():
    images, labels = blobs()
    centroids = class_centroids(images, labels, 3)
    assert accuracy(nearest_centroid(centroids, images), labels) == 1.0


def test_logistic_regression_fits_separable_data_and_generalises():
    images, labels = blobs(seed=0)
    layer = fit_logistic(images, labels, num_classes=3)
    fresh, fresh_labels = blobs(seed=1)
    assert accuracy(predict_logistic(layer, fresh), fresh_labels) == 1.0
    assert not layer.weight.requires_grad


def test_logistic_regression_is_repeatable():
    images, labels = blobs(spread=2.0)  # overlapping: the fit is not trivially exact
    first, second = fit_logistic(images, labels, 3), fit_logistic(images, labels, 3)
    assert_close(first.weight, second.weight)


def test_logistic_regression_beats_chance_only_with_signal():
    images, labels = blobs(spread=2.0)
    shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(3))]
    fresh, fresh_labels = blobs(spread=2.0, seed=5)
    informed = accuracy(predict_logistic(fit_logistic(images, labels, 3), fresh), fresh_labels)
    blind = accuracy(predict_logistic(fit_logistic(images, shuffled, 3), fresh), fresh_labels)
    assert informed > 0.6 and blind < 0.5


def test_accuracy_per_class_and_shares():
    predicted = torch.tensor([0, 0, 1, 2, 2, 2])
    labels = torch.tensor([0, 1, 1, 2, 2, 0])
    assert math.isclose(accuracy(predicted, labels), 4 / 6, rel_tol=1e-6)
    per_class = per_class_accuracy(predicted, labels, num_classes=4)
    assert_close(per_class[:3], torch.tensor([0.5, 0.5, 1.0]))
    assert torch.isnan(per_class[3]), "a class with no images has no accuracy"
    assert_close(class_shares(predicted, 4), torch.tensor([2, 1, 3, 0]) / 6.0)


@pytest.mark.parametrize("num_classes", [2, 10])
def test_shares_sum_to_one(num_classes):
    predicted = torch.randint(num_classes, (37,), generator=torch.Generator().manual_seed(0))
    assert math.isclose(class_shares(predicted, num_classes).sum().item(), 1.0, rel_tol=1e-6)
