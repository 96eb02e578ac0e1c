"""Likely wrong answers to the exercises of 01_data.md."""

from exercise_harness import WrongAnswer

MISTAKES = {
    "the grey images' floor": WrongAnswer(
        1, "the floor of the grey test set, not of its binarization",
        "binarized_floor = bernoulli_entropy(test.images).mean().item()"),
    "0 log 0 as nan": WrongAnswer(
        1, "the entropy written with torch.log, so 0 * log 0 gives nan",
        "b = torch.bernoulli(test.images)\n"
        "binarized_floor = -(b * torch.log(b) + (1 - b) * torch.log(1 - b))"
        ".flatten(1).sum(1).mean().item()"),
    "the BCE of the mean image on binary data": WrongAnswer(
        1, "the cost of the mean image on the binarized set, not its floor",
        "b = torch.bernoulli(test.images).double()\n"
        "binarized_floor = bernoulli_nll(mean_logits.expand_as(b), b)"
        ".mean().item()"),
    "the overall mean image": WrongAnswer(
        2, "the mean training image for every test image, class ignored",
        "def class_mean_prediction(train, test):\n"
        "    mean = train.images.mean(0, keepdim=True)\n"
        "    return mean.expand_as(test.images)"),
    "the class means of the test set": WrongAnswer(
        2, "class means taken over the test images instead of the training images",
        "def class_mean_prediction(train, test):\n"
        "    means = torch.stack([test.images[test.labels == c].mean(0)"
        " for c in range(10)])\n"
        "    return means[test.labels]"),
    "the ten means, not indexed": WrongAnswer(
        2, "returns the (10, 1, 28, 28) class means without indexing by test.labels",
        "def class_mean_prediction(train, test):\n"
        "    return torch.stack([train.images[train.labels == c].mean(0)"
        " for c in range(10)])"),
    "the sign flipped": WrongAnswer(
        3, "x - sigmoid(l): the gradient of the log-likelihood, not of the BCE",
        "def bce_grad(logit, x):\n    return x - torch.sigmoid(logit)"),
    "the derivative in p": WrongAnswer(
        3, "d BCE / d p, forgetting the chain rule through the sigmoid",
        "def bce_grad(logit, x):\n    p = torch.sigmoid(logit)\n"
        "    return (p - x) / (p * (1 - p))"),
    "the sigmoid left out": WrongAnswer(
        3, "l - x: the logit taken for the probability",
        "def bce_grad(logit, x):\n    return logit - x"),
    "the minimum as a probability": WrongAnswer(
        3, "the minimum given as p = x, not the logit l = logit(x)",
        "def bce_best_logit(x):\n    return x"),
    "the minimum at l = 0": WrongAnswer(
        3, "l = 0 (p = 1/2) for every grey level: right only at x = 1/2",
        "def bce_best_logit(x):\n    return torch.zeros_like(x)"),
    "the minimum through the sigmoid": WrongAnswer(
        3, "sigmoid(x) where the inverse, logit(x), is needed",
        "def bce_best_logit(x):\n    return torch.sigmoid(x)"),
}
