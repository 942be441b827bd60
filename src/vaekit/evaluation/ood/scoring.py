"""What every out-of-distribution method reads: the model, its settings, and per-set caches of terms.

A ``ScoredSet`` is one data set to score (inputs x (N, *shape) as the model takes them); the per-example
terms several methods share (log p(x), the ELBO, log p(x|z)) are computed once per set and kept in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ...data.array import ArrayData
from ...errors import UserError
from ..likelihood import per_example_terms

DEFAULT_K = 100  # importance samples per example for log p(x) (the papers use 1,000: see REPRODUCTION.md)


@dataclass
class ScoredSet:
    """One set to score: its name, the inputs x (N, *shape) (the model's units and device) and a cache."""

    name: str
    x: torch.Tensor
    cache: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.x)

    def as_data(self) -> ArrayData:
        return ArrayData(self.x, None, self.name)


@dataclass
class Scorer:
    """The model and the settings every method reads.

    k: importance samples for log p(x); seed: of every draw; background: () -> the background model
    of the likelihood ratio (built on first use); reference: () -> a ScoredSet of training inputs
    (the typicality test's entropy estimate; built on first use); options: per-method settings
    ('typicality_batch', 'regret_steps', 'regret_lr', 'mutation_rate', ...), defaults in the methods."""

    model: torch.nn.Module
    k: int = DEFAULT_K
    seed: int = 0
    background: Callable[[], torch.nn.Module] | None = None
    reference: Callable[[], ScoredSet] | None = None
    options: dict = field(default_factory=dict)
    _made: dict = field(default_factory=dict)

    def terms(self, scored: ScoredSet, model=None, key: str = "model") -> dict[str, np.ndarray]:
        """name -> (N,) float64 nats: the model's objective terms (elbo, log_px_z, kl; an autoencoder
        log_px_z) and, with a prior, log_px (k importance samples); computed once per (set, model)."""
        model = self.model if model is None else model
        if key not in scored.cache:
            k = self.k if model.prior is not None else 0
            terms = per_example_terms(model, scored.as_data(), k=k, seed=self.seed)
            scored.cache[key] = {name: value.numpy() for name, value in terms.items()}
        return scored.cache[key]

    def nll(self, scored: ScoredSet) -> np.ndarray:
        """-log p(x) (N,), nats."""
        return -self.terms(scored)["log_px"]

    def once(self, key: str, make: Callable):
        """``make()`` the first time ``key`` is asked for, the same value after (a background model, statistics)."""
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def background_model(self) -> torch.nn.Module:
        if self.background is None:
            raise UserError("likelihood_ratio needs a background model: pass --background RUN, or let 'vaekit ood' "
                            "train one on the run's training data")
        return self.once("background", self.background)

    def reference_set(self) -> ScoredSet:
        if self.reference is None:
            raise UserError("typicality needs the run's training data for its entropy estimate; this run has none "
                            "to read (trained on arrays, or evaluated on a whole file)")
        return self.once("reference", self.reference)

    def option(self, name: str, default):
        return self.options.get(name, default)


def bits(nats: np.ndarray) -> np.ndarray:
    return nats / math.log(2)
