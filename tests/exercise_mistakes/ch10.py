"""Likely wrong answers to the exercises of 10_posterior_collapse.md."""

from exercise_harness import WrongAnswer

_DRAW = (
    "    eps = torch.randn(mu.shape, generator=generator)\n"
    "    z = mu + (0.5 * logvar).exp() * eps\n"
    "    own = log_normal(z, mu, logvar)\n"
    "    every = log_normal(z[:, None], mu[None], logvar[None])\n"
)

MISTAKES = {
    "the mixture not normalised": WrongAnswer(
        1, "log q(z_n) as a logsumexp without the - log N",
        "def information(mu, logvar, generator=None):\n" + _DRAW
        + "    return (own - torch.logsumexp(every, dim=1)).mean().item()"),
    "the image's own component left out": WrongAnswer(
        1, "log q(z_n) from the other N - 1 components only",
        "def information(mu, logvar, generator=None):\n" + _DRAW
        + "    n = mu.shape[0]\n"
        "    every = every.masked_fill(torch.eye(n, dtype=torch.bool),"
        " -float('inf'))\n"
        "    aggregate = torch.logsumexp(every, dim=1) - math.log(n - 1)\n"
        "    return (own - aggregate).mean().item()"),
    "no draw, z at the posterior mean": WrongAnswer(
        1, "z_n = mu_n instead of a draw from q(z | x_n)",
        "def information(mu, logvar, generator=None):\n"
        "    n = mu.shape[0]\n"
        "    own = log_normal(mu, mu, logvar)\n"
        "    every = log_normal(mu[:, None], mu[None], logvar[None])\n"
        "    aggregate = torch.logsumexp(every, dim=1) - math.log(n)\n"
        "    return (own - aggregate).mean().item()"),
    "one dimension's floor": WrongAnswer(
        2, "tau = 0.5: the floor of one dimension, not of the sum",
        "free_bits_floor = 0.5"),
    "the KL's own minimum": WrongAnswer(
        2, "0: the smallest KL, at q = p, not the smallest free-bits term",
        "free_bits_floor = 0.0"),
    "times beta": WrongAnswer(
        2, "D tau beta with beta = 16: the loss's constant, not the sum",
        "free_bits_floor = 20 * 0.5 * 16"),
    "sigma forgotten in the draw": WrongAnswer(
        1, "z_n = mu_n + eps, the noise not scaled by sigma: the same at logvar = 0, where two of the checks look",
        "def information(mu, logvar, generator=None):\n"
        "    n = mu.shape[0]\n"
        "    z = mu + torch.randn(mu.shape, generator=generator)\n"
        "    own = log_normal(z, mu, logvar)\n"
        "    every = log_normal(z[:, None], mu[None], logvar[None])\n"
        "    aggregate = torch.logsumexp(every, dim=1) - math.log(n)\n"
        "    return (own - aggregate).mean().item()"),
}
