"""The checks of issue 30's "idea first" sections fail on the likely wrong versions (cells read from the chapters)."""

from pathlib import Path

import jupytext
import pytest
import torch

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _cells_after(chapter: str, marker: str, count: int) -> list[str]:
    """The source of the code cell holding marker and of the count - 1 code cells after it."""
    cells = [c.source for c in jupytext.read(NOTEBOOKS / chapter).cells if c.cell_type == "code"]
    start = next(i for i, source in enumerate(cells) if marker in source)
    return cells[start:start + count]


def _run(sources: list[str], namespace: dict) -> dict:
    for source in sources:
        exec(source, namespace)  # noqa: S102 - the chapter's own cells
    return namespace


def _chapter_4_start() -> dict:
    from torch.distributions import Normal

    from vae_tutorial.book import checked

    return {"torch": torch, "Normal": Normal, "checked": checked,
            "mu": torch.tensor(0.5, requires_grad=True), "logvar": torch.tensor(0.3, requires_grad=True)}


def test_chapter_4_graph_check_holds_for_the_trick():
    _run(_cells_after("04_reparameterization.md", "z_trick = reparameterize(mu, logvar)", 2), _chapter_4_start())


@pytest.mark.parametrize("wrong", [
    "mu + torch.exp(logvar) * torch.randn(())",  # the variance in place of the standard deviation
    "mu + torch.exp(0.5 * logvar.detach()) * torch.randn(()) + 0 * logvar",  # sigma cut off: mu learns alone
])
def test_chapter_4_graph_check_fails_on_a_wrong_draw(wrong):
    visible, check = _cells_after("04_reparameterization.md", "z_trick = reparameterize(mu, logvar)", 2)
    namespace = _run([visible.replace("reparameterize(mu, logvar)", wrong)], _chapter_4_start())
    with pytest.raises(AssertionError):
        exec(check, namespace)  # noqa: S102


def _holes() -> dict:
    (source,) = _cells_after("02_model.md", "def in_holes", 1)
    definitions = source.split("# a Gaussian fitted")[0]  # nearest and in_holes, without the chapter's models
    return _run([definitions], {"torch": torch})


def test_chapter_2_hole_measure_tells_a_matched_draw_from_a_mismatched_one():
    g = torch.Generator().manual_seed(0)
    in_holes = _holes()["in_holes"]
    codes = torch.randn(4000, 20, generator=g)  # codes that fill N(0, I), as the KL term asks
    test_codes = torch.randn(1000, 20, generator=g)
    draws = torch.randn(1000, 20, generator=g)
    assert in_holes(draws, codes, test_codes) < 0.05  # about the 1% of real codes, by definition

    def near_a_plane(n):
        """Codes on a noisy 3-D plane away from the origin, as an autoencoder's lie: holes all around."""
        return torch.randn(n, 3, generator=g) @ plane + 0.1 * torch.randn(n, 20, generator=g) + 2

    plane = torch.randn(3, 20, generator=g)  # (3, D)
    assert in_holes(draws, near_a_plane(4000), near_a_plane(1000)) > 0.9
    # and the measure is about holes, not scale: codes that fill a wider Gaussian have none for N(0, I)'s draws
    assert in_holes(draws, 3 * codes + 1, 3 * test_codes + 1) < 0.05
