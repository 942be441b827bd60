"""Paths between two inputs in latent space: linear and spherical interpolation, registered by name."""

from __future__ import annotations

import torch

from ..errors import UserError
from ..models.conditional import one_hot
from ..registry import Registry
from .encode import as_batch, decode_mean, posterior_mean

PARALLEL = 1e-7  # sin(angle) below which two latents count as (anti)parallel and slerp falls back to linear

PATHS: Registry = Registry("interpolation")


@PATHS.register("linear")
def lerp(z_a: torch.Tensor, z_b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(T, D): (1 - t) z_a + t z_b for z_a, z_b (D,) and t (T,); exactly z_a at t = 0 and z_b at t = 1."""
    t = t.to(z_a)[:, None]  # (T, 1)
    return (1 - t) * z_a + t * z_b


@PATHS.register("slerp")
def slerp(z_a: torch.Tensor, z_b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(T, D): spherical interpolation (Shoemake, 1985; White, 2016) for z_a, z_b (D,), t (T,).

        slerp(t) = sin((1 - t) W) / sin W * z_a + sin(t W) / sin W * z_b,   W = angle(z_a, z_b)

    Endpoints of equal norm r stay on the sphere of radius r and the angle from z_a grows as t W;
    in general |slerp(t)|^2 = (s_a^2 |z_a|^2 + s_b^2 |z_b|^2 + 2 s_a s_b z_a.z_b) with s_a, s_b
    the two coefficients. Exactly z_a at t = 0 and z_b at t = 1. W comes from the unit vectors
    as 2 atan2(|u_a - u_b|, |u_a + u_b|), accurate near 0 and pi (acos of the dot product is
    not). Where sin W < 1e-7 (near-parallel or near-opposite latents, or a zero vector) the great
    circle is undefined or the formula divides ~0 by ~0, so the path falls back to linear, which
    near W = 0 agrees with slerp to O(W^2).
    """
    a, b = z_a.double(), z_b.double()
    norm_a, norm_b = a.norm(), b.norm()
    if norm_a == 0 or norm_b == 0:
        return lerp(z_a, z_b, t)
    u_a, u_b = a / norm_a, b / norm_b
    angle = 2 * torch.atan2((u_a - u_b).norm(), (u_a + u_b).norm())
    sin_angle = torch.sin(angle)
    if sin_angle < PARALLEL:
        return lerp(z_a, z_b, t)
    t = t.double()[:, None]  # (T, 1)
    s_a = torch.sin((1 - t) * angle) / sin_angle  # exactly 1 at t = 0, 0 at t = 1
    s_b = torch.sin(t * angle) / sin_angle
    return (s_a * a + s_b * b).to(z_a.dtype)


def interpolate(
    model, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 10, method: str = "linear",
    labels: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The path between two inputs (each (*data_shape) or (1, *data_shape)) in latent space.

    Returns z (steps, D), from the posterior mean of x_a (t = 0) to that of x_b (t = 1) at
    t = linspace(0, 1, steps), and the decoded means (steps, *data_shape), so the first and last
    decoded rows are the reconstructions of x_a and x_b. method: 'linear' or 'slerp'. A conditional
    model takes the two examples' labels (2,): each is encoded with its own, and the path decodes
    with the label moving linearly between their one-hots along with z.
    """
    check_steps(steps)
    path = PATHS.get(method)
    ends = posterior_mean(model, torch.cat([as_batch(model, x_a), as_batch(model, x_b)]), labels)  # (2, D)
    if len(ends) != 2:
        raise UserError(f"interpolate takes one example at each end, got {len(ends)} in all")
    z = path(ends[0], ends[1], torch.linspace(0, 1, steps, device=ends.device))  # (steps, D)
    return z.cpu(), decode_mean(model, z, label_path(model, labels, steps)).cpu()


def label_path(model, labels: torch.Tensor | None, steps: int) -> torch.Tensor | None:
    """Soft labels (steps, L) from the one-hot of labels[0] to that of labels[1]; None for None."""
    if labels is None:
        return None
    ends = one_hot(torch.as_tensor(labels), model.classes, torch.float32)  # (2, L)
    return lerp(ends[0], ends[1], torch.linspace(0, 1, steps))


def morph_label(model, x: torch.Tensor, label: int, to_label: int, steps: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """A conditional model's style transfer: z fixed at the posterior mean of x given its ``label``,
    decoded while the label moves from ``label`` to ``to_label`` in ``steps`` (soft labels (steps, L)).
    Returns the labels (steps, L) and the decoded means (steps, *data_shape)."""
    check_steps(steps)
    if not model.classes:
        raise UserError("--label morphs the class label, and this model is not conditional (train with --conditional)")
    labels = torch.tensor([label, to_label])
    z = posterior_mean(model, as_batch(model, x), labels[:1])  # (1, D)
    path = label_path(model, labels, steps)  # (steps, L)
    return path, decode_mean(model, z.expand(steps, -1), path).cpu()


def check_steps(steps: int) -> None:
    if steps < 2:
        raise UserError(f"steps must be at least 2 (the two endpoints), got {steps}")
