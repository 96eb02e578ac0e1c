"""The likely wrong answers to the exercises of 06_training.md, which its check cells must reject."""

from exercise_harness import WrongAnswer

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
}
