"""What the chapters share: quick or full mode, where data and trained models live, live plots.

Every chapter starts with a hidden cell that calls ``chapter_setup()``.
"""

from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from ..config import ModelConfig, TrainConfig, env_switch
from ..data import DATA_ENV_VAR, Split, load_split
from ..errors import ConfigError
from ..runs.cache import CACHE_ENV_VAR, cached_fit
from ..runs.runtime import tune_for_cpu
from ..train import FitResult, set_seed
from .progress import TrainingStatus

QUICK_ENV_VAR = "VAE_TUTORIAL_QUICK"
OUTPUT_WIDTH = 79  # characters of a cell's output line that fit the site's column


@dataclass(frozen=True)
class Budget:
    """How much training a chapter does: full for readers, quick for tests and CI."""

    quick: bool
    subset: int | None  # training images used (None = all 60,000)
    epochs: int  # epochs of the model trained live in "Training live"
    reference_epochs: int  # epochs of the cached model that "The ELBO" to "The KL term" examine
    sweep_epochs: int  # epochs per beta in "The beta-VAE"
    latent2d_epochs: int  # epochs of the 2-D model in "Exploring the latent space"
    prior_epochs: int  # epochs of each prior's 20-D model in "Learned priors" (the Results rows' 50 in full mode)
    prior2d_epochs: int  # epochs of each prior's 2-D model there (the 2-D model's own in full mode, so it is shared)
    batch_size: int = 128


def budget() -> Budget:
    """Quick mode when $VAE_TUTORIAL_QUICK is 1/true/yes, full mode when 0/false/no/empty/unset; refused otherwise."""
    quick = env_switch(QUICK_ENV_VAR)
    if quick:
        return Budget(quick=True, subset=4000, epochs=3, reference_epochs=2, sweep_epochs=3, latent2d_epochs=3,
                      prior_epochs=10, prior2d_epochs=10)
    return Budget(quick=False, subset=None, epochs=50, reference_epochs=10, sweep_epochs=20, latent2d_epochs=30,
                  prior_epochs=50, prior2d_epochs=30)


