"""VQ-VAE (van den Oord et al., 2017): a grid of code vectors, quantized to a learned codebook.

    x --encoder trunk--> z_e (B, P, D) --quantizer--> z_q = e_c (B, P, D) --decoder trunk--> p(x|z_q)

The grid: for the conv trunk, each position of the deepest feature map (P = h * w) is projected
to a D = ``latent_dim`` vector by a 1x1 convolution (and back, on the decoder side); for any other
trunk the features are projected to ``code_positions`` vectors by one linear map and the decoder
trunk takes the flattened grid (P * D,). The model's z is that flattened grid: ``encode`` returns
a point mass on z_q(x) (a deterministic posterior over codes), ``decode`` takes (*lead, P * D).

Loss (objective 'vq', in ``objectives/vq.py``), per example, with sg the stop-gradient and the squares summed over the
grid (squared latent units, added to the nats of the reconstruction term as in the paper):

    -log p(x | z_q) + ||sg[z_e] - e||^2 + commitment * ||z_e - sg[e]||^2

The quantizer is a registered part (``model.quantizer``, ``vaekit.models.quantizers``): ``nearest``
(the paper's: one codebook; moving averages, dead-code restarts, k-means start, cosine codes, a
narrower codebook, straight-through or rotation-trick gradients), ``residual`` (S stages of
codebooks, S code maps per grid) or ``fsq`` (a fixed grid: no codebook, no codebook or commitment
term). The decoder's gradient reaches the encoder by the quantizer's gradient estimator.
Under data-parallel training the usage counts and moving averages are summed over the ranks (the
statistics of the global batch) and restarted or k-means codes take rank 0's values, so every rank
holds the same codebook.

Likelihood: the paper's prior over codes is uniform and fixed, so no ELBO is reported while
the model has no prior. Training ends by fitting an autoregressive prior p(c) over the code grid
(``model.code_prior.epochs``; ``training_stages``; ``vaekit fit-code-prior`` fits one again), with the
S code maps of a residual quantizer read together; with it, q(c|x) being one code grid with probability 1,

    log p(x) >= log p(x | z_q(x)) + log p(c(x))     (the ELBO: KL(q || p) = -log p(c(x)))

which evaluation reports as elbo (nats) and bits per dimension; importance sampling adds nothing
(every draw of q is the same grid), so log p(x) with k > 0 equals this bound.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config.section import Section, part
from ..errors import UserError
from ..nn.modes import eval_mode
from ..nn.registry import TRUNKS, Trunk
from ..registry import Registry
from .code_prior import CodePrior, PriorFitting, check_code_prior
from .heads import PointMass
from .likelihoods import build_likelihood
from .model import LatentVariableModel, check_model_options
from .quantizers import Quantizer, QuantizerPart, build_quantizer
from .registry import CODE_PRIORS, MODELS, CodePriorPart, LikelihoodPart

# --- posterior and head ---------------------------------------------------------------------------


class QuantizedPosterior(PointMass):
    """q(z|x) of a VQ-VAE: all mass on the quantized grid, flattened to z (B, P * D).

    ``value`` equals the code vectors exactly in the forward pass, and its gradient goes to the
    encoder by the quantizer's estimator (straight-through or rotation). Also holds the codes
    (B, P * S) int64, position-major (the S stages of position 1, then of position 2, ...), and, for
    a quantizer with codebooks, z_e and z_q (B, P, S, d): each codebook's input and chosen code
    (None for FSQ), which the VQ loss needs.
    """

    def __init__(self, value: torch.Tensor, codes: torch.Tensor, z_e: torch.Tensor | None, z_q: torch.Tensor | None):
        self.codes, self.z_e, self.z_q = codes, z_e, z_q
        super().__init__(value.flatten(1))

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """0 nats where value is the posterior's grid (probability 1), -inf elsewhere; (*lead, B)."""
        return torch.where((value == self.value).all(-1), 0.0, -math.inf).to(self.value)


