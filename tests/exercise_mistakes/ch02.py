"""Likely wrong answers to the exercises of 02_model.md."""

from exercise_harness import WrongAnswer

MISTAKES = {
    "the default model's count": WrongAnswer(
        1, "the parameter count of the latent_dim=20 model",
        "params_latent_2 = count(model)"),
    "D outputs for the encoder": WrongAnswer(
        1, "the encoder's output layer taken as 400 -> D instead of 400 -> 2D",
        "params_latent_2 = count(small) - 2 * 400 - 2"),
    "only the encoder changed": WrongAnswer(
        1, "the decoder's first layer (D -> 400) left at D = 20",
        "params_latent_2 = count(small) + 18 * 400"),
    "biases forgotten": WrongAnswer(
        1, "the changed layers counted without their biases",
        "params_latent_2 = count(small) - 4"),
    "the halves swapped": WrongAnswer(
        2, "to_mu from the last D rows, to_logvar from the first D",
        "to_mu, to_logvar = Reference.to_logvar, Reference.to_mu"),
    "fresh layers": WrongAnswer(
        2, "two new nn.Linear(400, D) layers, nothing copied",
        "to_mu = nn.Linear(400, config.latent_dim)\n"
        "to_logvar = nn.Linear(400, config.latent_dim)"),
    "weights without biases": WrongAnswer(
        2, "the weight rows copied, the biases left at their random start",
        "D = config.latent_dim\n"
        "to_mu = nn.Linear(400, D)\nto_logvar = nn.Linear(400, D)\n"
        "with torch.no_grad():\n"
        "    to_mu.weight.copy_(model.encoder.gaussian.weight[:D])\n"
        "    to_logvar.weight.copy_(model.encoder.gaussian.weight[D:])"),
}
MISTAKES.update({
    "the input's shape": WrongAnswer(
        3, "the shape of x, not of the feature map",
        "conv_feature_shape = tuple(x.shape)"),
    "after one convolution": WrongAnswer(
        3, "the shape after the first stride-2 convolution only",
        "conv_feature_shape = (8, 32, 14, 14)"),
    "without the batch": WrongAnswer(
        3, "channels, height and width, the batch dimension left out",
        "conv_feature_shape = (64, 7, 7)"),
})
MISTAKES.update({  # slips that used to meet a raw error in the check's own code (a third review)
    "the count as text": WrongAnswer(
        1, "the count typed as it prints, a string with commas",
        'params_latent_2 = f"{count(small):,}"'),
    "the whole output layer": WrongAnswer(
        2, "the encoder's whole output layer, all 2D = 40 outputs, as to_mu and to_logvar",
        "to_mu = model.encoder.gaussian\nto_logvar = model.encoder.gaussian"),
})
