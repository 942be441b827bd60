"""Bad data gets a UserError that names the file and the problem."""

from __future__ import annotations

import contextlib
import gzip
import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from helpers import assert_one_line_error

from vaekit.cli import main
from vaekit.config import DataConfig
from vaekit.data import load_data
from vaekit.errors import UserError


def message(spec: str, **config) -> str:
    """The error of ``vaekit train --data SPEC --set data.KEY=VALUE ...`` as a user sees it: exit code 2,
    one line on stderr, no traceback. The library raises the same text as a UserError."""
    with pytest.raises(UserError) as info:
        load_data(spec, DataConfig(**config))
    arguments = ["train", "--data", spec] + [f"--set=data.{key}={value}" for key, value in config.items()]
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = main(arguments)
    printed = stderr.getvalue()
    assert code == 2, printed
    assert_one_line_error(printed, "")
    assert printed == f"vaekit train: error: {info.value}\n"
    return str(info.value)


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


# ---------------------------------------------------------------- IDX


def test_idx_missing_folder(tmp_path):
    text = message(f"idx:{tmp_path / 'nowhere'}")
    assert "nowhere" in text and "no such folder" in text


def test_idx_folder_without_train_images_lists_expected_names(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(good_images(1))
    text = message(f"mnist:{tmp_path}")
    assert str(tmp_path) in text and "no training images" in text
    assert "train-images-idx3-ubyte.gz" in text and "train-images.idx3-ubyte" in text


def test_idx_wrong_magic_number_says_found_and_expected(tmp_path):
    folder = idx_folder(tmp_path / "d", idx_header(0x801, 4) + bytes(4))  # a label file where images belong
    text = message(f"idx:{folder}")
    assert "train-images-idx3-ubyte" in text and "magic number" in text
    assert "0x00000801" in text and "0x00000803" in text


def test_idx_truncated_file(tmp_path):
    folder = idx_folder(tmp_path / "d", good_images(3)[:-5])
    text = message(f"idx:{folder}")
    assert "train-images-idx3-ubyte" in text and "truncated" in text and "3 x 2 x 2" in text


def test_idx_truncated_gzip(tmp_path):
    folder = idx_folder(tmp_path / "d", good_images(50), suffix=".gz")
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])  # cut into the compressed stream
    text = message(f"idx:{folder}")
    assert "train-images-idx3-ubyte.gz" in text and "truncated gzip" in text


def test_idx_image_and_label_counts_differ(tmp_path):
    folder = idx_folder(tmp_path / "d", good_images(3), idx_header(0x801, 2) + bytes(2))
    text = message(f"idx:{folder}")
    assert "train-images-idx3-ubyte" in text and "train-labels-idx1-ubyte" in text
    assert "3 images" in text and "2 labels" in text


# ---------------------------------------------------------------- NumPy


def test_npy_missing_file(tmp_path):
    text = message(f"npy:{tmp_path / 'absent.npy'}")
    assert "absent.npy" in text and "no such file" in text


@pytest.mark.parametrize("name, content", [("junk.npy", b"hello, not numpy" * 4), ("junk.npz", b"PK\x03\x04broken")])
def test_numpy_unreadable_file(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    text = message(str(tmp_path / name))
    assert name in text and "not a" in text and "NumPy file" in text


def test_npy_truncated_file(tmp_path):
    np.save(tmp_path / "cut.npy", np.zeros((100, 4)))
    path = tmp_path / "cut.npy"
    path.write_bytes(path.read_bytes()[:-50])
    text = message(str(path))
    assert "cut.npy" in text and "not a readable NumPy file" in text


def test_npy_nan_values_name_the_file(tmp_path):
    np.save(tmp_path / "holes.npy", np.array([[1.0, 2.0], [np.inf, 0.0], [np.nan, 1.0]]))
    text = message(str(tmp_path / "holes.npy"))
    assert "holes.npy" in text and "2 example(s) contain NaN or Inf" in text


def test_npz_label_count_mismatch(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 3)), y=np.arange(3))
    text = message(str(tmp_path / "d.npz"))
    assert "d.npz" in text and "3 labels but 4 examples" in text


