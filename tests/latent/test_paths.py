"""vaekit.latent.paths on a small trained run: exact endpoints, even spacing, slerp's norms and angles."""

import math

import pytest
import torch

from vaekit import UserError
from vaekit.latent import interpolate, lerp, slerp


def angle(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The angle (radians) between rows of u (T, D) and v (D,), float64."""
    u, v = u.double(), v.double()
    return torch.acos(((u @ v) / (u.norm(dim=-1) * v.norm())).clamp(-1, 1))


@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_interpolation_endpoints_decode_to_the_reconstructions(opened, method):
    x = opened.data.inputs(slice(0, 2))
    z, decoded = interpolate(opened.model, x[0], x[1], steps=7, method=method)
    assert z.shape == (7, 4) and decoded.shape == (7, 1, 8, 8)
    means = opened.model.encode(x).mean
    assert torch.equal(z[0], means[0]) and torch.equal(z[-1], means[1])  # exact: the posterior means
    torch.testing.assert_close(decoded[[0, -1]], opened.model.reconstruct(x), rtol=0, atol=1e-6)


def test_linear_interpolation_is_evenly_spaced(opened):
    x = opened.data.inputs(slice(2, 4))
    z, _ = interpolate(opened.model, x[0], x[1], steps=11, method="linear")
    steps = z.diff(dim=0)  # (10, D)
    torch.testing.assert_close(steps, steps[:1].expand_as(steps), rtol=0, atol=1e-6)
    torch.testing.assert_close(steps.sum(0), z[-1] - z[0], rtol=0, atol=1e-6)


def test_slerp_between_equal_norms_stays_on_the_sphere_and_turns_uniformly():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 6, generator=generator, dtype=torch.float64)
    a, b = 3 * a / a.norm(), 3 * b / b.norm()
    t = torch.linspace(0, 1, 9, dtype=torch.float64)
    path = slerp(a, b, t)
    torch.testing.assert_close(path.norm(dim=-1), torch.full((9,), 3.0, dtype=torch.float64))
    total = angle(b[None], a)[0]
    torch.testing.assert_close(angle(path, a), t * total, rtol=0, atol=1e-7)
    assert torch.equal(path[0], a) and torch.equal(path[-1], b)


def test_slerp_norm_profile_follows_the_formula_for_unequal_norms():
    a = torch.tensor([2.0, 0.0, 1.0, 0.0])
    b = torch.tensor([0.5, 1.5, -1.0, 0.3])
    t = torch.linspace(0, 1, 13)
    path = slerp(a, b, t)
    omega = math.acos(float(a @ b / (a.norm() * b.norm())))  # the textbook angle, as an independent oracle
    s_a = torch.sin((1 - t.double()) * omega) / math.sin(omega)
    s_b = torch.sin(t.double() * omega) / math.sin(omega)
    expected = (s_a**2 * a.norm() ** 2 + s_b**2 * b.norm() ** 2 + 2 * s_a * s_b * (a @ b)).sqrt()
    torch.testing.assert_close(path.norm(dim=-1).double(), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(path, (s_a[:, None] * a + s_b[:, None] * b).float(), rtol=1e-5, atol=1e-6)
    # not the straight line: in the middle the norm exceeds the chord's
    assert path[6].norm() > lerp(a, b, t)[6].norm() + 0.1


@pytest.mark.parametrize("scale", [2.0, -1.0, 1.0 + 1e-9])
def test_slerp_of_parallel_latents_falls_back_to_linear(scale):
    a = torch.tensor([1.0, -2.0, 0.5])
    b = scale * a
    t = torch.linspace(0, 1, 5)
    path = slerp(a, b, t)
    assert torch.isfinite(path).all()
    torch.testing.assert_close(path, lerp(a, b, t))


def test_interpolation_rejects_unknown_methods_and_single_steps(opened):
    x = opened.data.inputs(slice(0, 2))
    with pytest.raises(UserError, match="unknown interpolation 'cubic'; known: linear, slerp"):
        interpolate(opened.model, x[0], x[1], 5, "cubic")
    with pytest.raises(UserError, match="steps must be at least 2"):
        interpolate(opened.model, x[0], x[1], 1)
