"""The latent explorer of the static site: a trained decoder exported for the reader's browser.

In JupyterLab the explorer asks the kernel to decode (widgets.py). A static page has no kernel, so
the book build exports the decoder's weights to a small script beside the page, and
book/_ext/static/latent-explorer.js runs the same decoder there: one matrix product per layer, ReLU
between them, then the Bernoulli means sigmoid(l) of (eq. bernoulli-decoder), drawn on a canvas.
The build names a folder in $VAE_TUTORIAL_SITE_ASSETS (book/_ext/latent_explorer.py); only then do
the chapters write anything.

What the browser cannot carry is refused by name (ExportError): a weight float16 cannot hold, a code
that is not finite, a label that is not a class. The weights script is written only inside the
folder, never through a symbolic link out of it (OutputError).
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import stat
from pathlib import Path

import torch

from ..checkpoint import atomic_write
from ..data import CLASS_NAMES
from ..errors import ExportError, OutputError, describe_error
from ..model import VAE

ASSETS_ENV_VAR = "VAE_TUTORIAL_SITE_ASSETS"
REGISTRY = "VAE_EXPLORER_MODELS"  # the browser's table of exported decoders, by name
FLOAT16_MAX = torch.finfo(torch.float16).max  # 65504: the largest weight the browser's 16-bit floats hold


def decoder_layers(model: VAE) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The decoder as (weight (out, in), bias (out,)) pairs, in the order they run.

    Only what the browser reproduces: an unconditional MLP decoder with the Bernoulli likelihood,
    whose mean image is sigmoid(W2 relu(W1 z + b1) + b2).
    """
    config = model.config
    if config.arch != "mlp" or config.conditional or config.likelihood != "bernoulli":
        raise ExportError("the site's explorer runs an unconditional MLP decoder with the Bernoulli likelihood, "
                          f"not this {config.arch} model ({config.likelihood}, conditional={config.conditional})")
    layers = {"hidden": model.decoder.hidden, "logits": model.decoder.logits}
    pairs = []
    for name, layer in layers.items():
        for part in ("weight", "bias"):
            _require_float16(getattr(layer, part).detach().cpu(), f"decoder.{name}.{part}")
        pairs.append((layer.weight.detach().cpu().float(), layer.bias.detach().cpu().float()))
    return pairs


def _require_float16(tensor: torch.Tensor, name: str) -> None:
    """Refuse a tensor that float16 would turn into infinities or NaN, naming it and one such value."""
    lost = ~torch.isfinite(tensor.to(torch.float16)) | ~torch.isfinite(tensor)
    if lost.any():
        example = tensor[lost].flatten()[0].item()
        raise ExportError(f"the explorer cannot export {name}: {int(lost.sum())} of its values (e.g. {example:g}) "
                          f"are beyond float16's range of +-{FLOAT16_MAX:g} or not numbers; the page stores "
                          "the weights as 16-bit floats")


def _require_finite(codes: torch.Tensor) -> None:
    """Refuse codes that are not finite numbers, naming how many and the first row."""
    bad = ~torch.isfinite(codes).reshape(len(codes), -1).all(dim=1)  # (N,)
    if bad.any():
        row = int(bad.nonzero()[0])
        raise ExportError(f"the explorer cannot place codes that are not finite: {int(bad.sum())} of {len(codes)} "
                          f"(e.g. row {row}: {codes[row].tolist()}) hold NaN or an infinity")


def _require_classes(labels: torch.Tensor) -> None:
    """Refuse labels that are not class indices (the page colours and names each code by its class)."""
    values = labels.double()
    valid = (values == values.floor()) & (values >= 0) & (values < len(CLASS_NAMES))  # (N,)
    if not valid.all():
        row = int((~valid).nonzero()[0])
        raise ExportError(f"the explorer's labels are classes 0 to {len(CLASS_NAMES) - 1}: "
                          f"row {row} holds {labels[row].item()}")


def _float16_base64(tensor: torch.Tensor) -> str:
    """A tensor as little-endian float16 bytes in base64: half the size of float32, and a decoded
    pixel moves by well under one grey level (tests/test_site_explorer.py measures it)."""
    data = tensor.contiguous().to(torch.float16).numpy().astype("<f2").tobytes()
    return base64.b64encode(data).decode("ascii")


