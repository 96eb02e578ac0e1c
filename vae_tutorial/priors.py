"""The prior p(z): the standard normal of the VAE, or a prior learned together with the model.

The KL term pulls every q(z|x) towards p(z). The standard normal is a choice, not a law: for a
fixed encoder, the prior that makes the rate averaged over the data smallest is the aggregate
posterior q(z) itself (Hoffman and Johnson, 2016). Two learned priors move p(z) towards it:

- ``GaussianMixture``: J Gaussians with learned means, variances and weights (eq. mixture-prior);
- ``VampPrior`` (Tomczak and Welling, 2018): the mixture of the encoder's own posteriors at J
  learned pseudo-inputs, p(z) = 1/J sum_j q(z | u_j) (eq. vamp-prior).

(J components, as in the chapter "Learned priors": K is the IWAE's number of samples.)
Each prior has ``log_prob(z)`` and ``sample(n)``, and ``kl(mu, logvar, z)``, the KL term of one
image: in closed form against the standard normal (eq. kl-gauss); against a mixture, which has
none, -H[q(z|x)] - log p(z) at the reparameterized z (eq. kl-one-draw): the entropy in closed form,
the cross-entropy from the one draw, unbiased because z is a draw from q(z|x). The model owns its prior (``make_prior``), as it owns its likelihood, and
the training loop asks it for the KL term: one loop, whichever the prior.
"""

from __future__ import annotations


import torch
from torch import nn

from .config import ModelConfig
from .losses import gaussian_entropy, gaussian_kl, log_gaussian_mixture, log_standard_normal

PIXEL_MARGIN = 1e-4  # pseudo-inputs built from images: pixels kept this far inside (0, 1), so that their logits are finite


