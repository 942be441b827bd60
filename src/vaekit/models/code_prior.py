"""A learned prior over the code grid of a VQ-VAE: an autoregressive model of the codes.

The grid of P code indices (h x w for the conv trunk, ``code_positions`` otherwise) is read in
raster order c_1, ..., c_P, and

    log p(c) = sum_p log p(c_p | c_<p),     each factor a softmax over the K codes,

so the distribution is normalised by construction. The conditionals come from a small GRU over
the flattened grid (a start token, then the previous codes, plus a learned position embedding so
that row boundaries of a 2-D grid are known); small enough to fit on a CPU in minutes.

As a prior p(z) of the model the code grid is mapped to vectors with a frozen copy of the
codebook taken when the prior was fitted: z = (e_{c_1}, ..., e_{c_P}) flattened to (P * D,).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution, constraints

from ..data.array import batches
from ..errors import UserError
from ..seeding import seeded


class CodePrior(nn.Module):
    """p(codes) over grids of ``positions`` codes from a codebook of ``codebook`` (K, D) vectors."""

    def __init__(self, codebook: torch.Tensor, positions: int, hidden: int = 128, layers: int = 1):
        super().__init__()
        size = codebook.shape[0]
        self.size, self.positions = size, positions
        self.register_buffer("codebook", codebook.detach().clone())  # (K, D), frozen with the encoder
        self.embed = nn.Embedding(size + 1, hidden)  # index K is the start token
        self.position = nn.Embedding(positions, hidden)
        self.rnn = nn.GRU(hidden, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, size)

    def logits(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, P) int64 -> logits (B, P, K) of p(c_p | c_<p) at every position."""
        start = torch.full_like(codes[:, :1], self.size)
        previous = torch.cat([start, codes[:, :-1]], 1)  # (B, P): shifted right, so position p sees c_<p
        h = self.embed(previous) + self.position.weight[: codes.shape[1]]  # (B, P, H)
        return self.out(self.rnn(h)[0])  # (B, P, K)

    def log_prob_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """log p(codes) (B,), nats, for codes (B, P) int64."""
        log_p = self.logits(codes).log_softmax(-1)  # (B, P, K)
        return log_p.gather(-1, codes.unsqueeze(-1)).squeeze(-1).sum(1)

    @torch.no_grad()
    def sample_codes(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, P) int64 ancestral draws; the logits are divided by ``temperature`` (0: the most likely code)."""
        token = torch.full((n,), self.size, dtype=torch.long, device=self.codebook.device)
        state, codes = None, []
        for p in range(self.positions):
            h = (self.embed(token) + self.position.weight[p]).unsqueeze(1)  # (n, 1, H)
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
        """codes (*lead, P) -> z (*lead, P * D), the code vectors flattened in position order."""
        return self.codebook[codes].flatten(-2)

    def codes_of(self, z: torch.Tensor) -> torch.Tensor:
        """z (*lead, P * D) -> codes (*lead, P): the nearest code of each position's vector (exact for
        vectors taken from the codebook; robust to the rounding of a straight-through estimator)."""
        grid = z.reshape(-1, self.codebook.shape[1])  # (N * P, D)
        return torch.cdist(grid, self.codebook).argmin(-1).view(*z.shape[:-1], self.positions)

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, P * D): code grids drawn with ``sample_codes``, as the vectors the decoder takes."""
        return self.vectors(self.sample_codes(n, temperature, generator))

    def forward(self) -> Distribution:
        return CodeGridDistribution(self)


class CodeGridDistribution(Distribution):
    """p(z) over z (P * D,): mass log p(codes) on each grid of codebook vectors (a discrete distribution)."""

    arg_constraints: dict = {}
    support = constraints.real_vector

    def __init__(self, prior: CodePrior):
        self.prior = prior
        super().__init__(torch.Size(), torch.Size([prior.positions * prior.codebook.shape[1]]), validate_args=False)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """(*lead,) nats: log p(codes of ``value``), value (*lead, P * D) lying on codebook vectors."""
        return self.prior.log_prob_codes(self.prior.codes_of(value).flatten(0, -2)).view(value.shape[:-1])

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:
        n = int(torch.Size(sample_shape).numel())
        return self.prior.sample(n).view(*sample_shape, *self.event_shape)


def fit_prior(prior: CodePrior, codes: torch.Tensor, epochs: int, batch_size: int = 128, lr: float = 1e-3) -> list[float]:
    """Fit ``prior`` to ``codes`` (N, P) int64 by maximum likelihood (Adam); returns the mean training
    negative log-likelihood of each epoch, nats per example. Shuffles with the global torch
    generator: run it inside ``vaekit.seeding.seeded``."""
    optimizer = torch.optim.Adam(prior.parameters(), lr=lr)
    prior.train()
    history = []
    for _ in range(epochs):
        total = torch.zeros((), device=codes.device)
        for index in torch.randperm(len(codes), device=codes.device).split(batch_size):
            nll = -prior.log_prob_codes(codes[index])  # (B,)
            optimizer.zero_grad(set_to_none=True)
            nll.mean().backward()
            optimizer.step()
            total += nll.detach().sum()
        history.append(float(total) / len(codes))  # one sync per epoch
    prior.eval()
    return history


@torch.no_grad()
def mean_nll(prior: CodePrior, codes: torch.Tensor, batch_size: int = 1024) -> float:
    """-log p(codes) averaged over the N grids of ``codes`` (N, P), nats per example."""
    total = sum(float(-prior.log_prob_codes(part).sum()) for part in codes.split(batch_size))
    return total / len(codes)


def fit_code_prior(model, train, test=None, epochs: int = 20, batch_size: int = 128, lr: float = 1e-3,
                   seed: int = 0) -> dict:
    """Fit a new code prior to the codes of ``train`` (``ArrayData``) under the frozen encoder of
    ``model``, a ``vaekit.models.vq.VQVAE``, and give it to the model (``model.prior``). Seeded: the
    caller's random state is untouched.

    Returns plain numbers: epochs, train_code_nll_nats (per example, after the last epoch) and,
    with ``test``, test_code_nll_nats: -log p(codes) of held-out data, nats per example.
    """
    if not hasattr(model, "new_prior"):  # vaekit.models.vq.VQVAE
        raise UserError("a code prior is fitted to a VQ-VAE (model 'vqvae')")
    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise UserError(f"fitting a code prior needs epochs >= 1, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
    parameter = next(model.parameters())
    with seeded(seed, parameter.device):
        codes = all_codes(model, train)  # (N, P)
        prior = model.new_prior()
        fit_prior(prior, codes, epochs, batch_size, lr)
    model.prior = prior
    result = {"epochs": epochs, "train_code_nll_nats": mean_nll(prior, codes)}
    if test is not None:
        result["test_code_nll_nats"] = mean_nll(prior, all_codes(model, test))
    return result


def all_codes(model, data, batch_size: int = 1024) -> torch.Tensor:
    """(N, P) int64 on the model's device: the code grid of every example of ``data``."""
    parameter = next(model.parameters())
    return torch.cat([model.codes(x) for x in batches(data, batch_size, parameter)])
