"""VQ-VAE (van den Oord et al., 2017): a grid of code vectors, quantised to a learned codebook.

    x --encoder trunk--> z_e (B, P, D) --nearest code--> z_q = e_c (B, P, D) --decoder trunk--> p(x|z_q)

The grid: for the conv trunk, each position of the deepest feature map (P = h * w) is projected
to a D = ``latent_dim`` vector by a 1x1 convolution (and back, on the decoder side); for any other
trunk the features are projected to ``code_positions`` vectors by one linear map and the decoder
trunk takes the flattened grid (P * D,). The model's z is that flattened grid: ``encode`` returns
a point mass on z_q(x) (a deterministic posterior over codes), ``decode`` takes (*lead, P * D).

Loss (objective 'vq', in ``objectives/vq.py``), per example, with sg the stop-gradient and the squares summed over the
grid (squared latent units, added to the nats of the reconstruction term as in the paper):

    -log p(x | z_q) + ||sg[z_e] - e||^2 + commitment * ||z_e - sg[e]||^2

The decoder's gradient reaches the encoder by the straight-through estimator (z_q in the forward
pass, the identity in the backward pass). With ``codebook_ema`` the codebook follows exponential
moving averages of its assigned encoder outputs (decay 0.99, Laplace smoothing) and the codebook
term is dropped. Codes unused for ``codebook_restart`` training batches are reset to encoder
outputs of the current batch drawn from the torch generator (so resume stays reproducible).
Under data-parallel training the usage counts and moving averages are summed over the ranks (the
statistics of the global batch) and restarted codes take rank 0's candidates, so every rank holds
the same codebook.

Likelihood: the paper's prior over codes is uniform and fixed, so no ELBO is reported while
the model has no prior. ``vaekit fit-code-prior`` (``vaekit.models.code_prior.fit_code_prior``) fits an
autoregressive prior p(c) over the code grid; with it, q(c|x) being one code grid with probability 1,

    log p(x) >= log p(x | z_q(x)) + log p(c(x))     (the ELBO: KL(q || p) = -log p(c(x)))

which evaluation reports as elbo (nats) and bits per dimension; importance sampling adds nothing
(every draw of q is the same grid), so log p(x) with k > 0 equals this bound.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn
from torch.nn import functional as F

from ..data.array import batches
from ..errors import UserError
from ..nn.collective import broadcast_from_first, sum_over_ranks
from ..nn.modes import eval_mode
from ..nn.registry import TRUNKS
from ..registry import Registry
from .code_prior import CodePrior
from .heads import PointMass
from .likelihoods import build_likelihood
from .model import LatentVariableModel
from .registry import MODELS

EMA_DECAY = 0.99  # van den Oord et al. (2017), appendix
EMA_EPSILON = 1e-5  # Laplace smoothing of the EMA code counts, so no count divides by zero


# --- quantiser ------------------------------------------------------------------------------------


class VectorQuantiser(nn.Module):
    """Nearest-code quantisation of vectors (N, D) against a codebook (K, D).

    In training mode each call also updates the state kept in buffers (saved in checkpoints):
    ``unused_steps`` (K,), training batches since each code was last chosen; with ``ema`` the
    moving averages ``ema_count`` (K,) and ``ema_sum`` (K, D), from which the codebook (then a
    buffer, not a parameter) is recomputed. Evaluation mode changes nothing.
    """

    def __init__(self, size: int, dim: int, ema: bool = False, restart_after: int = 100):
        super().__init__()
        self.ema, self.restart_after = ema, restart_after
        codebook = torch.empty(size, dim).uniform_(-1 / size, 1 / size)
        if ema:
            self.register_buffer("codebook", codebook)
            self.register_buffer("ema_count", torch.ones(size))  # as if each code had been seen once
            self.register_buffer("ema_sum", codebook.clone())  # ... at its initial value
        else:
            self.codebook = nn.Parameter(codebook)
        self.register_buffer("unused_steps", torch.zeros(size, dtype=torch.long))

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """(N,) int64: the index of the nearest code (Euclidean) of each row of z (N, D)."""
        return torch.cdist(z.detach(), self.codebook.detach()).argmin(-1)

    def forward(self, z_e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z_e (N, D) -> (codes (N,) int64, z_q (N, D)); z_q carries the codebook's gradient."""
        if self.training and self.restart_after > 0:
            self.restart_dead(z_e)  # first, so that a revived code can be chosen at once
        codes = self.nearest(z_e)
        z_q = F.embedding(codes, self.codebook)  # a copy: later in-place updates leave it alone
        if self.training:
            self.count_usage(codes)
            if self.ema:
                self.ema_update(z_e, codes)
        return codes, z_q

    @torch.no_grad()
    def count_usage(self, codes: torch.Tensor) -> None:
        used = sum_over_ranks(torch.bincount(codes, minlength=len(self.unused_steps))) > 0  # on any rank
        self.unused_steps.add_(1).masked_fill_(used, 0)

    @torch.no_grad()
    def restart_dead(self, z_e: torch.Tensor) -> None:
        """Reset every code unused for ``restart_after`` batches to a random row of z_e (N, D).

        Written without a data-dependent branch (no host-device sync): K candidate rows are drawn
        every call, from the global torch generator, and only the dead codes take theirs."""
        dead = (self.unused_steps >= self.restart_after).unsqueeze(1)  # (K, 1)
        candidates = z_e.detach()[torch.randint(len(z_e), (len(self.codebook),), device=z_e.device)]  # (K, D)
        candidates = broadcast_from_first(candidates)  # data-parallel: every rank takes rank 0's, so codebooks agree
        self.codebook.copy_(torch.where(dead, candidates.to(self.codebook), self.codebook))
        self.unused_steps.masked_fill_(dead.squeeze(1), 0)
        if self.ema:  # the revived code's averages start at its new value, seen once
            self.ema_sum.copy_(torch.where(dead, self.codebook, self.ema_sum))
            self.ema_count.copy_(torch.where(dead.squeeze(1), torch.ones_like(self.ema_count), self.ema_count))

    @torch.no_grad()
    def ema_update(self, z_e: torch.Tensor, codes: torch.Tensor) -> None:
        """N_k <- g N_k + (1 - g) n_k;  m_k <- g m_k + (1 - g) sum_{i: c_i = k} z_i;
        e_k = m_k / N~_k with N~_k = (N_k + eps) / (n + K eps) * n, n = sum_k N_k (Laplace smoothing)."""
        size = len(self.codebook)
        counts = torch.bincount(codes, minlength=size).to(self.ema_count)  # (K,)
        sums = torch.zeros_like(self.ema_sum).index_add_(0, codes, z_e.detach().to(self.ema_sum))  # (K, D)
        counts, sums = sum_over_ranks(counts), sum_over_ranks(sums)  # data-parallel: those of the global batch
        self.ema_count.mul_(EMA_DECAY).add_(counts, alpha=1 - EMA_DECAY)
        self.ema_sum.mul_(EMA_DECAY).add_(sums, alpha=1 - EMA_DECAY)
        n = self.ema_count.sum()
        smoothed = (self.ema_count + EMA_EPSILON) / (n + size * EMA_EPSILON) * n  # (K,)
        self.codebook.copy_(self.ema_sum / smoothed.unsqueeze(1))