class VQHead(nn.Module):
    """Encoder features (B, F) -> ``project`` -> z_e (B, P, D) -> quantizer -> ``QuantizedPosterior``."""

    def __init__(self, project: nn.Module, quantizer: Quantizer):
        super().__init__()
        self.project, self.quantizer = project, quantizer

    def forward(self, h: torch.Tensor) -> QuantizedPosterior:
        z_e = self.project(h)  # (B, P, D)
        lead = z_e.shape[:-1]  # (B, P)
        out = self.quantizer.quantize(z_e.reshape(-1, z_e.shape[-1]))  # codes (B * P, S), value (B * P, D)
        grid = lambda t: None if t is None else t.view(*lead, *t.shape[1:])  # noqa: E731  (B * P, ...) -> (B, P, ...)
        return QuantizedPosterior(grid(out.value), out.codes.view(lead[0], -1), grid(out.inputs), grid(out.targets))


# --- code layouts: how a trunk's features become a grid of code vectors ---------------------------

# trunk name -> (trunk, data_shape, latent_dim, params, positions) -> (encoder, projection, decoder, positions); a trunk
# without an entry gets ``flat_layout``.
LAYOUTS: Registry = Registry("code layout")


class FlatCodes(nn.Module):
    """Features (B, F) -> P code vectors (B, P, D) by one linear map."""

    def __init__(self, features: int, positions: int, dim: int):
        super().__init__()
        self.linear, self.grid = nn.Linear(features, positions * dim), (positions, dim)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h).view(-1, *self.grid)


def flat_layout(trunk: Section, data_shape, latent_dim: int, params: int, positions: int):
    """Any trunk: ``positions`` vectors from the features; the decoder trunk takes (P * D,) as its z."""
    encoder, decoder = TRUNKS.get(trunk.name)(data_shape, positions * latent_dim, params, **trunk.options)
    return encoder, FlatCodes(encoder.out_features, positions, latent_dim), decoder, positions


