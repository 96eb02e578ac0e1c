"""One training epoch: this package against the classic loop, and against the machine's matmul speed.

    VAE_TUTORIAL_DATA=../shared/data python benchmarks/epoch_speed.py

Prints, all measured in this one run on this machine:
  - seconds per epoch of the classic loop (torchvision dataset + ToTensor +
    DataLoader, the same MLP and loss) and of vae_tutorial.train, and the ratio;
  - the epoch's matrix-multiply FLOPs, the GFLOP/s the epoch achieved, the
    GFLOP/s of the same-shaped matmuls timed alone, and the fraction.
Targets (issue 2): ratio >= 4, fraction >= 0.60.
"""

from __future__ import annotations

import argparse
import sys
import time

from _cli import Parser, count, nonempty, run, value_parser
from vae_tutorial.runs.runtime import tune_for_cpu

tune_for_cpu()  # the command line's start-up setting (runtime.py), before torch loads

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from vae_tutorial.config import ModelConfig, TrainConfig  # noqa: E402
from vae_tutorial.data import load_split  # noqa: E402
from vae_tutorial.losses import gaussian_kl  # noqa: E402
from vae_tutorial.model import VAE  # noqa: E402
from vae_tutorial.train import fit, set_seed  # noqa: E402


def classic_epoch(model_config: ModelConfig, batch_size: int, data_dir: str | None, max_batches: int | None) -> float:
    """Seconds for one epoch of the textbook loop, as the well-known PyTorch VAE example writes it.

    Per item: PIL image -> ToTensor; the DataLoader collates; the loss is
    F.binary_cross_entropy on sigmoid outputs, summed; plain Adam.
    """
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    from vae_tutorial.data import resolve_data_root

    root, _ = resolve_data_root(data_dir)
    dataset = datasets.FashionMNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    set_seed(0)
    model = VAE(model_config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start, batches = time.perf_counter(), 0
    for x, _ in loader:
        out = model(x)
        recon = F.binary_cross_entropy(torch.sigmoid(out.logits), x, reduction="sum")
        loss = (recon + gaussian_kl(out.mu, out.logvar).sum()) / x.shape[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        batches += 1
        if max_batches and batches >= max_batches:
            break
    seconds = time.perf_counter() - start
    return seconds * len(loader) / batches  # scaled to a whole epoch when cut short


def linear_shapes(model: VAE) -> list[tuple[int, int, bool]]:
    """(in_features, out_features, needs_input_grad) of every Linear layer, in order."""
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    first = model.encoder.hidden
    return [(m.in_features, m.out_features, m is not first) for m in linears]


def epoch_matmul_flops(shapes: list[tuple[int, int, bool]], images: int) -> float:
    """Forward, weight-gradient and (except for the first layer) input-gradient matmuls: 2*m*n*k each."""
    per_image = sum(2 * i * o * (3 if needs_grad else 2) for i, o, needs_grad in shapes)
    return per_image * images


def matmul_gflops(shapes: list[tuple[int, int, bool]], batch: int, repeats: int) -> float:
    """GFLOP/s of the same-shaped matmuls as one training step, timed alone."""
    generator = torch.Generator().manual_seed(0)
    operands = []
    for i, o, needs_grad in shapes:
        x, w, g = (torch.randn(s, generator=generator) for s in ((batch, i), (i, o), (batch, o)))
        operands.append((x, w, g, needs_grad))

    def step() -> None:
        for x, w, g, needs_grad in operands:
            x @ w  # forward (B, i) @ (i, o)
            x.T @ g  # weight gradient (i, B) @ (B, o)
            if needs_grad:
                g @ w.T  # input gradient (B, o) @ (o, i)

    for _ in range(20):
        step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    seconds = time.perf_counter() - start
    flops = epoch_matmul_flops(shapes, batch) * repeats
    return flops / seconds / 1e9


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments, each checked here (a bad one is refused before anything is read or timed)."""
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=value_parser(TrainConfig, "batch_size", "int"), default=128)
    parser.add_argument("--data-dir", type=nonempty, default=None)
    parser.add_argument("--classic-batches", type=count(), default=None, help="cut the classic epoch short and scale")
    parser.add_argument("--epochs", type=value_parser(TrainConfig, "epochs", "int"), default=2,
                        help="package epochs; the fastest is reported")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    model_config = ModelConfig()
    train, test = load_split(True, args.data_dir), load_split(False, args.data_dir).head(1000)
    history = fit(model_config, TrainConfig(epochs=args.epochs, batch_size=args.batch_size, device="cpu"), train, test).history
    ours = min(record["epoch_seconds"] for record in history)
    classic = classic_epoch(model_config, args.batch_size, args.data_dir, args.classic_batches)
    shapes = linear_shapes(VAE(model_config))
    flops = epoch_matmul_flops(shapes, len(train))
    steps = -(-len(train) // args.batch_size)
    peak = max(matmul_gflops(shapes, args.batch_size, steps // 2) for _ in range(2))
    achieved = flops / ours / 1e9
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}, {len(train)} images")
    print(f"classic loop (ToTensor + DataLoader)  {classic:7.2f} s/epoch")
    print(f"vae_tutorial.train                    {ours:7.2f} s/epoch   speed-up {classic / ours:5.1f}x  (target >= 4x)")
    print(f"matmul work per epoch                 {flops / 1e9:7.1f} GFLOP")
    print(f"epoch throughput                      {achieved:7.1f} GFLOP/s")
    print(f"same-shaped matmuls alone             {peak:7.1f} GFLOP/s")
    print(f"fraction of matmul throughput         {achieved / peak:7.2f}   (target >= 0.60)")


if __name__ == "__main__":
    sys.exit(run(main))
