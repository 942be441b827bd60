"""What the explorer's sliders set, and how that becomes the z the model decodes.

A plain model (AE, VAE) is driven by its whole z. A hierarchical VAE is driven by its top level z2:
the decoder reads (z1, z2), and z1 is set to the mean of p(z1|z2), so the sliders walk the model's
own generative path. A VQ-VAE has no sliders: its z is a grid of codebook vectors, edited one
position at a time (``CodeGrid``).
"""

from __future__ import annotations

import torch

from ...models.hvae import HierarchicalPrior
from ...models.vq import VQVAE, MapToCodes
from ..encode import decode_mean


class Sliders:
    """The whole z drives the decoder: z (*lead, D) is the model's z."""

    name = "z"
    note = ""

    def __init__(self, model):
        self.model = model

    def driven(self, means: torch.Tensor) -> torch.Tensor:
        """(N, d): the part of the posterior means (N, D) that the sliders set."""
        return means

    def full(self, z: torch.Tensor) -> torch.Tensor:
        """(*lead, D): the model's z for slider values z (*lead, d)."""
        return z

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """(*lead, *data_shape) on the CPU: the decoded mean at slider values z (*lead, d); ``labels`` (1,)
        for a conditional model (the label every z is decoded with)."""
        return decode_mean(self.model, self.full(z), labels).cpu()


class TopLevel(Sliders):
    """A two-level hierarchy z = (z1, z2): the sliders set z2, and z1 is the mean of p(z1|z2)."""

    name = "z2"
    note = ("A hierarchical VAE: the sliders set the top-level latent z2; z1 is the mean of p(z1|z2) "
            "under the model's prior. The map shows the posterior means of z2.")

    def driven(self, means: torch.Tensor) -> torch.Tensor:
        return means.chunk(2, dim=-1)[1]

    @torch.no_grad()
    def full(self, z: torch.Tensor) -> torch.Tensor:
        parameter = next(self.model.parameters())
        z2 = z.to(device=parameter.device, dtype=parameter.dtype)
        z1 = self.model.prior_distribution().conditional(z2).mean  # (*lead, D)
        return torch.cat([z1, z2], -1).cpu()


def sliders_for(model) -> Sliders | None:
    """The sliders of ``model``; None for a VQ-VAE (edited by code positions instead)."""
    if isinstance(model, VQVAE):
        return None
    return TopLevel(model) if isinstance(model.prior, HierarchicalPrior) else Sliders(model)


class CodeGrid:
    """A VQ-VAE's z as a grid of code indices: positions (P,) laid out rows x columns, raster order."""

    def __init__(self, model: VQVAE):
        self.model = model
        codebook = model.quantizer.codebook.detach()
        self.size, self.dim = codebook.shape  # K codes of D numbers
        self.positions = model.positions
        project = model.head.project
        self.grid = tuple(project.map_shape[1:]) if isinstance(project, MapToCodes) else (1, self.positions)

    def vectors(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (n, P) int64 -> z (n, P * D): the codebook vectors in position order."""
        codebook = self.model.quantizer.codebook.detach()
        return codebook[codes.to(codebook.device)].flatten(-2).cpu()

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """(n, *data_shape) on the CPU: the decoded mean of each code grid codes (n, P)."""
        return decode_mean(self.model, self.vectors(codes)).cpu()

    def palette(self) -> torch.Tensor:
        """(K, *data_shape): code k decoded with every position set to k, a picture of what k adds."""
        every = torch.arange(self.size).unsqueeze(1).expand(self.size, self.positions)  # (K, P)
        return self.decode(every)