# --- posterior and head ---------------------------------------------------------------------------


class QuantisedPosterior(PointMass):
    """q(z|x) of a VQ-VAE: all mass on the quantised grid, flattened to z (B, P * D).

    ``value`` equals z_q exactly in the forward pass, and its gradient goes to z_e (straight
    through). Also holds z_e and z_q (B, P, D) and the codes (B, P) int64, which the VQ loss needs.
    """

    def __init__(self, z_e: torch.Tensor, z_q: torch.Tensor, codes: torch.Tensor):
        self.z_e, self.z_q, self.codes = z_e, z_q, codes
        super().__init__((z_q.detach() + (z_e - z_e.detach())).flatten(1))  # z_e - z_e is exactly 0

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """0 nats where value is the posterior's grid (probability 1), -inf elsewhere; (*lead, B)."""
        return torch.where((value == self.value).all(-1), 0.0, -math.inf).to(self.value)


class VQHead(nn.Module):
    """Encoder features (B, F) -> ``project`` -> z_e (B, P, D) -> quantiser -> ``QuantisedPosterior``."""

    def __init__(self, project: nn.Module, quantiser: VectorQuantiser):
        super().__init__()
        self.project, self.quantiser = project, quantiser

    def forward(self, h: torch.Tensor) -> QuantisedPosterior:
        z_e = self.project(h)  # (B, P, D)
        codes, z_q = self.quantiser(z_e.reshape(-1, z_e.shape[-1]))  # (B * P,), (B * P, D)
        return QuantisedPosterior(z_e, z_q.view(z_e.shape), codes.view(z_e.shape[:-1]))


# --- code layouts: how a trunk's features become a grid of code vectors ---------------------------

# trunk name -> (config, data_shape, params) -> (encoder, projection, decoder, positions); a trunk
# without an entry gets ``flat_layout``.
LAYOUTS: Registry = Registry("code layout")


class FlatCodes(nn.Module):
    """Features (B, F) -> P code vectors (B, P, D) by one linear map."""

    def __init__(self, features: int, positions: int, dim: int):
        super().__init__()
        self.linear, self.grid = nn.Linear(features, positions * dim), (positions, dim)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h).view(-1, *self.grid)


def flat_layout(config, data_shape, params):
    """Any trunk: ``code_positions`` vectors from the features; the decoder trunk takes (P * D,) as its z."""
    positions = config.code_positions
    wide = dataclasses.replace(config, latent_dim=positions * config.latent_dim)
    encoder, decoder = TRUNKS.get(config.trunk)(data_shape, wide, params)
    return encoder, FlatCodes(encoder.out_features, positions, config.latent_dim), decoder, positions


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
        self.size = map_shape[1:]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        grid = z.view(-1, *self.grid).transpose(1, 2)  # (N, D, h * w)
        return self.conv(grid.reshape(-1, self.grid[1], *self.size)).flatten(1)


