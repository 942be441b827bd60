"""The two exported graphs of a model, with plain tensors in and out (no distributions):

    encoder   x (B, *data_shape) float32 [, labels (B,) int64]  ->  the posterior's parameters
    decoder   z (B, latent) float32 [, labels (B,) int64]       ->  the likelihood's parameters and its mean

What the posterior's parameters are depends on its kind: a Gaussian gives ``mean`` and ``log_var``
(a hierarchical VAE's: those of (z1, z2), z1 given z2 at its mean, as ``vaekit encode`` writes them); a
point mass (model 'ae') its ``mean``; a VQ-VAE the code indices ``codes`` (B, P * S) and the quantized
latents ``quantized`` (B, P * D), which the decoder takes. The decoder's outputs are the likelihood's
``parameter_maps`` by name, then ``mean``. A graph's output names are found by running it once on an
example, so they are known before tracing.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution

from ..models.heads import PointMass
from ..models.model import LatentVariableModel
from ..models.vq import QuantizedPosterior

BATCH = "batch"  # the name of the dynamic batch dimension in the files and the manifest
TRACE_BATCH, CHECK_BATCH = 2, 3  # traced at one batch size, checked at another (a baked-in size shows)


def posterior_outputs(q: Distribution) -> dict[str, torch.Tensor]:
    """The parameters of q(z|x) by name, each (B, ...): see the module's docstring."""
    if isinstance(q, QuantizedPosterior):
        return {"codes": q.codes, "quantized": q.mean}
    if isinstance(q, PointMass):
        return {"mean": q.mean}
    return {"mean": q.mean, "log_var": q.variance.log()}


def decoder_outputs(model: LatentVariableModel, z: torch.Tensor,
                    labels: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """The likelihood's parameters by name and its ``mean`` (B, *data_shape), for z (B, latent)."""
    decoded = model.decoder_output(z, labels)  # (B, params, *data_shape)
    return {**model.likelihood.parameter_maps(decoded), "mean": model.likelihood(decoded).mean}


class Graph(nn.Module):
    """A model's encoder or decoder as a function of plain tensors: ``forward(*inputs)`` returns the
    outputs' tuple in the order of ``output_names``. ``part`` is 'encoder' or 'decoder'."""

    def __init__(self, model: LatentVariableModel, part: str):
        super().__init__()
        self.model, self.part = model, part
        self.input_names = ["x" if part == "encoder" else "z"] + (["labels"] if model.classes else [])
        with torch.no_grad():
            self.output_names = list(self.named_outputs(*self.example(TRACE_BATCH)))

    def named_outputs(self, main: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if self.part == "encoder":
            return posterior_outputs(self.model.encode(main, labels))
        return decoder_outputs(self.model, main, labels)

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.named_outputs(*inputs).values())

    @torch.no_grad()
    def example(self, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
        """Inputs of ``batch`` examples, drawn from a generator of its own (the global one is left alone):
        x uniform in [0, 1), labels uniform over the classes; the decoder's z is the encoder's output for
        such x (the posterior mean, or the quantized latents), so it lies where the decoder is used."""
        generator = torch.Generator().manual_seed(seed)
        parameter = next(self.model.parameters())
        x = torch.rand(batch, *self.model.data_shape, generator=generator).to(parameter)
        labels = torch.randint(self.model.classes, (batch,), generator=generator) if self.model.classes else None
        if self.part == "decoder":
            x = self.model.encode(x, labels).mean  # (B, latent): for a VQ-VAE the quantized latents
        return (x,) if labels is None else (x, labels)

    @torch.no_grad()
    def reference(self, inputs: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        """PyTorch's outputs for ``inputs``, in the order of ``output_names``."""
        return list(self(*inputs))


def tensor_spec(name: str, value: torch.Tensor) -> dict:
    """One input or output as the manifest lists it: its name, its shape with the batch dimension named
    ``BATCH``, its dtype by numpy's name (float32, int64)."""
    return {"name": name, "shape": [BATCH, *value.shape[1:]], "dtype": str(value.dtype).removeprefix("torch.")}


def signature(graph: Graph) -> dict[str, list[dict]]:
    """{'inputs': [...], 'outputs': [...]}: names, shapes and dtypes of the graph's tensors."""
    inputs = graph.example(TRACE_BATCH)
    outputs = graph.reference(inputs)
    return {"inputs": [tensor_spec(n, v) for n, v in zip(graph.input_names, inputs)],
            "outputs": [tensor_spec(n, v) for n, v in zip(graph.output_names, outputs)]}
