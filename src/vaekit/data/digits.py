"""scikit-learn's 8x8 handwritten digits: 1,797 grey images (levels 0..16), shipped with scikit-learn.

Scaled to [0, 1]; a fixed 20 % of the images (permutation seed 0) is the test split.
"""

from __future__ import annotations

import torch

from ..errors import UserError
from .array import ArrayData, Splits
from .registry import SOURCES

TEST_FRACTION = 0.2


@SOURCES.register("digits")
def load_digits_source(argument: str, config) -> Splits:
    if argument:
        raise UserError(f"--data digits:{argument}: 'digits' takes no argument; it is built into scikit-learn")
    from sklearn.datasets import load_digits

    bunch = load_digits()
    values = torch.as_tensor(bunch.images, dtype=torch.uint8).unsqueeze(1)  # (1797, 1, 8, 8), levels 0..16
    labels = torch.as_tensor(bunch.target, dtype=torch.long)
    data = ArrayData(values, labels, "digits", scale=torch.tensor(1 / 16))
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    n_test = int(round(TEST_FRACTION * len(data)))
    return Splits(data.subset(order[n_test:]), data.subset(order[:n_test]))
