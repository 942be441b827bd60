"""The Exemplar prior (Norouzi, Fleet and Norouzi, 2020, "Exemplar VAE"), registered as ``exemplar``.

    p(z) = (1/M) sum_m N(z; mu_phi(x_m), sigma^2 I)

over M exemplars x_m taken from the training split, with mu_phi the model's own posterior mean
(q(z2|x) as the top prior of the hierarchical models) and one shared learnable scale sigma.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.distributions import Distribution

from ..errors import UserError
from .priors import Prior, check_components, gaussian_mixture, sample_mixture
from .registry import PRIORS


@PRIORS.register("exemplar")
class ExemplarPrior(Prior):
    """p(z) = (1/M) sum_m N(z; mu_phi(x_m), sigma^2 I): a mixture centred on the posterior means of
    M training examples (exemplars), with one shared isotropic scale sigma.

    exemplars: buffer (M, *data_shape) in the model's input units, created (zeros, ``filled`` False)
    by ``bind`` and filled from the training split by ``take_exemplars`` before the first step of
    a fresh run; both are saved with the weights, so a loaded or resumed model needs no data.
    M is ``model.prior.components`` (500 by default). log_scale: a scalar parameter, log sigma.

    sigma starts at 1: at initialisation the posterior standard deviations are about 1 (the
    Gaussian head's log-variance starts near 0) and the exemplar means lie close together, so the
    prior starts close to the N(0, I) of a standard VAE and the KL starts at a familiar size; a
    small start would make every exemplar a narrow spike and the early KL very large. sigma is
    then learned with the rest of the model.

    The gradient reaches the encoder through the exemplar means, as in the paper. Differences
    from the paper, which make this prior feasible on a CPU: the paper's mixture runs over the
    whole training set, with the exemplar means retrieved by approximate k-nearest neighbours
    over cached embeddings and the example being trained on left out of its own prior (leave one
    out); here the mixture is a fixed random subset of M training examples, every component is
    evaluated exactly (no retrieval), and nothing is left out (a training example that happens to
    be an exemplar sees itself in its prior).
    """

    def __init__(self, latent_dim: int, classes: int = 0, *, components: int = 500):
        super().__init__()
        self.count = check_components(components)
        self.latent_dim = latent_dim
        self.log_scale = nn.Parameter(torch.zeros(()))  # log sigma; sigma = 1 to start (see above)
        self.encode = None  # the model's q(z|x), set by bind; a plain attribute, not a submodule (no cycle)
        self._filled = False  # mirrors the ``filled`` buffer, read without a device sync in forward

    def bind(self, encode, data_shape) -> None:
        self.encode = encode
        if not hasattr(self, "exemplars"):  # registered here so that load_state_dict finds them
            self.register_buffer("exemplars", torch.zeros(self.count, *data_shape))  # (M, *data_shape)
            self.register_buffer("filled", torch.tensor(False))

    def take_exemplars(self, train_inputs: Callable[[], torch.Tensor], generator: torch.Generator) -> None:
        """Fill the exemplars with M training inputs drawn without replacement by ``torch.randperm``
        under ``generator`` (a CPU generator); ``train_inputs()`` gives (N, *data_shape) in model units."""
        x = train_inputs()  # (N, *data_shape)
        if len(x) < self.count:
            raise UserError(f"prior 'exemplar' takes model.prior.components={self.count} exemplars from the training "
                            f"split, which has {len(x)} examples; set model.prior.components to at most {len(x)}")
        index = torch.randperm(len(x), generator=generator)[: self.count]  # (M,)
        with torch.no_grad():
            self.exemplars.copy_(x[index.to(x.device)])
            self.filled.fill_(True)
        self._filled = True

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if prefix + "filled" in state_dict:
            self._filled = bool(state_dict[prefix + "filled"])

    def forward(self) -> Distribution:
        if self.encode is None:
            raise RuntimeError("the exemplar prior needs the model's encoder: build it through a model (bind)")
        if not self._filled:
            raise UserError("the exemplar prior has no exemplars yet: 'vaekit train' takes them from the training "
                            "data when a run starts; for a model built in Python, call "
                            "model.prior.take_exemplars(lambda: x_train, torch.Generator().manual_seed(0)) first")
        loc = self.encode(self.exemplars).mean  # (M, D): mu_phi(x_m), differentiable in the encoder
        scale = self.log_scale.exp().expand(loc.shape)  # (M, D), one shared sigma
        uniform = torch.zeros(self.count, dtype=loc.dtype, device=loc.device)
        return gaussian_mixture(uniform, loc, scale)

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, latent_dim): an exemplar per draw, then N(its mean, (temperature sigma)^2 I)."""
        return sample_mixture(self(), n, temperature, generator)
