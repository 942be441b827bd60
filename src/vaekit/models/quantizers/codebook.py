"""One codebook of K vectors (K, d) and nearest-code quantization against it, with the remedies for
dead codes: moving-average (EMA) updates, restarts of unused codes, k-means initialisation and
cosine similarity. The ``nearest`` and ``residual`` quantizers are built from it.

In training mode each call also updates the state kept in buffers (saved in checkpoints):
``unused_steps`` (K,), training batches since each code was last chosen; with ``ema`` the moving
averages ``ema_count`` (K,) and ``ema_sum`` (K, d), from which the codebook (then a buffer, not a
parameter) is recomputed; with k-means initialisation ``initialised`` (a flag). Evaluation mode
changes nothing.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ...nn.collective import broadcast_from_first, sum_over_ranks
from .base import RESTART

EMA_DECAY = 0.99  # van den Oord et al. (2017), appendix
EMA_EPSILON = 1e-5  # Laplace smoothing of the EMA code counts, so no count divides by zero
KMEANS_ITERATIONS = 10  # Lloyd steps after the k-means++ seeding


class Codebook(nn.Module):
    """Nearest-code quantization of vectors (N, d) against a codebook (K, d).

    ema: the codebook by moving averages of its assigned inputs (decay 0.99, Laplace smoothing).
    restart_after: training batches a code may go unused before it is reset to an input of the
        current batch (0: never); the restarted code's moving averages restart there too.
    init: 'uniform' (codes uniform in +-1/K) or 'kmeans' (k-means on the first training batch).
    cosine: codes and inputs compared as unit vectors; the chosen code is the unit-norm one.
    """

    def __init__(self, size: int, dim: int, ema: bool = False, restart_after: int = RESTART, init: str = "uniform",
                 cosine: bool = False):
        super().__init__()
        self.ema, self.restart_after, self.cosine, self.kmeans = ema, restart_after, cosine, init == "kmeans"
        codebook = torch.empty(size, dim).uniform_(-1 / size, 1 / size)
        if ema:
            self.register_buffer("codebook", codebook)
            self.register_buffer("ema_count", torch.ones(size))  # as if each code had been seen once
            self.register_buffer("ema_sum", codebook.clone())  # ... at its initial value
        else:
            self.codebook = nn.Parameter(codebook)
        self.register_buffer("unused_steps", torch.zeros(size, dtype=torch.long))
        if self.kmeans:
            self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))
            self.seen_initialised = False  # a Python copy of the flag, so that no step reads the device

    def vectors(self) -> torch.Tensor:
        """(K, d): the codes as chosen, unit-norm with ``cosine``; carries the codebook's gradient."""
        return F.normalize(self.codebook, dim=-1) if self.cosine else self.codebook

    def prepare(self, z: torch.Tensor) -> torch.Tensor:
        """The input as it is compared with the codes: z (N, d), normalised with ``cosine``."""
        return F.normalize(z, dim=-1) if self.cosine else z

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """(N,) int64: the index of the nearest code (Euclidean; for unit vectors, cosine) of each row of z."""
        return torch.cdist(z.detach(), self.vectors().detach()).argmin(-1)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z (N, d), prepared -> (codes (N,) int64, z_q (N, d)); z_q carries the codebook's gradient."""
        if self.training:
            if self.kmeans and not self.seen_initialised:
                self.initialise(z)
            if self.restart_after > 0:
                self.restart_dead(z)  # first, so that a revived code can be chosen at once
        codes = self.nearest(z)
        z_q = F.embedding(codes, self.vectors())  # a copy: later in-place updates leave it alone
        if self.training:
            self.count_usage(codes)
            if self.ema:
                self.ema_update(z, codes)
        return codes, z_q

    @torch.no_grad()
    def initialise(self, z: torch.Tensor) -> None:
        """k-means of the first training batch's inputs z (N, d) as the codebook (once; the flag is saved)."""
        if not bool(self.initialised):
            self.set_codes(torch.ones(len(self.codebook), dtype=torch.bool, device=z.device), broadcast_from_first(kmeans(z.detach(), len(self.codebook))))
            self.initialised.fill_(True)
        self.seen_initialised = True

    @torch.no_grad()
    def set_codes(self, which: torch.Tensor, values: torch.Tensor) -> None:
        """Codes ``which`` (K,) bool take ``values`` (K, d); with ``ema`` their averages restart there, seen once."""
        mask = which.unsqueeze(1)  # (K, 1)
        self.codebook.copy_(torch.where(mask, values.to(self.codebook), self.codebook))
        if self.ema:
            self.ema_sum.copy_(torch.where(mask, self.codebook, self.ema_sum))
            self.ema_count.copy_(torch.where(which, torch.ones_like(self.ema_count), self.ema_count))

    @torch.no_grad()
    def count_usage(self, codes: torch.Tensor) -> None:
        used = torch.zeros_like(self.unused_steps).index_fill_(0, codes, 1)
        used = sum_over_ranks(used) > 0  # chosen on any rank (data-parallel)
        self.unused_steps.add_(1).masked_fill_(used, 0)

    @torch.no_grad()
    def restart_dead(self, z: torch.Tensor) -> None:
        """Reset every code unused for ``restart_after`` batches to a random row of z (N, d).

        Written without a data-dependent branch (no host-device sync): K candidate rows are drawn
        every call, from the global torch generator, and only the dead codes take theirs."""
        dead = self.unused_steps >= self.restart_after  # (K,)
        candidates = z.detach()[torch.randint(len(z), (len(self.codebook),), device=z.device)]  # (K, d)
        self.set_codes(dead, broadcast_from_first(candidates))  # data-parallel: every rank takes rank 0's
        self.unused_steps.masked_fill_(dead, 0)

    @torch.no_grad()
    def ema_update(self, z: torch.Tensor, codes: torch.Tensor) -> None:
        """N_k <- g N_k + (1 - g) n_k;  m_k <- g m_k + (1 - g) sum_{i: c_i = k} z_i;
        e_k = m_k / N~_k with N~_k = (N_k + eps) / (n + K eps) * n, n = sum_k N_k (Laplace smoothing)."""
        size = len(self.codebook)
        counts = torch.bincount(codes, minlength=size).to(self.ema_count)  # (K,)
        sums = torch.zeros_like(self.ema_sum).index_add_(0, codes, z.detach().to(self.ema_sum))  # (K, d)
        counts, sums = sum_over_ranks(counts), sum_over_ranks(sums)  # data-parallel: those of the global batch
        self.ema_count.mul_(EMA_DECAY).add_(counts, alpha=1 - EMA_DECAY)
        self.ema_sum.mul_(EMA_DECAY).add_(sums, alpha=1 - EMA_DECAY)
        n = self.ema_count.sum()
        smoothed = (self.ema_count + EMA_EPSILON) / (n + size * EMA_EPSILON) * n  # (K,)
        self.codebook.copy_(self.ema_sum / smoothed.unsqueeze(1))


