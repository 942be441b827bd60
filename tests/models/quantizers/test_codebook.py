"""The codebook (models/quantizers/codebook.py): the nearest code, EMA updates in closed form, k-means
initialization, cosine choice, and restarts of dead codes (reproducible, with their moving averages)."""

import pytest
import torch

from vaekit.models.quantizers.codebook import EMA_DECAY, EMA_EPSILON, Codebook
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


def test_quantization_picks_the_nearest_code():
    quantizer = Codebook(7, 4, restart_after=0).eval()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        quantizer.codebook.copy_(torch.randn(7, 4, generator=generator))
    z = torch.randn(50, 4, generator=generator)
    codes, z_q = quantizer(z)
    brute = ((z[:, None, :] - quantizer.codebook[None]) ** 2).sum(-1).argmin(1)  # (50,)
    assert torch.equal(codes, brute)
    assert torch.equal(z_q, quantizer.codebook[brute])


def test_ema_update_matches_the_closed_form_and_moves_codes_toward_their_assigned_means():
    quantizer = Codebook(3, 2, ema=True, restart_after=0)
    codebook = torch.tensor([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    count = torch.tensor([1.0, 1.0, 1e-4])  # code 2 almost never seen: there the smoothing shows
    quantizer.codebook.copy_(codebook)
    quantizer.ema_count.copy_(count)
    quantizer.ema_sum.copy_(codebook * count[:, None])
    z = torch.tensor([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0], [6.0, 5.0], [5.0, 7.0]])  # codes 0, 0, 1, 1, 1
    codes, _ = quantizer(z)
    assert codes.tolist() == [0, 0, 1, 1, 1]
    n_k = torch.tensor([2.0, 3.0, 0.0])
    sums = torch.stack([z[:2].sum(0), z[2:].sum(0), torch.zeros(2)])
    ema_sum = EMA_DECAY * codebook * count[:, None] + (1 - EMA_DECAY) * sums
    count = EMA_DECAY * count + (1 - EMA_DECAY) * n_k
    n = count.sum()
    expected = ema_sum / ((count + EMA_EPSILON) / (n + 3 * EMA_EPSILON) * n)[:, None]
    torch.testing.assert_close(quantizer.codebook, expected)
    for k, members in [(0, z[:2]), (1, z[2:])]:
        mean = members.mean(0)
        assert (quantizer.codebook[k] - mean).norm() < (codebook[k] - mean).norm()
    quantizer.eval()  # evaluation changes nothing
    before = quantizer.codebook.clone()
    quantizer(z)
    assert torch.equal(quantizer.codebook, before)


def test_a_dead_code_is_restarted_at_an_encoder_output_and_used_in_the_next_batch():
    quantizer = Codebook(3, 2, restart_after=3)
    with torch.no_grad():
        quantizer.codebook.copy_(torch.tensor([[100.0, 100.0], [1.0, 0.0], [-1.0, 0.0]]))  # code 0: far away
    z = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    for _ in range(3):
        codes, _ = quantizer(z)
        assert 0 not in codes.tolist()
    assert quantizer.unused_steps.tolist()[0] == 3
    with seeded(0, "cpu"):
        quantizer(z)  # the restart happens here: code 0 moves to one of the batch's encoder outputs
    revived = quantizer.codebook[0].detach()
    assert (z == revived).all(1).any()
    assert quantizer.codebook[1:].tolist() == [[1.0, 0.0], [-1.0, 0.0]]  # live codes are left alone
    assert 0 in quantizer.eval()(z)[0].tolist()  # and it is chosen in the next batch


def test_dead_code_restarts_are_reproducible_from_the_torch_generator():
    def restarted() -> torch.Tensor:
        quantizer = Codebook(4, 2, restart_after=1)
        with torch.no_grad():
            quantizer.codebook.copy_(torch.tensor([[50.0, 50.0], [60.0, 60.0], [1.0, 0.0], [-1.0, 0.0]]))
        z = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
        with seeded(3, "cpu"):
            quantizer(z)
            quantizer(z)
        return quantizer.codebook.detach().clone()

    assert torch.equal(restarted(), restarted())
