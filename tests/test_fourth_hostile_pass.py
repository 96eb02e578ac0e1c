"""What the fourth hostile pass found (313 cases, 7 defects) and its fresh re-pass after the fixes (317 cases,
8 defects, below the second heading), each closed as a class with a sibling it did not name.

- A folder the user names that is a symbolic link: everything a run writes would land where it points
  (train --out; siblings: sweep --out, the chapters' cache folder and a cached run's folder).
- A results file that is a link, a pipe or JSON nested past Python's recursion limit: written through,
  read forever, or a traceback (model_comparison --results, results_table --results; siblings: the
  sprites results file).
- SIGTERM and SIGHUP ended the benchmarks without a word (sprites_budget; sibling: every benchmark uses
  the same runner).
- iwae_speed --samples without an upper bound ran for days.
- A crafted checkpoint whose settings each pass but do not go together (a beta-TCVAE on a mixture prior)
  was refused in the words of a flag the user never typed (sibling: free bits on a learned prior).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from test_cli_signals import _default_signals

from vae_tutorial.checkpoint import load_checkpoint
from vae_tutorial.config import ModelConfig, TrainConfig
from vae_tutorial.errors import CheckpointError, FolderError
from vae_tutorial.runs.cache import cached_fit
from vae_tutorial.runs.folder import claimed_folder
from vae_tutorial.train import fit

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vae_tutorial", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300)


def _one_line(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr[-1500:])
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr[-1500:]
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, proc.stderr)


# --- a folder that is a link --------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["train", "sweep"])
def test_an_output_folder_that_is_a_link_is_refused_and_nothing_lands_where_it_points(tmp_path, tiny_data_root,
                                                                                       command):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").symlink_to(elsewhere)
    flags = ["--betas", "1", "2"] if command == "sweep" else []
    proc = _cli(command, "--epochs", "1", "--batch_size", "2", "--data-dir", str(tiny_data_root),
                "--out", str(tmp_path / "out"), *flags, cwd=tmp_path)
    _one_line(proc, 1, "is a symbolic link", "name the folder itself")
    assert list(elsewhere.iterdir()) == []


def test_the_cache_refuses_a_cache_folder_or_a_cached_run_that_is_a_link(tmp_path, toy_split):
    model_config, train_config = ModelConfig(hidden_dim=16, latent_dim=2), TrainConfig(epochs=1, batch_size=16)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "cache").symlink_to(elsewhere)
    with pytest.raises(FolderError, match="symbolic link"):
        cached_fit(model_config, train_config, toy_split, toy_split, root=tmp_path / "cache")
    assert list(elsewhere.iterdir()) == []
    # a run's own folder inside a real cache folder, pointing elsewhere: the first call finds its name
    real = tmp_path / "real"
    cached_fit(model_config, train_config, toy_split, toy_split, root=real)
    (entry,) = [p for p in real.iterdir() if p.is_dir()]
    moved = tmp_path / "moved"
    entry.rename(moved)
    entry.symlink_to(moved)
    for leftover in moved.iterdir():
        leftover.unlink()
    with pytest.raises(FolderError, match="symbolic link"):
        cached_fit(model_config, train_config, toy_split, toy_split, root=real)
    assert list(moved.iterdir()) == []


def test_claimed_folder_follows_links_among_the_parents(tmp_path):
    """A link above the named folder is the user's own path (a home folder may be one): followed, not refused."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "home").symlink_to(real)
    with claimed_folder(tmp_path / "home" / "run") as folder:
        (folder / "metrics.json").write_text("{}")
    assert (real / "run" / "metrics.json").exists()


# --- results files that are links, pipes or too deep ----------------------------------------------------------

def _benchmark(script: str, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "VAE_TUTORIAL_DATA": str(cwd / "no-data"), "VAE_TUTORIAL_QUICK": "0"}
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)


def test_model_comparison_refuses_a_results_link_before_it_trains(tmp_path):
    target = tmp_path / "kept.json"
    target.write_text((ROOT / "book" / "results.json").read_text())
    (tmp_path / "link.json").symlink_to(target)
    proc = _benchmark("model_comparison.py", "--epochs", "1", "--results", str(tmp_path / "link.json"), cwd=tmp_path)
    _one_line(proc, 2, "symbolic link")
    assert target.read_text() == (ROOT / "book" / "results.json").read_text()