def kmeans(z: torch.Tensor, k: int, iterations: int = KMEANS_ITERATIONS) -> torch.Tensor:
    """(k, d) centres of the rows of z (N, d): k-means++ seeding (Arthur and Vassilvitskii, 2007), then
    Lloyd steps; a centre left without rows keeps its place. Draws from the global torch generator
    (seeded by the trainer). With N < k rows, the seeding repeats rows."""
    centres = z[torch.randint(len(z), (1,), device=z.device)]  # (1, d)
    nearest = torch.cdist(z, centres).squeeze(1).pow(2)  # (N,) squared distance to the nearest centre
    for _ in range(k - 1):
        weights = nearest if bool(nearest.sum() > 0) else torch.ones_like(nearest)
        new = z[torch.multinomial(weights, 1)]  # (1, d), drawn in proportion to D^2
        centres = torch.cat([centres, new])
        nearest = torch.minimum(nearest, (z - new).pow(2).sum(1))
    for _ in range(iterations):
        assign = torch.cdist(z, centres).argmin(1)  # (N,)
        sums = torch.zeros_like(centres).index_add_(0, assign, z)
        counts = torch.bincount(assign, minlength=k).unsqueeze(1).to(z)  # (k, 1)
        centres = torch.where(counts > 0, sums / counts.clamp(min=1), centres)
    return centres
