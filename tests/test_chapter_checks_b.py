"""The training-curve figure of "Training live": plot_history's panels and LivePlot's grid."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from vae_tutorial.book.plots import plot_history  # noqa: E402


def _history(epochs: int) -> list[dict]:
    return [{"epoch": e, "train_loss": 300.0 / e, "train_recon": 280.0 / e, "train_kl": 20.0,
             "test_loss": 290.0 / e, "test_recon": 270.0 / e, "test_kl": 20.0} for e in range(1, epochs + 1)]


def test_plot_history_default_is_a_readable_two_by_two_grid():
    axes = plot_history(_history(3))
    figure = axes[0].figure
    assert len(axes) == 4 and figure.get_size_inches()[0] <= 8
    for ax in axes:
        assert ax.get_title() and ax.get_xlabel() == "epoch" and ax.get_ylabel()
    gap = axes[3].lines[-1].get_ydata()  # train minus test
    assert list(gap) == pytest.approx([10.0, 5.0, 10.0 / 3])
    plt.close(figure)


def test_plot_history_keeps_drawing_into_three_axes():
    _, axes = plt.subplots(1, 3)
    returned = plot_history(_history(2), axes)
    assert len(returned) == 3 and len(axes[0].lines) == 2
    plt.close("all")


def test_liveplot_with_rows_hands_draw_a_flat_list_of_axes():
    from vae_tutorial.book import LivePlot

    seen = []
    live = LivePlot(lambda axes, history: seen.append(len(axes)), figsize=(8, 5.4), ncols=2, nrows=2)
    live.draw(live.axes, _history(1))  # what update does, without a notebook's display
    assert seen == [4] and live.axes.ndim == 1 and live.figure.get_size_inches()[0] == 8


def test_label_grid_puts_each_label_at_the_centre_of_its_image():
    import torch

    from vae_tutorial.book.plots import label_grid, show_images

    _, ax = plt.subplots()
    show_images(torch.zeros(6, 1, 28, 28), nrow=3, ax=ax)  # 2 rows x 3 columns of 28-pixel images
    label_grid(ax, rows=["a", "b"], cols=["x", "y", "z"], xlabel="column", ylabel="row")
    height, width = ax.images[0].get_array().shape  # 2 + 2 * 30 by 2 + 3 * 30 pixels
    assert (height, width) == (62, 92)
    assert list(ax.get_yticks()) == [16.0, 46.0] and list(ax.get_xticks()) == [16.0, 46.0, 76.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_xlabel() == "column" and ax.get_ylabel() == "row" and ax.axison
    plt.close("all")
