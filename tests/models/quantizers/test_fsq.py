"""FSQ (models/quantizers/fsq.py): outputs on the grid, every code covered, indices round trip."""

import math

import torch
from helpers import small_quantizer


def test_fsq_outputs_lie_on_the_grid_cover_every_code_and_round_trip_through_their_indices():
    levels = (3, 4, 5, 2)
    fsq = small_quantizer(quantizer="fsq", fsq_levels=levels)  # latent_dim 4 = len(levels): no projections
    z = 3 * torch.randn(20_000, 4, generator=torch.Generator().manual_seed(0))
    out = fsq.quantize(z)
    steps = torch.tensor(levels) // 2
    integers = out.value * steps  # each coordinate an integer in the level's range
    assert torch.equal(integers, integers.round())
    low, high = -(torch.tensor(levels) // 2), (torch.tensor(levels) - 1) // 2
    assert ((integers >= low) & (integers <= high)).all()
    assert out.codes.unique().numel() == math.prod(levels) == fsq.size  # every grid point is reached
    assert torch.equal(fsq.grid(out.codes[:, 0]), out.value)  # index -> the same output
    table = fsq.code_vectors()[0]  # (K, 4): the grid in index order
    assert table.unique(dim=0).shape[0] == fsq.size
    assert out.inputs is None  # no codebook: no codebook or commitment term


def test_fsq_indices_of_the_grid_points_are_their_positions():
    fsq = small_quantizer(quantizer="fsq", fsq_levels=(3, 5))
    codes = torch.arange(fsq.size)
    points = fsq.grid(codes)  # (15, 2)
    digits = (points * torch.tensor([1, 2])).round().long() + torch.tensor([1, 2])  # back to 0..L-1
    assert torch.equal(digits[:, 0] + 3 * digits[:, 1], codes)
