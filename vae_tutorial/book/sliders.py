"""Sliders a student plays with: a picture and a number the reader's browser computes from a chapter's
closed form as the slider moves (sliders.js).

The output is HTML with its own script, like the chapters' animations (chapter.animation_html): it
runs the same on the static site, where there is no kernel, and in JupyterLab, with no round trip to
the kernel. Nothing is fetched from another host. Without JavaScript the output says so.

- correlation_slider: chapter 3's correlated posterior, the best factorised q and the gap
  KL(q || p), (eq. mean-field-kl) at its optimum, which is (eq. mean-field-gap).
- kl_slider: chapter 5's q = N(mu, sigma^2) against p = N(0, 1) and (eq. kl-gauss-1d).

tests/test_sliders.py moves each slider in Chromium and compares the number shown with the chapter's
own Python (torch.distributions' KL of chapter 3's best_factorised q; vae_tutorial.losses.gaussian_kl).
"""

from __future__ import annotations

import html
import json
import math
import uuid
from pathlib import Path

SCRIPT = Path(__file__).with_name("sliders.js")
RHO_LIMIT = 0.99  # the correlation slider's reach: at |rho| = 1 the gap is infinite
MU_RANGE, SIGMA_RANGE = (-3.0, 3.0), (0.2, 3.0)  # the KL slider's reach (sliders.js draws densities up to 2)

NOT_RUN = "scripts are switched off, or in JupyterLab the output is not trusted: run the cell again"
STYLE = """<style>
.vae-slider { margin: 1rem 0; max-width: 100%; overflow-wrap: break-word; }
.vae-slider-control { margin: 0.25rem 0 0.5rem; }
.vae-slider-control label { display: block; font-variant-numeric: tabular-nums; }
.vae-slider-control input { width: min(100%, 320px); margin: 0.25rem 0; }
.vae-slider-control input:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }
.vae-slider-legend { list-style: none; padding: 0; margin: 0.25rem 0; font-size: 0.9em; }
.vae-slider-legend li { margin: 0; }
.vae-slider-readout { font-weight: bold; font-variant-numeric: tabular-nums; margin: 0.5rem 0 0.25rem; }
.vae-slider-detail { font-size: 0.9em; margin: 0; font-variant-numeric: tabular-nums; }
</style>"""


class Slider:
    """A slider's HTML output: text/html for the site and JupyterLab, a sentence for plain-text front ends."""

    def __init__(self, kind: str, spec: dict, about: str, fallback: str) -> None:
        self.kind, self.spec, self.about = kind, spec, about
        self.id = f"vae-slider-{uuid.uuid4().hex[:12]}"  # unique on the page, even if the cell runs twice
        self.html = (f'{STYLE}<div class="vae-slider" id="{self.id}" data-kind="{kind}" '
                     f'data-spec="{html.escape(json.dumps(spec), quote=True)}">'
                     f'<p class="vae-slider-fallback">{html.escape(fallback)}</p></div>'
                     f'<script>\n{SCRIPT.read_text()}\nwindow.VAE_SLIDER({json.dumps(self.id)});\n</script>')

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.about


def _numbers(values, count: int, name: str) -> list[float]:
    """count finite floats from a list, tuple or tensor; a ValueError that names them otherwise."""
    numbers = [float(v) for v in values]
    if len(numbers) != count or not all(math.isfinite(v) for v in numbers):
        raise ValueError(f"{name} should be {count} finite numbers, got {numbers}")
    return numbers


def _within(value: float, low: float, high: float, name: str) -> float:
    value = float(value)
    if not low <= value <= high:  # NaN fails too
        raise ValueError(f"{name} should lie in [{low}, {high}], the slider's reach; got {value}")
    return value


def correlation_slider(mean=(0.0, 0.0), sd=(1.0, 1.0), rho: float = 0.9) -> Slider:
    """A slider for the correlation rho of the posterior N(mean, Sigma), Sigma_ij = sd_i sd_j rho^(i != j):
    its ellipses, the best factorised q's (mean, variances 1 / Lambda_dd) and the gap KL(q || p) in nats.

    mean, sd: the posterior's mean and marginal standard deviations (2 each); rho: where the slider starts.
    """
    mean, sd = _numbers(mean, 2, "mean"), _numbers(sd, 2, "sd")
    if min(sd) <= 0:
        raise ValueError(f"the standard deviations sd should be positive, got {sd}")
    rho = _within(rho, -RHO_LIMIT, RHO_LIMIT, "rho")
    about = (f"A slider for the posterior's correlation rho (from {rho:.2f}), drawing the posterior and the "
             "best factorised q and showing the gap KL(q || p); it needs a browser (HTML and JavaScript).")
    fallback = ("This picture and its slider are drawn by JavaScript in your browser, which has not run here "
                f"({NOT_RUN}); the smallest gap's equation above gives the number it would show.")
    return Slider("mean-field", {"mean": mean, "sd": sd, "rho": round(rho, 2)}, about, fallback)


def kl_slider(mu: float = 1.0, sigma: float = 0.5) -> Slider:
    """Sliders for the mean mu and standard deviation sigma of q = N(mu, sigma^2): q drawn against
    p = N(0, 1), and KL(q || p) of (eq. kl-gauss-1d) with its mean's and width's parts."""
    mu = _within(mu, *MU_RANGE, "mu")
    sigma = _within(sigma, *SIGMA_RANGE, "sigma")
    about = (f"Sliders for q's mean mu (from {mu:g}) and standard deviation sigma (from {sigma:g}), drawing "
             "q = N(mu, sigma^2) against p = N(0, 1) with KL(q || p); it needs a browser (HTML and JavaScript).")
    fallback = ("This picture and its sliders are drawn by JavaScript in your browser, which has not run here "
                f"({NOT_RUN}); the closed form above gives the number they would show.")
    return Slider("gaussian-kl", {"mu": mu, "sigma": sigma}, about, fallback)
