"""Likely wrong answers to the exercises of 08_latent_space.md."""

from exercise_harness import WrongAnswer

MISTAKES = {
    "axes swapped": WrongAnswer(
        1, "[z2, z1]: the vertical axis read first",
        "bag_centre_guess = Reference.bag_centre_guess[::-1]"),
    "another class's cloud": WrongAnswer(
        1, "the centre of the trousers' cloud, a colour misread",
        "bag_centre_guess = means[test.labels == 1].mean(dim=0).tolist()"),
    "the prior's centre": WrongAnswer(
        1, "the origin, where the prior puts its mass, not read off",
        "bag_centre_guess = [0.0, 0.0]"),
    "the midpoint at the origin": WrongAnswer(
        3, "D/2: as if log p(z_bar) were log p(0), |z_bar| taken as 0",
        "midpoint_gain = 20 / 2"),
    "the gain with the wrong sign": WrongAnswer(
        3, "log p(a) - log p(z_bar) instead of log p(z_bar) - log p(a)",
        "midpoint_gain = -20 / 4"),
    "the norm halved": WrongAnswer(
        3, "|z_bar| / |a| = 1/2, as if a and b pointed the same way",
        "norm_ratio = 0.5"),
    "a straight line": WrongAnswer(
        4, "linear interpolation (1 - t) a + t b",
        "def slerp(a, b, t):\n    return (1 - t) * a + t * b"),
    "the chord pushed out to the circle": WrongAnswer(
        4, "nlerp: the chord's point rescaled to the norm of a",
        "def slerp(a, b, t):\n"
        "    point = (1 - t) * a + t * b\n"
        "    return point * a.norm() / point.norm()"),
    "the weights swapped": WrongAnswer(
        4, "sin(t omega) on a and sin((1 - t) omega) on b",
        "def slerp(a, b, t):\n"
        "    omega = torch.arccos((a @ b / (a.norm() * b.norm())).clamp(-1, 1))\n"
        "    return (torch.sin(t * omega) * a\n"
        "            + torch.sin((1 - t) * omega) * b) / torch.sin(omega)"),
    "the cosine not normalised": WrongAnswer(
        4, "omega = arccos(a @ b), without dividing by the norms",
        "def slerp(a, b, t):\n"
        "    omega = torch.arccos((a @ b).clamp(-1, 1))\n"
        "    return (torch.sin((1 - t) * omega) * a\n"
        "            + torch.sin(t * omega) * b) / torch.sin(omega)"),
    "the cosine over |a|^2": WrongAnswer(
        4, "cos omega = a @ b / |a|^2: the same as |a| |b| on the equal norms the check used to try",
        "def slerp(a, b, t):\n"
        "    omega = torch.arccos(((a @ b) / (a.norm() ** 2)).clamp(-1, 1))\n"
        "    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)"),
    "unit vectors, then |a|": WrongAnswer(
        4, "slerp of a / |a| and b / |b|, scaled by |a|: right only when |a| = |b|",
        "def slerp(a, b, t):\n"
        "    u, v = a / a.norm(), b / b.norm()\n"
        "    omega = torch.arccos((u @ v).clamp(-1, 1))\n"
        "    return a.norm() * (torch.sin((1 - t) * omega) * u + torch.sin(t * omega) * v) / torch.sin(omega)"),
}
