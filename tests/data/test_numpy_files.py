"""NumPy files (vaekit.data.numpy_files): .npy and .npz round trip with their dtypes, key names and test
split; bad files get a UserError naming the file and the problem."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import data_error, random_uint8

from vaekit.config import DataConfig
from vaekit.data import load_data


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


def test_npy_missing_file(tmp_path):
    text = data_error(f"npy:{tmp_path / 'absent.npy'}")
    assert "absent.npy" in text and "no such file" in text


@pytest.mark.parametrize("name, content", [("junk.npy", b"hello, not numpy" * 4), ("junk.npz", b"PK\x03\x04broken")])
def test_numpy_unreadable_file(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    text = data_error(str(tmp_path / name))
    assert name in text and "not a" in text and "NumPy file" in text


def test_npy_truncated_file(tmp_path):
    np.save(tmp_path / "cut.npy", np.zeros((100, 4)))
    path = tmp_path / "cut.npy"
    path.write_bytes(path.read_bytes()[:-50])
    text = data_error(str(path))
    assert "cut.npy" in text and "not a readable NumPy file" in text


def test_npy_nan_values_name_the_file(tmp_path):
    np.save(tmp_path / "holes.npy", np.array([[1.0, 2.0], [np.inf, 0.0], [np.nan, 1.0]]))
    text = data_error(str(tmp_path / "holes.npy"))
    assert "holes.npy" in text and "2 example(s) contain NaN or Inf" in text


def test_npz_label_count_mismatch(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 3)), y=np.arange(3))
    text = data_error(str(tmp_path / "d.npz"))
    assert "d.npz" in text and "3 labels but 4 examples" in text


@pytest.mark.parametrize("shape", [(5,), (2, 1, 3, 4, 4)])
def test_npy_wrong_number_of_dimensions(tmp_path, shape):
    np.save(tmp_path / "odd.npy", np.zeros(shape))
    text = data_error(str(tmp_path / "odd.npy"))
    assert "odd.npy" in text and f"{len(shape)} dimension(s)" in text and "(N, C, H, W)" in text


def test_npz_pickled_objects_are_refused(tmp_path):
    np.savez(tmp_path / "objects.npz", x=np.array([{"a": 1}, None], dtype=object))
    text = data_error(str(tmp_path / "objects.npz"))
    assert "objects.npz" in text and "allow_pickle=False" in text


def test_an_npz_holding_no_arrays_says_so_not_that_it_is_no_numpy_file(tmp_path):
    path = tmp_path / "none.npz"
    np.savez(path)
    message = data_error(str(path))
    assert message.startswith(f"{path}: an .npz archive that holds no arrays") and "not a NumPy file" not in message


@pytest.mark.parametrize(("name", "arrays", "where", "what"), [
    ("empty.npy", {"x": np.zeros((0, 8, 8), np.float32)}, "", "no examples"),
    ("empty.npz", {"x": np.zeros((0, 5))}, "", "no examples"),
    ("no_test.npz", {"x": np.ones((4, 5)), "x_test": np.zeros((0, 5))}, "[x_test]", "no examples"),
    ("no_values.npy", {"x": np.zeros((10, 0), np.float32)}, "", "examples of no values"),
])
def test_numpy_data_with_no_examples_or_no_values_is_refused_naming_the_file(tmp_path, name, arrays, where, what):
    path = tmp_path / name
    if name.endswith(".npy"):
        np.save(path, arrays["x"])
    else:
        np.savez(path, **arrays)
    message = data_error(str(path))
    assert message.startswith(f"{path}{where}: array of shape") and f"holds {what}" in message
