"""Data sources read what was written: IDX folders, NumPy files, image folders and CSV tables."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vaekit.config import DataConfig
from vaekit.data import load_data, resolve
from vaekit.data.idx import FASHION_MNIST_DIR
from vaekit.data.images import ImageFolderDataset, estimated_bytes, load_images


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array, written independently of the reader: magic 0x0000 08 ndim, big-endian dims."""
    return struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_file(path: Path, data: bytes) -> None:
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def random_uint8(shape, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


# ---------------------------------------------------------------- IDX


IDX_NAME_STYLES = ["{split}-{kind}-{dims}-ubyte.gz", "{split}-{kind}-{dims}-ubyte", "{split}-{kind}.{dims}-ubyte"]


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


# ---------------------------------------------------------------- NumPy


def test_npy_float_table_round_trips_as_float32(tmp_path):
    x = np.random.default_rng(0).normal(size=(6, 3))
    np.save(tmp_path / "x.npy", x)
    data = load_data(str(tmp_path / "x.npy"), DataConfig()).train
    assert data.values.dtype == torch.float32 and data.shape == (3,)
    assert torch.allclose(data.inputs(), torch.from_numpy(x).float())


def test_npy_uint8_grey_images_gain_a_channel_and_scale(tmp_path):
    x = random_uint8((4, 5, 6), 3)
    np.save(tmp_path / "x.npy", x)
    data = load_data(str(tmp_path / "x.npy"), DataConfig()).train
    assert data.values.dtype == torch.uint8 and data.shape == (1, 5, 6)
    assert torch.allclose(data.inputs(), torch.from_numpy(x).float().unsqueeze(1) / 255)


def test_npy_bool_data_keeps_values_zero_and_one(tmp_path):
    x = random_uint8((5, 4), 4) > 127
    np.save(tmp_path / "x.npy", x)
    data = load_data(str(tmp_path / "x.npy"), DataConfig()).train
    assert torch.equal(data.inputs(), torch.from_numpy(x).float())


def test_npz_round_trips_inputs_labels_and_test_split(tmp_path):
    x, x_test = random_uint8((5, 3, 4, 4), 5), random_uint8((2, 3, 4, 4), 6)
    y, y_test = np.array([0, 2, 1, 2, 0]), np.array([1.0, 0.0])  # float labels holding integers are fine
    np.savez(tmp_path / "d.npz", x=x, y=y, x_test=x_test, y_test=y_test)
    splits = load_data(str(tmp_path / "d.npz"), DataConfig())
    assert torch.equal(splits.train.values, torch.from_numpy(x))
    assert splits.train.labels.tolist() == y.tolist()
    assert torch.equal(splits.test.values, torch.from_numpy(x_test))
    assert splits.test.labels.tolist() == [1, 0]


@pytest.mark.parametrize("keys", [("inputs", "labels"), ("x_train", "y_train")])
def test_npz_accepts_the_other_key_names(tmp_path, keys):
    x = np.random.default_rng(7).normal(size=(4, 2)).astype(np.float64)
    np.savez(tmp_path / "d.npz", **{keys[0]: x, keys[1]: np.arange(4)})
    data = load_data(str(tmp_path / "d.npz"), DataConfig()).train
    assert torch.allclose(data.inputs(), torch.from_numpy(x).float())
    assert data.labels.tolist() == [0, 1, 2, 3]


def test_npz_with_one_array_of_any_name_uses_it_as_inputs(tmp_path):
    x = np.random.default_rng(8).normal(size=(3, 2))
    np.savez(tmp_path / "d.npz", arr_0=x)
    splits = load_data(str(tmp_path / "d.npz"), DataConfig())
    assert torch.allclose(splits.train.inputs(), torch.from_numpy(x).float())
    assert splits.train.labels is None and splits.test is None


# ---------------------------------------------------------------- image folders


def save_image(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def test_image_folder_labels_come_from_sorted_sub_folders(tmp_path):
    grey = {name: random_uint8((4, 5), seed) for seed, name in enumerate(["b/1.png", "a/2.png", "b/0.png", "a/1.png"])}
    for name, pixels in grey.items():
        save_image(tmp_path / name, pixels)
    dataset = ImageFolderDataset(tmp_path)
    data = load_data(str(tmp_path), DataConfig()).train

    assert dataset.classes == ["a", "b"]
    assert data.values.dtype == torch.uint8 and data.shape == (1, 4, 5)  # all grey: one channel
    for index, path in enumerate(dataset.files):
        relative = path.relative_to(tmp_path).as_posix()
        assert data.labels[index] == (0 if relative.startswith("a/") else 1)
        assert torch.equal(data.values[index, 0], torch.from_numpy(grey[relative]))  # PNG is lossless


def test_one_colour_image_makes_every_image_rgb(tmp_path):
    grey, colour = random_uint8((3, 4), 9), random_uint8((3, 4, 3), 10)
    save_image(tmp_path / "0.png", grey)
    save_image(tmp_path / "1.png", colour)
    data = load_images(tmp_path)
    assert data.shape == (3, 3, 4) and data.labels is None
    assert torch.equal(data.values[0], torch.from_numpy(grey).expand(3, 3, 4))  # grey repeated in R, G and B
    assert torch.equal(data.values[1], torch.from_numpy(colour).permute(2, 0, 1))


def test_image_size_resizes_mixed_sizes(tmp_path):
    colours = [(200, 10, 30), (5, 100, 250)]
    for index, (size, colour) in enumerate(zip([(6, 8), (10, 3)], colours)):
        save_image(tmp_path / f"{index}.png", np.broadcast_to(np.array(colour, np.uint8), (*size, 3)).copy())
    data = load_data(str(tmp_path), DataConfig(image_size="4x5")).train
    assert data.shape == (3, 4, 5)
    for index, colour in enumerate(colours):  # a flat colour survives bilinear resizing
        assert data.values[index].flatten(1).unique(dim=1).tolist() == [[value] for value in colour]


def test_lazy_dataset_matches_the_in_memory_images(tmp_path):
    for index in range(3):
        save_image(tmp_path / "c" / f"{index}.jpg", random_uint8((6, 7, 3), 20 + index))
    dataset = ImageFolderDataset(tmp_path)
    data = load_images(tmp_path)
    assert estimated_bytes(tmp_path) == data.values.numel()
    assert estimated_bytes(tmp_path, "2x3") == 3 * 3 * 2 * 3
    for index in range(len(dataset)):
        item = dataset[index]
        assert item.dtype == torch.float32 and item.shape == (3, 6, 7)
        assert torch.allclose(item, data.inputs(slice(index, index + 1))[0])


# ---------------------------------------------------------------- CSV


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.write_text("\n".join(",".join(map(str, row)) for row in [header, *rows]) + "\n")
    return path


def test_csv_standardises_features_and_decodes_to_original_units(tmp_path):
    rng = np.random.default_rng(11)
    table = np.column_stack([rng.normal(50, 10, 40), rng.uniform(-3, 0, 40), np.full(40, 7.0)])  # last: constant
    kinds = rng.choice(["owl", "cat", "emu"], 40)
    rows = [[*map(repr, row), kind] for row, kind in zip(table.tolist(), kinds)]
    path = write_csv(tmp_path / "t.csv", ["height", "depth", "flat", "kind"], rows)

    data = load_data(str(path), DataConfig(label_column="kind")).train
    inputs = data.inputs()

    assert data.columns == ["height", "depth", "flat"]
    assert torch.allclose(data.decode_units(inputs).double(), torch.from_numpy(table), rtol=1e-5, atol=1e-4)
    assert torch.allclose(inputs[:, :2].mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(inputs[:, :2].std(0, unbiased=False), torch.ones(2), atol=1e-5)
    assert torch.equal(inputs[:, 2], torch.zeros(40))  # constant column: centred, not blown up
    names = sorted(set(kinds))
    assert data.labels.tolist() == [names.index(kind) for kind in kinds]


def test_csv_integer_labels_are_kept_and_no_label_column_means_no_labels(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["label", "a"], [[7, 1.5], [3, 2.5], [7, 0.5]])
    assert load_data(str(path), DataConfig(label_column="label")).train.labels.tolist() == [7, 3, 7]
    unlabelled = load_data(str(path), DataConfig()).train
    assert unlabelled.labels is None and unlabelled.columns == ["label", "a"]
