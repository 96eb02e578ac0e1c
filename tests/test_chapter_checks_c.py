"""Package code behind chapters 7-8: animations, the sweep table, the explorer."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from vae_tutorial.book import animation_html
from vae_tutorial.runs.sweep import markdown_table, plot_rate_distortion

FRAMES = np.linspace(0, 1, 4 * 8 * 8).reshape(4, 8, 8)  # (N, H, W)


@pytest.mark.parametrize(
    "track, label",
    [(None, ""), (np.linspace(-3, 3, 4), "value"),
     (np.random.default_rng(0).normal(size=(4, 2)), "z1, z2")],
)
def test_animation_starts_itself_and_loads_nothing_remote(track, label):
    html = animation_html(FRAMES, titles=list("abcd"), track=track,
                          track_label=label, mode="loop")
    player = re.search(r"(anim[0-9a-f]+) = new Animation", html).group(1)
    assert f"var player = window.{player};" in html and "player.play_animation()" in html  # autoplay script
    assert "player.pause_animation()" in html and '"anim_step_forward", "anim_step_reverse"' in html  # stops once gone
    assert "https://" not in html and "http://" not in html  # no CDN
    assert 'class="fa ' not in html  # icons are text, not Font Awesome
    assert html.count("data:image/png;base64") == len(FRAMES)
    assert 'value="loop"' in html and "checked" in html


# Waits until the player reaches the frame asked for, removes the whole output (image, slider, loop
# buttons: what closing a JupyterLab tab does), then lets the timer tick for a second.
_REMOVE_AT_FRAME = """
const [name, frame, done] = arguments;
const player = window[name];
const poll = setInterval(() => {
  if (player.current_frame !== frame) return;
  clearInterval(poll);
  document.getElementById("output").remove();
  setTimeout(() => done(player.timer === null ? "stopped" : "still ticking"), 1000);
}, 1);
"""


@pytest.mark.parametrize("mode, frame", [("loop", 3), ("loop", 1), ("reflect", 3), ("reflect", 0), ("once", 3)])
def test_an_animation_whose_output_is_removed_stops_without_an_error(tmp_path, mode, frame):
    """Removed at its last frame, the next tick reads the loop buttons before it draws: matplotlib's
    player then raised a TypeError on every tick, forever (seen after closing chapter 7's tab)."""
    from _browser import chromium

    html = animation_html(FRAMES, interval=40, mode=mode)
    player = re.search(r"(anim[0-9a-f]+) = new Animation", html).group(1)
    page = tmp_path / "page.html"
    page.write_text(f"<!doctype html><html><body><div id='output'>{html}</div></body></html>")
    driver = chromium(800, 600)
    try:
        driver.get(page.as_uri())
        driver.set_script_timeout(30)
        if mode == "reflect" and frame == 0:  # reach the start again on the way back
            driver.execute_async_script("const d = arguments[0]; setTimeout(() => d(), 200);")
        assert driver.execute_async_script(_REMOVE_AT_FRAME, player, frame) == "stopped"
        errors = [e["message"][:160] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], f"{mode} at frame {frame}: {errors[:3]}"
    finally:
        driver.quit()


def test_animation_is_described_and_its_controls_are_named():
    """A screen reader hears what the animation shows, what the slider is, and each button's name once."""
    html = animation_html(FRAMES, alt='A "point" circling & its images')
    assert re.search(r'<img [^>]*alt="A &quot;point&quot; circling &amp; its images" id="_anim_img', html)
    assert re.search(r'class="anim-slider" aria-label="Frame of the animation"', html)
    buttons = re.findall(r'<button [^>]*aria-label="([^"]+)"[^>]*>\s*(.*?)\s*</button>', html, re.S)
    assert len(buttons) == 9 and all(re.fullmatch(r'<span aria-hidden="true">[^<]+</span>', text)
                                     for _, text in buttons), buttons


def test_animation_mode_reflect_is_the_checked_one():
    html = animation_html(FRAMES, mode="reflect")
    checked = re.search(r'value="(\w+)" id="_anim_radio\d_\w+"\s+checked',
                        html)
    assert checked is not None and checked.group(1) == "reflect"


def rows(with_iwae: bool) -> list[dict]:
    return [{"beta": b, "test_loss": 250.0 + b, "test_recon": 230.0 + 2 * b,
             "test_kl": 20.0 - b, "iwae_nll": 245.0 if with_iwae else None,
             "active_units": 10, "epochs": 3, "seconds_per_epoch": 1.5}
            for b in (0.5, 1.0, 4.0)]


@pytest.mark.parametrize("with_iwae", [False, True])
def test_markdown_table_is_a_pipe_table(with_iwae):
    lines = markdown_table(rows(with_iwae)).splitlines()
    columns = lines[0].count("|") - 1
    assert columns == (8 if with_iwae else 7)
    assert re.fullmatch(r"\|(---\|)+", lines[1]) and lines[1].count("|") - 1 == columns
    assert len(lines) == 2 + 3
    assert all(line.count("|") - 1 == columns for line in lines)
    assert lines[2].startswith("| 0.5 | 250.50 | 231.00 | 19.50 |")


def test_rate_distortion_plot_names_rate_and_distortion():
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_rate_distortion(rows(False))
    assert "rate" in ax.get_xlabel() and r"\mathcal{R}" in ax.get_xlabel()
    assert "distortion" in ax.get_ylabel() and r"\mathcal{D}" in ax.get_ylabel()
    assert "(eq." not in ax.get_xlabel() + ax.get_ylabel()


def test_latent_explorer_slider_changes_the_image():
    pytest.importorskip("ipywidgets")
    from vae_tutorial.config import ModelConfig
    from vae_tutorial.model import VAE
    from vae_tutorial.book.widgets import latent_explorer

    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim=2))
    explorer = latent_explorer(model)
    sliders, image = explorer.children[0].children, explorer.children[1]
    before = image.value
    sliders[0].value = 2.5
    assert image.value != before, "moving a slider must redraw the image"
    sliders[0].value = 0.0
    assert image.value == before, "back at the start, the same image"
