"""Likely wrong answers to the exercises of 04_reparameterization.md."""

from exercise_harness import WrongAnswer

MISTAKES = {
    "the mean of all n as baseline": WrongAnswer(
        2, "b = the mean of f over all n samples, f(z_j) included",
        "def leave_one_out_score(f, score):\n"
        "    b = f.mean(1, keepdim=True)\n"
        "    return ((f - b)[..., None] * score).mean(1)"),
    "the others divided by n": WrongAnswer(
        2, "the sum over the other samples divided by n instead of n - 1",
        "def leave_one_out_score(f, score):\n"
        "    n = f.shape[1]\n"
        "    b = (f.sum(1, keepdim=True) - f) / n\n"
        "    return ((f - b)[..., None] * score).mean(1)"),
    "no baseline": WrongAnswer(
        2, "the plain score-function estimate, f times the score",
        "def leave_one_out_score(f, score):\n"
        "    return (f[..., None] * score).mean(1)"),
    "summed over the samples": WrongAnswer(
        2, "the n terms summed instead of averaged",
        "def leave_one_out_score(f, score):\n"
        "    n = f.shape[1]\n"
        "    b = (f.sum(1, keepdim=True) - f) / (n - 1)\n"
        "    return ((f - b)[..., None] * score).sum(1)"),
    "f not broadcast over D": WrongAnswer(
        2, "(f - b) times the score without [..., None]: (R, n) against (R, n, D), a broadcasting error",
        "def leave_one_out_score(f, score):\n"
        "    n = f.shape[1]\n"
        "    others = (f.sum(1, keepdim=True) - f) / (n - 1)\n"
        "    return ((f - others) * score).mean(1)"),
    "averaged over the repeats": WrongAnswer(
        2, "the mean taken over dimension 0, the repeats, instead of the n samples",
        "def leave_one_out_score(f, score):\n"
        "    n = f.shape[1]\n"
        "    others = (f.sum(1, keepdim=True) - f) / (n - 1)\n"
        "    return ((f - others)[..., None] * score).mean(0)"),
}
