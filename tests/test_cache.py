"""The run cache: keyed by settings, code version and training data; never serves a stale or foreign run."""

import dataclasses
import json
import shutil

import pytest
import torch

import vae_tutorial.runs.cache as cache
from vae_tutorial.config import IDENTITY, PLACE, ModelConfig, TrainConfig, describe, to_dict, variant_tags
from vae_tutorial.data import Split

SMALL = ModelConfig(hidden_dim=8, latent_dim=2)


def quick(**settings) -> TrainConfig:
    return TrainConfig(**{"epochs": 1, "batch_size": 16, "device": "cpu", **settings})


def test_beta_4_and_4_point_0_are_one_run(toy_split):
    assert cache.run_key(SMALL, quick(beta=4), toy_split) == cache.run_key(SMALL, quick(beta=4.0), toy_split)
    assert TrainConfig(beta=4).beta == 4.0 and isinstance(TrainConfig(lr=1).lr, float)


def test_the_key_holds_the_training_data_and_the_code_version(toy_split, monkeypatch):
    key = cache.run_key(SMALL, quick(), toy_split)
    other = Split(toy_split.images.flip(0), toy_split.labels)
    assert cache.run_key(SMALL, quick(), other) != key
    assert cache.run_key(SMALL, quick(subset=32), toy_split) != key
    monkeypatch.setattr(cache, "CACHE_FORMAT", cache.CACHE_FORMAT + 1)
    assert cache.run_key(SMALL, quick(), toy_split) != key


def test_hit_and_miss_give_the_model_on_the_training_device(toy_split, tmp_path, monkeypatch):
    miss = cache.cached_fit(SMALL, quick(), toy_split, toy_split, root=tmp_path)
    asked = []
    real_load = cache.model_from_state
    monkeypatch.setattr(cache, "model_from_state",
                        lambda state, path, device="cpu": asked.append(device) or real_load(state, path, device))
    monkeypatch.setattr(cache, "fit", None)  # a hit must not train
    hit = cache.cached_fit(SMALL, quick(), toy_split, toy_split, root=tmp_path)
    assert asked == [torch.device("cpu")]
    assert hit.cached and not miss.cached  # what a chapter's progress line reports
    assert next(hit.model.parameters()).device == next(miss.model.parameters()).device
    for a, b in zip(hit.model.state_dict().values(), miss.model.state_dict().values()):
        torch.testing.assert_close(a, b)


def _only_run(root):
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    return folder


@pytest.mark.parametrize("tampering", ["foreign checkpoint", "other key", "no key"])
def test_a_foreign_or_stale_cached_run_is_set_aside_and_trained_again(tampering, toy_split, tmp_path, capfd):
    cache.cached_fit(SMALL, quick(), toy_split, toy_split, root=tmp_path / "a")
    folder = _only_run(tmp_path / "a")
    if tampering == "foreign checkpoint":
        cache.cached_fit(SMALL, quick(beta=2.0), toy_split, toy_split, root=tmp_path / "b")
        shutil.copy(_only_run(tmp_path / "b") / "checkpoint.pt", folder / "checkpoint.pt")
    elif tampering == "other key":
        key = json.loads((folder / "key.json").read_text())
        (folder / "key.json").write_text(json.dumps({**key, "code": "0.0.1/1"}))
    else:
        (folder / "key.json").unlink()
    capfd.readouterr()
    result = cache.cached_fit(SMALL, quick(), toy_split, toy_split, root=tmp_path / "a")
    assert not result.cached and "the model is trained again" in capfd.readouterr().err
    assert (folder / "checkpoint.pt.unreadable").exists()
    assert cache.cached_fit(SMALL, quick(), toy_split, toy_split, root=tmp_path / "a").cached


def test_folder_names_say_what_sets_a_run_apart(toy_split):
    assert cache.run_key(ModelConfig(latent_dim=2), TrainConfig(epochs=1), toy_split).startswith("mlp-z2-beta1-e1-")
    variant = ModelConfig(**{**to_dict(SMALL), "likelihood": "gaussian", "conditional": True})
    name = cache.run_key(variant, quick(free_bits=0.5, binarize=True, warmup_steps=10), toy_split)
    assert name.startswith("mlp-z2-beta1-h8-gaussian-cond-bs16-warm10-fb0.5-binary-e1-"), name


def test_every_setting_is_named_in_one_place():
    """describe(), the evaluate report and the cache's folder names all read the words and tag of each field."""
    for config_class in (ModelConfig, TrainConfig):
        for field in dataclasses.fields(config_class):
            if "help" in field.metadata and field.name not in IDENTITY + PLACE:
                assert field.metadata["words"] and field.metadata["tag"], field.name
    model, train = ModelConfig(likelihood="gaussian", gaussian_sigma=0.3), TrainConfig(capacity_max=5.0)
    assert describe(model, train) == "mlp VAE (latent 20, gaussian likelihood, sigma 0.3, capacity 5 nats)"
    assert variant_tags(model, train) == ["gaussian", "sigma0.3", "cap5"]
    assert describe(ModelConfig(), TrainConfig(device="cpu", data_dir="/elsewhere")) == "mlp VAE (latent 20, beta 1)"


def test_a_run_in_use_is_waited_for_not_refused(toy_split, tmp_path):
    """Two chapters (or a chapter and the build) asking for one run at once: the second waits, then loads it."""
    import threading
    import time

    from vae_tutorial.runs.folder import claimed_folder

    cache.cached_fit(SMALL, quick(), toy_split, toy_split, root=tmp_path)
    folder = _only_run(tmp_path)
    released = []

    def hold():
        with claimed_folder(folder, refuse=False):
            time.sleep(1.0)
            released.append(time.monotonic())

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    hit = cache.cached_fit(SMALL, quick(), toy_split, toy_split, root=tmp_path)
    finished = time.monotonic()
    holder.join()
    assert hit.cached and released and finished >= released[0]
