"""Input complexity: PNG lengths from Pillow (lossless, so simple images are short) and Serrà et al.'s score."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from vaekit.errors import UserError
from vaekit.evaluation.ood import ScoredSet
from vaekit.evaluation.ood.complexity import complexity_bits, input_complexity, levels, png_bits, png_bytes


def test_levels_of_8_bit_inputs_are_exact():
    values = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16)
    assert np.array_equal(levels(values.float() / 255), values.numpy())


def test_png_is_lossless():
    example = np.random.default_rng(0).integers(0, 256, (1, 12, 9), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(png_bytes(example))))
    assert np.array_equal(decoded, example[0])


def test_constant_images_compress_far_better_than_noise():
    rng = np.random.default_rng(0)
    constant = np.full((4, 1, 28, 28), 117, dtype=np.uint8)
    noise = rng.integers(0, 256, (4, 1, 28, 28), dtype=np.uint8)
    short, long = png_bits(constant), png_bits(noise)
    assert short.max() < 0.2 * long.min()
    assert long.min() > 8 * 28 * 28  # incompressible: at least the raw 8 bits per pixel
    colour = rng.integers(0, 256, (2, 3, 8, 8), dtype=np.uint8)
    assert png_bits(colour).min() > 8 * 3 * 64


class StubScorer:
    """A scorer whose -log p(x) is given (nats)."""

    def __init__(self, nll):
        self._nll = np.asarray(nll, dtype=np.float64)

    def nll(self, scored):
        return self._nll


def test_score_is_nll_in_bits_minus_png_bits():
    x = torch.stack([torch.zeros(1, 8, 8), torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(0))])
    scored = ScoredSet("s", x)
    nll = [100.0, 100.0]
    expected = np.array(nll) / np.log(2) - complexity_bits(scored)
    assert np.allclose(input_complexity(StubScorer(nll), scored), expected)
    assert input_complexity(StubScorer(nll), scored)[0] > input_complexity(StubScorer(nll), scored)[1]  # same p(x): simpler is more anomalous


def test_inputs_outside_the_unit_interval_are_refused():
    with pytest.raises(UserError, match=r"input_complexity compresses inputs in \[0, 1\]"):
        complexity_bits(ScoredSet("s", torch.full((2, 1, 4, 4), 2.0)))
