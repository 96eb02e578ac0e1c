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
MISTAKES.update({
    "the same seed five times": WrongAnswer(
        2, "every evaluation with the default seed, so the five losses agree",
        "seed_std = torch.tensor([evaluate_elbo(trained, test.images)['loss']\n"
        "                         for seed in range(5)]).std().item()"),
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
