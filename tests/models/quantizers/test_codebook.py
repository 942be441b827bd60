"""The codebook (models/quantizers/codebook.py): k-means initialization, cosine choice, restarts of dead
codes with their moving averages."""

import pytest
import torch

from vaekit.models.quantizers.codebook import Codebook
from vaekit.seeding import seeded


def test_kmeans_initialisation_puts_the_codes_at_the_cluster_centres():
    centres = torch.tensor([[5.0, 5.0], [-5.0, 5.0], [5.0, -5.0], [-5.0, -5.0]])
    points = centres.repeat_interleave(50, 0) + 0.1 * torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    book = Codebook(4, 2, restart_after=0, init="kmeans")
    with seeded(0, "cpu"):
        book(points)
    assert bool(book.initialised)
    means = points.view(4, 50, 2).mean(1)
    distances = torch.cdist(means, book.codebook.detach())  # (4 clusters, 4 codes)
    assert distances.min(1).values.max() < 1e-5  # every cluster mean is a code
    assert distances.argmin(1).unique().numel() == 4  # one code each
    before = book.codebook.detach().clone()
    book(points + 1)  # once only: later batches leave the initialisation alone
    assert torch.equal(book.codebook.detach(), before)


def test_a_cosine_codebook_chooses_by_angle_and_gives_unit_codes():
    """Code 0 is nearer in Euclidean distance, code 1 points the same way as the input: the cosine
    codebook takes code 1 and returns it at unit length; the Euclidean one takes code 0."""
    codebook = torch.tensor([[0.9, 0.5], [3.0, 0.0]])
    z = torch.tensor([[1.0, 0.0]])
    cosine, euclidean = Codebook(2, 2, restart_after=0, cosine=True), Codebook(2, 2, restart_after=0)
    for book in (cosine, euclidean):
        book.codebook.data.copy_(codebook)
        book.eval()
    codes, z_q = cosine(cosine.prepare(z))
    assert codes.tolist() == [1]
    torch.testing.assert_close(z_q, torch.tensor([[1.0, 0.0]]))
    assert euclidean(euclidean.prepare(z))[0].tolist() == [0]
    torch.testing.assert_close(cosine.vectors().norm(dim=1), torch.ones(2))


def test_a_restarted_dead_code_restarts_its_moving_averages():
    book = Codebook(3, 2, ema=True, restart_after=2)
    codebook = torch.tensor([[100.0, 100.0], [1.0, 0.0], [-1.0, 0.0]])  # code 0: far from every input
    book.codebook.copy_(codebook)
    book.ema_sum.copy_(codebook * 7.0)
    book.ema_count.fill_(7.0)
    z = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    with seeded(0, "cpu"):
        book(z), book(z)  # code 0 unused for two batches
        assert book.ema_count[0] == pytest.approx(7.0 * 0.99**2)  # decayed, never reset so far
        live = book.ema_count[1:].clone()
        book.restart_dead(z)  # what the next training batch does first
    revived = book.codebook[0]
    assert (z == revived).all(1).any()  # moved to an input
    assert book.ema_count[0] == 1.0 and torch.equal(book.ema_sum[0], revived)  # its averages: that input, seen once
    assert torch.equal(book.ema_count[1:], live) and book.unused_steps[0] == 0  # live codes keep theirs
