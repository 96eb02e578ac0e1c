"""Likely wrong answers to the exercises of 09_likelihoods.md."""

from exercise_harness import WrongAnswer

MISTAKES = {
    "no normaliser": WrongAnswer(
        1, "the plain Bernoulli formula: log C left out",
        "def cb_log_prob(x, logits):\n"
        "    return (x * torch.nn.functional.logsigmoid(logits)\n"
        "            + (1 - x) * torch.nn.functional.logsigmoid(-logits))"),
    "no series at l = 0": WrongAnswer(
        1, "log(l / tanh(l / 2)) everywhere, 0/0 at l = 0",
        "def cb_log_prob(x, logits):\n"
        "    log_c = torch.log(logits / torch.tanh(logits / 2))\n"
        "    return (log_c + x * torch.nn.functional.logsigmoid(logits)\n"
        "            + (1 - x) * torch.nn.functional.logsigmoid(-logits))"),
    "torch.where over a NaN branch": WrongAnswer(
        1, "the series picked near 0, but the exact branch still sees l = 0",
        "def cb_log_prob(x, logits):\n"
        "    small = logits.abs() < 1e-3\n"
        "    log_c = torch.where(small, math.log(2) + logits**2 / 12,\n"
        "                        torch.log(logits / torch.tanh(logits / 2)))\n"
        "    return (log_c + x * torch.nn.functional.logsigmoid(logits)\n"
        "            + (1 - x) * torch.nn.functional.logsigmoid(-logits))"),
    "log C with the wrong sign": WrongAnswer(
        1, "log C subtracted: the normaliser taken as 1 / C",
        "def cb_log_prob(x, logits):\n"
        "    bern = (x * torch.nn.functional.logsigmoid(logits)\n"
        "            + (1 - x) * torch.nn.functional.logsigmoid(-logits))\n"
        "    return bern - (Reference.cb_log_prob(x, logits) - bern)"),
    "beta = s^2": WrongAnswer(
        2, "s = 2, from beta = s^2 (the factor 2 of 2 s^2 forgotten)",
        "s_for_beta_4 = 2.0"),
    "beta = s^2 / 2": WrongAnswer(
        2, "s = sqrt(8), from beta = s^2 / 2 (the factor turned over)",
        "s_for_beta_4 = math.sqrt(8)"),
    "the mean is lambda": WrongAnswer(
        3, "0.9: lambda taken for the mean, as for a Bernoulli",
        "cb_mean_09 = 0.9"),
    "lambda as the logit": WrongAnswer(
        3, "the mean formula with l = 0.9 instead of l = log 9",
        "cb_mean_09 = 1 / (1 - math.exp(-0.9)) - 1 / 0.9"),
    "the density at lambda": WrongAnswer(
        3, "sigmoid of the logit: lambda again, by another road",
        "cb_mean_09 = torch.sigmoid(torch.tensor(math.log(9))).item()"),
    "the series with the wrong sign": WrongAnswer(
        1, "log 2 - l^2/12 near l = 0 (passed when only values were compared: the curvature at 0 was never checked)",
        "def cb_log_prob(x, logits):\n"
        "    small = logits.abs() < 1e-3\n"
        "    safe = torch.where(small, torch.ones_like(logits), logits)\n"
        "    log_c = torch.where(small, math.log(2) - logits**2 / 12,\n"
        "                        torch.log(safe / torch.tanh(safe / 2)))\n"
        "    return (log_c + x * torch.nn.functional.logsigmoid(logits)\n"
        "            + (1 - x) * torch.nn.functional.logsigmoid(-logits))"),
    "the series stopped at log 2": WrongAnswer(
        1, "log C = log 2 for small |l|: the value right to 1e-7, the curvature of log C lost",
        "def cb_log_prob(x, logits):\n"
        "    small = logits.abs() < 1e-3\n"
        "    safe = torch.where(small, torch.ones_like(logits), logits)\n"
        "    log_c = torch.where(small, math.log(2) + 0 * logits,\n"
        "                        torch.log(safe / torch.tanh(safe / 2)))\n"
        "    return (log_c + x * torch.nn.functional.logsigmoid(logits)\n"
        "            + (1 - x) * torch.nn.functional.logsigmoid(-logits))"),
}
