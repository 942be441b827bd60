"""Likelihood regret (Xiao, Yan and Amit, 2020, "Likelihood regret: an out-of-distribution detection
score for variational auto-encoder"): how much the likelihood of x improves when the encoder is
re-optimised for x alone, the decoder fixed,

    LR(x) = -log p(x; phi) - (-log p(x; phi*(x))),   phi*(x) = argmax_phi ELBO(x; phi, theta),

both terms importance-sampled. An in-distribution input is already encoded about as well as the
decoder allows; an out-of-distribution one gains much. The paper's settings (its reference code,
compute_LR.py): Adam, lr 2e-4, betas (0.9, 0.999), weight decay 5e-5, 100 steps from the trained
encoder, each step on the single-sample ELBO with the closed-form KL; log p(x) from 1,000 draws.

Batched: every example gets its own copy of the re-optimised layers, held as one stacked tensor per
parameter (B, *shape); ``torch.func.vmap`` runs copy b on example b, so one Adam step serves B examples
and copy b's gradient is that of its own example's loss alone (the loss is a sum of independent terms).
Adam is elementwise, so this is the per-example loop, not an approximation of it. Which layers: by
default ('head') the posterior head's linear layer on the trunk's fixed features, which is where the
batching pays on a CPU; 'encoder' copies the whole encoder, as the paper does (the copies' parameters
and moments are memory-bound: BENCHMARKS.md section 10). REPRODUCTION.md compares the two's cost.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import torch
from torch import nn
from torch.distributions import Independent, Normal
from torch.func import functional_call, vmap

from ...errors import UserError
from ...models.heads import GaussianHead
from ...nn.modes import eval_mode
from ...objectives.terms import kl_per_example
from ...seeding import seeded
from ..likelihood import batch_seed, running_log_likelihood
from .registry import OodMethod, register_method
from .scoring import ScoredSet, Scorer

STEPS, LR, BETAS, WEIGHT_DECAY = 100, 2e-4, (0.9, 0.999), 5e-5
LAYERS = ("head", "encoder")  # which encoder parameters each example gets its own copy of
DEFAULT_LAYERS = "head"  # the whole encoder per example is memory-bound on a CPU: see BENCHMARKS.md
# Parameters held by one batch of copies (x 4 with gradients and Adam's moments): 2^22 floats, 16 MiB, so that
# the copies stay near a CPU's cache: on the study's model, batches of 61 whole-encoder copies took 5.3 s per
# example and batches of 8 took 1.1 s (two runs on the loaded machine; BENCHMARKS.md section 10 has the latter).
PARAMETER_BUDGET = 2**22


class PosteriorNet(nn.Module):
    """The model's encoder trunk and Gaussian head as one module: x (B, *shape) -> (mu, log sigma^2) stacked (B, 2D)."""

    def __init__(self, model):
        super().__init__()
        self.encoder, self.head = model.encoder, model.head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head.linear(self.encoder(x))


def adapted(model, x: torch.Tensor, layers: str) -> tuple[nn.Module, torch.Tensor]:
    """(the module whose parameters are copied per example, its inputs): the whole encoder on x, or
    (``layers`` 'head') the posterior head's linear layer on the trunk's features, computed once."""
    if layers == "encoder":
        return PosteriorNet(model), x
    if layers == "head":
        with torch.no_grad():
            return model.head.linear, model.encoder(x)
    raise UserError(f"likelihood regret layers {layers!r}: choose one of {', '.join(LAYERS)}")


def check_model(model) -> None:
    if model.prior is None or not isinstance(model.head, GaussianHead) or model.classes:
        raise UserError("likelihood_regret re-optimises a Gaussian encoder: it needs an unconditional 'vae' "
                        "(a Gaussian posterior and a prior); this model is not one")


def gaussian(stacked: torch.Tensor) -> Independent:
    """q(z|x) from (B, 2D) stacked (mu, log sigma^2)."""
    mu, log_var = stacked.chunk(2, dim=-1)
    return Independent(Normal(mu, (0.5 * log_var).exp(), validate_args=False), 1, validate_args=False)


def posterior_outputs(net: nn.Module, copies: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """(B, 2D): copy b of the encoder (``copies``: name -> (B, *shape)) applied to example b of x (B, *shape);
    for the head alone (``net`` one linear layer, copies ``head_copies``), b + h_b W_b on features x (B, F)."""
    if isinstance(net, nn.Linear):
        return torch.baddbmm(copies["bias"].unsqueeze(1), x.unsqueeze(1), copies["weight_t"]).squeeze(1)
    one = lambda params, example: functional_call(net, params, (example.unsqueeze(0),)).squeeze(0)  # noqa: E731
    return vmap(one)(copies, x)


@contextlib.contextmanager
def frozen(model: nn.Module) -> Iterator[None]:
    """The model's own parameters without gradients for the body (only the copies learn); restored after."""
    flags = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)