class Prior(nn.Module):
    """p(z) over D latent dimensions: a log density, a sampler and the KL term against q(z|x)."""

    latent_dim: int

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z), summed over the last (latent) dimension -> z.shape[:-1]."""
        raise NotImplementedError

    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """count draws from p(z) -> (count, D)."""
        raise NotImplementedError

    def frozen(self) -> Prior:
        """The prior as it is now, for evaluation: a prior whose density needs no network call may return itself."""
        return self

    def kl(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """(eq. kl-one-draw) KL(q(z|x) || p(z)) per image, estimated from z ~ q(z|x) -> z.shape[:-1].

        -H[q(z|x)] - log p(z): its expectation over z ~ q(z|x) is the KL. The plain estimate
        log q(z|x) - log p(z) has the same gradient at every draw (log q's, at the reparameterized z,
        is the negative entropy's); the values differ by 1/2 sum_d (1 - eps_d^2), which makes this one
        the quieter where the posteriors are narrow (sigma^2 < 1/2) and the plain one where they are wide.
        """
        return -gaussian_entropy(logvar) - self.log_prob(z)


class StandardNormal(Prior):
    """p(z) = N(0, I): no parameters, and the KL in closed form."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.register_buffer("_where", torch.zeros(0), persistent=False)  # follows .to(device); not saved

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return log_standard_normal(z)

    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(count, self.latent_dim, generator=generator, device=self._where.device)

    def kl(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """(eq. kl-gauss): exact, so z is not needed."""
        return gaussian_kl(mu, logvar)


def _log_mixture(z: torch.Tensor, means: torch.Tensor, logvars: torch.Tensor,
                 log_weights: torch.Tensor | None = None) -> torch.Tensor:
    """(eq. mixture-lse) log p(z) of a Gaussian mixture, in z's dtype -> z.shape[:-1].

    z: (..., D); means, logvars: (J, D); log_weights: (J,), or None for equal weights. The IWAE asks for 50 x 100 codes at a time,
    thousands of times, against 500 components: losses.log_gaussian_mixture forms no (..., J, D) tensor.
    """
    return log_gaussian_mixture(z, means, logvars, log_weights).to(z.dtype)


def _sample_mixture(count: int, means: torch.Tensor, logvars: torch.Tensor, weights: torch.Tensor,
                    generator: torch.Generator | None) -> torch.Tensor:
    """Pick a component by its weight, then draw from it -> (count, D)."""
    which = torch.multinomial(weights, count, replacement=True, generator=generator)  # (count,)
    eps = torch.randn(count, means.shape[1], generator=generator, device=means.device, dtype=means.dtype)
    return means[which] + torch.exp(0.5 * logvars[which]) * eps  # (count, D)


class GaussianMixture(Prior):
    """(eq. mixture-prior) p(z) = sum_j pi_j N(z; eta_j, diag kappa_j^2), pi = softmax(weight_logits), all learned."""

    def __init__(self, latent_dim: int, components: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        # means spread over the standard normal's bulk, unit variances, equal weights: about N(0, 2I) at the start
        self.means = nn.Parameter(torch.randn(components, latent_dim, generator=generator))  # (J, D)
        self.logvars = nn.Parameter(torch.zeros(components, latent_dim))  # (J, D): log kappa^2
        self.weight_logits = nn.Parameter(torch.zeros(components))  # (J,): pi = softmax(logits)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return _log_mixture(z, self.means, self.logvars, torch.log_softmax(self.weight_logits, dim=0))

    @torch.no_grad()
    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return _sample_mixture(count, self.means, self.logvars, torch.softmax(self.weight_logits, dim=0), generator)


class VampPrior(Prior):
    """(eq. vamp-prior) p(z) = 1/J sum_j q(z | u_j): the encoder's posteriors at J learned pseudo-inputs u_j (Tomczak and
    Welling, 2018). The pseudo-inputs are images, u = sigmoid(pseudo_logits), so each pixel stays in (0, 1).

    The encoder belongs to the VAE; the prior only calls it (it is not a submodule here, so its weights
    are saved once, under the VAE's encoder). An encoder that needs class labels cannot be used.
    """

    def __init__(self, encoder: nn.Module, latent_dim: int, image_shape: tuple[int, ...], components: int,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_encoder", encoder)  # a reference, not a registered child
        self.latent_dim = latent_dim
        # pseudo-inputs start as faint noise around a dark grey, sigmoid(-2) = 0.12 (Fashion-MNIST is mostly dark)
        self.pseudo_logits = nn.Parameter(-2 + 0.5 * torch.randn(components, *image_shape, generator=generator))

    @classmethod
    def logits_of(cls, images: torch.Tensor) -> torch.Tensor:
        """The pseudo-logits whose sigmoid gives these images (pixels kept just inside (0, 1))."""
        return torch.logit(images.clamp(PIXEL_MARGIN, 1 - PIXEL_MARGIN))

    def pseudo_inputs(self) -> torch.Tensor:
        return torch.sigmoid(self.pseudo_logits)  # (J, C, H, W)

    def components(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The mixture's Gaussians: the encoder's (mu, logvar) at each pseudo-input -> (J, D), (J, D)."""
        return self._encoder(self.pseudo_inputs())

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        means, logvars = self.components()
        return _log_mixture(z, means, logvars)  # weight 1/J each

    @torch.no_grad()
    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        means, logvars = self.components()
        weights = torch.ones(means.shape[0], device=means.device)
        return _sample_mixture(count, means, logvars, weights, generator)

    @torch.no_grad()
    def frozen(self) -> GaussianMixture:
        """The same density as a Gaussian mixture with equal weights: the encoder runs on the pseudo-inputs
        once, not at every call (the IWAE calls log_prob thousands of times)."""
        means, logvars = self.components()
        snapshot = GaussianMixture(self.latent_dim, means.shape[0]).to(means.device)
        snapshot.means.data, snapshot.logvars.data = means.clone(), logvars.clone()
        return snapshot


def make_prior(config: ModelConfig, encoder: nn.Module) -> Prior:
    """The prior a ModelConfig names; the VampPrior uses (and does not own) the model's encoder."""
    if config.prior == "mixture":
        return GaussianMixture(config.latent_dim, config.prior_components)
    if config.prior == "vamp":
        return VampPrior(encoder, config.latent_dim, config.image_shape, config.prior_components)
    return StandardNormal(config.latent_dim)
