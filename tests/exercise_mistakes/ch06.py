"""The likely wrong answers to the exercises of 06_training.md, which its check cells must reject."""

from exercise_harness import WrongAnswer

# Exercise 4's reference answer, written out, with one line changed per mistake
_LOSS = (
    "def my_negative_elbo(encode, decode, x, eps=None):\n"
    "    mu, logvar = encode(x)\n"
    "    if eps is None:\n"
    "        eps = torch.randn_like(mu)\n"
    "    z = mu + torch.exp(0.5 * logvar) * eps\n"
    "    recon = F.binary_cross_entropy_with_logits(decode(z), x, reduction='none').sum(dim=(1, 2, 3))\n"
    "    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)\n"
    "    return recon + kl\n")
_TRAIN = (
    "def train_my_vae(model, images, epochs, batch_size, seed):\n"
    "    torch.manual_seed(seed)\n"
    "    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
    "    for epoch in range(epochs):\n"
    "        for batch in images[torch.randperm(len(images))].split(batch_size):\n"
    "            loss = my_negative_elbo(model.encode, model.decode, batch).mean()\n"
    "            optimizer.zero_grad()\n"
    "            loss.backward()\n"
    "            optimizer.step()\n")


def _loss(old: str, new: str) -> str:
    assert old in _LOSS, old
    return _LOSS.replace(old, new)


def _train(old: str, new: str) -> str:
    assert old in _TRAIN, old
    return _TRAIN.replace(old, new)


MISTAKES = {
    "the reconstruction term alone": WrongAnswer(
        3, "the fraction measured on the recon term, leaving out the rate the code costs",
        "fraction_closed = ((Reference.bce_mean_image - report['test_recon'])\n"
        "                   / (Reference.bce_mean_image - floor))"),
    "a percentage": WrongAnswer(
        3, "the fraction written as a percentage",
        "fraction_closed = 100 * Reference.fraction_closed"),
    "the part still open": WrongAnswer(
        3, "the share of the gap still open instead of the share closed",
        "fraction_closed = ((report['test_loss'] - floor)\n"
        "                   / (Reference.bce_mean_image - floor))"),
    "against the mean image, not the gap": WrongAnswer(
        3, "the improvement divided by the mean image's BCE instead of by the gap",
        "fraction_closed = ((Reference.bce_mean_image - report['test_loss'])\n"
        "                   / Reference.bce_mean_image)"),
    "the fraction printed for the IWAE's images": WrongAnswer(
        3, "the -ELBO's fraction printed for the first 500 test images, copied to 0.1 %",
        "fraction_closed = round(elbo_closed_same, 3)"),
}
MISTAKES.update({
    "the same seed five times": WrongAnswer(
        2, "every evaluation with the default seed, so the five losses agree",
        "seed_losses = [evaluate_elbo(trained, test.images)['loss'] for seed in range(5)]\n"
        "seed_std = torch.tensor(seed_losses).std().item()"),
    "the spread over images": WrongAnswer(
        2, "the standard deviation of the per-image negative ELBO instead of over seeds",
        "from vae_tutorial.losses import elbo_terms\n"
        "with torch.no_grad():\n"
        "    _out = trained(test.images, generator=torch.Generator().manual_seed(0))\n"
        "seed_std = elbo_terms(_out.logits, test.images, _out.mu, _out.logvar).loss.std().item()"),
    "the standard error of the mean": WrongAnswer(
        2, "the standard deviation divided by sqrt(5)",
        "seed_std = Reference.seed_losses.std().item() / 5 ** 0.5"),
})
MISTAKES.update({
    "the BCE averaged over pixels": WrongAnswer(
        4, "reduction='mean' in the BCE: the reconstruction term 784 times too small",
        _loss("reduction='none').sum(dim=(1, 2, 3))", "reduction='none').mean(dim=(1, 2, 3))")),
    "the KL with the wrong sign": WrongAnswer(
        4, "+1/2 instead of -1/2 in front of (5.2)",
        _loss("kl = -0.5 *", "kl = 0.5 *")),
    "the KL averaged over dimensions": WrongAnswer(
        4, "the KL's D terms averaged instead of summed",
        _loss("logvar.exp()).sum(dim=1)", "logvar.exp()).mean(dim=1)")),
    "sigma forgotten": WrongAnswer(
        4, "z = mu + eps: right wherever sigma is near 1, as in an untrained encoder",
        _loss("z = mu + torch.exp(0.5 * logvar) * eps", "z = mu + eps")),
    "logvar used as sigma": WrongAnswer(
        4, "z = mu + logvar * eps",
        _loss("z = mu + torch.exp(0.5 * logvar) * eps", "z = mu + logvar * eps")),
    "the sigmoid applied twice": WrongAnswer(
        4, "probabilities given to a BCE that takes logits",
        _loss("with_logits(decode(z)", "with_logits(torch.sigmoid(decode(z))")),
    "z detached": WrongAnswer(
        4, "z.detach(): every value right, no gradient to the encoder through z",
        _loss("z = mu + torch.exp(0.5 * logvar) * eps", "z = (mu + torch.exp(0.5 * logvar) * eps).detach()")),
    "eps ignored": WrongAnswer(
        4, "a fresh eps drawn every call, the given one ignored",
        _loss("    if eps is None:\n        eps = torch.randn_like(mu)\n", "    eps = torch.randn_like(mu)\n")),
    "no zero_grad": WrongAnswer(
        4, "optimizer.zero_grad() left out: each step follows the sum of all earlier gradients",
        _train("            optimizer.zero_grad()\n", "")),
    "never stepping": WrongAnswer(
        4, "optimizer.step() left out: the model never changes",
        _train("            optimizer.step()\n", "")),
    "a hidden layer of 200": WrongAnswer(
        4, "a smaller model than the package's",
        "class MyVAE(Reference.MyVAE):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 40))\n"
        "        self.decoder = nn.Sequential(nn.Linear(20, 200), nn.ReLU(), nn.Linear(200, 784),\n"
        "                                     nn.Unflatten(1, (1, 28, 28)))"),
})
MISTAKES.update({  # a slip that used to meet a raw broadcasting error (a third review)
    "the KL not summed": WrongAnswer(
        4, "the KL left (B, 20) and added to the (B,) BCE: PyTorch refuses the shapes",
        _loss(").sum(dim=1)\n", ")\n")),
})