def plane_limit(codes: torch.Tensor) -> float:
    """Half the width of the plane to draw: the 99.5th percentile of |code|, at least 3, up to a half."""
    _require_finite(codes)
    reach = torch.quantile(codes.abs().flatten().double(), 0.995).item() if len(codes) else 0.0
    return max(3.0, math.ceil(2 * reach) / 2)


def payload(model: VAE, codes: torch.Tensor, labels: torch.Tensor, description: str) -> dict:
    """What the browser needs: the decoder's layers, the codes to scatter with their classes, the words.

    codes: (N, 2) posterior means of test images; labels: (N,) their classes.
    """
    if model.config.latent_dim != 2 or codes.dim() != 2 or codes.shape[1] != 2:
        raise ExportError("the site's explorer is a plane: it needs a 2-D latent space and (N, 2) codes")
    if labels.dim() != 1 or len(labels) != len(codes):
        raise ExportError(f"{len(codes)} codes but labels of shape {tuple(labels.shape)}")
    _require_finite(codes)
    _require_classes(labels)
    layers = [{"in": weight.shape[1], "out": weight.shape[0], "weight": _float16_base64(weight),
               "bias": _float16_base64(bias)} for weight, bias in decoder_layers(model)]
    return {
        "format": 1,
        "image_shape": list(model.config.image_shape[-2:]),
        "layers": layers,  # weight row-major (out, in); ReLU after every layer but the last, sigmoid after it
        "codes": [[round(a, 3), round(b, 3)] for a, b in codes.tolist()],
        "labels": [int(c) for c in labels.tolist()],
        "class_names": list(CLASS_NAMES),
        "limit": plane_limit(codes),
        "description": description,
    }


def payload_script(name: str, content: dict) -> str:
    """A script that registers the payload under name (a script, not JSON: it loads from file:// too)."""
    return (f"window.{REGISTRY} = window.{REGISTRY} || {{}};\n"
            f"window.{REGISTRY}[{json.dumps(name)}] = {json.dumps(content, separators=(',', ':'))};\n")


def weights_file(name: str) -> str:
    """The weights script's file name, beside the page."""
    return f"{name}.js"


def write_inside(folder: Path, name: str, text: str) -> None:
    """Write folder/name atomically, never through a link: a link or a non-file there is refused (OutputError)."""
    target = folder / name
    if folder.is_symlink():  # every file would land where it points
        raise OutputError(f"the explorer's folder {folder} is a symbolic link (to {os.readlink(folder)}), and "
                          "nothing is written through a link: name the folder itself")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            raise OutputError(f"the explorer's weights {target} would be written through a symbolic link "
                              f"(to {os.readlink(target)}): remove the link")
        if target.exists() and not stat.S_ISREG(target.stat().st_mode):
            raise OutputError(f"the explorer's weights {target} would replace something that is not a file")
        atomic_write(target, lambda file: file.write(text.encode("utf-8")))  # a new file renamed over the name
    except OSError as err:
        raise OutputError(f"cannot write the explorer's weights {target}: {describe_error(err)}") from err


def site_html(name: str, description: str, parameters: int) -> str:
    """The page's placeholder: latent-explorer.js builds the explorer in it; without JavaScript it says so."""
    source = (f"The weights ({parameters:,} numbers, stored as 16-bit floats in {weights_file(name)} beside this "
              "page) were exported from the trained model when the book was built.")
    return (f'<div class="vae-explorer" data-model="{html.escape(name)}" '
            f'data-weights="{html.escape(weights_file(name))}">'
            f'<p class="vae-explorer-about">{html.escape(description)} {html.escape(source)}</p>'
            '<p class="vae-explorer-fallback">The explorer runs the decoder in your browser and needs '
            'JavaScript. Figures 8.1 and 8.2 show the same decoder and the same codes as pictures.</p>'
            '</div>')


def export(model: VAE, codes: torch.Tensor, labels: torch.Tensor, name: str, description: str,
           folder: str | os.PathLike) -> str:
    """Write the weights script into folder (the build copies it beside the page); return the page's HTML."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ExportError(f"an explorer's name is lower-case letters, digits and dashes, got {name!r}")
    content = payload(model, codes, labels, description)
    write_inside(Path(folder), weights_file(name), payload_script(name, content))
    parameters = sum(layer["out"] * (layer["in"] + 1) for layer in content["layers"])  # weights and biases
    return site_html(name, description, parameters)