@pytest.mark.parametrize("shape", [(5,), (2, 1, 3, 4, 4)])
def test_npy_wrong_number_of_dimensions(tmp_path, shape):
    np.save(tmp_path / "odd.npy", np.zeros(shape))
    text = message(str(tmp_path / "odd.npy"))
    assert "odd.npy" in text and f"{len(shape)} dimension(s)" in text and "(N, C, H, W)" in text


def test_npz_pickled_objects_are_refused(tmp_path):
    np.savez(tmp_path / "objects.npz", x=np.array([{"a": 1}, None], dtype=object))
    text = message(str(tmp_path / "objects.npz"))
    assert "objects.npz" in text and "allow_pickle=False" in text


# ---------------------------------------------------------------- image folders


def test_empty_image_folder(tmp_path):
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "notes.txt").write_text("no images here")
    text = message(f"images:{tmp_path / 'pictures'}")
    assert "pictures" in text and "no images found" in text


def test_mixed_image_sizes_name_two_files_and_the_option(tmp_path):
    Image.fromarray(np.zeros((5, 6), np.uint8)).save(tmp_path / "small.png")
    Image.fromarray(np.zeros((8, 6), np.uint8)).save(tmp_path / "tall.png")
    text = message(str(tmp_path))
    assert "small.png is 5x6" in text and "tall.png is 8x6" in text and "--image-size HxW" in text


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_image_file_is_named(tmp_path, damage):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "good.png")
    picture = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    Image.fromarray(picture).save(tmp_path / "bad.png")
    data = (tmp_path / "bad.png").read_bytes()
    (tmp_path / "bad.png").write_bytes(b"not an image at all" if damage == "garbage" else data[: len(data) // 2])
    text = message(str(tmp_path), image_size="4x4")
    assert "bad.png" in text and "truncated or corrupt" in text


def test_malformed_image_size_option(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    text = message(str(tmp_path), image_size="28 by 28")
    assert "data.image_size" in text and "'28 by 28'" in text and "HxW" in text


# ---------------------------------------------------------------- CSV


def csv_file(tmp_path: Path, text: str) -> str:
    (tmp_path / "table.csv").write_text(text)
    return str(tmp_path / "table.csv")


def test_csv_non_numeric_column_suggests_the_label_column(tmp_path):
    text = message(csv_file(tmp_path, "size,colour\n1.5,red\n2.0,blue\n"))
    assert "table.csv" in text and "'colour' is not numeric" in text and "'red'" in text
    assert "data.label_column=colour" in text


@pytest.mark.parametrize(
    "cell, phrase", [("", "missing value"), ("NA", "missing value"), ("nan", "NaN or Inf"), ("-inf", "NaN or Inf")]
)
def test_csv_missing_or_non_finite_value_names_column_and_line(tmp_path, cell, phrase):
    text = message(csv_file(tmp_path, f"a,b\n1,2\n3,4\n5,{cell}\n"))
    assert "table.csv" in text and phrase in text and "'b'" in text and "line 4" in text


def test_csv_without_header_row(tmp_path):
    text = message(csv_file(tmp_path, "1,2\n3,4\n"))
    assert "table.csv" in text and "header row is required" in text


def test_csv_unknown_label_column_lists_the_columns(tmp_path):
    text = message(csv_file(tmp_path, "a,b\n1,2\n"), label_column="class")
    assert "table.csv" in text and "'class'" in text and "['a', 'b']" in text


def test_csv_ragged_row(tmp_path):
    text = message(csv_file(tmp_path, "a,b\n1,2\n3\n"))
    assert "table.csv" in text and "line 3 has 1 fields" in text
