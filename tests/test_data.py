import pytest
import torch

from vae_tutorial.data import CLASS_NAMES, DATA_ENV_VAR, load_split, minibatches, resolve_data_root
from vae_tutorial.errors import DataError


def test_reads_tiny_idx_files(tiny_data_root):
    train = load_split(True, tiny_data_root)
    test = load_split(False, tiny_data_root)
    assert train.images.shape == (6, 1, 28, 28) and test.images.shape == (4, 1, 28, 28)
    assert train.images.dtype == torch.float32
    expected = (torch.arange(6 * 784) % 256).float().view(6, 1, 28, 28) / 255
    torch.testing.assert_close(train.images, expected)
    assert train.labels.tolist() == [0, 1, 2, 3, 4, 5]
    assert len(train.head(2)) == 2 and len(train.head(None)) == 6


def test_data_root_order(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "from-env"))
    assert resolve_data_root(tmp_path / "explicit") == (tmp_path / "explicit", False)
    assert resolve_data_root() == (tmp_path / "from-env", False)
    monkeypatch.delenv(DATA_ENV_VAR)
    root, may_download = resolve_data_root()
    assert root.name == "data" and may_download


def test_missing_data_says_where_it_looked(tmp_path):
    with pytest.raises(DataError) as caught:
        load_split(True, tmp_path / "nowhere")
    message = str(caught.value)
    assert str(tmp_path / "nowhere" / "FashionMNIST" / "raw") in message
    assert DATA_ENV_VAR in message and "\n" not in message


def test_truncated_file_is_a_data_error(tiny_data_root):
    images = tiny_data_root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    with pytest.raises(DataError, match="cannot read"):
        load_split(True, tiny_data_root)


def test_minibatches_visit_every_image_once_in_a_seeded_order():
    images = torch.arange(10.0).view(10, 1, 1, 1)
    batches = list(minibatches(images, 4, generator=torch.Generator().manual_seed(0)))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat(batches).flatten().tolist()) == list(range(10))
    again = torch.cat(list(minibatches(images, 4, generator=torch.Generator().manual_seed(0))))
    torch.testing.assert_close(torch.cat(batches), again)
    in_order = torch.cat(list(minibatches(images, 3, shuffle=False))).flatten().tolist()
    assert in_order == list(range(10))


def test_real_fashion_mnist(real_data_dir):
    train, test = load_split(True, real_data_dir), load_split(False, real_data_dir)
    assert train.images.shape == (60_000, 1, 28, 28)
    assert test.images.shape == (10_000, 1, 28, 28)
    assert 0.0 == train.images.min() and train.images.max() == 1.0
    assert torch.bincount(train.labels).tolist() == [6000] * len(CLASS_NAMES)
    assert torch.bincount(test.labels).tolist() == [1000] * len(CLASS_NAMES)


def test_dynamic_binarization_draws_each_pixel_with_its_grey_level():
    from vae_tutorial.data import binarize

    grey = torch.full((2000, 1, 4, 4), 0.3)
    drawn = binarize(grey, generator=torch.Generator().manual_seed(0))
    assert set(drawn.unique().tolist()) == {0.0, 1.0}
    assert abs(drawn.mean().item() - 0.3) < 0.01
    edges = binarize(torch.tensor([0.0, 1.0]).view(1, 1, 1, 2))
    assert edges.flatten().tolist() == [0.0, 1.0]
