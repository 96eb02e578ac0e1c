"""The importance-weighted evaluation against the decoder's own arithmetic, for both architectures.

    VAE_TUTORIAL_DATA=../shared/data python benchmarks/iwae_speed.py --images 200 --samples 500

Prints, all measured in this one run on this machine, for the MLP and the conv model:
  - seconds of `iwae_log_likelihood` on the first N test images with K samples,
    and of the same estimator written the textbook way (targets expanded per
    sample, the elementwise BCE), with the largest difference between the two;
  - seconds of the decoder's layers alone at the same shapes (MLP: its two
    matrix multiplies; conv: its whole forward pass), and the fraction
    layers / evaluation: how close the evaluation runs to its unavoidable work;
  - the evaluation extrapolated to K = 5000 on all 10,000 test images.
Targets (issue 13): MLP fraction >= 0.75, conv fraction >= 0.50.
Timings are the best of --repeats runs; the machine may be shared, so compare
figures within one run only.
"""

from __future__ import annotations

import argparse
import sys
import time

from _cli import Parser, count, run
from vae_tutorial.runs.runtime import tune_for_cpu

tune_for_cpu()  # the command line's start-up setting (runtime.py), before torch loads

import torch  # noqa: E402

from vae_tutorial.config import ARCHITECTURES, ModelConfig  # noqa: E402
from vae_tutorial.data import load_split  # noqa: E402
from vae_tutorial.evaluate import (  # noqa: E402
    IWAE_BATCH,
    IWAE_CHUNK,
    importance_weighted_log_px,
    iwae_log_likelihood,
)
from vae_tutorial.losses import bernoulli_nll  # noqa: E402
from vae_tutorial.model import VAE  # noqa: E402

BATCH, CHUNK = IWAE_BATCH, IWAE_CHUNK  # the evaluation's own: images per batch, samples per decoder call
TEST_IMAGES = 10_000  # Fashion-MNIST's test split: the most images there are to measure on


def best_of(repeats: int, work) -> float:
    """The fastest of `repeats` timed calls, after one untimed warm-up."""
    work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


@torch.no_grad()
def textbook_iwae(model: VAE, images: torch.Tensor, num_samples: int) -> torch.Tensor:
    """The same estimator with the targets expanded for every sample and the elementwise BCE (the baseline)."""
    generator = torch.Generator().manual_seed(1234)
    estimates = []
    for start in range(0, images.shape[0], BATCH):
        x = images[start:start + BATCH]

        def log_px_given_z(z: torch.Tensor) -> torch.Tensor:
            logits = model.decoder(z.flatten(0, 1))  # (k*B, C, H, W)
            targets = x.expand(z.shape[0], *x.shape).flatten(0, 1)  # (k*B, C, H, W), a copy
            return -bernoulli_nll(logits, targets).view(z.shape[:2])  # (k, B)

        mu, logvar = model.encoder(x)
        estimates.append(importance_weighted_log_px(mu, logvar, log_px_given_z, num_samples, CHUNK, generator))
    return torch.cat(estimates)


@torch.no_grad()
def decoder_layers_alone(model: VAE, images: int, num_samples: int) -> None:
    """The decoder's unavoidable work at the evaluation's shapes: MLP matmuls, or the conv decoder's layers."""
    rows = BATCH * CHUNK  # decoded codes per chunk
    chunks = (images // BATCH) * -(-num_samples // CHUNK)
    z = torch.randn(rows, model.config.latent_dim)
    if model.config.arch == "mlp":
        hidden = torch.randn(rows, model.config.hidden_dim)
        first, second = model.decoder.hidden, model.decoder.logits
        for _ in range(chunks):
            torch.addmm(first.bias, z, first.weight.T)
            torch.addmm(second.bias, hidden, second.weight.T)
    else:
        for _ in range(chunks):
            model.decoder(z)


def measure(arch: str, images: torch.Tensor, num_samples: int, repeats: int) -> dict:
    torch.manual_seed(0)
    model = VAE(ModelConfig(arch=arch)).eval()
    fast = best_of(repeats, lambda: iwae_log_likelihood(model, images, num_samples))
    slow = best_of(repeats, lambda: textbook_iwae(model, images, num_samples))
    layers = best_of(repeats, lambda: decoder_layers_alone(model, images.shape[0], num_samples))
    difference = (iwae_log_likelihood(model, images, num_samples) - textbook_iwae(model, images, num_samples)).abs()
    full = fast * (10_000 / images.shape[0]) * (5000 / num_samples)
    return {"arch": arch, "fast": fast, "slow": slow, "layers": layers, "fraction": layers / fast,
            "difference": difference.max().item(), "full_minutes": full / 60}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments, each checked here (a bad one is refused before anything is read or timed).

    The image counts are whole batches of the evaluation (BATCH): the decoder's layers are timed per
    batch, so a partial batch would be measured as no work at all.
    """
    images = count(BATCH, TEST_IMAGES, BATCH, what=" (whole batches of the test split)")
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=images, default=200, help=f"test images (a multiple of {BATCH})")
    parser.add_argument("--samples", type=count(1, 100_000, what=" (K per image: the papers use 5000)"), default=500,
                        help="K, importance samples per image (at most 100,000: more would run for days here)")
    parser.add_argument("--conv-images", type=images, default=100, help="test images for the conv model")
    parser.add_argument("--repeats", type=count(1, 100), default=3)
    parser.add_argument("--archs", nargs="+", choices=ARCHITECTURES, default=list(ARCHITECTURES))
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    test = load_split(False).images
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; K = {args.samples}; "
          f"best of {args.repeats}")
    targets = {"mlp": 0.75, "conv": 0.50}
    for arch in args.archs:
        count = args.images if arch == "mlp" else args.conv_images
        row = measure(arch, test[:count], args.samples, args.repeats)
        print(f"{arch:4s} {count} images: evaluation {row['fast']:.2f} s (textbook {row['slow']:.2f} s, "
              f"x{row['slow'] / row['fast']:.2f}; largest difference {row['difference']:.1e} nats); "
              f"decoder layers alone {row['layers']:.2f} s; fraction {row['fraction']:.2f} "
              f"(target {targets[arch]:.2f}); K=5000 on 10,000 images: about {row['full_minutes']:.0f} min")


if __name__ == "__main__":
    sys.exit(run(main))
