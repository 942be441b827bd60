"""Grids of examples (figures/grids.py): tiling places each picture at its row and column with
1-pixel gaps, and display scaling leaves [0, 1] data alone and stretches other data onto [0, 1]."""

import numpy as np
import torch
from helpers import PNG_SIGNATURE

from vaekit.figures.grids import as_pictures, image_grid, tile_pictures


def test_tiling_puts_picture_i_at_row_i_div_columns_and_column_i_mod_columns():
    images = np.arange(5, dtype=float).reshape(5, 1, 1, 1).repeat(2, axis=2).repeat(3, axis=3) / 10  # (5, 1, 2, 3)
    canvas = tile_pictures(images, columns=2)
    assert canvas.shape == (3 * 3 - 1, 2 * 4 - 1, 1)  # 3 rows of height 2 + gaps, 2 columns of width 3 + gap
    for i in range(5):
        top, left = (i // 2) * 3, (i % 2) * 4
        assert np.all(canvas[top : top + 2, left : left + 3, 0] == i / 10)
    assert np.all(canvas[2, :, 0] == 1) and np.all(canvas[:, 3, 0] == 1)  # the gaps are white
    assert np.all(canvas[6:8, 4:7, 0] == 1)  # the empty sixth cell too


def test_display_scaling_keeps_unit_data_and_stretches_other_data_to_the_unit_range():
    unit = torch.tensor([[[0.2, 0.7]]])  # (1, 1, 2): one 1x2 grey picture
    assert np.array_equal(as_pictures(unit), unit.unsqueeze(1).numpy())
    wide = as_pictures(torch.tensor([[-3.0, 1.0, 5.0]]))  # a table row: one strip (1, 1, 1, 3)
    assert wide.shape == (1, 1, 1, 3) and np.allclose(wide.ravel(), [0.0, 0.5, 1.0])


def test_a_grid_is_written_as_a_png(tmp_path):
    path = image_grid(torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(0)), tmp_path / "g.png", columns=3)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
