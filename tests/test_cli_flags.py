"""Adversarial flags: each bad value is refused by the config's own check, as one line, exit 2, nothing written."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import vae_tutorial
from vae_tutorial.cli import build_parser
from vae_tutorial.config import EvalConfig, ModelConfig, TrainConfig
from vae_tutorial.runs.runtime import keep_openmp_threads_awake

ROOT = Path(__file__).resolve().parents[1]

BAD_TRAIN_FLAGS = [
    (["--epochs", "0"], "--epochs"), (["--epochs", "-3"], "--epochs"), (["--epochs", "1.5"], "--epochs"),
    (["--batch_size", "0"], "--batch-size"), (["--batch-size", "ten"], "--batch-size"),
    (["--lr", "0"], "learning rate"), (["--lr", "-1"], "--lr"), (["--lr", "nan"], "--lr"), (["--lr", "inf"], "--lr"),
    (["--beta", "-1"], "--beta"), (["--beta", "nan"], "--beta"), (["--beta", "inf"], "--beta"),
    (["--latent-dim", "0"], "--latent-dim"), (["--hidden_dim", "-5"], "--hidden-dim"),
    (["--arch", "rnn"], "--arch"), (["--device", "tpu"], "--device"), (["--capacity", "-1"], "--capacity"),
    (["--capacity", "nan"], "--capacity"), (["--gamma", "inf"], "--gamma"), (["--subset", "0"], "--subset"),
    (["--warmup-steps", "-1"], "--warmup-steps"), (["--seed", "-1"], "--seed"), (["--seed", "x"], "--seed"), (["--seed", str(2**32)], "--seed"),
    (["--learning-rate", "1"], "unrecognized arguments"), (["--epochs"], "expected one argument"),
]


@pytest.mark.parametrize("flags, fragment", BAD_TRAIN_FLAGS)
def test_bad_train_flags(flags, fragment, cli, tmp_path):
    cli("train", *flags, "--out", tmp_path / "never").failed(2, fragment)
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("argv, fragment", [
    (["evaluate", "x.pt", "--batch-size", "0"], "--batch-size"),
    (["evaluate", "x.pt", "--iwae-samples", "-1"], "--iwae-samples"),
    (["evaluate", "x.pt", "--device", "gpu"], "--device"),
    (["evaluate"], "checkpoint"),
    (["sweep", "--betas"], "--betas"),
    (["sweep", "--betas", "1", "-2"], "--betas"),
    (["sweep", "--betas", "nan"], "--betas"),
    ([], "required"),
    (["fit"], "invalid choice"),
])
def test_bad_flags_of_every_command(argv, fragment, cli):
    cli(*argv).failed(2, fragment)


def test_both_spellings_and_the_readme_command_parse():
    args = build_parser().parse_args(["train", "--epochs", "50", "--batch_size", "64", "--beta", "1.0"])
    assert (args.epochs, args.batch_size, args.beta) == (50, 64, 1.0)
    assert build_parser().parse_args(["train", "--batch-size", "7", "--latent_dim", "3"]).latent_dim == 3


@pytest.mark.parametrize("config_class, command", [(TrainConfig, "train"), (ModelConfig, "train"), (EvalConfig, "evaluate")])
def test_flag_defaults_come_from_the_dataclasses(config_class, command):
    argv = [command] + (["c.pt"] if command == "evaluate" else [])
    args = vars(build_parser().parse_args(argv))
    for name, value in vars(config_class()).items():
        if name not in ("image_shape", "num_classes"):  # fixed by the data, not by flags
            assert args[name] == value, name


def test_version_is_the_installed_one():
    """pyproject.toml takes its version from vae_tutorial.__version__ (one source); pip records it."""
    from importlib.metadata import version

    assert 'path = "vae_tutorial/__init__.py"' in (ROOT / "pyproject.toml").read_text()
    assert vae_tutorial.__version__ == version("vae-tutorial")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--version"])


def test_importing_the_package_does_not_import_torch():
    code = "import sys, vae_tutorial, vae_tutorial.cli; assert 'torch' not in sys.modules, 'torch loaded'"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    assert subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, timeout=60).returncode == 0


@pytest.mark.parametrize("user_setting", [{}, {"OMP_WAIT_POLICY": "PASSIVE"}, {"GOMP_SPINCOUNT": "0"}])
def test_openmp_spin_respects_the_user(user_setting, monkeypatch):
    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in user_setting.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "torch")  # as before the first import, restored afterwards
    keep_openmp_threads_awake()
    assert os.environ.get("GOMP_SPINCOUNT") == user_setting.get("GOMP_SPINCOUNT", None if user_setting else "300000000")
    assert os.environ.get("OMP_WAIT_POLICY") == user_setting.get("OMP_WAIT_POLICY")
