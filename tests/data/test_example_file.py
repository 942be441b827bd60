"""One example read from a file (what 'vaekit interpolate --from-file' decodes): levels, shapes, errors."""

import numpy as np
import pytest
import torch
from PIL import Image

from vaekit.data.example_file import read_example
from vaekit.errors import UserError


def test_uint8_npy_levels_are_divided_by_255_and_a_leading_axis_of_one_is_dropped(tmp_path):
    levels = np.arange(64, dtype=np.uint8).reshape(1, 1, 8, 8) * 4
    np.save(tmp_path / "x.npy", levels)
    x = read_example(tmp_path / "x.npy", (1, 8, 8))
    assert x.dtype == torch.float32 and x.shape == (1, 8, 8)
    assert torch.equal(x, torch.from_numpy(levels[0].astype(np.float32) / 255))


def test_float_npy_values_are_kept_as_they_are(tmp_path):
    row = np.array([0.5, -2.0, 7.25], dtype=np.float64)
    np.save(tmp_path / "row.npy", row)
    assert torch.equal(read_example(tmp_path / "row.npy", (3,)), torch.tensor([0.5, -2.0, 7.25]))


def test_a_png_is_read_grey_for_one_channel_and_rgb_for_three(tmp_path):
    pixels = np.zeros((8, 8, 3), dtype=np.uint8)
    pixels[..., 0] = 255  # pure red
    Image.fromarray(pixels).save(tmp_path / "red.png")
    rgb = read_example(tmp_path / "red.png", (3, 8, 8))
    assert rgb.shape == (3, 8, 8) and torch.all(rgb[0] == 1) and torch.all(rgb[1:] == 0)
    grey = read_example(tmp_path / "red.png", (1, 8, 8))
    assert grey.shape == (1, 8, 8) and torch.allclose(grey, torch.full((1, 8, 8), 76 / 255))  # Pillow's L of red


@pytest.mark.parametrize(("name", "content", "shape", "message"), [
    ("missing.npy", None, (3,), r"missing\.npy: no such file; pass FILE\.npy or FILE\.png"),
    ("x.txt", b"1 2 3", (3,), r"x\.txt: expected a \.npy or \.png file"),
    ("broken.npy", b"not an array", (3,), r"broken\.npy: cannot read it as a \.npy array"),
    ("broken.png", b"not an image", (1, 8, 8), r"broken\.png: cannot decode the image"),
])
def test_bad_files_are_refused_naming_the_file_and_the_problem(tmp_path, name, content, shape, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(UserError, match=message):
        read_example(tmp_path / name, shape)


def test_an_example_of_another_shape_is_refused_with_both_shapes(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((4, 4), dtype=np.float32))
    with pytest.raises(UserError, match=r"x\.npy: an example of shape \(4, 4\) does not fit this model's shape \(1, 8, 8\)"):
        read_example(tmp_path / "x.npy", (1, 8, 8))
