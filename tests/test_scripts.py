"""The scripts the README names refuse bad input in one line, as the package's command line does.

Each script runs as a user runs it (`python benchmarks/NAME.py ...`), with the data folder pointed at an
empty one: a script that got past its checks would stop at the data (exit 1, "not found"), so exit 2
shows that the argument was refused while parsing, before anything was read, trained or timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "book" / "results.json"


def _run(script: str, *args: str, cwd: Path, folder: str = "benchmarks") -> subprocess.CompletedProcess:
    empty = cwd / "no-data"
    empty.mkdir(exist_ok=True)
    env = {**os.environ, "VAE_TUTORIAL_DATA": str(empty)}
    return subprocess.run([sys.executable, str(ROOT / folder / script), *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def _refused(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """Exactly one line on stderr, no traceback, the exit code, each fragment in the line; nothing on stdout."""
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert proc.stderr.count("\n") == 1 and proc.stderr.endswith("\n"), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and proc.stdout == "", proc.stdout[-500:]
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, proc.stderr)
    return proc.stderr


BAD_ARGUMENTS = [
    ("epoch_speed.py", ["--epochs", "0"], "epochs must be an integer >= 1"),
    ("epoch_speed.py", ["--batch-size", "-5"], "batch size must be an integer >= 1"),
    ("epoch_speed.py", ["--classic-batches", "0"], "--classic-batches"),
    ("iwae_speed.py", ["--images", "0"], "--images"),
    ("iwae_speed.py", ["--images", "50"], "a multiple of 100"),  # measured nothing of the layers, and said so not
    ("iwae_speed.py", ["--conv-images", "150"], "a multiple of 100"),
    ("iwae_speed.py", ["--images", "20000"], "from 100 to 10000"),  # more than the test split holds
    ("iwae_speed.py", ["--archs", "mlp", "resnet"], "invalid choice: 'resnet'"),
    ("model_comparison.py", ["--epochs", "0"], "epochs must be an integer >= 1"),
    ("model_comparison.py", ["--archs", "transformer"], "invalid choice: 'transformer'"),
    ("model_comparison.py", ["--priors", "laplace"], "invalid choice: 'laplace'"),
    ("model_comparison.py", ["--iwae-samples", "0"], "--iwae-samples"),  # crashed after the training before
    ("model_comparison.py", ["--iwae-images", "20000"], "--iwae-images"),
    ("results_table.py", ["--chekc"], "unrecognized arguments: --chekc"),
    ("results_table.py", ["--results", ""], "must not be empty"),
    ("sprites_results.py", ["--seeds", "0"], "unrecognized arguments: --seeds"),
    ("sprites_results.py", ["--results", ""], "must not be empty"),
    ("sprites_budget.py", ["--epochs", "0"], "epochs must be an integer >= 1"),
    ("sprites_budget.py", ["--latent-dim", "zero"], "--latent-dim"),
]


def test_every_benchmark_speaks_one_line_on_a_bad_argument():
    """The class, not the instances: each script in benchmarks/ is among the cases above (sprites_budget.py
    was not, and answered --epochs 0 with a traceback)."""
    scripts = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))
    covered = {script for script, _, _ in BAD_ARGUMENTS}
    assert [s for s in scripts if s not in covered] == []


@pytest.mark.parametrize(("script", "args", "fragment"), BAD_ARGUMENTS,
                         ids=[f"{s}-{' '.join(a)}" for s, a, _ in BAD_ARGUMENTS])
def test_a_bad_argument_is_one_line_and_exit_2(tmp_path, script, args, fragment):
    line = _refused(_run(script, *args, cwd=tmp_path), 2, fragment, script)
    assert line.startswith("error: ") and "(see --help)" in line and "usage:" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no-data"]  # nothing written


@pytest.mark.parametrize("script", ["epoch_speed.py", "iwae_speed.py", "model_comparison.py"])
def test_missing_data_is_one_line_and_exit_1(tmp_path, script):
    """Good arguments, no Fashion-MNIST: the data error, not a traceback (and this is what exit 2 rules out)."""
    _refused(_run(script, "--epochs" if script != "iwae_speed.py" else "--repeats", "1", cwd=tmp_path), 1,
             "error: ", "no-data")


def _results_file(folder: Path, content: str) -> Path:
    path = folder / "results.json"
    path.write_text(content)
    return path


def _row(**changes) -> dict:
    return {**json.loads(RESULTS.read_text())[0], **changes}


BAD_RESULTS = [
    ("not JSON", '[{"arch": "mlp", ', "is not JSON"),
    ("empty", "[]", "non-empty list of rows"),
    ("not a list", '{"arch": "mlp"}', "non-empty list of rows"),
    ("a row without its IWAE", json.dumps([{k: v for k, v in _row().items() if k != "iwae_nll"}]), "row 0: no iwae_nll"),
    ("a number that is text", json.dumps([_row(), _row(test_loss="240.8")]), "row 1: test_loss must be a finite number"),
    ("a NaN", json.dumps([_row(test_kl=float("nan"))]), "test_kl must be a finite number"),
    ("an unknown prior", json.dumps([_row(prior="laplace")]), "prior must be one of"),  # a ValueError deep in sorting before
    ("an unknown arch", json.dumps([_row(arch="resnet")]), "arch must be one of"),
    ("a row that is a list", json.dumps([[1, 2]]), "row 0: not an object"),
]


@pytest.mark.parametrize(("what", "content", "fragment"), BAD_RESULTS, ids=[what for what, _, _ in BAD_RESULTS])
def test_a_broken_or_incomplete_results_file_is_one_line_and_exit_1(tmp_path, what, content, fragment):
    path = _results_file(tmp_path, content)
    _refused(_run("results_table.py", "--check", "--results", str(path), cwd=tmp_path), 1, fragment, str(path))


def test_a_missing_results_file_is_one_line_and_exit_1(tmp_path):
    _refused(_run("results_table.py", "--check", "--results", str(tmp_path / "none.json"), cwd=tmp_path), 1,
             "cannot read the results file", "none.json")


def test_the_committed_results_file_passes_the_checks(tmp_path):
    """The checks reject broken files, not the real one: a copy of book/results.json makes today's tables."""
    path = _results_file(tmp_path, RESULTS.read_text())
    proc = _run("results_table.py", "--check", "--results", str(path), cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.parametrize(("what", "content", "fragment"), [BAD_RESULTS[0], BAD_RESULTS[3]],
                         ids=[BAD_RESULTS[0][0], BAD_RESULTS[3][0]])
def test_model_comparison_refuses_a_broken_results_file_before_it_trains(tmp_path, what, content, fragment):
    """The file it would merge into is read first: broken, it was found only after hours of training."""
    path = _results_file(tmp_path, content)
    _refused(_run("model_comparison.py", "--epochs", "1", "--results", str(path), cwd=tmp_path), 1, fragment)
    assert path.read_text() == content


def test_model_comparison_refuses_a_folder_as_its_results_file(tmp_path):
    _refused(_run("model_comparison.py", "--results", str(tmp_path), cwd=tmp_path), 2, "is a folder")


@pytest.mark.parametrize(("args", "fragment"), [([], "arguments are required: CHAPTER"),
                                               (["99_none.md"], "invalid choice: '99_none.md' (choose from '01_data.md'"),
                                               (["05_kl.md", "06_training.md"], "unrecognized arguments: 06_training.md")])
def test_the_exercise_harness_refuses_a_chapter_it_has_no_mistakes_for(tmp_path, args, fragment):
    """A sibling the issue did not name: `python tests/exercise_harness.py 05_kl.md`, which the README also
    names, stopped with an IndexError or a ModuleNotFoundError traceback."""
    _refused(_run("exercise_harness.py", *args, cwd=tmp_path, folder="tests"), 2, "exercise_harness.py", fragment)


def test_sprites_results_trains_the_chapters_settings():
    """benchmarks/sprites_results.py scores the models chapter 13 trains: the same four settings."""
    import ast
    import re

    chapter = (ROOT / "notebooks" / "13_disentanglement.md").read_text()
    literal = re.search(r"^settings = (\{.*?\})\n", chapter, re.M | re.S).group(1)
    script = (ROOT / "benchmarks" / "sprites_results.py").read_text()
    ours = re.search(r"^SETTINGS = (\{.*?\})\n", script, re.M | re.S).group(1)
    assert ast.literal_eval(ours) == ast.literal_eval(literal)


@pytest.mark.parametrize(("setup", "fragment"), [("quick", "VAE_TUTORIAL_QUICK is set"),
                                                 ("link", "symbolic link"), ("folder", "is a folder"),
                                                 ("broken", "is not JSON")])
def test_sprites_results_refuses_before_it_trains(tmp_path, setup, fragment):
    """Quick mode (the page holds full-mode models), a link, a folder or a broken file: one line, nothing trained."""
    target = tmp_path / "sprites.json"
    if setup == "link":
        target.symlink_to(tmp_path / "elsewhere.json")
    elif setup == "folder":
        target.mkdir()
    elif setup == "broken":
        target.write_text("[{")
    env = {**os.environ, "VAE_TUTORIAL_QUICK": "1" if setup == "quick" else "0",
           "VAE_TUTORIAL_CACHE": str(tmp_path / "cache"), "VAE_TUTORIAL_DATA": str(tmp_path / "no-data")}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sprites_results.py"), "--results", str(target)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    _refused(proc, 2, fragment)
    assert not (tmp_path / "cache").exists() and not (tmp_path / "elsewhere.json").exists()
