"""The likely wrong answers to the exercises of 07_beta_vae.md, which its check cells must reject."""

from exercise_harness import WrongAnswer

MISTAKES = {
    "the test set's ceiling": WrongAnswer(
        4, "log 10,000: the ceiling of the test images the chapter measured on",
        "max_information = math.log(10_000)"),
    "in bits": WrongAnswer(
        4, "log2 60,000: bits instead of nats", "max_information = math.log2(60_000)"),
    "N instead of log N": WrongAnswer(
        4, "the number of images itself, not its logarithm", "max_information = 60_000"),
}
