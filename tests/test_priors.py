"""The priors p(z): log densities against torch.distributions, samplers, and the KL term's estimate."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal, kl_divergence

from vae_tutorial.config import ModelConfig
from vae_tutorial.losses import gaussian_kl
from vae_tutorial.model import VAE
from vae_tutorial.priors import GaussianMixture, StandardNormal, VampPrior


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def mixture() -> GaussianMixture:
    prior = GaussianMixture(latent_dim=3, components=4, generator=_generator())
    with torch.no_grad():  # unequal weights and variances, so that a formula that ignores either is caught
        prior.logvars.copy_(torch.randn(4, 3, generator=_generator(1)))
        prior.weight_logits.copy_(torch.tensor([0.5, -1.0, 2.0, 0.0]))
    return prior


def _as_distribution(prior: GaussianMixture) -> MixtureSameFamily:
    components = Independent(Normal(prior.means, torch.exp(0.5 * prior.logvars)), 1)
    return MixtureSameFamily(Categorical(logits=prior.weight_logits), components)


def test_the_mixtures_log_density_is_torchs(mixture):
    z = torch.randn(5, 7, 3, generator=_generator(2)) * 3  # any leading shape, far tails included
    torch.testing.assert_close(mixture.log_prob(z), _as_distribution(mixture).log_prob(z))
    far = torch.full((1, 3), 60.0)  # every component's density underflows: log-sum-exp keeps it finite
    assert torch.isfinite(mixture.log_prob(far)).all()
    torch.testing.assert_close(mixture.log_prob(far), _as_distribution(mixture).log_prob(far))


def test_the_mixtures_log_density_is_not_a_plain_average(mixture):
    """The likely mistakes, caught: equal weights, or the log of each component averaged."""
    z = torch.randn(100, 3, generator=_generator(3))
    right = _as_distribution(mixture).log_prob(z)
    equal = MixtureSameFamily(Categorical(logits=torch.zeros(4)), _as_distribution(mixture).component_distribution)
    assert (equal.log_prob(z) - right).abs().max() > 0.1
    components = _as_distribution(mixture).component_distribution.log_prob(z.unsqueeze(1))  # (100, 4)
    averaged_logs = (components * torch.softmax(mixture.weight_logits, 0)).sum(1)
    assert (averaged_logs - right).abs().max() > 0.1 and (mixture.log_prob(z) - right).abs().max() < 1e-5


def test_the_mixture_samples_its_components_by_weight(mixture):
    draws = mixture.sample(40_000, generator=_generator(4))  # (40000, 3)
    weights = torch.softmax(mixture.weight_logits, 0).detach()
    mean = (weights[:, None] * mixture.means).sum(0).detach()
    standard_error = draws.std(0) / math.sqrt(len(draws))
    assert ((draws.mean(0) - mean).abs() < 4 * standard_error).all()
    # the draws' log density under the mixture averages to minus its entropy: compare with torch's own sampler
    ours = mixture.log_prob(draws).mean().item()
    theirs = _as_distribution(mixture).log_prob(_as_distribution(mixture).sample((40_000,))).mean().item()
    assert abs(ours - theirs) < 0.05


def test_a_draw_is_repeatable_with_a_generator(mixture):
    torch.testing.assert_close(mixture.sample(10, _generator(5)), mixture.sample(10, _generator(5)))


def test_the_standard_prior_is_the_closed_form():
    prior = StandardNormal(latent_dim=4)
    z = torch.randn(6, 4, generator=_generator(6))
    torch.testing.assert_close(prior.log_prob(z), Independent(Normal(torch.zeros(4), 1.0), 1).log_prob(z))
    mu, logvar = torch.randn(6, 4, generator=_generator(7)), torch.randn(6, 4, generator=_generator(8))
    torch.testing.assert_close(prior.kl(mu, logvar, z), gaussian_kl(mu, logvar))
    assert prior.sample(3, _generator(9)).shape == (3, 4) and list(prior.state_dict()) == []


def _single_sample_kls(prior, mu, logvar, count: int) -> torch.Tensor:
    """count one-draw estimates of KL(q || p) per image -> (count, B)."""
    eps = torch.randn(count, *mu.shape, generator=_generator(10))
    z = mu + torch.exp(0.5 * logvar) * eps  # (count, B, D): the reparameterized draws
    with torch.no_grad():
        return prior.kl(mu, logvar, z)


def test_the_single_sample_kl_is_unbiased_against_a_closed_form():
    """With one standard component the mixture is N(0, I): its Monte Carlo KL averages to the closed form
    (eq. kl-gauss); with one shifted, scaled component, to the KL between two Gaussians."""
    mu, logvar = torch.randn(5, 3, generator=_generator(11)), 0.5 * torch.randn(5, 3, generator=_generator(12))
    prior = GaussianMixture(latent_dim=3, components=1)
    with torch.no_grad():
        prior.means.zero_()
    estimates = _single_sample_kls(prior, mu, logvar, 100_000)  # (100000, 5)
    error = estimates.std(0) / math.sqrt(len(estimates))
    assert ((estimates.mean(0) - gaussian_kl(mu, logvar)).abs() < 4 * error).all()
    with torch.no_grad():
        prior.means.fill_(0.7)
        prior.logvars.fill_(-0.4)
    estimates = _single_sample_kls(prior, mu, logvar, 100_000)
    exact = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.7, math.exp(-0.2))).sum(-1)  # (5,)
    assert ((estimates.mean(0) - exact).abs() < 4 * estimates.std(0) / math.sqrt(len(estimates))).all()
    assert (estimates.mean(0) - gaussian_kl(mu, logvar)).abs().max() > 0.1  # the check tells the two priors apart


def test_the_entropy_form_has_the_plain_estimates_gradient_and_less_noise(mixture):
    """-H[q] - log p(z) against log q(z|x) - log p(z): the same gradient at every draw, a smaller spread."""
    from vae_tutorial.losses import gaussian_entropy, log_normal

    mu = torch.randn(4, 3, generator=_generator(30)).requires_grad_()
    logvar = (torch.randn(4, 3, generator=_generator(31)) - 3).requires_grad_()  # narrow posteriors
    torch.testing.assert_close(gaussian_entropy(logvar), Normal(mu, torch.exp(0.5 * logvar)).entropy().sum(-1))
    for seed in range(3):
        eps = torch.randn(4, 3, generator=_generator(40 + seed))
        z = mu + torch.exp(0.5 * logvar) * eps
        ours = torch.autograd.grad(mixture.kl(mu, logvar, z).sum(), (mu, logvar), retain_graph=True)
        z = mu + torch.exp(0.5 * logvar) * eps
        plain = torch.autograd.grad((log_normal(z, mu, logvar) - mixture.log_prob(z)).sum(), (mu, logvar))
        for a, b in zip(ours, plain):
            torch.testing.assert_close(a, b)
    with torch.no_grad():
        eps = torch.randn(20_000, 4, 3, generator=_generator(50))
        z = mu + torch.exp(0.5 * logvar) * eps
        spread = mixture.kl(mu, logvar, z).std(0)
        plain_spread = (log_normal(z, mu, logvar) - mixture.log_prob(z)).std(0)
    assert (spread < plain_spread).all()  # the -1/2 sum eps^2 left out


def test_the_single_sample_kl_agrees_with_a_many_sample_estimate(mixture):
    """Against a mixture (no closed form): the mean of one-draw estimates over different draws matches an
    independent estimate from torch.distributions' own log densities."""
    mu, logvar = torch.randn(4, 3, generator=_generator(13)), -torch.rand(4, 3, generator=_generator(14))
    estimates = _single_sample_kls(mixture, mu, logvar, 100_000)
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    z = q.sample((100_000,))  # (100000, 4, 3)
    with torch.no_grad():
        independent = (q.log_prob(z) - _as_distribution(mixture).log_prob(z)).mean(0)
    error = estimates.std(0) / math.sqrt(len(estimates))
    assert ((estimates.mean(0) - independent).abs() < 6 * error).all()


