"""Likely wrong answers to the exercises of 12_learned_priors.md."""

from exercise_harness import WrongAnswer

_COMPONENTS = "    log_components = log_normal(z.unsqueeze(-2), means, logvars)\n"

MISTAKES = {
    "logits taken as log weights": WrongAnswer(
        1, "log pi_j = a_j, without the log_softmax",
        "def mixture_log_prob(z, weight_logits, means, logvars):\n" + _COMPONENTS
        + "    return torch.logsumexp(weight_logits + log_components, dim=-1)"),
    "densities summed before the log": WrongAnswer(
        1, "log of the weighted sum of densities: -inf far from every component",
        "def mixture_log_prob(z, weight_logits, means, logvars):\n" + _COMPONENTS
        + "    weights = torch.softmax(weight_logits, dim=0)\n"
        "    return torch.log((weights * log_components.exp()).sum(dim=-1))"),
    "log densities averaged": WrongAnswer(
        1, "the weighted average of the log densities (a bound, not the log density)",
        "def mixture_log_prob(z, weight_logits, means, logvars):\n" + _COMPONENTS
        + "    return (torch.softmax(weight_logits, dim=0) * log_components).sum(dim=-1)"),
    "equal weights": WrongAnswer(
        1, "the weights ignored: every component weighted 1 / J",
        "def mixture_log_prob(z, weight_logits, means, logvars):\n" + _COMPONENTS
        + "    return torch.logsumexp(log_components, dim=-1) - math.log(len(means))"),
    "log p - log q": WrongAnswer(
        2, "the sign flipped",
        "def one_draw_kl(mu, logvar, eps, log_prior):\n"
        "    z = mu + (0.5 * logvar).exp() * eps\n"
        "    return log_prior(z) - log_normal(z, mu, logvar)"),
    "z at the mean": WrongAnswer(
        2, "no draw: z = mu",
        "def one_draw_kl(mu, logvar, eps, log_prior):\n"
        "    z = mu + 0 * eps\n"
        "    return log_normal(z, mu, logvar) - log_prior(z)"),
    "the variance as the scale": WrongAnswer(
        2, "z = mu + exp(logvar) * eps: sigma squared where sigma belongs",
        "def one_draw_kl(mu, logvar, eps, log_prior):\n"
        "    z = mu + logvar.exp() * eps\n"
        "    return log_normal(z, mu, logvar) - log_prior(z)"),
    "the cross-entropy only": WrongAnswer(
        2, "-log p(z) without the log q(z|x) term",
        "def one_draw_kl(mu, logvar, eps, log_prior):\n"
        "    z = mu + (0.5 * logvar).exp() * eps\n"
        "    return -log_prior(z)"),
    "the closed form against N(0, I)": WrongAnswer(
        2, "(5.2) whatever the prior: right for N(0, I) only, and without noise",
        "def one_draw_kl(mu, logvar, eps, log_prior):\n"
        "    return gaussian_kl(mu, logvar).expand(eps.shape[:-1])"),
    "one update from equal weights": WrongAnswer(
        3, "the shares r_nj computed once, with equal weights, and averaged",
        "def best_weights(z, means, logvars):\n" + _COMPONENTS
        + "    return torch.softmax(log_components, dim=1).mean(dim=0)"),
    "hard assignments": WrongAnswer(
        3, "each code given wholly to its most likely component",
        "def best_weights(z, means, logvars):\n" + _COMPONENTS
        + "    owner = log_components.argmax(dim=1)\n"
        "    return torch.bincount(owner, minlength=len(means)).double() / len(z)"),
    "mean densities normalised": WrongAnswer(
        3, "weights in proportion to each component's mean density over the codes",
        "def best_weights(z, means, logvars):\n" + _COMPONENTS
        + "    density = log_components.exp().mean(dim=0)\n"
        "    return density / density.sum()"),
    "the shares summed, not averaged": WrongAnswer(
        3, "pi_j = sum_n r_nj: the update without the 1 / N",
        "def best_weights(z, means, logvars):\n" + _COMPONENTS
        + "    log_weights = torch.full((len(means),), -math.log(len(means)), dtype=log_components.dtype)\n"
        "    for _ in range(500):\n"
        "        log_weights = torch.softmax(log_weights + log_components, dim=1).mean(dim=0).log()\n"
        "    return log_weights.exp() * len(z)"),
    "the draw detached": WrongAnswer(
        2, "z = (mu + sigma * eps).detach(): the right values, no gradient to the encoder (passed when only "
           "values were compared)",
        "def one_draw_kl(mu, logvar, eps, log_prior):\n"
        "    z = (mu + (0.5 * logvar).exp() * eps).detach()\n"
        "    entropy = 0.5 * (math.log(2 * math.pi) + 1 + logvar).sum(dim=-1)\n"
        "    return -entropy - log_prior(z)"),
    "raw densities": WrongAnswer(
        3, "the update with densities, not log densities: right in float64 in 1-D and 2-D, NaN on the "
           "chapter's 20-D float32 codes",
        "def best_weights(z, means, logvars):\n" + _COMPONENTS
        + "    density = log_components.exp()\n"
        "    weights = torch.full((len(means),), 1 / len(means), dtype=density.dtype)\n"
        "    for _ in range(500):\n"
        "        joint = weights * density\n"
        "        weights = (joint / joint.sum(dim=1, keepdim=True)).mean(dim=0)\n"
        "    return weights"),
    "stopped on the objective": WrongAnswer(
        3, "the updates stopped once the mean log density moves by less than 1e-6: the weights still move",
        "def best_weights(z, means, logvars):\n" + _COMPONENTS
        + "    log_weights = torch.full((len(means),), -math.log(len(means)), dtype=log_components.dtype)\n"
        "    before = -math.inf\n"
        "    while True:\n"
        "        now = torch.logsumexp(log_weights + log_components, dim=1).mean().item()\n"
        "        if now - before < 1e-6:\n"
        "            return log_weights.exp()\n"
        "        before = now\n"
        "        log_weights = torch.softmax(log_weights + log_components, dim=1).mean(dim=0).log()"),
}
