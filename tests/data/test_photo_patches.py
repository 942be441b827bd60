"""The photo-patches source: 32 x 32 colour patches of scikit-learn's two photographs, tens of
thousands for training, the test split from columns no training patch reaches."""

import numpy as np
import pytest
import torch

from vaekit import UserError
from vaekit.config import DataConfig
from vaekit.data import load_data
from vaekit.data.photo_patches import PATCH, TEST_WIDTH, split_photograph
from vaekit.runs.prepared import resolve_likelihood


def test_no_training_patch_overlaps_a_test_patch():
    """On an image whose pixels hold their own column index, every training patch lies left of the
    cut and every test patch right of it."""
    height, width = 100, 300
    columns = np.broadcast_to(np.arange(width, dtype=np.int64)[None, :, None], (height, width, 3))
    train, test = split_photograph(columns)
    cut = width - TEST_WIDTH
    assert train.max() < cut <= test.min()
    assert train.shape[1:] == test.shape[1:] == (3, PATCH, PATCH)
    assert (np.diff(train[0, 0, 0]) == 1).all()  # a patch is a contiguous window, columns in order


def test_the_source_has_tens_of_thousands_of_8_bit_colour_patches():
    splits = load_data("photo-patches", DataConfig())
    train, test = splits.train, splits.test
    assert train.values.dtype == torch.uint8 and train.shape == (3, 32, 32)
    assert 10_000 <= len(train) <= 100_000 and len(test) >= 1000
    assert train.classes == ["china", "flower"] and set(train.labels.unique().tolist()) == {0, 1}
    assert resolve_likelihood("auto", train) == "discretized_logistic"
    assert float(train.values.float().std()) > 10  # real photographs, not a constant


def test_photo_patches_takes_no_argument():
    with pytest.raises(UserError, match="takes no argument"):
        load_data("photo-patches:3", DataConfig())
