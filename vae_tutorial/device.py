"""Which device runs the model, and whether a model of a given size fits there."""

from __future__ import annotations

import os

import torch

from .config import ModelConfig
from .errors import DeviceError, first_line
from .losses import MIXTURE_BLOCK
from .model import VAE

TRAINING_COPIES = 4  # weights, gradients and Adam's two moments, each as large as the model
ACTIVATION_COPIES = 3  # each layer's output, kept for the backward pass, its gradient, and a temporary beside them
FLOAT_BYTES = 4  # float32
DATA_IMAGES = 70_000  # Fashion-MNIST's training and test images, held in memory as float32 for the whole run
WIDE_BYTES = 8  # float64: a mixture's log density is computed in it (losses.log_gaussian_mixture)
MIXTURE_COPIES = 6  # (codes, J) matrices of a mixture's log density alive at once: its terms, and their gradients


def pick_device(name: str = "auto") -> torch.device:
    """The named device, or for "auto" the best one available: cuda, then mps, then cpu."""
    has_mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda: this machine has no CUDA GPU that torch can use; use --device cpu or auto")
    if name == "mps" and not has_mps:
        raise DeviceError("--device mps: this machine has no Apple GPU (MPS) that torch can use; use --device cpu or auto")
    return torch.device(name)


def model_sizes(config: ModelConfig) -> tuple[int, int]:
    """(parameters, activations per image) of the VAE of this config, counted on the meta device (nothing allocated).

    Activations: every layer's output in one forward pass of one image, plus the loss's per-pixel terms.
    """
    try:
        with torch.device("meta"):
            model = VAE(config)
            outputs: list[int] = []
            for module in model.modules():
                if not list(module.children()):
                    module.register_forward_hook(lambda mod, inputs, out: outputs.append(_numel(out)))
            labels = torch.zeros(1, dtype=torch.long) if config.conditional else None
            model(torch.zeros(1, *config.image_shape), labels=labels)
    except (RuntimeError, OverflowError, ValueError, TypeError, MemoryError) as err:  # sizes beyond what torch can index
        raise DeviceError(f"a model of latent dim {config.latent_dim} and hidden dim {config.hidden_dim} is too large "
                          f"to build ({first_line(err)[:80]}): choose a smaller --latent-dim or --hidden-dim") from None
    return sum(p.numel() for p in model.parameters()), sum(outputs) + 4 * config.num_pixels


def _numel(out) -> int:
    tensors = out if isinstance(out, (tuple, list)) else (out,)
    return sum(t.numel() for t in tensors if isinstance(t, torch.Tensor))


def parameter_count(config: ModelConfig) -> int:
    """How many numbers the VAE of this config holds, counted without allocating them."""
    return model_sizes(config)[0]


def training_bytes(config: ModelConfig, batch_size: int) -> int:
    """Memory one training step needs: weights, gradients, Adam's moments, activations at this batch size, the data,
    and a learned prior's KL term (prior_bytes)."""
    parameters, per_image = model_sizes(config)
    activations = ACTIVATION_COPIES * per_image * max(batch_size, 1000)  # 1000: the test set is scored in batches of 1000
    model = FLOAT_BYTES * (TRAINING_COPIES * parameters + activations + DATA_IMAGES * config.num_pixels)
    return model + prior_bytes(config, batch_size)


def prior_bytes(config: ModelConfig, batch_size: int) -> int:
    """Memory a learned prior's KL term needs beyond the model: (codes, J) matrices in float64 for a batch with
    its gradients (evaluation goes through blocks of MIXTURE_BLOCK numbers), and a VampPrior's encoder run on
    its J pseudo-inputs at every step. 0 for the standard normal (its KL is in closed form)."""
    if config.prior == "standard":
        return 0
    components = config.prior_components
    mixture = WIDE_BYTES * MIXTURE_COPIES * max(components * batch_size, min(components * 1000, MIXTURE_BLOCK))
    if config.prior != "vamp":
        return mixture
    _, per_image = model_sizes(config)
    return mixture + FLOAT_BYTES * ACTIVATION_COPIES * components * (per_image // 2)  # the encoder: about half


def what_helps(config: ModelConfig, batch_size: int, resumed: bool = False) -> str:
    """The settings that would shrink a run that does not fit, the largest part first (a resumed run's are fixed)."""
    flags = "a smaller --batch-size, --hidden-dim or --latent-dim"
    parameters, per_image = model_sizes(config)
    network = FLOAT_BYTES * (TRAINING_COPIES * parameters + ACTIVATION_COPIES * per_image * max(batch_size, 1000))
    if prior_bytes(config, batch_size) > network:  # the prior's part outweighs the networks' own: J is what to cut
        flags = f"fewer --prior-components (this {config.prior} prior has {config.prior_components:,}) or a smaller --batch-size"
    return f"a resumed run keeps its checkpoint's settings: start a new run with {flags}" if resumed else f"choose {flags}"


def available_bytes(device: torch.device) -> int | None:
    """Memory the device can still give (None when it cannot be told): on Linux MemAvailable, page cache included."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_model_fits(config: ModelConfig, device: torch.device, batch_size: int = 1, resumed: bool = False) -> None:
    """Refuse, before allocating anything, a model (and batch) whose training cannot fit in memory; say what helps."""
    needed = training_bytes(config, batch_size)
    free = available_bytes(device)
    if free is not None and needed > free:
        prior = f", a {config.prior} prior of {config.prior_components:,} components" if config.prior != "standard" else ""
        raise DeviceError(f"training a model of latent dim {config.latent_dim} and hidden dim {config.hidden_dim}{prior} "
                          f"with batches of {batch_size} needs about {needed / 2**30:.1f} GiB, and {device.type} has "
                          f"{free / 2**30:.1f} GiB free: {what_helps(config, batch_size, resumed)}")


def out_of_memory(err: BaseException) -> bool:
    """True for an allocation failure, whichever way torch or Python reports it."""
    text = str(err)
    return isinstance(err, (MemoryError, torch.OutOfMemoryError)) or (
        isinstance(err, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text.lower()))