def encoder_copies(net: nn.Module, n: int) -> dict[str, torch.Tensor]:
    """name -> (n, *shape): n copies of each encoder parameter; the head alone (one linear layer) as
    'weight_t' (n, F, 2D), its weight transposed, and 'bias' (n, 2D). In that layout the batched
    product's weight gradient, h_b^T g_b, is written where the copies are: no transposed copy of the
    largest tensor per step (a fifth of the step's time on a CPU)."""
    if isinstance(net, nn.Linear):
        weight_t = net.weight.detach().t()  # (F, 2D); clone() would keep the transposed strides
        return {"weight_t": weight_t.expand(n, *weight_t.shape).clone(memory_format=torch.contiguous_format),
                "bias": net.bias.detach().expand(n, *net.bias.shape).clone()}
    return {name: p.detach().expand(n, *p.shape).clone() for name, p in net.named_parameters()}


def optimise_copies(model, x: torch.Tensor, eps: torch.Tensor, steps: int = STEPS, lr: float = LR,
                    weight_decay: float = WEIGHT_DECAY, layers: str = "encoder") -> dict[str, torch.Tensor]:
    """Per-example copies of the ``layers`` ('encoder': all of it, as the paper; 'head': the posterior head)
    after ``steps`` Adam steps on each example's single-sample ELBO. x (B, *shape); eps (steps, B, D): the
    standard-normal draws of the reparameterised z, one per step."""
    net, inputs = adapted(model, x, layers)
    copies = {name: value.requires_grad_(True) for name, value in encoder_copies(net, len(x)).items()}
    if steps == 0:
        return {name: value.detach() for name, value in copies.items()}
    optimizer = torch.optim.Adam(list(copies.values()), lr=lr, betas=BETAS, weight_decay=weight_decay, fused=True)
    prior = model.prior_distribution()
    with frozen(model), eval_mode(model):
        for step in range(steps):
            q = gaussian(posterior_outputs(net, copies, inputs))  # batch (B,)
            z = q.base_dist.loc + q.base_dist.scale * eps[step]  # (B, D), reparameterised
            loss = (kl_per_example(q, prior, z) - model.decode(z).log_prob(x)).sum()  # sum over independent copies
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return {name: value.detach() for name, value in copies.items()}


def nll_with(model, copies: dict[str, torch.Tensor], x: torch.Tensor, k: int, seed: int,
             layers: str = "encoder") -> torch.Tensor:
    """-log p(x) (B,) float64 with the proposal of the copies of ``layers``, k draws from ``seed``."""
    with torch.no_grad(), eval_mode(model), seeded(seed, x.device):
        net, inputs = adapted(model, x, layers)
        q = gaussian(posterior_outputs(net, copies, inputs))
        return -running_log_likelihood(model, x, k, q=q)


def regret_of_batch(model, x: torch.Tensor, eps: torch.Tensor, k: int, seed: int, steps: int, lr: float,
                    weight_decay: float, layers: str) -> torch.Tensor:
    """LR (B,) float64 nats for one batch: the same seed draws both NLLs, so steps = 0 gives exactly 0."""
    start = encoder_copies(adapted(model, x[:1], layers)[0], len(x))
    before = nll_with(model, start, x, k, seed, layers)
    after = nll_with(model, optimise_copies(model, x, eps, steps, lr, weight_decay, layers), x, k, seed, layers)
    return before - after


def default_batch(model, layers: str = "encoder") -> int:
    """Examples per batch: PARAMETER_BUDGET // (parameters copied per example), at least 1."""
    net = PosteriorNet(model) if layers == "encoder" else model.head.linear
    return max(1, PARAMETER_BUDGET // sum(p.numel() for p in net.parameters()))


def regret_scores(model, x: torch.Tensor, k: int, seed: int = 0, steps: int = STEPS, lr: float = LR,
                  weight_decay: float = WEIGHT_DECAY, batch: int | None = None, layers: str = "encoder") -> np.ndarray:
    """LR(x) (N,) float64 nats for inputs x (N, *shape), ``batch`` examples at once (default: as many
    copies as PARAMETER_BUDGET holds; 1 is the reference code's per-example loop). The step draws are one
    seeded (steps, N, D) tensor, so an example's optimisation does not depend on the batch."""
    check_model(model)
    batch = batch or default_batch(model, layers)
    latent = model.head.linear.out_features // 2
    eps = torch.randn((steps, len(x), latent), generator=torch.Generator().manual_seed(seed)).to(x.device)
    parts = [regret_of_batch(model, x[start : start + batch], eps[:, start : start + batch], k,
                             batch_seed(seed, index), steps, lr, weight_decay, layers)
             for index, start in enumerate(range(0, len(x), batch))]
    return torch.cat(parts).cpu().numpy()


def likelihood_regret(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """LR(x) (N,) nats with the scorer's k and seed; options 'regret_steps' (100), 'regret_lr' (2e-4) and
    'regret_layers' ('head', the default: a copy of the posterior head per example, the trunk's features
    fixed; 'encoder': the whole encoder, as the paper, 12 to 18 times the CPU time per example on the study's
    MLP encoder: BENCHMARKS.md section 10)."""
    return regret_scores(scorer.model, scored.x, scorer.k, scorer.seed, scorer.option("regret_steps", STEPS),
                         scorer.option("regret_lr", LR), layers=scorer.option("regret_layers", DEFAULT_LAYERS))


register_method(OodMethod("likelihood_regret", "-log p(x) - (-log p(x; encoder optimised for x)), nats",
                          likelihood_regret, needs="posterior", reference="Xiao et al. 2020"))
