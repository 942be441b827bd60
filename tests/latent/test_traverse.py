"""vaekit.latent.traverse on a small trained run: only the swept dimension changes, by exactly the
requested values, and rows are ordered by the mean KL per dimension."""

import pytest
import torch

from vaekit import UserError
from vaekit.latent import decode_mean, mean_kl_per_dimension, order_dimensions, posterior_mean, traverse


def test_traversal_changes_only_the_swept_dimension_by_exactly_the_requested_values(opened):
    x = opened.data.inputs(slice(5, 6))[0]
    kl = mean_kl_per_dimension(opened.model, opened.data)
    result = traverse(opened.model, x, kl, span=2.5, steps=6)
    base = posterior_mean(opened.model, x)[0]
    expected_values = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    assert result.z.shape == (4, 6, 4) and result.decoded.shape == (4, 6, 1, 8, 8)
    torch.testing.assert_close(result.values, expected_values, rtol=0, atol=1e-6)
    for row, dim in enumerate(result.dims.tolist()):
        assert torch.equal(result.z[row, :, dim], result.values)
        others = [d for d in range(4) if d != dim]
        assert torch.equal(result.z[row][:, others], base[others].expand(6, 3))
    assert sorted(result.dims.tolist()) == [0, 1, 2, 3]  # every dimension, once
    torch.testing.assert_close(result.decoded, decode_mean(opened.model, result.z), rtol=0, atol=1e-6)


def test_traversal_rows_are_ordered_by_the_mean_kl_per_dimension(opened):
    kl = mean_kl_per_dimension(opened.model, opened.data)
    # oracle: the closed-form Gaussian KL against N(0, 1), 0.5 (mu^2 + s^2 - 1 - log s^2), averaged by hand
    q = opened.model.encode(opened.data.inputs())
    mu, var = q.mean.double(), q.variance.double()
    torch.testing.assert_close(kl, (0.5 * (mu**2 + var - 1 - var.log())).mean(0), rtol=1e-5, atol=1e-6)
    x = opened.data.inputs(slice(0, 1))[0]
    result = traverse(opened.model, x, kl, top=2)
    assert result.dims.tolist() == torch.argsort(kl, descending=True)[:2].tolist()
    assert result.kl[0] >= result.kl[1] >= kl.sort(descending=True).values[2]
    torch.testing.assert_close(result.kl, kl[result.dims])


def test_dimension_order_breaks_ties_by_index_and_checks_top():
    kl = torch.tensor([0.5, 2.0, 0.5, 3.0])
    assert order_dimensions(kl, 4, None).tolist() == [3, 1, 0, 2]
    assert order_dimensions(None, 3, None).tolist() == [0, 1, 2]
    with pytest.raises(UserError, match="top must be between 1 and the latent dimension 4"):
        order_dimensions(kl, 4, 5)
    with pytest.raises(UserError, match="needs their KL"):
        order_dimensions(None, 4, 2)
