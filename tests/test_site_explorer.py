"""The site's latent explorer, without a browser: what the build exports is the model's decoder.

tests/test_book.py runs the exported decoder in Chromium and compares its pixels with PyTorch's;
here the export itself is checked: decoded from its float16 bytes, it draws the same grey levels.
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
import torch

from vae_tutorial.book.site_explorer import ASSETS_ENV_VAR, REGISTRY, export, payload, plane_limit, weights_file
from vae_tutorial.book.widgets import latent_plane_explorer
from vae_tutorial.config import ModelConfig
from vae_tutorial.model import VAE


@pytest.fixture
def model_2d() -> VAE:
    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim=2))
    with torch.no_grad():  # logits spread like a trained decoder's (std about 6; 4 after quick mode's 3 epochs)
        for parameter in model.decoder.parameters():
            parameter.mul_(3)
    return model


def _codes(count: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(count, 2, generator=generator), torch.arange(count) % 10


def _decode_like_the_browser(content: dict, z: np.ndarray) -> np.ndarray:
    """What latent-explorer.js computes, in NumPy: float16 weights, ReLU between layers, sigmoid, round."""
    x = z
    for k, layer in enumerate(content["layers"]):
        weight = np.frombuffer(base64.b64decode(layer["weight"]), "<f2").astype(np.float64)
        bias = np.frombuffer(base64.b64decode(layer["bias"]), "<f2").astype(np.float64)
        x = x @ weight.reshape(layer["out"], layer["in"]).T + bias
        x = 1 / (1 + np.exp(-x)) if k == len(content["layers"]) - 1 else np.maximum(x, 0)
    return np.floor(255 * x + 0.5)  # Math.round


def test_the_exported_decoder_draws_the_models_grey_levels(model_2d):
    codes, labels = _codes()
    content = payload(model_2d, codes, labels, "a test model")
    z = torch.randn(500, 2, generator=torch.Generator().manual_seed(2)) * 3
    with torch.no_grad():
        means = model_2d.likelihood.mean(model_2d.decoder(z))
    expected = (255 * means).round().flatten(1).numpy()  # (500, 784): the grey levels PyTorch draws
    drawn = _decode_like_the_browser(content, z.double().numpy())
    assert np.abs(drawn - expected).max() <= 1.0  # within one grey level, float16 weights and all
    assert np.abs(drawn - expected).mean() < 0.05
    assert 50 < expected.max() - expected.min()  # the check is on pixels that vary, not on a flat grey


def test_a_wrong_export_is_caught(model_2d):
    """The comparison above can fail: weights written transposed, or the sigmoid left out, are far off."""
    codes, labels = _codes()
    content = payload(model_2d, codes, labels, "a test model")
    z = np.array([[0.5, -1.0]])
    with torch.no_grad():
        expected = (255 * model_2d.likelihood.mean(model_2d.decoder(torch.tensor(z).float()))).flatten(1).numpy()
    wrong = json.loads(json.dumps(content))
    wrong["layers"] = wrong["layers"][::-1]  # the layers in the wrong order
    with pytest.raises(ValueError):
        _decode_like_the_browser(wrong, z)
    hidden = content["layers"][0]
    transposed = np.frombuffer(base64.b64decode(hidden["weight"]), "<f2").reshape(hidden["out"], hidden["in"]).T
    wrong = json.loads(json.dumps(content))
    wrong["layers"][0]["weight"] = base64.b64encode(np.ascontiguousarray(transposed).tobytes()).decode()
    assert np.abs(_decode_like_the_browser(wrong, z) - expected).max() > 10


def test_the_payload_holds_the_codes_and_their_classes(model_2d):
    codes, labels = _codes(30)
    content = payload(model_2d, codes, labels, "what it is")
    assert len(content["codes"]) == len(content["labels"]) == 30 and content["description"] == "what it is"
    assert np.allclose(content["codes"], codes.numpy(), atol=5e-4)
    assert content["labels"] == labels.tolist() and len(content["class_names"]) == 10
    assert content["image_shape"] == [28, 28] and content["limit"] >= 3


def test_the_plane_holds_nearly_every_code():
    codes = torch.randn(10_000, 2, generator=torch.Generator().manual_seed(3)) * 2.5
    limit = plane_limit(codes)
    assert (codes.abs() <= limit).all(dim=1).float().mean() > 0.99 and limit <= codes.abs().max() + 0.5
    assert plane_limit(torch.zeros(5, 2)) == 3.0


@pytest.mark.parametrize("settings", [{"latent_dim": 20}, {"latent_dim": 2, "arch": "conv"},
                                      {"latent_dim": 2, "conditional": True},
                                      {"latent_dim": 2, "likelihood": "gaussian"}])
def test_models_the_browser_cannot_run_are_refused(settings):
    codes, labels = _codes()
    with pytest.raises(ValueError, match="explorer"):
        payload(VAE(ModelConfig(**settings)), codes, labels, "x")


def test_a_name_that_is_not_a_plain_file_name_is_refused(model_2d, tmp_path):
    codes, labels = _codes()
    for name in ("../escape", "Latent 2D", "", "a/b"):
        with pytest.raises(ValueError, match="name"):
            export(model_2d, codes, labels, name, "x", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_in_jupyterlab_the_explorer_is_the_widget(model_2d, monkeypatch, tmp_path):
    import ipywidgets

    monkeypatch.delenv(ASSETS_ENV_VAR, raising=False)
    codes, labels = _codes()
    shown = latent_plane_explorer(model_2d, codes, labels, "x")
    assert isinstance(shown, ipywidgets.Widget)


def test_in_the_book_build_the_explorer_is_exported_beside_the_page(model_2d, monkeypatch, tmp_path):
    monkeypatch.setenv(ASSETS_ENV_VAR, str(tmp_path / "assets"))
    codes, labels = _codes()
    shown = latent_plane_explorer(model_2d, codes, labels, "A model & its codes", name="latent-2d")
    page = shown.data
    assert re.search(r'<div class="vae-explorer" data-model="latent-2d" data-weights="latent-2d\.js">', page)
    assert "A model &amp; its codes" in page and "needs JavaScript" in page and "Figures 8.1 and 8.2" in page
    script = (tmp_path / "assets" / weights_file("latent-2d")).read_text()
    registered = re.search(rf'window\.{REGISTRY}\["latent-2d"\] = (\{{.*\}});\n$', script)
    assert registered, script[:200]
    assert json.loads(registered.group(1)) == payload(model_2d, codes, labels, "A model & its codes")
    assert f"{sum(p.numel() for p in model_2d.decoder.parameters()):,} numbers" in page


def test_the_build_extension_names_the_same_folder_variable():
    """book/_ext/latent_explorer.py does not import the package (torch in the Sphinx process): it spells the
    variable itself, and the two spellings must agree, or the chapters would export nothing."""
    import importlib.util
    from pathlib import Path

    source = Path(__file__).resolve().parents[1] / "book" / "_ext" / "latent_explorer.py"
    spec = importlib.util.spec_from_file_location("latent_explorer_extension", source)
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    assert extension.ASSETS_ENV_VAR == ASSETS_ENV_VAR


# What the browser cannot carry is refused by name, in one line, with the package's errors (issue 29).

def _one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message and message.strip() == message and message
    return message


@pytest.mark.parametrize(("layer", "part", "value"), [
    ("logits", "weight", 1e5),  # beyond float16's largest, 65504: exported as an infinity before
    ("hidden", "weight", -7e4),
    ("logits", "bias", float("nan")),  # sibling cases: a NaN, and a bias rather than a weight
    ("hidden", "bias", float("inf")),
])
def test_a_weight_float16_cannot_hold_is_refused_by_name(model_2d, tmp_path, layer, part, value):
    from vae_tutorial.errors import ExportError, VAETutorialError

    with torch.no_grad():
        getattr(getattr(model_2d.decoder, layer), part).view(-1)[3] = value
    codes, labels = _codes()
    with pytest.raises(ExportError) as err:
        export(model_2d, codes, labels, "latent-2d", "x", tmp_path)
    message = _one_line(err)
    assert f"decoder.{layer}.{part}" in message and "float16" in message and "1 of its values" in message
    assert isinstance(err.value, VAETutorialError) and list(tmp_path.iterdir()) == []


def test_the_largest_weight_float16_holds_is_exported(model_2d, tmp_path):
    """The refusal is at float16's edge, not before it: 65504 itself goes through, as 65504."""
    with torch.no_grad():
        model_2d.decoder.logits.weight.view(-1)[0] = 65504.0
    codes, labels = _codes()
    content = payload(model_2d, codes, labels, "x")
    weights = np.frombuffer(base64.b64decode(content["layers"][1]["weight"]), "<f2")
    assert weights[0] == 65504.0 and np.isfinite(weights).all()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_codes_that_are_not_finite_are_refused_by_name(model_2d, tmp_path, value):
    from vae_tutorial.errors import ExportError

    codes, labels = _codes()
    codes[7, 1] = value
    for call in (lambda: export(model_2d, codes, labels, "latent-2d", "x", tmp_path), lambda: plane_limit(codes)):
        with pytest.raises(ExportError) as err:
            call()
        assert "codes that are not finite" in _one_line(err) and "row 7" in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("label", [10, -1])