@pytest.mark.parametrize(("script", "flag"), [("results_table.py", "--results"), ("results_table.py", "--sprites-results"),
                                              ("model_comparison.py", "--results"), ("sprites_results.py", "--results")])
def test_a_results_file_that_is_a_pipe_is_refused_not_read_forever(tmp_path, script, flag):
    fifo = tmp_path / "results.json"
    os.mkfifo(fifo)
    args = ["--check"] if script == "results_table.py" else (["--epochs", "1"] if script == "model_comparison.py" else [])
    proc = _benchmark(script, *args, flag, str(fifo), cwd=tmp_path, timeout=60)
    assert proc.returncode in (1, 2), proc.stderr
    _one_line(proc, proc.returncode, "not a plain file")


@pytest.mark.parametrize("flag", ["--results", "--sprites-results"])
def test_json_nested_past_the_recursion_limit_is_one_line(tmp_path, flag):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    _one_line(_benchmark("results_table.py", "--check", flag, str(deep), cwd=tmp_path), 1, "nested too deeply")


# --- signals, bounds ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_benchmark_stopped_by_a_signal_says_so(tmp_path, name, code):
    """The benchmarks' shared runner (benchmarks/_cli.run), around a main that sleeps: one line, 128 + the signal."""
    script = tmp_path / "slow.py"
    script.write_text(f"import sys, time\nsys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
                      "from _cli import run\n"
                      "def main():\n    print('ready', flush=True)\n    time.sleep(60)\n"
                      "sys.exit(run(main))\n")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_signals)  # not what the test runner inherited (nohup ignores SIGHUP)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    proc.send_signal(getattr(signal, name))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code and err == "interrupted\n", (proc.returncode, err)


def test_iwae_speed_refuses_a_k_that_would_run_for_days(tmp_path):
    _one_line(_benchmark("iwae_speed.py", "--samples", "1000000000000", cwd=tmp_path), 2, "--samples",
              "from 1 to 100000")


# --- a crafted checkpoint whose settings do not go together ---------------------------------------------------

@pytest.mark.parametrize("settings", [
    {"model_config": {"prior": "mixture", "prior_components": 10}, "train_config": {"tc_weight": 2.0}},
    {"model_config": {"prior": "vamp", "prior_components": 4}, "train_config": {"free_bits": 0.5}},
])
def test_a_checkpoint_whose_settings_do_not_go_together_is_refused_by_name(tmp_path, toy_split, settings):
    result = fit(ModelConfig(hidden_dim=16, latent_dim=2), TrainConfig(epochs=1, batch_size=16), toy_split, toy_split,
                 out_dir=tmp_path / "run")
    assert result.history
    path = tmp_path / "run" / "checkpoint.pt"
    state = torch.load(path, weights_only=False)
    for key, values in settings.items():
        state[key].update(values)
    crafted = tmp_path / "crafted.pt"
    torch.save(state, crafted)
    with pytest.raises(CheckpointError, match=r"crafted\.pt holds settings this version cannot use"):
        load_checkpoint(crafted)


# --- the re-pass (317 cases, 8 defects), each closed as a class ------------------------------------------------

