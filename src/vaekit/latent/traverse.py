"""Traversals: one latent coordinate swept at a time around an example, dimensions ranked by their KL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch

from ..data.array import ArrayData
from ..data.batch import split_batches
from ..errors import UserError
from ..models.conditional import label_prior, model_labels
from ..nn.modes import eval_mode
from ..objectives import kl_per_dimension
from .encode import ENCODE_BATCH, decode_mean, first_parameter, posterior_mean


@dataclass
class Traversal:
    """One row per swept latent dimension, rows ordered by KL (largest first).

    dims (K,) int64: the swept dimension of each row. kl (K,) float64: its mean KL in nats (NaN
    when no KL was given). values (steps,): what the swept coordinate takes along each row.
    z (K, steps, D): the latents, equal to the base point except in the row's dimension.
    decoded (K, steps, *data_shape): the decoded means.
    """

    dims: torch.Tensor
    kl: torch.Tensor
    values: torch.Tensor
    z: torch.Tensor
    decoded: torch.Tensor


@torch.no_grad()
def mean_kl_per_dimension(model, data: ArrayData, batch_size: int = ENCODE_BATCH) -> torch.Tensor:
    """(D,) float64, nats: the mean over ``data`` of KL(q(z_d|x) || p(z_d)) per latent dimension.

    Closed form per dimension (``kl_per_dimension``); a dimension near 0 is inactive (unused).
    """
    if model.prior is None:
        model.prior_distribution()  # a plain autoencoder fails here with its explanation
    prior = None if label_prior(model) else model.prior_distribution()
    if len(data) == 0:
        raise UserError(f"{data.name}: no examples to measure the KL on")
    total = 0.0
    with eval_mode(model):
        for batch in split_batches(data, batch_size, first_parameter(model), model_labels(model, data)):
            p = model.prior_distribution(batch.labels) if label_prior(model) else prior  # a prior per class: this batch's
            total = total + kl_per_dimension(model.encode(batch.x, batch.labels), p).double().sum(0)  # (B, D) -> (D,)
    return (total / len(data)).cpu()


def traverse(
    model, x: torch.Tensor, kl: torch.Tensor | None = None, top: int | None = None, span: float = 3.0, steps: int = 9,
    labels: torch.Tensor | None = None,
) -> Traversal:
    """Decode while sweeping one latent coordinate at a time around the posterior mean of x.

    x: one example (*data_shape). kl (D,) nats (see ``mean_kl_per_dimension``): rows are ordered
    by it, largest first, and ``top`` keeps the K largest; None keeps dimension order (and needs
    top=None). In each row the swept coordinate takes the values linspace(-span, span, steps)
    (units of z: prior standard deviations for the standard normal prior); every other
    coordinate stays at the posterior mean of x. ``labels`` (1,): x's label, for a conditional model,
    given to the encoder and to every decode of the traversal.
    """
    decode = None if labels is None else partial(decode_mean, model, labels=labels)
    return traverse_from(model, posterior_mean(model, x, labels)[0].cpu(), kl, top, span, steps, decode)


def traverse_from(
    model, base: torch.Tensor, kl: torch.Tensor | None = None, top: int | None = None, span: float = 3.0,
    steps: int = 9, decode: Callable | None = None,
) -> Traversal:
    """``traverse`` around a given latent point base (D,) instead of an input's posterior mean.

    decode: z (K, steps, D) -> decoded (K, steps, *data_shape); default the model's decoded mean
    (``decode_mean``). A model whose sliders drive part of its z (the top level of a hierarchy)
    passes the map from that part to the decoded mean.
    """
    if steps < 2 or not span > 0:
        raise UserError(f"a traversal needs steps >= 2 and span > 0, got steps={steps}, span={span}")
    base = base.cpu()
    dims = order_dimensions(kl, base.numel(), top)  # (K,)
    values = torch.linspace(-span, span, steps, dtype=base.dtype)  # (steps,)
    z = base.repeat(len(dims), steps, 1)  # (K, steps, D)
    z[torch.arange(len(dims)), :, dims] = values  # row k sweeps dimension dims[k]
    decoded = (decode or partial(decode_mean, model))(z).cpu()  # (K, steps, *data_shape)
    chosen_kl = torch.full((len(dims),), math.nan, dtype=torch.float64) if kl is None else kl.double()[dims]
    return Traversal(dims, chosen_kl, values, z, decoded)


def dimension_kl(model, data: ArrayData) -> torch.Tensor | None:
    """(D,) mean KL per latent dimension over ``data`` (``mean_kl_per_dimension``); None without a
    prior, or where the KL does not split over dimensions (a mixture prior, a hierarchy)."""
    if model.prior is None:
        return None
    try:
        return mean_kl_per_dimension(model, data)
    except UserError:  # kl_per_dimension: no closed-form KL per dimension for this posterior and prior
        return None


def order_dimensions(kl: torch.Tensor | None, latent_dim: int, top: int | None) -> torch.Tensor:
    """(K,) int64: dimensions by decreasing KL (ties in index order), the ``top`` first; or 0..D-1."""
    if top is not None and not 1 <= top <= latent_dim:
        raise UserError(f"top must be between 1 and the latent dimension {latent_dim}, got {top}")
    if kl is None:
        if top is not None:
            raise UserError("choosing the top dimensions needs their KL, and a model without a prior has none")
        return torch.arange(latent_dim)
    if kl.shape != (latent_dim,):
        raise UserError(f"kl must have one value per latent dimension ({latent_dim}), got shape {tuple(kl.shape)}")
    order = torch.sort(kl.cpu(), descending=True, stable=True).indices
    return order[:top]