def test_labels_that_are_not_classes_are_refused(model_2d, tmp_path, label):
    """A sibling of the codes: a label the page cannot name or colour was exported without a word before."""
    from vae_tutorial.errors import ExportError

    codes, labels = _codes()
    labels[4] = label
    with pytest.raises(ExportError) as err:
        export(model_2d, codes, labels, "latent-2d", "x", tmp_path)
    assert f"row 4 holds {label}" in _one_line(err)
    assert list(tmp_path.iterdir()) == []


def test_a_link_where_the_weights_go_is_refused_and_its_file_untouched(model_2d, tmp_path):
    from vae_tutorial.errors import OutputError

    assets, elsewhere = tmp_path / "assets", tmp_path / "elsewhere.txt"
    assets.mkdir()
    elsewhere.write_text("someone's file\n")
    (assets / weights_file("latent-2d")).symlink_to(elsewhere)
    codes, labels = _codes()
    with pytest.raises(OutputError) as err:
        export(model_2d, codes, labels, "latent-2d", "x", assets)
    assert "symbolic link" in _one_line(err) and weights_file("latent-2d") in str(err.value)
    assert elsewhere.read_text() == "someone's file\n" and (assets / weights_file("latent-2d")).is_symlink()


def test_a_broken_link_where_the_weights_go_creates_nothing_at_its_target(model_2d, tmp_path):
    """The sibling the issue did not name: a link to a file that does not exist yet would have created it."""
    from vae_tutorial.errors import OutputError

    assets, outside = tmp_path / "assets", tmp_path / "outside" / "planted.js"
    assets.mkdir()
    outside.parent.mkdir()
    (assets / weights_file("latent-2d")).symlink_to(outside)
    codes, labels = _codes()
    with pytest.raises(OutputError):
        export(model_2d, codes, labels, "latent-2d", "x", assets)
    assert not outside.exists() and list(outside.parent.iterdir()) == []