def _trained(tmp_path, tiny_data_root) -> Path:
    proc = _cli("train", "--epochs", "1", "--batch-size", "2", "--hidden-dim", "8", "--latent-dim", "2",
                "--data-dir", str(tiny_data_root), "--no-progress", "--out", str(tmp_path / "base"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-1500:]
    return tmp_path / "base" / "checkpoint.pt"


def _crafted(source: Path, target: Path, **model_settings) -> Path:
    state = torch.load(source, weights_only=False)
    state["model_config"].update(model_settings)
    torch.save(state, target)
    return target


def test_a_checkpoint_for_images_of_another_shape_is_refused_by_evaluate_and_resume(tmp_path, tiny_data_root):
    """Its weights match its settings (a 14 x 56 model, self-consistent) but not the data: one line, no work."""
    from vae_tutorial.model import VAE

    base = _trained(tmp_path, tiny_data_root)
    state = torch.load(base, weights_only=False)
    state["model_config"]["image_shape"] = [1, 14, 56]
    state["model_state"] = VAE(ModelConfig(**state["model_config"])).state_dict()
    torch.save(state, tmp_path / "wide.pt")
    for args in (["evaluate", str(tmp_path / "wide.pt"), "--iwae-samples", "0"],
                 ["train", "--resume", str(tmp_path / "wide.pt"), "--epochs", "2", "--out", str(tmp_path / "x")]):
        proc = _cli(*args, "--data-dir", str(tiny_data_root), cwd=tmp_path)
        _one_line(proc, 1, "wide.pt holds a model of 1x14x56 images", "1x28x28")
    assert not (tmp_path / "x").exists()


def test_a_checkpoint_whose_settings_call_for_more_weights_than_it_holds_is_refused_before_building(
        tmp_path, tiny_data_root):
    """hidden_dim 500,000 in a file of a few kB: counted (10^9 weights), not allocated; a sibling: latent_dim."""
    base = _trained(tmp_path, tiny_data_root)
    for name, settings in (("huge.pt", {"hidden_dim": 500_000}), ("wide_code.pt", {"latent_dim": 64})):
        path = _crafted(base, tmp_path / name, **settings)
        with pytest.raises(CheckpointError, match=rf"{name} does not fit this package's VAE \(its settings call for"):
            from vae_tutorial.checkpoint import load_model
            load_model(path)


def test_a_benchmark_stopped_while_it_still_imports_says_so(tmp_path):
    """The window before run(): the shared module's own handler, one word and 128 + the signal, no traceback."""
    script = tmp_path / "importing.py"
    script.write_text(f"import sys, time\nsys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
                      "import _cli\nprint('ready', flush=True)\ntime.sleep(60)  # a long import\n")
    for name, code in (("SIGINT", 130), ("SIGTERM", 143)):
        proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, preexec_fn=_default_signals)  # a background job ignores SIGINT
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(getattr(signal, name))
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == code and err == "interrupted\n", (name, proc.returncode, err)


def test_the_explorer_refuses_a_folder_that_is_a_link(tmp_path):
    from vae_tutorial.book.site_explorer import write_inside
    from vae_tutorial.errors import OutputError

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "assets").symlink_to(elsewhere)
    with pytest.raises(OutputError, match="is a symbolic link"):
        write_inside(tmp_path / "assets", "latent-2d.js", "x")
    assert list(elsewhere.iterdir()) == []


def test_results_table_refuses_a_target_page_that_is_a_pipe(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import results_table
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    fifo = tmp_path / "README.md"
    os.mkfifo(fifo)
    monkeypatch.setattr(results_table, "TARGETS", (fifo,))
    monkeypatch.setattr(results_table, "SPRITES_TARGETS", ())
    with pytest.raises(results_table.ResultsError, match="is not a plain file"):
        results_table.main(["--check"])


def test_a_sweep_that_would_drop_betas_from_its_tables_is_refused(tmp_path, tiny_data_root):
    flags = ["--epochs", "1", "--batch-size", "2", "--hidden-dim", "8", "--latent-dim", "2", "--no-progress",
             "--data-dir", str(tiny_data_root), "--out", str(tmp_path / "sweep")]
    first = _cli("sweep", "--betas", "1", "2", *flags, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-1500:]
    table = (tmp_path / "sweep" / "sweep.csv").read_text()
    _one_line(_cli("sweep", "--betas", "2", *flags, cwd=tmp_path), 1, "holds beta 1", "include them in --betas")
    assert (tmp_path / "sweep" / "sweep.csv").read_text() == table
    again = _cli("sweep", "--betas", "1", "2", "4", *flags, cwd=tmp_path)  # more betas: the folder is reused
    assert again.returncode == 0, again.stderr[-1500:]


def test_a_data_folder_that_is_a_file_is_named_as_one(tmp_path):
    (tmp_path / "d" / "FashionMNIST").mkdir(parents=True)
    (tmp_path / "d" / "FashionMNIST" / "raw").write_text("")
    proc = _cli("train", "--epochs", "1", "--data-dir", str(tmp_path / "d"), "--out", str(tmp_path / "o"),
                cwd=tmp_path)
    _one_line(proc, 1, "raw is a file, not a folder")