def project_root(start: Path | None = None) -> Path:
    """The repository root (the folder with pyproject.toml) above the working directory."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "vae_tutorial").is_dir():
            return folder
    return here


FULL_RUN = "the full run on all 60,000 images"  # what the text of a Fashion-MNIST chapter describes


def chapter_setup(seed: int = 0, full_run: str = FULL_RUN) -> Budget:
    """Seed everything, point data and cache at the repository, pick quick or full mode.

    full_run: what the chapter's text describes, named in the quick-mode note (another data set says its own).
    """
    root = project_root()
    tune_for_cpu()  # the command line's start-up setting (runtime.py); its OpenMP part only if torch is not loaded yet
    os.environ.setdefault(DATA_ENV_VAR, str(root / "data"))
    os.environ.setdefault(CACHE_ENV_VAR, str(root / "runs" / "cache"))
    set_seed(seed)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 90, "image.cmap": "gray", "axes.grid": False})
    plan = budget()
    if plan.quick:
        show_quick_mode_note(plan, full_run)
    return plan


def quick_mode_note(plan: Budget, full_run: str = FULL_RUN) -> str:
    """The line a quick-mode chapter shows under its set-up cell: its numbers are not the ones the text describes."""
    return (f"Quick mode ({QUICK_ENV_VAR}=1): the numbers and figures on this page come from a short run "
            f"({plan.subset:,} training images, short training), made for tests. The text describes {full_run}: "
            f"its numbers can differ from these, and a figure can look different from "
            f"what the text says of it. Unset {QUICK_ENV_VAR} and run again to see the full run.")


def show_quick_mode_note(plan: Budget, full_run: str = FULL_RUN) -> None:
    """Show quick_mode_note as a note box on the site and in JupyterLab (plain text elsewhere)."""
    from IPython.display import display

    text = quick_mode_note(plan, full_run)
    display({"text/plain": text,
             "text/html": f'<div class="admonition warning quick-mode-note"><p class="admonition-title">Quick mode'
                          f'</p><p>{escape(text)}</p></div>'}, raw=True)


def checked(what: str, width: int = OUTPUT_WIDTH) -> None:
    """The line a folded check cell shows once every assert above it has held: what it checked.

    Wrapped to the width of the page's column (a long line would scroll sideways on the site).
    """
    print(textwrap.fill(f"\u2714 Checked, and it held: {what}", width=width, subsequent_indent="  "))


def load_data() -> tuple[Split, Split]:
    """Train and test splits; downloads into ./data at the repository root when nothing else is set
    (chapter_setup sets it; without chapter_setup, the command line's rule: $VAE_TUTORIAL_DATA, else ./data)."""
    root = Path(os.environ[DATA_ENV_VAR]) if os.environ.get(DATA_ENV_VAR) else None
    if root is None:  # called before chapter_setup(): a bare KeyError before (a sixth hostile pass)
        return load_split(True), load_split(False)
    download = not (root / "FashionMNIST" / "raw").is_dir()
    return load_split(True, download=download), load_split(False, download=download)


def configs(plan: Budget, epochs: int, **settings) -> tuple[ModelConfig, TrainConfig]:
    """Model and training settings for a chapter's budget; settings go to either config by name."""
    model_fields = set(ModelConfig.__dataclass_fields__)
    model_config = ModelConfig(**{k: v for k, v in settings.items() if k in model_fields})
    train_config = TrainConfig(epochs=epochs, batch_size=plan.batch_size, subset=plan.subset,
                               **{k: v for k, v in settings.items() if k not in model_fields})
    return model_config, train_config


def train_model(plan: Budget, train: Split, test: Split, epochs: int | None = None, **settings) -> FitResult:
    """Train a VAE once and cache it (by its settings); later calls, here or in other chapters, load it.

    Without epochs, the reference model: latent 20, beta 1, plan.reference_epochs epochs. A line
    under the cell says which epoch of how many is running and how long is left, or that the model
    came from the cache.
    """
    if not isinstance(plan, Budget):
        raise ConfigError(f"train_model's first argument is the chapter's plan (plan = chapter_setup()), "
                          f"not {type(plan).__name__}")
    for name, split in (("train", train), ("test", test)):
        if not isinstance(split, Split):
            raise ConfigError(f"train_model's {name} data is a Split, as load_data() returns it (images and "
                              f"labels together), not {type(split).__name__}")
    # epochs=0 is a setting, refused below as any other; only None means the reference model's epochs
    model_config, train_config = configs(plan, plan.reference_epochs if epochs is None else epochs, **settings)
    named = ", ".join(f"{key} {value}" for key, value in settings.items())
    status = TrainingStatus(f"model ({named})" if named else "reference model", train_config.epochs)
    result = cached_fit(model_config, train_config, train, test, callback=status)
    status.finish(result)
    return result


class LivePlot:
    """A figure that redraws after every epoch: in JupyterLab it updates in place."""

    def __init__(self, draw, figsize=(12, 3.4), ncols: int = 3, nrows: int = 1):
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.draw = draw
        self.figure, self.axes = plt.subplots(nrows, ncols, figsize=figsize, constrained_layout=True)
        if nrows > 1:
            self.axes = self.axes.ravel()  # (nrows, ncols) -> flat, in reading order
        plt.close(self.figure)  # shown through the display handle only, not again at the end of the cell
        self.handle = display(self.figure, display_id=True)

    def update(self, *args) -> None:
        """Redraw with the latest data and push the figure to the display."""
        self.draw(self.axes, *args)
        self.handle.update(self.figure)


def animation_html(
    frames,
    titles=None,
    interval: int = 150,
    figsize=(3, 3),
    mode: str = "loop",
    track=None,
    track_label: str = "",
    panel_labels=None,
    alt: str = "",
) -> str:
    """A self-starting JavaScript animation of (N, H, W) images, for the static book.

    alt: what the animation shows, in words, for a reader who cannot see it (the image's alt text;
    required in a chapter, where tests/test_chapter_sources.py checks it).

    mode: "loop" or "reflect" (back and forth); the player starts when the
    page has loaded. track: optional values per frame drawn beside the image,
    (N,) as a marker on a number line, (N, 2) as a point in a plane, labelled
    track_label. panel_labels: names of equal-width panels laid side by side
    in each frame, shown as ticks under the image.
    """

    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    frames = np.asarray(frames)  # (N, H, W)
    points = None if track is None else np.asarray(track, dtype=float)
    if points is None:
        figure, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    elif points.ndim == 1:  # a number line under the image
        figure, (ax, line) = plt.subplots(
            2, 1, figsize=figsize, height_ratios=[4, 1], constrained_layout=True)
    else:  # a plane to the right of the image
        figure, (ax, line) = plt.subplots(
            1, 2, figsize=figsize, width_ratios=[1, 1], constrained_layout=True)
    image = ax.imshow(frames[0], vmin=0, vmax=1, cmap="gray")
    ax.set_yticks([])
    if panel_labels is None:
        ax.set_xticks([])
    else:
        width = frames.shape[-1] / len(panel_labels)  # pixels per panel
        ax.set_xticks([width * (i + 0.5) for i in range(len(panel_labels))])
        ax.set_xticklabels(panel_labels, fontsize=9)
        ax.tick_params(length=0)
    marker = None
    if points is not None and points.ndim == 1:
        line.plot([points.min(), points.max()], [0, 0], color="grey")
        (marker,) = line.plot([points[0]], [0], "o", color="tab:red")
        line.set_yticks([])
        line.set_xlabel(track_label, fontsize=9)
        line.tick_params(labelsize=9)
        for side in ("left", "right", "top"):
            line.spines[side].set_visible(False)
    elif points is not None:
        line.plot(points[:, 0], points[:, 1], color="grey", lw=1)
        (marker,) = line.plot(points[:1, 0], points[:1, 1], "o", color="tab:red")
        limit = 1.15 * np.abs(points).max()
        line.set_xlim(-limit, limit)
        line.set_ylim(-limit, limit)
        line.set_aspect("equal")
        names = track_label.split(",") if "," in track_label else ("", "")
        line.set_xlabel(names[0].strip(), fontsize=9)
        line.set_ylabel(names[1].strip(), fontsize=9)
        line.tick_params(labelsize=9)
        line.set_title("position", fontsize=9)

    def show(i):
        image.set_data(frames[i])
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
        if marker is not None and points.ndim == 1:
            marker.set_data([points[i]], [0])
        elif marker is not None:
            marker.set_data(points[i:i + 1, 0], points[i:i + 1, 1])
        return (image,)

    animation = FuncAnimation(
        figure, show, frames=len(frames), interval=interval)
    html = animation.to_jshtml(default_mode=mode)
    plt.close(figure)
    # No stylesheet from a CDN (the book works offline): text glyphs for
    # the player's Font Awesome icons, and a player that fits a phone.
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    for icon, glyph in ICONS.items():  # hidden from screen readers: each button's aria-label names it
        html = html.replace(f'<i class="fa {icon}"></i>', f'<span aria-hidden="true">{glyph}</span>')
    html = html.replace("width: 374px;", "width: 100%; max-width: 374px;")
    html = html.replace('<img id="_anim_img',
                        '<img style="max-width: 100%; height: auto" '
                        f'alt="{escape(alt)}" id="_anim_img')
    html = html.replace('class="anim-slider"', 'class="anim-slider" aria-label="Frame of the animation"')
    found = re.search(r"anim([0-9a-f]+) = new Animation", html)
    if found is None:  # a matplotlib that names its player differently
        return html
    return html + AUTOPLAY.replace("ANIM", "anim" + found.group(1))


ICONS = {  # Font Awesome 4 class -> a text glyph for the same button
    "fa-minus": "&minus;",
    "fa-fast-backward": "&#x21E4;",
    "fa-step-backward": "|&#x25C0;",
    "fa-play fa-flip-horizontal": "&#x25C0;",
    "fa-pause": "&#x275A;&#x275A;",
    "fa-play": "&#x25B6;",
    "fa-step-forward": "&#x25B6;|",
    "fa-fast-forward": "&#x21E5;",
    "fa-plus": "+",
}


# Starts the to_jshtml player once the page (or the notebook output) is in
# place: the player object is created by a zero-delay timeout, so poll. Stops
# it at the first tick after its image has left the page (a closed JupyterLab
# tab, a cleared output). The guard sits on the timer's two step functions,
# not on set_frame: at the last frame a step reads the loop buttons before it
# draws, and once they are gone matplotlib's player would report an error on
# every tick.
AUTOPLAY = """
<script>
(function () {
  var tries = 0;
  function start() {
    var player = window.ANIM;
    if (typeof player !== "object") {
      if (tries++ < 100) { setTimeout(start, 50); }
      return;
    }
    ["anim_step_forward", "anim_step_reverse"].forEach(function (name) {
      var step = player[name].bind(player);
      player[name] = function () {  // every tick of the timer passes here
        if (document.getElementById(player.img_id)) { step(); }
        else { player.pause_animation(); }  // the image has left the page
      };
    });
    player.play_animation();
  }
  if (document.readyState === "complete") { setTimeout(start, 0); }
  else { window.addEventListener("load", start); }
})();
</script>
"""
