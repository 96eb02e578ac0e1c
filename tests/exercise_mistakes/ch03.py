"""Likely wrong answers to the exercises of 03_elbo.md."""

from exercise_harness import WrongAnswer

MISTAKES = {
    "the best diagonal q's gap": WrongAnswer(
        1, "-1/2 log(1 - rho^2), the gap of the optimal q, not of the marginals",
        "def gap_marginal(rho):\n    return -0.5 * math.log(1 - rho**2)"),
    "the log term's sign": WrongAnswer(
        1, "the log terms added with the wrong sign",
        "def gap_marginal(rho):\n"
        "    return rho**2 / (1 - rho**2) - 0.5 * math.log(1 - rho**2)"),
    "the -D left out": WrongAnswer(
        1, "the trace term kept whole, the - D of the KL forgotten",
        "def gap_marginal(rho):\n"
        "    return 1 / (1 - rho**2) + 0.5 * math.log(1 - rho**2)"),
    "log of the mean of exp": WrongAnswer(
        3, "the naive log(mean(exp(log_w))), which underflows",
        "def iwae_from_log_weights(log_w):\n"
        "    return torch.log(torch.exp(log_w).mean(0))"),
    "logsumexp without 1/K": WrongAnswer(
        3, "logsumexp of the weights, the division by K forgotten",
        "def iwae_from_log_weights(log_w):\n"
        "    return torch.logsumexp(log_w, dim=0)"),
    "the mean of the log weights": WrongAnswer(
        3, "the average of log w: the ELBO, not the importance-weighted bound",
        "def iwae_from_log_weights(log_w):\n    return log_w.mean(0)"),
    "logsumexp over the images": WrongAnswer(
        3, "logsumexp over dim 1, the images, instead of the K samples",
        "def iwae_from_log_weights(log_w):\n"
        "    return torch.logsumexp(log_w, dim=1) - math.log(log_w.shape[1])"),
    "the variance as the Normal's scale": WrongAnswer(
        4, "Normal(mu, exp(logvar)): the variance where the standard deviation goes",
        "def neg_elbo(logits, x, mu, logvar):\n"
        "    recon = -Bernoulli(logits=logits, validate_args=False)"
        ".log_prob(x).flatten(1).sum(1)\n"
        "    q = Normal(mu, logvar.exp())\n"
        "    prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))\n"
        "    return recon + kl_divergence(q, prior).sum(-1)"),
    "the mean over pixels": WrongAnswer(
        4, "the BCE averaged over the pixels instead of summed",
        "def neg_elbo(logits, x, mu, logvar):\n"
        "    recon = -Bernoulli(logits=logits, validate_args=False)"
        ".log_prob(x).flatten(1).mean(1)\n"
        "    q = Normal(mu, torch.exp(0.5 * logvar))\n"
        "    prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))\n"
        "    return recon + kl_divergence(q, prior).sum(-1)"),
    "the KL not summed": WrongAnswer(
        4, "the KL left per dimension, (B, D), added to the (B, 1) BCE",
        "def neg_elbo(logits, x, mu, logvar):\n"
        "    recon = -Bernoulli(logits=logits, validate_args=False)"
        ".log_prob(x).flatten(1).sum(1, keepdim=True)\n"
        "    q = Normal(mu, torch.exp(0.5 * logvar))\n"
        "    prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))\n"
        "    return recon + kl_divergence(q, prior)"),
    "the chapter's number, not a function of rho": WrongAnswer(
        1, "the KL computed for the chapter's posterior and returned whatever rho is (right at that rho only)",
        "def gap_marginal(rho):\n"
        "    return kl_to_posterior(post_mean, post_cov.diagonal().log()).item()"),
    "rho where rho^2 belongs": WrongAnswer(
        1, "rho * |rho| for rho^2 in the first term: the same for a positive rho, wrong for a negative one",
        "def gap_marginal(rho):\n"
        "    return rho * abs(rho) / (1 - rho**2) + 0.5 * math.log(1 - rho**2)"),
}
MISTAKES.update({  # a slip that used to meet a raw broadcasting error (a third review)
    "the KL per dimension, as written": WrongAnswer(
        4, "the KL left (B, D) and added to the (B,) BCE: PyTorch refuses the shapes",
        "def neg_elbo(logits, x, mu, logvar):\n"
        "    recon = -Bernoulli(logits=logits, validate_args=False)"
        ".log_prob(x).flatten(1).sum(1)\n"
        "    q = Normal(mu, torch.exp(0.5 * logvar))\n"
        "    prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))\n"
        "    return recon + kl_divergence(q, prior)"),
})
MISTAKES.update({  # a third review's slips, whose hints used to point elsewhere
    "the KL from p to q": WrongAnswer(
        1, "KL(p || q), the other direction, which equals the best diagonal q's gap -1/2 log(1 - rho^2)",
        "def gap_marginal(rho):\n"
        "    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)\n"
        "    p = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64), cov)\n"
        "    q = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64),\n"
        "                                               torch.eye(2, dtype=torch.float64))\n"
        "    return torch.distributions.kl_divergence(p, q).item()"),
    "the largest log weight of all columns": WrongAnswer(
        3, "log-sum-exp with the largest of all the log weights subtracted, not each column's own",
        "def iwae_from_log_weights(log_w):\n"
        "    top = log_w.max()\n"
        "    return top + torch.log(torch.exp(log_w - top).mean(0))"),
})
