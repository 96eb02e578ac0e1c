"""What the chapters import, in one place: ``from vae_tutorial.book import chapter_setup, show_images``.

The rooms behind this face: chapter set-up and the trained-model helpers
(chapter.py), pictures (plots.py), exercise checks (exercises.py), widgets and
the site's latent explorer (widgets.py, site_explorer.py), the sliders
that draw a closed form in the browser (sliders.py), the classifier judge
(classify.py), the disentanglement chapter's budget, scores and traversals
(disentangle.py), the status line of a long cell (progress.py). The maths the
chapters teach is imported from the package's top modules by name
(``vae_tutorial.losses``, ``vae_tutorial.model``, ...).
"""

from ..runs.cache import cache_root, cached_fit
from ..runs.report import evaluate_model
from ..runs.sweep import markdown_table, plot_rate_distortion, sweep_betas
from .chapter import Budget, LivePlot, animation_html, chapter_setup, checked, configs, load_data, train_model
from .classify import (accuracy, class_centroids, class_shares, fit_logistic, nearest_centroid, per_class_accuracy,
                       predict_logistic)
from .disentangle import (SPRITES_LATENT, TC_BATCH, SpritesBudget, factor_labels, kl_split_of, kl_split_on,
                          load_sprites, normalised_info, score_model, sprites_budget, traversal)
from .exercises import answer, exercise
from .plots import label_grid, plot_history, show_images
from .progress import TrainingStatus, steps
from .sliders import correlation_slider, kl_slider
from .widgets import latent_explorer, latent_plane_explorer

__all__ = [
    "Budget", "LivePlot", "SPRITES_LATENT", "SpritesBudget", "TC_BATCH", "TrainingStatus", "accuracy", "animation_html",
    "answer", "cache_root", "cached_fit", "chapter_setup", "checked", "class_centroids", "class_shares", "configs",
    "correlation_slider", "evaluate_model", "exercise", "factor_labels", "fit_logistic", "kl_slider", "kl_split_of",
    "kl_split_on",
    "label_grid", "latent_explorer", "latent_plane_explorer", "load_data", "load_sprites", "markdown_table",
    "nearest_centroid", "normalised_info", "per_class_accuracy", "plot_history", "plot_rate_distortion",
    "predict_logistic", "score_model", "show_images", "sprites_budget", "steps", "sweep_betas", "traversal",
    "train_model",
]