class MapToCodes(nn.Module):
    """Flattened feature map (B, C * h * w) -> a code vector per position (B, h * w, D), 1x1 convolution."""

    def __init__(self, map_shape: tuple[int, int, int], dim: int):
        super().__init__()
        self.map_shape, self.conv = map_shape, nn.Conv2d(map_shape[0], dim, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        z = self.conv(h.view(-1, *self.map_shape))  # (B, D, h, w)
        return z.flatten(2).transpose(1, 2)  # (B, h * w, D), raster order


class CodesToMap(nn.Module):
    """The decoder side: z (N, h * w * D) -> flattened feature map (N, C * h * w), 1x1 convolution."""

    def __init__(self, map_shape: tuple[int, int, int], dim: int):
        super().__init__()
        self.grid, self.conv = (map_shape[1] * map_shape[2], dim), nn.Conv2d(dim, map_shape[0], 1)
        # The codes start tiny (within +-1/K), so this layer's output starts at its bias; a random bias
        # with every channel negative would leave the ReLU after it dead and the layer without gradient.
        nn.init.zeros_(self.conv.bias)
        self.size = map_shape[1:]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        grid = z.view(-1, *self.grid).transpose(1, 2)  # (N, D, h * w)
        return self.conv(grid.reshape(-1, self.grid[1], *self.size)).flatten(1)


@LAYOUTS.register("conv")
def conv_layout(trunk: Section, data_shape, latent_dim: int, params: int, positions: int):
    """A code vector at each position of the deepest feature map (``positions`` unused); the conv
    decoder's first layer (its ``project``, which maps z to that map) becomes the matching 1x1 convolution."""
    encoder, decoder = TRUNKS.get("conv")(data_shape, latent_dim, params, **trunk.options)
    map_shape = decoder.start_shape  # (C, h, w) of the deepest map, shared by encoder and decoder
    decoder.project = CodesToMap(map_shape, latent_dim)
    return encoder, MapToCodes(map_shape, latent_dim), decoder, map_shape[1] * map_shape[2]


# --- model ----------------------------------------------------------------------------------------


class VQVAE(LatentVariableModel):
    """A ``LatentVariableModel`` with a VQ head and no prior until one is fitted (``fit_code_prior``, or
    at the end of training: ``training_stages``); its codebook health is ``vaekit.evaluation.codebook``'s.
    z: (B, positions * latent_dim)."""

    def __init__(self, encoder, head: VQHead, decoder, likelihood, data_shape, positions: int, code_prior: Section):
        super().__init__(encoder, head, decoder, likelihood, None, data_shape, "vq")
        self.positions, self.code_prior = positions, code_prior  # the code prior's section (model.code_prior)

    @property
    def commitment(self) -> float:
        """The weight of the VQ loss's commitment term: the quantizer's option (0 without a codebook)."""
        return self.quantizer.commitment

    @property
    def quantizer(self) -> Quantizer:
        return self.head.quantizer

    def check_objective(self, name: str) -> None:
        """A VQ-VAE trains with objective 'vq' only: its codebook learns from no other loss."""
        if name != "vq":
            raise UserError(f"model 'vqvae' trains with objective 'vq' (its codebook learns from the VQ loss only), not {name!r}")

    def prior_distribution(self, labels: torch.Tensor | None = None):
        """The code prior p(codes); a VQ-VAE is never conditional, so ``labels`` is always None."""
        if self.prior is None:
            raise UserError(
                "this VQ-VAE has no code prior (its codes are uniform, so there is nothing to sample or weigh; training "
                "fits one unless model.code_prior.epochs=0); fit one with 'vaekit fit-code-prior RUN_DIR --epochs N'"
            )
        return self.prior()

    @torch.no_grad()
    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """(B, P * S) int64: the code grid of x (B, *data_shape), raster order, the S stages of each
        position together; no state changes."""
        with eval_mode(self):
            return self.encode(x).codes

    def new_prior(self) -> CodePrior:
        vectors = self.quantizer.code_vectors().detach()  # (S, K, D)
        table = vectors[0] if len(vectors) == 1 else vectors  # one codebook: (K, D), as the prior always took
        return CODE_PRIORS.get(self.code_prior.name)(table, self.positions, **self.code_prior.options).to(vectors.device)

    def training_stages(self, data, seed: int) -> list:
        """Fitting the code prior to the codes of ``data.train`` (model.code_prior.epochs; none when 0)."""
        epochs = self.code_prior.get("epochs", 0)
        if epochs == 0:
            return []
        return [PriorFitting(self, data.train, data.val, epochs, seed=seed)]

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Weights with a fitted code prior ('prior.*') give the model one to hold them (a model is
        built without); weights without drop any prior this model had. Weights saved by 0.1 name the
        quantizer 'head.quantiser.*'; they load as 'head.quantizer.*'."""
        state_dict = {key.replace("head.quantiser.", "head.quantizer.", 1): value for key, value in state_dict.items()}
        fitted = any(key.startswith("prior.") for key in state_dict)
        if fitted and self.prior is None:
            self.prior = self.new_prior()
        elif not fitted:
            self.prior = None
        return super().load_state_dict(state_dict, strict, assign)


@MODELS.register("vqvae", objective="vq")
def build_vqvae(data_shape: tuple[int, ...], *, latent_dim: int = 16, trunk: Trunk = part("mlp"),
                likelihood: LikelihoodPart = part("auto"), code_positions: int = 8,
                quantizer: QuantizerPart = part("nearest"), code_prior: CodePriorPart = part("gru")) -> VQVAE:
    """VQ-VAE: a grid of ``latent_dim``-wide vectors, each quantized by the registered quantizer
    ``quantizer``; objective 'vq'. ``code_positions``: code vectors per example with a trunk other than
    conv (conv: one per position of its deepest feature map). ``code_prior``: fitted when training ends."""
    check_model_options(latent_dim)
    if code_positions < 1:
        raise UserError(f"model.code_positions must be at least 1, got {code_positions}")
    check_code_prior(code_prior)
    built = build_quantizer(quantizer, latent_dim)  # first: a bad option fails before the networks are built
    built_likelihood = build_likelihood(likelihood, data_shape)
    layout = LAYOUTS.get(trunk.name) if trunk.name in LAYOUTS else flat_layout
    encoder, project, decoder, positions = layout(trunk, tuple(data_shape), latent_dim, built_likelihood.params,
                                                  code_positions)
    return VQVAE(encoder, VQHead(project, built), decoder, built_likelihood, data_shape, positions, code_prior)
