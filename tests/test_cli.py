import json
import os
import shutil
import subprocess
import sys

import pytest

from vae_tutorial.cli import main

METRIC_KEYS = {"epoch", "train_loss", "test_loss", "test_recon", "test_kl", "epoch_seconds"}


@pytest.fixture(scope="module")
def trained_run(real_data_dir, tmp_path_factory):
    """One short real run on a subset of Fashion-MNIST, shared by the tests below."""
    out = tmp_path_factory.mktemp("run")
    code = main(["train", "--epochs", "2", "--batch_size", "64", "--beta", "1.0", "--subset", "1024",
                 "--data-dir", real_data_dir, "--out", str(out), "--no-progress"])
    assert code == 0
    return out


def test_train_writes_all_outputs(trained_run):
    names = {path.name for path in trained_run.iterdir()}
    assert {"checkpoint.pt", "metrics.json", "reconstructions.png", "samples.png"} <= names
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert [record["epoch"] for record in metrics] == [1, 2]
    assert METRIC_KEYS <= set(metrics[0])
    assert metrics[1]["test_loss"] < metrics[0]["test_loss"]
    for png in ("reconstructions.png", "samples.png"):
        assert (trained_run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_prints_and_writes_json(trained_run, real_data_dir, tmp_path, capsys):
    report = tmp_path / "eval.json"
    code = main(["evaluate", str(trained_run / "checkpoint.pt"), "--data-dir", real_data_dir,
                 "--iwae-samples", "5", "--json", str(report)])
    assert code == 0
    printed = capsys.readouterr().out
    results = json.loads(report.read_text())
    assert f"test negative ELBO  {results['test_loss']:.2f}" in printed
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert results["test_loss"] == pytest.approx(metrics[-1]["test_loss"], rel=1e-5)
    assert results["iwae_samples"] == 5 and results["iwae_nll"] < results["test_loss"]
    assert len(results["kl_per_dim"]) == 20 and 0 <= results["active_units"] <= 20


def test_resume_adds_epochs_and_refuses_to_overwrite(trained_run, real_data_dir, tmp_path, capsys):
    run = shutil.copytree(trained_run, tmp_path / "run")  # the shared run stays as the other tests expect it
    code = main(["train", "--epochs", "2", "--out", str(run), "--data-dir", real_data_dir])
    assert code == 1 and "already holds a checkpoint" in capsys.readouterr().err
    code = main(["train", "--epochs", "3", "--resume", str(run / "checkpoint.pt"), "--data-dir", real_data_dir])
    assert code == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert [record["epoch"] for record in metrics] == [1, 2, 3]


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--epochs", "0"], "--epochs"),
        (["--epochs", "-3"], "--epochs"),
        (["--batch_size", "0"], "--batch-size"),
        (["--batch-size", "ten"], "--batch-size"),
        (["--beta", "-1"], "--beta"),
        (["--beta", "nan"], "--beta"),
        (["--beta", "inf"], "--beta"),
        (["--latent-dim", "0"], "--latent-dim"),
        (["--lr", "0"], "--lr"),
        (["--learning-rate", "1"], "unrecognized arguments"),
    ],
)
def test_bad_flags_get_one_line_and_exit_2(flags, fragment, capsys, tmp_path):
    code = main(["train", *flags, "--out", str(tmp_path / "never")])
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err and err.count("\n") == 1
    assert not (tmp_path / "never").exists()


def test_missing_data_folder(tmp_path, capsys):
    code = main(["train", "--epochs", "1", "--data-dir", str(tmp_path / "no-data"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "Fashion-MNIST not found" in err and err.count("\n") == 1


def test_unwritable_output_folder(tmp_path, capsys, tiny_data_root):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = main(["train", "--epochs", "1", "--data-dir", str(tiny_data_root), "--out", str(blocker / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "cannot write to the output folder" in err and err.count("\n") == 1


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"root:x:0:0:root:/root:/bin/bash\n"])
def test_corrupt_checkpoint(tmp_path, capsys, content):
    path = tmp_path / "broken.pt"
    path.write_bytes(content)
    for argv in (["evaluate", str(path)], ["train", "--epochs", "2", "--resume", str(path)]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 1 and "is not a checkpoint" in err and err.count("\n") == 1


def test_module_entry_point_prints_no_traceback(tmp_path):
    env = {**os.environ, "VAE_TUTORIAL_DATA": str(tmp_path / "missing")}
    proc = subprocess.run([sys.executable, "-m", "vae_tutorial", "train", "--epochs", "1", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")
    help_text = subprocess.run([sys.executable, "-m", "vae_tutorial", "train", "--help"], capture_output=True,
                               text=True, timeout=120).stdout
    assert "--batch_size" in help_text and "--beta" in help_text


def test_sweep_writes_table_and_plot(tiny_data_root, tmp_path, capsys):
    out = tmp_path / "sweep"
    code = main(["sweep", "--betas", "0.5", "4", "--epochs", "1", "--batch-size", "2", "--hidden-dim", "16",
                 "--data-dir", str(tiny_data_root), "--out", str(out), "--latent-dim", "8"])
    assert code == 0
    rows = (out / "sweep.csv").read_text().splitlines()
    assert rows[0].startswith("beta,test_loss") and [r.split(",")[0] for r in rows[1:]] == ["0.5", "4.0"]
    assert (out / "rate_distortion.png").stat().st_size > 1000
    assert "| 0.5 |" in capsys.readouterr().out
    assert len(list((out / "runs").iterdir())) == 2  # one cached run per beta


def test_train_with_the_issue_5_options(tiny_data_root, tmp_path):
    out = tmp_path / "variants"
    code = main(["train", "--epochs", "1", "--batch-size", "1", "--arch", "conv", "--binarize", "--warmup-steps", "4",
                 "--data-dir", str(tiny_data_root), "--out", str(out), "--hidden-dim", "64"])
    assert code == 0
    record = json.loads((out / "metrics.json").read_text())[0]
    assert record["beta"] == 1.0  # warm-up over 4 steps is finished after the epoch's 6 steps


def test_binarized_runs_are_evaluated_on_binary_test_images(tiny_data_root, tmp_path, capsys):
    out = tmp_path / "binary"
    assert main(["train", "--epochs", "1", "--binarize", "--data-dir", str(tiny_data_root), "--hidden-dim", "16",
                 "--out", str(out)]) == 0
    trained = json.loads((out / "metrics.json").read_text())[0]["test_loss"]
    data = str(tiny_data_root)
    assert main(["evaluate", str(out / "checkpoint.pt"), "--data-dir", data, "--json", str(tmp_path / "e.json")]) == 0
    assert json.loads((tmp_path / "e.json").read_text())["test_loss"] == pytest.approx(trained, rel=1e-5)
