"""Encode and decode with a trained model: posterior means (the embeddings), decoded means, prior samples.

Every function takes model inputs (the values the model was trained on: binarised, scaled or
standardised) and returns CPU tensors. Embeddings are posterior means, never samples.
"""

from __future__ import annotations

import math

import torch

from ..data.array import ArrayData
from ..errors import UserError
from ..data.batch import split_batches
from ..models.conditional import model_labels
from ..nn.modes import eval_mode

ENCODE_BATCH = 1024  # examples per encoder pass; the encoder alone is cheap, so batches can be large
DECODE_BATCH = 4096  # latents per decoder pass when sampling or reconstructing many: bounds the activations' memory


def first_parameter(model) -> torch.Tensor:
    """A parameter of the model: the device and dtype its inputs must have."""
    return next(model.parameters())


def as_batch(model, x: torch.Tensor) -> torch.Tensor:
    """One example (*data_shape) or a batch (B, *data_shape) -> a batch on the model's device and dtype."""
    parameter = first_parameter(model)
    x = torch.as_tensor(x).to(device=parameter.device, dtype=parameter.dtype)
    if tuple(x.shape) == model.data_shape:
        x = x.unsqueeze(0)
    if tuple(x.shape[1:]) != model.data_shape:
        raise UserError(f"inputs of shape {tuple(x.shape)} do not fit this model's examples of shape {model.data_shape}")
    return x


@torch.no_grad()
def posterior_mean(model, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """The embedding (B, D): the mean of q(z|x) for x (B, *data_shape) or one example (*data_shape);
    ``labels`` (B,) for a conditional model."""
    with eval_mode(model):
        return model.encode(as_batch(model, x), labels).mean


@torch.no_grad()
def decode_mean(model, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """The mean of p(x|z): z (*lead, D) -> (*lead, *data_shape) on the model's device; ``labels``
    (lead,) or (*lead, L) soft, for a conditional model (one label (1,) serves every z)."""
    parameter = first_parameter(model)
    with eval_mode(model):
        return model.decode(z.to(device=parameter.device, dtype=parameter.dtype), labels).mean


@torch.no_grad()
def encode_data(model, data: ArrayData, batch_size: int = ENCODE_BATCH) -> dict[str, torch.Tensor]:
    """The posterior of every example of ``data`` (in data order), as CPU tensors.

    mean (N, D) float32: the mean of q(z|x), the embedding to use downstream (not a sample, so
    two calls give identical values). log_var (N, D) float32: the log of q's variance per
    dimension; for a point-mass posterior (model 'ae') the variance is 0 and log_var is -inf, so
    that every model gives the same keys and exp(log_var) is still the variance. labels (N,)
    int64: only when the data have labels.
    """
    if len(data) == 0:
        raise UserError(f"{data.name}: no examples to encode")
    if batch_size < 1:
        raise UserError(f"batch_size must be at least 1, got {batch_size}")
    means, log_vars = [], []
    with eval_mode(model):
        for batch in split_batches(data, batch_size, first_parameter(model), model_labels(model, data)):
            q = model.encode(batch.x, batch.labels)  # batch (B,), event (D,)
            means.append(q.mean.float().cpu())
            log_vars.append(q.variance.log().float().cpu())  # log 0 = -inf for a point mass
    encoded = {"mean": torch.cat(means), "log_var": torch.cat(log_vars)}
    labels = getattr(data, "labels", None)
    if labels is not None:
        encoded["labels"] = labels.cpu()
    return encoded


@torch.no_grad()
def sample_latents(model, n: int, temperature: float = 1.0, label=None,
                   pixels: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(z (n, D), decoded means (n, *data_shape)) for n draws z ~ p(z) with its scale times ``temperature``.

    The same draws as ``model.sample`` from the same random state; the caller seeds (``seeded``).
    A conditional model draws for class ``label`` (None: the classes in turn). ``pixels``: instead
    of the means, one draw of every sub-pixel from p(x|z) (after the latent draws).
    """
    if n < 1:
        raise UserError(f"the number of samples must be at least 1, got {n}")
    if not (math.isfinite(temperature) and temperature >= 0):  # NaN or inf would decode to NaN pictures
        raise UserError(f"temperature must be a finite number, at least 0 (0: the prior's centre), got {temperature}")
    if model.prior is None:
        model.prior_distribution()  # a plain autoencoder fails here with its explanation
    z, labels = model.draw_latents(n, temperature, None, label)  # all draws at once: the stream of model.sample
    decoded = [decoded_chunk(model, z[start : start + DECODE_BATCH], chunk_of(labels, start), pixels)
               for start in range(0, n, DECODE_BATCH)]  # up to DECODE_BATCH: one pass, as model.sample
    return z.cpu(), torch.cat(decoded)


def chunk_of(labels: torch.Tensor | None, start: int) -> torch.Tensor | None:
    """The labels of the latents start .. start + DECODE_BATCH (None for an unconditional model)."""
    return None if labels is None else labels[start : start + DECODE_BATCH]


def decoded_chunk(model, z: torch.Tensor, labels: torch.Tensor | None, pixels: bool) -> torch.Tensor:
    """(B, *data_shape) on the CPU: the means of p(x|z) at z (B, D), or with ``pixels`` one draw of each."""
    if pixels:
        with eval_mode(model):
            return model.decode(z, labels).sample().cpu()
    return decode_mean(model, z, labels).cpu()


@torch.no_grad()
def reconstruct_inputs(model, x: torch.Tensor, labels: torch.Tensor | None = None,
                       batch_size: int = DECODE_BATCH) -> torch.Tensor:
    """(N, *data_shape) on the CPU: the model's reconstructions of x (N, *data_shape), ``batch_size`` at a
    time so that the activations' memory stays bounded (labels (N,) for a conditional model)."""
    parts = []
    with eval_mode(model):
        for start in range(0, len(x), batch_size):
            rows = slice(start, start + batch_size)
            parts.append(model.reconstruct(x[rows], None if labels is None else labels[rows]).cpu())
    return torch.cat(parts)
