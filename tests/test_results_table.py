"""The Results tables (README and the book's Results page) are the ones the committed results file makes."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generator():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # as `python benchmarks/results_table.py` has it: its helpers (_cli)
    spec = importlib.util.spec_from_file_location("results_table", ROOT / "benchmarks" / "results_table.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


@pytest.mark.parametrize("name", ["README.md", "book/results.md"])
def test_the_table_is_generated_from_the_results_file(generator, name):
    text = (ROOT / name).read_text()
    expected = generator.table(json.loads(generator.RESULTS.read_text()))
    assert generator.with_table(text, expected, Path(name)) == text, f"{name} is stale: run benchmarks/results_table.py"
    models = generator.runs_of(json.loads(generator.RESULTS.read_text()))
    assert text.count("| MLP |") + text.count("| conv |") == len(models)  # one line per model, whatever its seeds


def test_seeds_of_one_model_are_one_line_with_mean_and_spread(generator):
    base = {"arch": "mlp", "beta": 1.0, "prior": "mixture", "prior_components": 10, "test_recon": 220.0,
            "test_kl": 20.0, "iwae_samples": 5000, "iwae_images": 10_000, "elbo_iwae_images": 240.0,
            "latent_dim": 20, "seconds_per_epoch": 2.0, "active_units": 12}
    rows = [{**base, "seed": s, "test_loss": loss, "iwae_nll": loss - 3} for s, loss in ((0, 240.0), (1, 241.0),
                                                                                       (2, 242.0))]
    old = {**base, "prior": None, "seed": 0, "test_loss": 245.0, "iwae_nll": 242.0}
    del old["prior"], old["prior_components"]  # a row from before the priors: the standard prior
    lines = generator.table([*rows, old]).splitlines()[2:]
    assert len(lines) == 2
    assert lines[0].startswith("| MLP | standard | 1 | 1 | 245.00 |")  # the standard prior first
    assert "| MLP | mixture, 10 | 1 | 3 | 241.00 ± 1.00 |" in lines[1] and "| 238.00 ± 1.00 |" in lines[1]
    assert "| 12, 12, 12 of 20 |" in lines[1]


def test_every_row_says_how_its_iwae_was_measured(generator):
    rows = json.loads(generator.RESULTS.read_text())
    for row in rows:
        assert row["iwae_samples"] == 5000 and row["epochs"] == 50, row
        assert row["iwae_nll"] <= row["elbo_iwae_images"] + 0.01, row  # the IWAE bound is the tighter one
    assert all(row["iwae_images"] == generator.TEST_IMAGES for row in rows)  # every row: the whole test set
    generated = generator.table(rows)
    assert "same images" not in generated  # so the columns that would say how many, and their -ELBO, are left out
    partial = [{**rows[0], "iwae_images": 2000}, *rows[1:]]
    assert "| 2,000 |" in generator.table(partial) and "same images" in generator.table(partial)


def test_a_file_without_markers_is_refused(generator):
    with pytest.raises(generator.ResultsError, match="markers"):
        generator.with_table("no table here", "| a |", Path("x.md"))


def test_the_sprites_table_is_generated_from_its_results_file(generator):
    """Chapter 13's twelve full-mode models (four settings, three seeds) as four lines on the Results page."""
    text = (ROOT / "book" / "results.md").read_text()
    rows = generator.read_sprites_results(generator.SPRITES_RESULTS)
    expected = generator.sprites_table(rows)
    updated = generator.with_table(text, expected, Path("results.md"), generator.SPRITES_BEGIN, generator.SPRITES_END)
    assert updated == text, "book/results.md is stale: run benchmarks/results_table.py"
    settings = {r["setting"] for r in rows}
    assert len(rows) == 12 and len(settings) == 4 and all(r["epochs"] == 20 for r in rows), settings
    assert all(sorted(r["seed"] for r in rows if r["setting"] == s) == [0, 1, 2] for s in settings)
    assert "| beta-TCVAE | TC weight 4 | 3 |" in text and text.count("| beta-VAE | beta ") == 3


def test_what_the_results_page_says_of_the_sprites_holds(generator):
    """The page: the beta-TCVAE has the highest mean MIG, yet one of its seeds is below the best beta-VAE seed;
    a larger beta buys a lower TC and costs distortion."""
    rows = generator.read_sprites_results(generator.SPRITES_RESULTS)
    by = {}
    for r in rows:
        by.setdefault(r["setting"], []).append(r)
    mean = {s: sum(r["mig"] for r in runs) / len(runs) for s, runs in by.items()}
    assert max(mean, key=mean.get) == "TC 4", mean
    best_vae_seed = max(r["mig"] for r in rows if r["tc_weight"] is None)
    assert min(r["mig"] for r in by["TC 4"]) < best_vae_seed
    text = (ROOT / "book" / "results.md").read_text()
    assert "one of its three\nseeds scores below the best beta-VAE seed" in text


def test_a_broken_sprites_row_is_named(generator, tmp_path):
    row = json.loads(generator.SPRITES_RESULTS.read_text())[0]
    for changes, fragment in (({"mig": float("nan")}, "mig must be a finite number"),
                              ({"setting": ""}, "setting must be a name"),
                              ({"tc_weight": "4"}, "tc_weight must be a finite number"),
                              ({"seed": 0.5}, "seed must be a whole number")):
        path = tmp_path / "sprites.json"
        path.write_text(json.dumps([{**row, **changes}]))
        with pytest.raises(generator.ResultsError, match=fragment):
            generator.read_sprites_results(path)


def test_what_chapter_10_says_of_the_results_page_holds(generator):
    """Chapter 10: 'trained for 50 epochs on all training images, the reference architecture leaves some of its
    20 dimensions inactive (the Results page counts them)': every seed of that row, from the committed file."""
    rows = [r for r in generator.read_results(generator.RESULTS) if r["arch"] == "mlp" and r["beta"] == 1.0
            and (r.get("prior") or "standard") == "standard" and r["epochs"] == 50]
    assert rows and all(0 < r["active_units"] < r["latent_dim"] == 20 for r in rows), rows
    chapter = (ROOT / "notebooks" / "10_posterior_collapse.md").read_text()
    assert "trained for 50 epochs on all training images, the reference\narchitecture leaves some of its 20 " \
           "dimensions inactive" in chapter
