"""The likely wrong answers to the exercises of 05_kl.md, which its check cells must reject."""

from exercise_harness import WrongAnswer

# the per-pixel log-probability, Independent(..., 3) left out; the two mistakes below differ in the return
_PIXELS_NOT_SUMMED = (
    "def negative_elbo(model, x):\n"
    "    mu, logvar = model.encoder(x)\n"
    "    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)\n"
    "    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)\n"
    "    z = q.rsample()\n"
    "    recon = -Bernoulli(logits=model.decoder(z), validate_args=False).log_prob(x)\n"
    "    kl = kl_divergence(q, prior)\n"
)


MISTAKES = {
    "the KL the wrong way round": WrongAnswer(
        1, "KL(p || q) instead of KL(q || p)",
        "def kl_normal(mu1, logvar1, mu2, logvar2):\n"
        "    return Reference.kl_normal(mu2, logvar2, mu1, logvar1)"),
    "logvar read as log sigma": WrongAnswer(
        1, "the variances taken as exp(2 logvar), as if logvar were log sigma",
        "def kl_normal(mu1, logvar1, mu2, logvar2):\n"
        "    return Reference.kl_normal(mu1, 2 * logvar1, mu2, 2 * logvar2)"),
    "the -1/2 forgotten": WrongAnswer(
        1, "the constant -1/2 of the derivation dropped",
        "def kl_normal(mu1, logvar1, mu2, logvar2):\n"
        "    return Reference.kl_normal(mu1, logvar1, mu2, logvar2) + 0.5"),
    "sigma squared to zero": WrongAnswer(
        2, "a vanishing variance, as if the KL rewarded certainty", "answer_2 = 0.0"),
    "the log's minimiser": WrongAnswer(
        2, "e, from setting the derivative of log sigma^2 alone to zero", "answer_2 = 2.718281828"),
    "beta 784 again": WrongAnswer(
        3, "784, forgetting that the KL is averaged over D as well", "answer_3 = 784.0"),
    "beta times D": WrongAnswer(
        3, "784 * 20: multiplied by D instead of divided", "answer_3 = 784.0 * 20"),
    "beta upside down": WrongAnswer(
        3, "D / 784: the ratio inverted", "answer_3 = 20 / 784"),
    "sample() cuts the gradient": WrongAnswer(
        4, "q.sample() instead of q.rsample(): no gradient reaches the encoder",
        "def negative_elbo(model, x):\n"
        "    mu, logvar = model.encoder(x)\n"
        "    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)\n"
        "    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)\n"
        "    z = q.sample()\n"
        "    likelihood = Independent(Bernoulli(logits=model.decoder(z), validate_args=False), 3)\n"
        "    recon = -likelihood.log_prob(x)\n"
        "    kl = kl_divergence(q, prior)\n"
        "    return recon + kl, recon, kl"),
    "the variance as the scale": WrongAnswer(
        4, "Normal(mu, exp(logvar)): the variance passed where the standard deviation goes",
        "def negative_elbo(model, x):\n"
        "    mu, logvar = model.encoder(x)\n"
        "    q = Independent(Normal(mu, torch.exp(logvar)), 1)\n"
        "    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)\n"
        "    z = q.rsample()\n"
        "    likelihood = Independent(Bernoulli(logits=model.decoder(z), validate_args=False), 3)\n"
        "    recon = -likelihood.log_prob(x)\n"
        "    kl = kl_divergence(q, prior)\n"
        "    return recon + kl, recon, kl"),
    "pixels not summed": WrongAnswer(
        4, "Bernoulli without Independent(..., 3): one log-probability per pixel",
        _PIXELS_NOT_SUMMED + "    return recon + kl[:, None, None, None], recon, kl"),
    "sigma forgotten in z": WrongAnswer(
        4, "z = mu + torch.randn_like(mu): the noise not scaled by sigma (passed on the untrained model, "
           "whose sigma is near 1)",
        "def negative_elbo(model, x):\n"
        "    mu, logvar = model.encoder(x)\n"
        "    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)\n"
        "    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)\n"
        "    z = mu + torch.randn_like(mu)\n"
        "    likelihood = Independent(Bernoulli(logits=model.decoder(z), validate_args=False), 3)\n"
        "    recon = -likelihood.log_prob(x)\n"
        "    kl = kl_divergence(q, prior)\n"
        "    return recon + kl, recon, kl"),
    "z = mu, no noise": WrongAnswer(
        4, "the mean decoded instead of a sample: no noise, no gradient in logvar",
        "def negative_elbo(model, x):\n"
        "    mu, logvar = model.encoder(x)\n"
        "    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)\n"
        "    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)\n"
        "    likelihood = Independent(Bernoulli(logits=model.decoder(mu), validate_args=False), 3)\n"
        "    recon = -likelihood.log_prob(x)\n"
        "    kl = kl_divergence(q, prior)\n"
        "    return recon + kl, recon, kl"),
}
MISTAKES.update({  # a slip that used to meet a raw broadcasting error (a third review)
    "pixels not summed, as written": WrongAnswer(
        4, "Bernoulli without Independent(..., 3), its (B, 1, 28, 28) added to the (B,) KL as it comes",
        _PIXELS_NOT_SUMMED + "    return recon + kl, recon, kl"),
})
