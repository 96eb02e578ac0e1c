"""Likely wrong answers to the exercises of 11_conditional.md."""

from exercise_harness import WrongAnswer

MISTAKES = {
    "the label before h": WrongAnswer(
        1, "the one-hot label prepended: [e_y; h] instead of [h; e_y]",
        "def append_one_hot(h, labels, num_classes):\n"
        "    one_hot = torch.zeros(len(labels), num_classes, dtype=h.dtype)\n"
        "    one_hot[torch.arange(len(labels)), labels] = 1.0\n"
        "    return torch.cat([one_hot, h], dim=1)"),
    "the label as a number": WrongAnswer(
        1, "the class index appended as one column, not one-hot",
        "def append_one_hot(h, labels, num_classes):\n"
        "    return torch.cat([h, labels[:, None].to(h.dtype)], dim=1)"),
    "no relu": WrongAnswer(
        1, "the hidden layer without its nonlinearity",
        "hidden_by_hand = (Reference.append_one_hot(x.flatten(1), y, 10)\n"
        "                  @ layer.weight.T + layer.bias).detach()"),
    "no bias": WrongAnswer(
        1, "relu(W [x; e_y]) without the bias b",
        "hidden_by_hand = torch.relu(\n"
        "    Reference.append_one_hot(x.flatten(1), y, 10)\n"
        "    @ layer.weight.T).detach()"),
    "the farthest mean": WrongAnswer(
        2, "argmax of the distance instead of argmin",
        "def centroid_predict(train_x, train_y, x):\n"
        "    train_x, x = train_x.flatten(1), x.flatten(1)\n"
        "    means = torch.stack([train_x[train_y == c].mean(0)\n"
        "                         for c in range(10)])\n"
        "    return ((x[:, None] - means[None]) ** 2).sum(-1).argmax(1)"),
    "the nearest image, not the nearest mean": WrongAnswer(
        2, "1-nearest-neighbour on the training images",
        "def centroid_predict(train_x, train_y, x):\n"
        "    d = torch.cdist(x.flatten(1), train_x.flatten(1))\n"
        "    return train_y[d.argmin(1)]"),
    "the largest dot product": WrongAnswer(
        2, "argmax of x . m_c, a similarity that favours bright means",
        "def centroid_predict(train_x, train_y, x):\n"
        "    train_x, x = train_x.flatten(1), x.flatten(1)\n"
        "    means = torch.stack([train_x[train_y == c].mean(0)\n"
        "                         for c in range(10)])\n"
        "    return (x @ means.T).argmax(1)"),
    "in bits": WrongAnswer(
        3, "log2(10): bits, while the book's log-likelihoods are in nats",
        "max_gain = math.log2(10)"),
    "the number of classes": WrongAnswer(
        3, "10: the number of classes, not its logarithm",
        "max_gain = 10"),
    "the class probability": WrongAnswer(
        3, "log p(y) = -log 10: the sign lost",
        "max_gain = -math.log(10)"),
    "one_hot sized by the batch": WrongAnswer(
        1, "F.one_hot(labels) without num_classes: as wide as the largest label in the batch plus one "
           "(right on a batch that holds a 9)",
        "def append_one_hot(h, labels, num_classes):\n"
        "    return torch.cat([h, torch.nn.functional.one_hot(labels).to(h.dtype)], dim=1)"),
}