def test_a_vampprior_at_training_images_is_the_mixture_of_their_posteriors():
    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim=3, hidden_dim=16))
    images = torch.rand(5, 1, 28, 28, generator=_generator(15)).mul(0.98).add(0.01)  # inside (0, 1)
    prior = VampPrior(model.encoder, latent_dim=3, image_shape=(1, 28, 28), components=5)
    with torch.no_grad():
        prior.pseudo_logits.copy_(VampPrior.logits_of(images))
        mu, logvar = model.encoder(images)  # (5, 3) each: the posteriors of the five images
    means, logvars = prior.components()
    torch.testing.assert_close(means, mu, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(logvars, logvar, atol=1e-5, rtol=1e-4)
    z = torch.randn(8, 3, generator=_generator(16))
    posteriors = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    expected = MixtureSameFamily(Categorical(logits=torch.zeros(5)), posteriors).log_prob(z)
    torch.testing.assert_close(prior.log_prob(z), expected, atol=1e-5, rtol=1e-4)
    assert prior.sample(4, _generator(17)).shape == (4, 3)


def test_a_frozen_vampprior_is_the_same_density_without_the_encoder():
    """The IWAE evaluates log p(z) thousands of times: the frozen copy runs the encoder once."""
    model = VAE(ModelConfig(latent_dim=3, hidden_dim=16, prior="vamp", prior_components=7))
    calls = []
    model.encoder.register_forward_hook(lambda *args: calls.append(1))
    frozen = model.prior.frozen()
    assert len(calls) == 1 and isinstance(frozen, GaussianMixture)
    z = torch.randn(6, 5, 3, generator=_generator(19))
    with torch.no_grad():
        live = model.prior.log_prob(z)
    calls.clear()
    torch.testing.assert_close(frozen.log_prob(z).detach(), live)
    assert calls == []  # no encoder call
    assert model.prior.frozen is not None and StandardNormal(3).frozen().__class__ is StandardNormal


def test_the_mixture_density_is_accurate_for_narrow_components_far_out():
    """The density expands (z - m)^2 / s^2 into matrix products: check it where that could cancel badly."""
    prior = GaussianMixture(latent_dim=20, components=50, generator=_generator(20))
    with torch.no_grad():
        prior.means.mul_(3)
        prior.logvars.fill_(math.log(0.01))  # posteriors as narrow as a trained encoder's
    z = prior.means[:10].detach() + 0.05 * torch.randn(10, 20, generator=_generator(21))  # near a component
    z = torch.cat([z, 8 * torch.randn(10, 20, generator=_generator(22))])  # and far from all
    exact = _as_distribution(prior.double()).log_prob(z.double())
    torch.testing.assert_close(prior.float().log_prob(z).double(), exact, atol=2e-3, rtol=1e-5)


def test_a_vampprior_saves_only_its_pseudo_inputs_and_follows_the_encoder():
    model = VAE(ModelConfig(latent_dim=3, hidden_dim=16))
    prior = VampPrior(model.encoder, latent_dim=3, image_shape=(1, 28, 28), components=2)
    assert list(prior.state_dict()) == ["pseudo_logits"]  # the encoder's weights are the VAE's, saved there once
    z = torch.randn(4, 3, generator=_generator(18))
    before = prior.log_prob(z)
    with torch.no_grad():
        model.encoder.gaussian.bias.add_(1.0)  # a trained encoder moves the prior with it
    assert not torch.allclose(prior.log_prob(z), before)
    loss = -prior.log_prob(z).sum()
    loss.backward()  # the gradient reaches both the pseudo-inputs and the encoder
    assert prior.pseudo_logits.grad.abs().sum() > 0 and model.encoder.gaussian.weight.grad.abs().sum() > 0


def test_pixels_at_zero_and_one_give_finite_pseudo_logits():
    logits = VampPrior.logits_of(torch.tensor([0.0, 0.5, 1.0]))
    assert torch.isfinite(logits).all() and torch.sigmoid(logits)[1] == 0.5


# The model owns its prior; training, checkpoints, resume, evaluation and the command line use it.

import json  # noqa: E402

from vae_tutorial.config import TrainConfig  # noqa: E402
from vae_tutorial.evaluate import iwae_log_likelihood  # noqa: E402
from vae_tutorial.runs.cache import _folder_name  # noqa: E402
from vae_tutorial.train import fit  # noqa: E402


def test_the_standard_prior_adds_nothing_to_a_checkpoint():
    """A model of the standard prior saves the same keys as before priors existed, so old checkpoints load."""
    keys = list(VAE(ModelConfig()).state_dict())
    assert not [key for key in keys if key.startswith("prior")]
    assert "prior.means" in VAE(ModelConfig(prior="mixture")).state_dict()
    assert list(VAE(ModelConfig(prior="vamp", prior_components=3)).state_dict())[-1] == "prior.pseudo_logits"


def test_the_iwae_uses_the_models_prior():
    """A one-component mixture at N(0, I) gives the standard model's IWAE; moved, another one."""
    torch.manual_seed(0)
    standard = VAE(ModelConfig(latent_dim=3, hidden_dim=16))
    mixture = VAE(ModelConfig(latent_dim=3, hidden_dim=16, prior="mixture", prior_components=1))
    mixture.load_state_dict({**standard.state_dict(), **{k: v for k, v in mixture.state_dict().items()
                                                         if k.startswith("prior")}})
    with torch.no_grad():
        mixture.prior.means.zero_()
    images = torch.rand(6, 1, 28, 28, generator=_generator(19))
    torch.testing.assert_close(iwae_log_likelihood(mixture, images, 20), iwae_log_likelihood(standard, images, 20))
    with torch.no_grad():
        mixture.prior.means.fill_(2.0)
    assert (iwae_log_likelihood(mixture, images, 20) - iwae_log_likelihood(standard, images, 20)).abs().min() > 0.1


@pytest.mark.parametrize("prior", ["mixture", "vamp"])
def test_a_learned_prior_trains_and_moves(prior, toy_split):
    model_config = ModelConfig(latent_dim=2, hidden_dim=32, prior=prior, prior_components=3)
    result = fit(model_config, TrainConfig(epochs=3, batch_size=16, device="cpu"), toy_split, toy_split)
    losses = [record["train_loss"] for record in result.history]
    assert all(math.isfinite(loss) for loss in losses) and losses[-1] < losses[0]
    start = VAE(model_config).prior  # the same seed: the prior as it was before training
    moved = [(a - b).abs().max().item() for a, b in zip(result.model.prior.parameters(), start.parameters())]
    assert max(moved) > 1e-3, "the prior's parameters should learn"


def test_free_bits_beside_a_learned_prior_is_refused(toy_split):
    with pytest.raises(ValueError, match="free bits"):
        fit(ModelConfig(prior="mixture"), TrainConfig(epochs=1, free_bits=0.5), toy_split, toy_split)


def test_a_learned_prior_names_its_cached_run():
    name = _folder_name(ModelConfig(prior="mixture"), TrainConfig(), {"x": 1})
    assert "-mixture-k10-" in name
    assert _folder_name(ModelConfig(prior="mixture", prior_components=10), TrainConfig(), {"x": 1}) == name
    assert "mixture" not in _folder_name(ModelConfig(), TrainConfig(), {"x": 1})


@pytest.mark.parametrize("flags, fragment", [
    (["--prior", "gmm"], "--prior"),
    (["--prior-components", "5"], "--prior mixture or --prior vamp"),
    (["--prior", "mixture", "--prior-components", "0"], "--prior-components"),
    (["--prior", "vamp", "--conditional"], "conditional"),
    (["--prior", "mixture", "--free-bits", "0.5"], "free bits"),
])
def test_bad_prior_flags_are_refused_in_one_line(flags, fragment, cli, tmp_path):
    cli("train", *flags, "--out", tmp_path / "never").failed(2, fragment)
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("prior", ["mixture", "vamp"])
def test_a_run_with_a_learned_prior_resumes_and_evaluates(prior, cli, tiny_train, tmp_path):
    flags = ["--prior", prior, "--prior-components", "3"]
    assert cli(*tiny_train, *flags, "--out", tmp_path / "A").code == 0
    state = torch.load(tmp_path / "A" / "checkpoint.pt", weights_only=True)
    saved = {k: v for k, v in state["model_state"].items() if k.startswith("prior.")}
    assert saved and state["model_config"]["prior"] == prior
    data_dir = tiny_train[tiny_train.index("--data-dir") + 1]
    resumed = cli("train", "--resume", tmp_path / "A" / "checkpoint.pt", "--epochs", "2", "--no-progress",
                  "--data-dir", data_dir, may_change=("A",))
    assert resumed.code == 0, resumed.err
    state = torch.load(tmp_path / "A" / "checkpoint.pt", weights_only=True)
    assert state["history"][-1]["epoch"] == 2
    assert any(not torch.equal(state["model_state"][k], v) for k, v in saved.items()), "the prior should train on"
    report = tmp_path / "eval.json"
    done = cli("evaluate", tmp_path / "A" / "checkpoint.pt", "--iwae-samples", "4", "--data-dir", data_dir,
               "--device", "cpu", "--json", report, "--no-progress")
    assert done.code == 0, done.err
    results = json.loads(report.read_text())
    assert results["prior"] == prior and results["prior_components"] == 3 and results["kl_per_dim"] is None
    assert math.isfinite(results["iwae_nll"]) and math.isfinite(results["test_kl"])
    assert f"{prior} prior" in done.out and "largest KL per dim" not in done.out


def test_a_sweep_trains_each_beta_with_the_learned_prior(cli, tiny_data_root, tmp_path):
    out = tmp_path / "sweep"
    done = cli("sweep", "--betas", "0.5", "2", "--epochs", "1", "--batch-size", "2", "--hidden-dim", "16",
               "--latent-dim", "2", "--prior", "mixture", "--prior-components", "2", "--data-dir", tiny_data_root,
               "--out", out, "--no-progress")
    assert done.code == 0, done.err
    runs = sorted(path.name for path in (out / "runs").iterdir())
    assert len(runs) == 2 and all("-mixture-k2-" in name for name in runs), runs
    for run in runs:
        assert "prior.means" in torch.load(out / "runs" / run / "checkpoint.pt", weights_only=True)["model_state"]


def test_a_conditional_model_takes_a_mixture_prior(cli, tiny_train, tmp_path):
    """p(z) learned, shared by the classes (the label enters encoder and decoder); the VampPrior is refused."""
    done = cli(*tiny_train, "--conditional", "--prior", "mixture", "--prior-components", "2", "--out", tmp_path / "C")
    assert done.code == 0, done.err
    model = VAE(ModelConfig(latent_dim=2, hidden_dim=8, conditional=True, prior="mixture", prior_components=2))
    assert model.sample(10, labels=torch.arange(10)).shape == (10, 1, 28, 28)


def test_elbo_surgery_against_a_learned_prior():
    """The prior that makes the rate smallest for a fixed encoder is the aggregate posterior q(z): a VampPrior
    whose pseudo-inputs are the very images leaves no marginal KL, and the rate is then all information."""
    from vae_tutorial.posterior import elbo_surgery

    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim=2, hidden_dim=16, prior="vamp", prior_components=40))
    images = torch.rand(40, 1, 28, 28, generator=_generator(20)).mul(0.98).add(0.01)
    with torch.no_grad():
        model.prior.pseudo_logits.copy_(VampPrior.logits_of(images))
        mu, logvar = model.encoder(images)
    learned = elbo_surgery(mu, logvar, samples=64, generator=_generator(21), log_prior=model.prior.log_prob)
    assert abs(learned.marginal_kl) < 1e-4 and abs(learned.rate - learned.information) < 1e-4
    standard = elbo_surgery(mu, logvar, samples=64, generator=_generator(21))
    assert standard.marginal_kl > 0.01 and learned.rate < standard.rate  # the standard prior pays a mismatch
    # the standard prior passed as a callable gives the same split, with an estimated rate near the exact one
    explicit = elbo_surgery(mu, logvar, samples=64, generator=_generator(21), log_prior=StandardNormal(2).log_prob)
    assert abs(explicit.information - standard.information) < 1e-6
    assert abs(explicit.marginal_kl - standard.marginal_kl) < 1e-4
    assert abs(explicit.rate - standard.rate) < 4 * max(explicit.sum_se, standard.sum_se) + 1e-3


def test_the_prior_settings_leave_a_standard_runs_cache_key_as_it_was(toy_split):
    """A run cached before priors existed keeps its key (and its folder): the new settings enter the key only
    away from their defaults."""
    from vae_tutorial.runs.cache import run_settings

    standard = run_settings(ModelConfig(), TrainConfig(), toy_split)
    assert "prior" not in standard and "prior_components" not in standard
    learned = run_settings(ModelConfig(prior="vamp"), TrainConfig(), toy_split)
    assert (learned["prior"], learned["prior_components"]) == ("vamp", 500)
