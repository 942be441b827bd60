"""dSprites' appearance option (DARLA's shifted domains): the same drawing at other grey levels."""

import numpy as np
import pytest
import torch

from vaekit.data import dsprites as ds
from vaekit.errors import UserError


def test_appearance_sets_the_sprite_and_background_levels_without_copying_the_images():
    codes = np.array([[0, 5, 0, 10, 20], [2, 0, 7, 31, 0]])
    images = ds.render(codes)
    plain = ds.factor_data(images, codes, "dsprites")
    shifted = ds.factor_data(images, codes, "dsprites:x", **ds.appearance("intensity=0.6,background=0.2"))
    assert shifted.values.data_ptr() == plain.values.data_ptr()  # the same uint8 drawing
    x, y = plain.inputs(), shifted.inputs()
    assert set(x.unique().tolist()) == {0.0, 1.0}
    assert torch.allclose(y, 0.2 + 0.4 * x)  # background where 0, intensity where 1
    assert torch.equal(plain.factors, shifted.factors)


@pytest.mark.parametrize("argument, fragment", [
    ("colour=0.5", "unknown appearance 'colour'"),
    ("intensity=high", "intensity must be a number"),
    ("intensity=0.3,background=0.3", "must be grey levels in [0, 1] that differ"),
    ("background=1.5", "must be grey levels in [0, 1]"),
])
def test_bad_appearances_name_the_option(argument, fragment):
    with pytest.raises(UserError, match=f"--data dsprites:{argument}: .*{fragment[:20]}".replace("[", r"\[")):
        ds.appearance(argument)
