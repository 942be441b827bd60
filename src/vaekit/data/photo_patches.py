"""Natural-image patches that need no download: 32 x 32 colour patches of scikit-learn's two sample
photographs (``sklearn.datasets.load_sample_images``: china.jpg and flower.jpg, 427 x 640 RGB each).

The right-most ``TEST_WIDTH`` columns of each photograph are the test region; training patches are cut
from the rest, so no training patch overlaps a test patch. Training patches start every
``TRAIN_STRIDE`` pixels (24,000 patches), test patches every ``TEST_STRIDE`` (1,300). Values are the
photographs' 8-bit levels (uint8, scale 1/255); the label says which photograph (0 china, 1 flower).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import UserError
from .array import ArrayData, Splits
from .registry import SOURCES

PATCH = 32
TRAIN_STRIDE = 4
TEST_STRIDE = 8
TEST_WIDTH = 128  # columns of each photograph kept for the test split


def patches(image: np.ndarray, stride: int) -> np.ndarray:
    """(N, 3, PATCH, PATCH) uint8: every PATCH x PATCH window of ``image`` (H, W, 3) starting at multiples of stride."""
    windows = np.lib.stride_tricks.sliding_window_view(image, (PATCH, PATCH), axis=(0, 1))  # (H', W', 3, P, P)
    chosen = windows[::stride, ::stride]
    return np.ascontiguousarray(chosen.reshape(-1, 3, PATCH, PATCH))


def split_photograph(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(training patches, test patches): the test ones from the last TEST_WIDTH columns only."""
    cut = image.shape[1] - TEST_WIDTH
    return patches(image[:, :cut], TRAIN_STRIDE), patches(image[:, cut:], TEST_STRIDE)


def labelled(parts: list[np.ndarray], name: str, classes: list[str]) -> ArrayData:
    values = torch.from_numpy(np.concatenate(parts))
    labels = torch.cat([torch.full((len(part),), i, dtype=torch.long) for i, part in enumerate(parts)])
    return ArrayData(values, labels, name, scale=torch.tensor(1 / 255), classes=classes)


@SOURCES.register("photo-patches")
def load_photo_patches(argument: str, config) -> Splits:
    if argument:
        raise UserError(f"--data photo-patches:{argument}: 'photo-patches' takes no argument; "
                        "it is cut from the photographs shipped with scikit-learn")
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    classes = [path.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0] for path in bunch.filenames]
    train, test = zip(*(split_photograph(np.asarray(image, dtype=np.uint8)) for image in bunch.images))
    return Splits(labelled(list(train), "photo-patches", classes), labelled(list(test), "photo-patches (test)", classes))
