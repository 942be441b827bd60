"""A learned prior over the code grid of a VQ-VAE: an autoregressive model of the codes.

The grid of P code indices (h x w for the conv trunk, ``code_positions`` otherwise) is read in
raster order c_1, ..., c_L, L = P S with the S code maps of a residual quantizer read together (the
S stages of position 1, then of position 2, ...), and

    log p(c) = sum_l log p(c_l | c_<l),     each factor a softmax over the K codes,

so the distribution is normalised by construction. The conditionals come from a small GRU over
the flattened grid (a start token, then the previous codes, plus a learned position embedding so
that row boundaries of a 2-D grid and the stage of each code are known); small enough to fit on a
CPU in minutes.

As a prior p(z) of the model the code grid is mapped to vectors with a frozen copy of the code
vectors taken when the prior was fitted (``Quantizer.code_vectors``): z = (v_1, ..., v_P) flattened
to (P * D,), v_p the sum over stages of the vectors of position p's codes.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import torch
from torch import nn
from torch.distributions import Distribution, constraints

from ..config.section import Section
from ..data.array import batches
from ..errors import UserError
from ..nn.modes import eval_mode
from ..seeding import seeded
from .protocols import FitsCodePrior
from .registry import CODE_PRIORS


class CodePrior(nn.Module):
    """p(codes) over grids of ``positions`` code vectors, each made of S codes (stages) from K.

    codebook: the code vectors (K, D) of one codebook, or (S, K, D) of S stages, frozen.
    """

    def __init__(self, codebook: torch.Tensor, positions: int, hidden: int = 128, layers: int = 1):
        super().__init__()
        table = codebook if codebook.dim() == 3 else codebook.unsqueeze(0)  # (S, K, D)
        self.stages, size = table.shape[:2]
        self.size, self.positions, self.length = size, positions, positions * self.stages
        self.register_buffer("codebook", codebook.detach().clone())  # frozen with the encoder
        self.embed = nn.Embedding(size + 1, hidden)  # index K is the start token
        self.position = nn.Embedding(self.length, hidden)
        self.rnn = nn.GRU(hidden, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, size)

    @property
    def table(self) -> torch.Tensor:
        """(S, K, D): the frozen code vectors of each stage."""
        return self.codebook.view(self.stages, self.size, -1)

    def logits(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, L) int64 -> logits (B, L, K) of p(c_l | c_<l) at every place."""
        start = torch.full_like(codes[:, :1], self.size)
        previous = torch.cat([start, codes[:, :-1]], 1)  # (B, L): shifted right, so place l sees c_<l
        h = self.embed(previous) + self.position.weight[: codes.shape[1]]  # (B, L, H)
        return self.out(self.rnn(h)[0])  # (B, L, K)

    def log_prob_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """log p(codes) (B,), nats, for codes (B, L) int64."""
        log_p = self.logits(codes).log_softmax(-1)  # (B, L, K)
        return log_p.gather(-1, codes.unsqueeze(-1)).squeeze(-1).sum(1)

    @torch.no_grad()
    def sample_codes(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, L) int64 ancestral draws; the logits are divided by ``temperature`` (0: the most likely code)."""
        token = torch.full((n,), self.size, dtype=torch.long, device=self.codebook.device)
        state, codes = None, []
        for place in range(self.length):
            h = (self.embed(token) + self.position.weight[place]).unsqueeze(1)  # (n, 1, H)
            output, state = self.rnn(h, state)
            logits = self.out(output[:, 0])  # (n, K)
            if temperature == 0:
                token = logits.argmax(-1)
            else:
                probs = (logits / temperature).softmax(-1)
                token = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            codes.append(token)
        return torch.stack(codes, 1)

    def vectors(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (*lead, L) -> z (*lead, P * D): per position the sum of its stages' code vectors, flattened."""
        grid = codes.view(*codes.shape[:-1], self.positions, self.stages)  # (*lead, P, S)
        stage = torch.arange(self.stages, device=codes.device)
        return self.table[stage, grid].sum(-2).flatten(-2)

    def codes_of(self, z: torch.Tensor) -> torch.Tensor:
        """z (*lead, P * D) -> codes (*lead, L): the nearest code of each position's vector (exact for
        vectors taken from one codebook; robust to the rounding of a straight-through estimator);
        with stages, the nearest code of what the stages before left (the residual quantizer's rule)."""
        residual = z.reshape(-1, self.table.shape[-1])  # (N * P, D)
        codes = []
        for vectors in self.table:  # (K, D)
            codes.append(torch.cdist(residual, vectors).argmin(-1))
            residual = residual - vectors[codes[-1]]
        return torch.stack(codes, -1).view(*z.shape[:-1], self.length)

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, P * D): code grids drawn with ``sample_codes``, as the vectors the decoder takes."""
        return self.vectors(self.sample_codes(n, temperature, generator))

    def forward(self) -> Distribution:
        return CodeGridDistribution(self)


@CODE_PRIORS.register("gru")
def gru_code_prior(codebook: torch.Tensor, positions: int, *, hidden: int = 128, layers: int = 1,
                   epochs: int = 5) -> CodePrior:
    """The ``CodePrior`` (a GRU over the code grid) for ``codebook`` and ``positions``. Options
    (model.code_prior): ``hidden`` width, GRU ``layers``, and the ``epochs`` of fitting it when training
    ends (read by the VQ-VAE's training stages; 0: none, ``vaekit fit-code-prior`` fits one later)."""
    check_code_prior(Section(hidden=hidden, layers=layers, epochs=epochs))
    return CodePrior(codebook, positions, hidden, layers)


def check_code_prior(code_prior: Section) -> None:
    """The range checks of the code prior's options, run when the VQ-VAE is built (the prior is built
    only when training ends, after the run folder is written)."""
    for key in ("hidden", "layers"):
        if code_prior.get(key, 1) < 1:
            raise UserError(f"model.code_prior.{key} must be at least 1, got {code_prior[key]}")
    if code_prior.get("epochs", 0) < 0:
        raise UserError(f"model.code_prior.epochs must be >= 0 (0: none), got {code_prior['epochs']}")


class CodeGridDistribution(Distribution):
    """p(z) over z (P * D,): mass log p(codes) on each grid of codebook vectors (a discrete distribution)."""

    arg_constraints: dict = {}
    support = constraints.real_vector

    def __init__(self, prior: CodePrior):
        self.prior = prior
        super().__init__(torch.Size(), torch.Size([prior.positions * prior.codebook.shape[-1]]), validate_args=False)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """(*lead,) nats: log p(codes of ``value``), value (*lead, P * D) lying on codebook vectors."""
        return self.prior.log_prob_codes(self.prior.codes_of(value).flatten(0, -2)).view(value.shape[:-1])

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:
        n = int(torch.Size(sample_shape).numel())
        return self.prior.sample(n).view(*sample_shape, *self.event_shape)


def fit_prior(prior: CodePrior, codes: torch.Tensor, epochs: int, batch_size: int = 128, lr: float = 1e-3) -> list[float]:
    """Fit ``prior`` to ``codes`` (N, L) int64 by maximum likelihood (Adam); returns the mean training
    negative log-likelihood of each epoch, nats per example. Shuffles with the global torch
    generator: run it inside ``vaekit.seeding.seeded``."""
    optimizer = torch.optim.Adam(prior.parameters(), lr=lr)
    history = [prior_epoch(prior, optimizer, codes, batch_size) for _ in range(epochs)]
    prior.eval()
    return history


def prior_epoch(prior: CodePrior, optimizer, codes: torch.Tensor, batch_size: int,
                generator: torch.Generator | None = None, on_batch: Callable | None = None) -> float:
    """One pass of maximum likelihood over ``codes`` (N, L) in an order drawn from ``generator`` (None:
    the global one); returns the mean training negative log-likelihood, nats per example.
    ``on_batch(step, steps, nll)`` follows each step, nll (B,) the batch's -log p(codes), detached."""
    prior.train()
    total = torch.zeros((), device=codes.device)
    order = torch.randperm(len(codes), device=codes.device, generator=generator).split(batch_size)
    for step, index in enumerate(order):
        nll = -prior.log_prob_codes(codes[index])  # (B,)
        optimizer.zero_grad(set_to_none=True)
        nll.mean().backward()
        optimizer.step()
        total += nll.detach().sum()
        if on_batch is not None:
            on_batch(step, len(order), nll.detach())
    return float(total) / len(codes)  # one sync per epoch


@torch.no_grad()
def mean_nll(prior: CodePrior, codes: torch.Tensor, batch_size: int = 1024) -> float:
    """-log p(codes) averaged over the N grids of ``codes`` (N, L), nats per example."""
    with eval_mode(prior):
        total = sum(float(-prior.log_prob_codes(part).sum()) for part in codes.split(batch_size))
    return total / len(codes)


class PriorFitting:
    """Fitting a new code prior to the codes of ``train`` under the frozen encoder of ``model`` (a
    ``vaekit.models.vq.VQVAE``), one epoch at a time, so that a run can checkpoint and resume it.

    The prior's initialisation is seeded by ``seed``; epoch e shuffles with a generator seeded by
    (seed, e), so a resumed fit draws as an uninterrupted one. ``module`` and ``optimizer`` are the
    state to checkpoint, with ``epoch`` and ``history`` (one row per epoch: train_code_nll_nats and,
    with ``val``, val_code_nll_nats, nats per example, and seconds). ``finish`` gives the prior to
    the model and returns the numbers.
    """

    name = "code_prior"

    def __init__(self, model, train, val=None, epochs: int = 20, batch_size: int = 128, lr: float = 1e-3, seed: int = 0):
        if not isinstance(model, FitsCodePrior):  # vaekit.models.vq.VQVAE
            raise UserError("a code prior is fitted to a VQ-VAE (model 'vqvae')")
        if epochs < 1 or batch_size < 1 or not lr > 0:
            raise UserError(f"fitting a code prior needs epochs >= 1, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
        self.model, self.epochs, self.batch_size, self.seed = model, epochs, batch_size, seed
        device = next(model.parameters()).device
        self.codes = all_codes(model, train)  # (N, L)
        self.val_codes = None if val is None or len(val) == 0 else all_codes(model, val)
        with seeded(seed, device):
            self.module = model.new_prior()
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=lr)
        self.epoch, self.history = 0, []

    def run_epoch(self, on_batch: Callable | None = None) -> dict:
        """One epoch; ``on_batch`` as in ``prior_epoch``. Returns the epoch's row (also in ``history``)."""
        started = time.perf_counter()
        generator = torch.Generator(self.codes.device).manual_seed(self.seed * 100_003 + self.epoch)
        nll = prior_epoch(self.module, self.optimizer, self.codes, self.batch_size, generator, on_batch)
        row = {"stage": "code prior", "epoch": self.epoch + 1, "train_code_nll_nats": nll}
        if self.val_codes is not None:
            row["val_code_nll_nats"] = mean_nll(self.module, self.val_codes)
        row["seconds"] = time.perf_counter() - started
        self.epoch += 1
        self.history.append(row)
        return row

    def finish(self) -> dict:
        """Give the prior to the model; returns epochs, train_code_nll_nats (after the last epoch),
        uniform_code_nll_nats (L log K, the uniform prior's), with ``val`` val_code_nll_nats, and history."""
        self.module.eval()
        self.model.prior = self.module
        numbers = {"epochs": self.epoch, "train_code_nll_nats": mean_nll(self.module, self.codes),
                   "uniform_code_nll_nats": self.module.length * math.log(self.module.size)}
        if self.val_codes is not None:
            numbers["val_code_nll_nats"] = mean_nll(self.module, self.val_codes)
        return {**numbers, "history": self.history}


def fit_code_prior(model, train, val=None, epochs: int = 20, batch_size: int = 128, lr: float = 1e-3,
                   seed: int = 0) -> dict:
    """Fit a new code prior to the codes of ``train`` (``ArrayData``) under the frozen encoder of
    ``model``, a ``vaekit.models.vq.VQVAE``, and give it to the model (``model.prior``), in one go:
    ``PriorFitting``'s epochs without checkpoints (training runs the same fitting as a resumable stage).
    The caller's random state is untouched.

    Returns ``PriorFitting.finish``'s numbers: epochs, train_code_nll_nats, uniform_code_nll_nats, history
    and, with ``val``, val_code_nll_nats: -log p(codes) of the held-out data, nats per example.
    """
    fitting = PriorFitting(model, train, val, epochs, batch_size, lr, seed)
    while fitting.epoch < epochs:
        fitting.run_epoch()
    return fitting.finish()


def all_codes(model, data, batch_size: int = 1024) -> torch.Tensor:
    """(N, L) int64 on the model's device: the code grid of every example of ``data``."""
    parameter = next(model.parameters())
    return torch.cat([model.codes(x) for x in batches(data, batch_size, parameter)])