def test_a_folder_where_the_weights_go_is_refused_in_one_line(model_2d, tmp_path):
    from vae_tutorial.errors import OutputError

    (tmp_path / weights_file("latent-2d")).mkdir()
    codes, labels = _codes()
    with pytest.raises(OutputError) as err:
        export(model_2d, codes, labels, "latent-2d", "x", tmp_path)
    assert "not a file" in _one_line(err)


def test_an_earlier_export_is_replaced_and_nothing_else_is_left(model_2d, tmp_path):
    codes, labels = _codes()
    (tmp_path / weights_file("latent-2d")).write_text("an earlier build's weights")
    export(model_2d, codes, labels, "latent-2d", "x", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [weights_file("latent-2d")]
    assert (tmp_path / weights_file("latent-2d")).read_text().startswith(f"window.{REGISTRY}")


def _extension():
    import importlib.util
    from pathlib import Path

    source = Path(__file__).resolve().parents[1] / "book" / "_ext" / "latent_explorer.py"
    spec = importlib.util.spec_from_file_location("latent_explorer_extension", source)
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    return extension


def test_the_build_does_not_copy_the_weights_through_a_link_beside_the_page(tmp_path, monkeypatch):
    """The build's copy beside the page (book/_ext/latent_explorer.py) is the export's sibling: a link there is
    refused with one warning and the file it points at is left as it was; a plain file is replaced."""
    from types import SimpleNamespace

    extension = _extension()
    warnings = []
    monkeypatch.setattr(extension, "logger", SimpleNamespace(warning=warnings.append))
    app = SimpleNamespace(doctreedir=str(tmp_path / "doctrees"), outdir=str(tmp_path / "html"))
    (tmp_path / "doctrees" / "latent-explorer").mkdir(parents=True)
    (tmp_path / "doctrees" / "latent-explorer" / "latent-2d.js").write_text("the weights")
    (tmp_path / "html" / "notebooks").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("someone's file")
    (tmp_path / "html" / "notebooks" / "latent-2d.js").symlink_to(elsewhere)
    context = {"body": '<div class="vae-explorer" data-model="latent-2d" data-weights="latent-2d.js"></div>'}
    extension._copy_weights_beside_the_page(app, "notebooks/08_latent_space", "page.html", context, None)
    assert elsewhere.read_text() == "someone's file" and len(warnings) == 1 and "symbolic link" in warnings[0]
    (tmp_path / "html" / "notebooks" / "latent-2d.js").unlink()
    extension._copy_weights_beside_the_page(app, "notebooks/08_latent_space", "page.html", context, None)
    copied = tmp_path / "html" / "notebooks" / "latent-2d.js"
    assert copied.read_text() == "the weights" and not copied.is_symlink() and len(warnings) == 1
    assert sorted(p.name for p in copied.parent.iterdir()) == ["latent-2d.js"]
