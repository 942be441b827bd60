"""Conditional models: the one-hot class label y enters the encoder, q(z|x, y), and the decoder,
p(x|z, y); with ``model.prior.name=conditional`` the prior is a learned Gaussian p(z|y) per class.

How y enters: the conv trunk gets y as L extra constant input channels (every pixel sees the label
from the first layer on, and the trunk stays a plain stack of convolutions); other trunks get the
flattened input with y appended. The decoder gets z with y appended, so the conv decoder's first
(linear) layer mixes them.

Labels reach the model as arguments only: ``encode(x, labels)``, ``decode(z, labels)``,
``prior_distribution(labels)``, ``sample(n, labels=c)``; passes over data take them from each
``vaekit.data.batch.Batch`` (``batch.labels``), whose factories attach ``model_labels(model, data)``.
Labels are class indices (B,) int64, or soft labels (B, L) (rows of non-negative weights summing to
1, e.g. a path between two one-hots).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Distribution, Independent, Normal

from ..config.section import Section
from ..errors import UserError
from ..nn.registry import TRUNKS
from .priors import Prior
from .protocols import prior_needs_labels
from .registry import PRIORS


class LabelledEncoder(nn.Module):
    """(x (B, *data_shape), y (B, L)) -> features: y as constant channels for images, else appended."""

    def __init__(self, trunk: nn.Module, channels: bool):
        super().__init__()
        self.trunk, self.channels = trunk, channels
        self.out_features = trunk.out_features

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.channels:
            planes = y[:, :, None, None].expand(-1, -1, *x.shape[-2:])  # (B, L, H, W)
            return self.trunk(torch.cat([x, planes], 1))
        return self.trunk(torch.cat([x.flatten(1), y], 1))


class LabelledDecoder(nn.Module):
    """(z (N, D), y (N, L)) -> decoder parameters, the decoder trunk given [z, y]."""

    def __init__(self, trunk: nn.Module):
        super().__init__()
        self.trunk = trunk

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.trunk(torch.cat([z, y], -1))


def labelled_trunks(trunk: Section, classes: int, data_shape: tuple[int, ...], latent_dim: int, params: int):
    """(encoder, decoder) of the registered trunk ``trunk`` widened for L = ``classes`` label inputs."""
    build_trunk = TRUNKS.get(trunk.name)
    channels = trunk.name == "conv"
    encoder_shape = (data_shape[0] + classes, *data_shape[1:]) if channels else (int(torch.Size(data_shape).numel()) + classes,)
    encoder, _ = build_trunk(encoder_shape, latent_dim, params, **trunk.options)
    _, decoder = build_trunk(tuple(data_shape), latent_dim + classes, params, **trunk.options)
    return LabelledEncoder(encoder, channels), LabelledDecoder(decoder)


def one_hot(labels: torch.Tensor, classes: int, dtype: torch.dtype) -> torch.Tensor:
    """Class indices (*,) -> (*, L) one-hot in ``dtype``; soft labels (*, L) pass through."""
    if labels.is_floating_point():
        if labels.shape[-1] != classes:
            raise UserError(f"soft labels need {classes} weights per example, got shape {tuple(labels.shape)}")
        return labels.to(dtype)
    return F.one_hot(labels.long(), classes).to(dtype)


def check_labels(labels: torch.Tensor, classes: int, where: str) -> None:
    """A UserError naming ``where`` for class indices outside 0..classes-1 (a label the run never saw)."""
    if labels.is_floating_point() or len(labels) == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        raise UserError(f"{where}: label {bad} was never seen in training; "
                        f"this conditional model knows labels 0 to {classes - 1}")


def model_labels(model, data) -> torch.Tensor | None:
    """The labels (N,) of ``data`` that batches for ``model`` carry: ``data_labels`` for a conditional
    model, None for any other (it takes no labels)."""
    return data_labels(model, data) if model.classes else None


def data_labels(model, data) -> torch.Tensor:
    """``data.labels`` (N,), checked for a conditional model: present, and among the classes it knows."""
    labels = getattr(data, "labels", None)
    if labels is None:
        raise UserError(f"{data.name}: this model is conditional and needs the class label of every example, "
                        "but these data have no labels")
    check_labels(labels, model.classes, data.name)
    return labels


def label_prior(model) -> bool:
    """Whether the model's prior depends on the label (p(z|y)), so it must be taken per batch."""
    return prior_needs_labels(model.prior)


def label_count(model: Section, data) -> int:
    """The classes of a conditional model: ``model.classes``, or max label + 1 of the training data;
    a UserError for data without labels or with a single class."""
    labels = getattr(data, "labels", None)
    if labels is None:
        raise UserError(f"{data.name}: model.conditional needs class labels, and these data have none (labels come "
                        "from digits, IDX label files, an npz 'y', a CSV --label-column, or class sub-folders)")
    seen = labels.unique()
    if len(seen) < 2:
        raise UserError(f"{data.name}: model.conditional needs at least two classes, but every label is {int(seen[0])}")
    if int(seen.min()) < 0:
        raise UserError(f"{data.name}: class labels must be >= 0, got {int(seen.min())}")
    needed = int(seen.max()) + 1
    if model.classes and model.classes < needed:
        raise UserError(f"{data.name}: labels go up to {needed - 1}, but model.classes is {model.classes}; "
                        f"set model.classes={needed} or leave it at 0")
    return model.classes or needed


@PRIORS.register("conditional")
class ClassConditionalNormal(Prior):
    """p(z|y) = N(mu_y, diag(sigma_y^2)) with a learned mean and log-scale (L, D) per class; it starts
    as N(0, I) for every class. Needs a conditional model (the labels come through it)."""

    needs_labels = True

    def __init__(self, latent_dim: int, classes: int = 0):
        super().__init__()
        if classes < 1:
            raise UserError("model.prior.name=conditional is a prior per class: it needs model.conditional=true")
        self.loc = nn.Parameter(torch.zeros(classes, latent_dim))
        self.log_scale = nn.Parameter(torch.zeros(classes, latent_dim))

    def forward(self, labels: torch.Tensor | None = None) -> Distribution:
        """p(z|y): batch shape (B,) for class indices (B,); soft labels (B, L) mix the parameters."""
        if labels is None:
            raise UserError("the conditional prior needs class labels; pass labels=...")
        if labels.is_floating_point():
            loc, log_scale = labels @ self.loc, labels @ self.log_scale
        else:
            loc, log_scale = self.loc[labels], self.log_scale[labels]
        return Independent(Normal(loc, log_scale.exp(), validate_args=False), 1, validate_args=False)

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None,
               labels: torch.Tensor | None = None) -> torch.Tensor:
        """(n, latent_dim) draws for labels (n,); temperature scales the standard deviation."""
        normal = self(labels).base_dist
        noise = torch.randn(normal.loc.shape, generator=generator, device=self.loc.device)
        return normal.loc + temperature * normal.scale * noise
