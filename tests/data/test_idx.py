"""IDX folders (vaekit.data.idx): images and labels round trip in every file-name style; bad files get a
UserError naming the file and the problem."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import data_error, random_uint8

from vaekit.config import DataConfig
from vaekit.data import load_data, resolve
from vaekit.data.idx import FASHION_MNIST_DIR

IDX_NAME_STYLES = ["{split}-{kind}-{dims}-ubyte.gz", "{split}-{kind}-{dims}-ubyte", "{split}-{kind}.{dims}-ubyte"]


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array, written independently of the reader: magic 0x0000 08 ndim, big-endian dims."""
    return struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_file(path: Path, data: bytes) -> None:
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


@pytest.mark.parametrize("style", IDX_NAME_STYLES)
def test_idx_folder_round_trips_images_and_labels(tmp_path, style):
    name = lambda split, kind: style.format(split=split, kind=kind, dims="idx3" if kind == "images" else "idx1")
    train, test = random_uint8((7, 5, 4), 0), random_uint8((3, 5, 4), 1)
    train_labels = np.array([3, 1, 4, 1, 5, 9, 2], dtype=np.uint8)
    write_file(tmp_path / name("train", "images"), idx_bytes(train))
    write_file(tmp_path / name("train", "labels"), idx_bytes(train_labels))
    write_file(tmp_path / name("t10k", "images"), idx_bytes(test))  # a test split without labels

    assert resolve(str(tmp_path)) == ("idx", str(tmp_path))
    splits = load_data(str(tmp_path), DataConfig())

    assert splits.train.values.dtype == torch.uint8
    assert splits.train.shape == (1, 5, 4)
    assert torch.equal(splits.train.values[:, 0], torch.from_numpy(train))
    assert torch.equal(splits.train.labels, torch.from_numpy(train_labels).long())
    assert torch.allclose(splits.train.inputs(), torch.from_numpy(train).float().unsqueeze(1) / 255)
    assert torch.equal(splits.test.values[:, 0], torch.from_numpy(test))
    assert splits.test.labels is None


def test_idx_folder_without_test_files_has_no_test_split(tmp_path):
    write_file(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(random_uint8((2, 3, 3), 2)))
    splits = load_data(f"mnist:{tmp_path}", DataConfig())
    assert splits.test is None
    assert splits.train.labels is None
    assert len(splits.train) == 2


@pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="Fashion-MNIST (Debian dataset-fashion-mnist) not installed")
def test_fashion_mnist_default_folder_loads_the_standard_splits():
    splits = load_data("fashion-mnist", DataConfig())
    for data, n in ((splits.train, 60000), (splits.test, 10000)):
        assert len(data) == n and data.shape == (1, 28, 28)
        assert data.values.dtype == torch.uint8
        assert sorted(data.labels.unique().tolist()) == list(range(10))
        inputs = data.inputs(slice(0, 100))
        assert 0 <= float(inputs.min()) and float(inputs.max()) <= 1
        assert float(inputs.max()) > 0.5  # real pictures, not an empty buffer


def idx_header(magic: int, *dims: int) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims)


def idx_folder(folder: Path, images: bytes, labels: bytes | None = None, suffix: str = "") -> Path:
    """A folder with train image (and label) files holding these exact bytes, gzipped when suffix is '.gz'."""
    folder.mkdir(exist_ok=True)
    pack = gzip.compress if suffix == ".gz" else bytes
    (folder / f"train-images-idx3-ubyte{suffix}").write_bytes(pack(images))
    if labels is not None:
        (folder / f"train-labels-idx1-ubyte{suffix}").write_bytes(pack(labels))
    return folder


def good_images(n: int) -> bytes:
    return idx_header(0x803, n, 2, 2) + bytes(4 * n)


def test_idx_missing_folder(tmp_path):
    text = data_error(f"idx:{tmp_path / 'nowhere'}")
    assert "nowhere" in text and "no such folder" in text


def test_idx_folder_without_train_images_lists_expected_names(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(good_images(1))
    text = data_error(f"mnist:{tmp_path}")
    assert str(tmp_path) in text and "no training images" in text
    assert "train-images-idx3-ubyte.gz" in text and "train-images.idx3-ubyte" in text


def test_idx_wrong_magic_number_says_found_and_expected(tmp_path):
    folder = idx_folder(tmp_path / "d", idx_header(0x801, 4) + bytes(4))  # a label file where images belong
    text = data_error(f"idx:{folder}")
    assert "train-images-idx3-ubyte" in text and "magic number" in text
    assert "0x00000801" in text and "0x00000803" in text


def test_idx_truncated_file(tmp_path):
    folder = idx_folder(tmp_path / "d", good_images(3)[:-5])
    text = data_error(f"idx:{folder}")
    assert "train-images-idx3-ubyte" in text and "truncated" in text and "3 x 2 x 2" in text


def test_idx_truncated_gzip(tmp_path):
    folder = idx_folder(tmp_path / "d", good_images(50), suffix=".gz")
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])  # cut into the compressed stream
    text = data_error(f"idx:{folder}")
    assert "train-images-idx3-ubyte.gz" in text and "truncated gzip" in text


def test_idx_image_and_label_counts_differ(tmp_path):
    folder = idx_folder(tmp_path / "d", good_images(3), idx_header(0x801, 2) + bytes(2))
    text = data_error(f"idx:{folder}")
    assert "train-images-idx3-ubyte" in text and "train-labels-idx1-ubyte" in text
    assert "3 images" in text and "2 labels" in text
