"""The Results tables (README and the book's Results page) are the ones the committed results file makes."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("results_table", ROOT / "benchmarks" / "results_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["README.md", "book/results.md"])
def test_the_table_is_generated_from_the_results_file(generator, name):
    text = (ROOT / name).read_text()
    expected = generator.table(json.loads(generator.RESULTS.read_text()))
    assert generator.with_table(text, expected, Path(name)) == text, f"{name} is stale: run benchmarks/results_table.py"
    assert text.count("| MLP |") == 2 and text.count("| conv |") == 2


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
    with pytest.raises(SystemExit, match="markers"):
        generator.with_table("no table here", "| a |", Path("x.md"))
