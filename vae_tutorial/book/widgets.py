"""Interactive explorers: ipywidgets in JupyterLab; on the static site, the decoder run by the browser."""

from __future__ import annotations

import io

import torch

from ..config import env_path
from ..model import VAE
from .site_explorer import ASSETS_ENV_VAR, export


def to_png(probabilities: torch.Tensor, scale: int = 6) -> bytes:
    """A (1, H, W) image in [0, 1] as PNG bytes, enlarged `scale` times."""
    from PIL import Image

    pixels = (probabilities.squeeze(0).clamp(0, 1) * 255).round().byte().numpy()  # (H, W) uint8
    image = Image.fromarray(pixels, mode="L")
    image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def latent_explorer(
    model: VAE,
    dims: list[int] | None = None,
    start: torch.Tensor | None = None,
    span: float = 3.0,
):
    """Sliders over latent dimensions -> the decoded image, redrawn as a slider moves.

    dims: which dimensions get a slider (default: all, up to the first 8);
    start: the latent point the other dimensions are held at (default: the prior mean 0).
    """
    import ipywidgets as widgets

    latent_dim = model.config.latent_dim
    dims = list(range(min(latent_dim, 8))) if dims is None else dims
    if start is None:
        z = torch.zeros(1, latent_dim)  # (1, D): the prior mean
    else:
        z = start.detach().clone().view(1, latent_dim)  # (1, D)
    image = widgets.Image(format="png", width=168, height=168)
    sliders = [
        widgets.FloatSlider(value=float(z[0, d]), min=-span, max=span,
                            step=0.05, description=f"z{d}",
                            continuous_update=True)
        for d in dims
    ]

    def redraw(_change=None) -> None:
        for d, slider in zip(dims, sliders):
            z[0, d] = slider.value
        with torch.no_grad():
            image.value = to_png(model.likelihood.mean(model.decoder(z))[0])

    for slider in sliders:
        slider.observe(redraw, names="value")
    redraw()
    return widgets.HBox([widgets.VBox(sliders), image])


def latent_plane_explorer(model: VAE, codes: torch.Tensor, labels: torch.Tensor, description: str,
                          name: str = "latent-2d"):
    """A 2-D model's explorer: sliders in JupyterLab (the kernel decodes); on the static site the
    decoder itself, run by the reader's browser over the scatter of codes (site_explorer.py).

    codes: (N, 2) posterior means to scatter, labels: (N,) their classes, description: what the
    model is, in a sentence. The book build sets $VAE_TUTORIAL_SITE_ASSETS; without it, the widget.
    """
    folder = env_path(ASSETS_ENV_VAR)  # set by the book build; set but blank is refused
    if folder is None:
        return latent_explorer(model)
    from IPython.display import HTML

    return HTML(export(model, codes, labels, name, description, folder))
