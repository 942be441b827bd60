"""The quantizers' gradient estimators (models/quantizers/base.py): straight-through and the rotation trick
against its closed form, each giving the codes exactly and training a VQ-VAE's encoder."""

import pytest
import torch

from vaekit import ModelConfig, build_model
from vaekit.models.quantizers.base import rotation, straight_through


def explicit_rotation(e: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """lambda R (d, d) of Fifty et al. (2024) for one pair of vectors, built as a matrix."""
    e_hat, q_hat = e / e.norm(), q / q.norm()
    r = (e_hat + q_hat) / (e_hat + q_hat).norm()
    rotation_matrix = torch.eye(len(e), dtype=e.dtype) - 2 * torch.outer(r, r) + 2 * torch.outer(q_hat, e_hat)
    return q.norm() / e.norm() * rotation_matrix


@pytest.mark.parametrize("estimator", [straight_through, rotation])
def test_both_estimators_give_the_code_exactly_and_pass_a_gradient_to_the_input(estimator):
    generator = torch.Generator().manual_seed(0)
    z_e = torch.randn(20, 5, generator=generator, requires_grad=True)
    z_q = torch.randn(20, 5, generator=generator)
    value = estimator(z_e, z_q)
    assert torch.equal(value, z_q)
    value.pow(2).sum().backward()
    assert z_e.grad.abs().min() > 0


def test_the_rotation_trick_gradient_matches_its_closed_form_and_differs_from_straight_through():
    e, q = torch.tensor([[1.0, 0.0]], requires_grad=True), torch.tensor([[0.0, 2.0]])
    g = torch.tensor([[1.0, 0.0]])  # the gradient arriving at the quantized output
    (rotation(e, q) * g).sum().backward()
    # e points along x, q along y with twice the length: R turns by +90 degrees, lambda = 2, so the
    # gradient is lambda R^T g = 2 (0, -1), where straight-through would pass g = (1, 0) unchanged.
    torch.testing.assert_close(e.grad, torch.tensor([[0.0, -2.0]]))
    generator = torch.Generator().manual_seed(1)
    e = torch.randn(6, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    q, g = torch.randn(6, 5, generator=generator, dtype=torch.float64), torch.randn(6, 5, generator=generator, dtype=torch.float64)
    (rotation(e, q) * g).sum().backward()
    for i in range(6):
        matrix = explicit_rotation(e[i].detach(), q[i])
        torch.testing.assert_close(matrix @ (e[i].detach() / e[i].norm()), q[i] / e[i].norm())  # e's direction -> q's
        torch.testing.assert_close(e.grad[i], matrix.T @ g[i])
    assert not torch.allclose(e.grad, g)


@pytest.mark.parametrize("gradient", ["straight_through", "rotation"])
def test_a_vqvae_with_either_gradient_gives_the_codes_and_trains_its_encoder(gradient):
    torch.manual_seed(0)
    config = ModelConfig(name="vqvae", trunk="conv", latent_dim=3, channels=(4, 6), likelihood="bernoulli",
                         codebook_size=16, gradient=gradient)
    model = build_model(config, (1, 8, 8))
    x = (torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    q = model.encode(x)
    assert torch.equal(q.mean.view(6, -1, 3), model.quantizer.codebook[q.codes])
    (-model.decode(q.rsample()).log_prob(x).sum()).backward()
    for name, parameter in [*model.encoder.named_parameters(), *model.head.project.named_parameters()]:
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, name
