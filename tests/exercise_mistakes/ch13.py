"""Likely wrong answers to the exercises of 13_disentanglement.md, which its check cells must reject."""

from exercise_harness import WrongAnswer

_TOP = "    top = info.topk(2, dim=0).values\n"
_PAIRS = "    pairs = pairwise_log_q(z, mu, logvar)\n"


def _tc_with(log_w: str, pairs: str = _PAIRS) -> str:
    """A tc_per_image whose (M, M) log weights are the expression log_w (m, n: batch and data set sizes)."""
    return ("def tc_per_image(z, mu, logvar, dataset_size):\n"
            "    m, n = len(z), dataset_size\n"
            f"    log_w = {log_w}\n" + pairs
            + "    log_qz = torch.logsumexp(pairs.sum(-1) + log_w, dim=1)\n"
            "    log_qz_d = torch.logsumexp(pairs + log_w[..., None], dim=1)\n"
            "    return log_qz - log_qz_d.sum(-1)")


MISTAKES = {
    "not normalised": WrongAnswer(
        1, "the gaps averaged in nats, not divided by each factor's entropy",
        "def mig_from_info(info, entropies):\n" + _TOP + "    return (top[0] - top[1]).mean().item()"),
    "gap between factors": WrongAnswer(
        1, "for each latent, the gap between its two best factors (DCI's question), over that factor's entropy",
        "def mig_from_info(info, entropies):\n"
        "    top = info.topk(2, dim=1).values\n"
        "    return ((top[:, 0] - top[:, 1]) / entropies[info.argmax(1)]).mean().item()"),
    "the code's entropy": WrongAnswer(
        1, "normalised by log 20, the entropy of a code cut into 20 equal-mass bins, not the factor's",
        "def mig_from_info(info, entropies):\n" + _TOP + "    return ((top[0] - top[1]) / math.log(20)).mean().item()"),
    "no gap": WrongAnswer(
        1, "the best latent's share alone, without the second best subtracted",
        "def mig_from_info(info, entropies):\n" + _TOP + "    return (top[0] / entropies).mean().item()"),
    "without log(N M)": WrongAnswer(
        2, "a plain logsumexp over the batch: no weights at all, rows that add up to M instead of one",
        _tc_with("torch.zeros(m, m, dtype=z.dtype)")),
    "Chen's 1/(NM)": WrongAnswer(
        2, "minibatch-weighted sampling's 1/(N M) for every pair: weights that add up to 1/N",
        _tc_with("torch.full((m, m), -math.log(n * m), dtype=z.dtype)")),
    "equal weights 1/M": WrongAnswer(
        2, "the batch mean: 1/M for every pair, right only when M = N",
        _tc_with("torch.full((m, m), -math.log(m), dtype=z.dtype)")),
    "own posterior only": WrongAnswer(
        2, "q(z_i) read as q(z_i|x_i): the other images of the batch left out (its TC is 0)",
        _tc_with("torch.where(torch.eye(m, dtype=torch.bool), 0.0, -math.inf).to(z.dtype)")),
    "detached means": WrongAnswer(
        2, "the right value with the means detached: no gradient reaches the encoder",
        _tc_with("torch.full((m, m), math.log((n - 1) / (n * (m - 1))), dtype=z.dtype)\n"
                 "    log_w.fill_diagonal_(-math.log(n))",
                 "    pairs = pairwise_log_q(z, mu.detach(), logvar)\n")),
}