@LAYOUTS.register("conv")
def conv_layout(config, data_shape, params):
    """A code vector at each position of the deepest feature map; the conv decoder's first layer
    (its ``project``, which maps z to that map) becomes the matching 1x1 convolution."""
    encoder, decoder = TRUNKS.get("conv")(data_shape, config, params)
    map_shape = decoder.start_shape  # (C, h, w) of the deepest map, shared by encoder and decoder
    decoder.project = CodesToMap(map_shape, config.latent_dim)
    return encoder, MapToCodes(map_shape, config.latent_dim), decoder, map_shape[1] * map_shape[2]


# --- model ----------------------------------------------------------------------------------------


class VQVAE(LatentVariableModel):
    """A ``LatentVariableModel`` with a VQ head, no prior until one is fitted (``fit_code_prior``),
    and the codebook statistics as its epoch statistics. z: (B, positions * latent_dim)."""

    def __init__(self, encoder, head: VQHead, decoder, likelihood, data_shape, positions: int, config):
        super().__init__(encoder, head, decoder, likelihood, None, data_shape, "vq")
        self.positions, self.commitment = positions, config.commitment
        self.prior_size = (config.code_prior_hidden, config.code_prior_layers)

    @property
    def quantiser(self) -> VectorQuantiser:
        return self.head.quantiser

    def check_objective(self, name: str) -> None:
        """A VQ-VAE trains with objective 'vq' only: its codebook learns from no other loss."""
        if name != "vq":
            raise UserError(f"model 'vqvae' trains with objective 'vq' (its codebook learns from the VQ loss only), not {name!r}")

    def prior_distribution(self):
        if self.prior is None:
            raise UserError(
                "this VQ-VAE has no code prior yet (its codes are uniform, so there is nothing to sample or weigh); "
                "fit one with 'vaekit fit-code-prior RUN_DIR --epochs N'"
            )
        return self.prior()

    @torch.no_grad()
    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """(B, P) int64: the code grid of x (B, *data_shape), raster order; no state changes."""
        with eval_mode(self):
            return self.encode(x).codes

    def epoch_statistics(self, data) -> dict[str, float]:
        """Codebook usage (share of codes chosen at least once) and perplexity over ``data``."""
        counts = code_counts(self, data)
        return {"codebook_usage": float((counts > 0).double().mean()), "codebook_perplexity": perplexity(counts)}

    def new_prior(self) -> CodePrior:
        hidden, layers = self.prior_size
        return CodePrior(self.quantiser.codebook, self.positions, hidden, layers).to(self.quantiser.codebook.device)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Weights with a fitted code prior ('prior.*') give the model one to hold them (a model is
        built without); weights without drop any prior this model had."""
        fitted = any(key.startswith("prior.") for key in state_dict)
        if fitted and self.prior is None:
            self.prior = self.new_prior()
        elif not fitted:
            self.prior = None
        return super().load_state_dict(state_dict, strict, assign)


def check_config(config) -> None:
    sizes = {"codebook_size": config.codebook_size, "code_positions": config.code_positions,
             "code_prior_hidden": config.code_prior_hidden, "code_prior_layers": config.code_prior_layers}
    for key, value in sizes.items():
        if value < 1:
            raise UserError(f"model.{key} must be at least 1, got {value}")
    if config.commitment < 0 or config.codebook_restart < 0:
        raise UserError("model.commitment and model.codebook_restart must be >= 0")


@MODELS.register("vqvae")
def build_vqvae(config, data_shape) -> VQVAE:
    """VQ-VAE: a grid of ``latent_dim``-wide codes from ``codebook_size`` vectors; objective 'vq'."""
    check_config(config)
    likelihood = build_likelihood(config, data_shape)
    layout = LAYOUTS.get(config.trunk) if config.trunk in LAYOUTS else flat_layout
    encoder, project, decoder, positions = layout(config, tuple(data_shape), likelihood.params)
    quantiser = VectorQuantiser(config.codebook_size, config.latent_dim, config.codebook_ema, config.codebook_restart)
    return VQVAE(encoder, VQHead(project, quantiser), decoder, likelihood, data_shape, positions, config)


# --- statistics -----------------------------------------------------------------------------------


@torch.no_grad()
def code_counts(model: VQVAE, data, batch_size: int = 1024) -> torch.Tensor:
    """(K,) int64 CPU: how often each code is chosen over every position of every example of ``data``."""
    parameter = next(model.parameters())
    counts = torch.zeros(model.quantiser.codebook.shape[0], dtype=torch.long, device=parameter.device)
    for x in batches(data, batch_size, parameter):
        counts += torch.bincount(model.codes(x).flatten(), minlength=len(counts))
    return counts.cpu()


def perplexity(counts: torch.Tensor) -> float:
    """exp of the entropy (nats) of the code histogram ``counts`` (K,): from 1 (one code) to K (uniform)."""
    p = counts.double() / counts.sum()
    return math.exp(float(-torch.special.xlogy(p, p).sum()))
