"""The typicality test (Nalisnick et al., 2019, "Detecting out-of-distribution inputs to deep generative
models using typicality"): in-distribution data lie in the model's typical set, where the average
negative log-likelihood is close to the model's entropy, not necessarily where the density is highest.
For a batch of M inputs,

    T(x_1..x_M) = | -(1/M) sum_m log p(x_m) - H |,     H ~ -(1/N) sum_n log p(x_n), x_n from the training data,

and the batch is flagged when T exceeds a threshold (the paper sets it by bootstrap on held-out data;
AUROC sweeps every threshold). ``typicality`` tests batches of M = 10 inputs (the option
'typicality_batch'); ``typicality_example`` is the per-example form, M = 1.
"""

from __future__ import annotations

import numpy as np

from ...errors import UserError
from .registry import OodMethod, register_method
from .scoring import ScoredSet, Scorer

BATCH = 10  # inputs per batch of the batch test
MIN_BATCHES = 2  # batches per set, at least: an AUROC needs several scores on each side


def entropy_estimate(log_px: np.ndarray) -> float:
    """H ~ -(1/N) sum log p(x_n), nats: the Monte Carlo estimate of the model's entropy from its own
    (training) data; exact in expectation when the data follow the model."""
    return float(-np.mean(log_px))


def typicality_scores(nll: np.ndarray, entropy: float, batch: int, seed: int = 0) -> np.ndarray:
    """(N // batch,): |mean NLL of a batch - entropy| for the batches of a seeded shuffle of the N scores
    (examples left over after the last full batch are not used)."""
    if batch < 1:
        raise UserError(f"typicality batch size must be at least 1, got {batch}")
    batches = len(nll) // batch
    if batches < MIN_BATCHES:
        raise UserError(f"the typicality test takes batches of {batch} examples and needs at least {MIN_BATCHES} "
                        f"batches per set; a set of {len(nll)} examples has {batches}: give more examples")
    order = np.random.default_rng(seed).permutation(len(nll))[: batches * batch]
    return np.abs(nll[order].reshape(batches, batch).mean(1) - entropy)


def reference_entropy(scorer: Scorer) -> float:
    return entropy_estimate(-scorer.nll(scorer.reference_set()))


def typicality(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """T per batch of M examples (the option 'typicality_batch', default 10), nats."""
    return typicality_scores(scorer.nll(scored), reference_entropy(scorer), scorer.option("typicality_batch", BATCH),
                             scorer.seed)


def typicality_example(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """|-log p(x) - H| per example (M = 1), nats."""
    return np.abs(scorer.nll(scored) - reference_entropy(scorer))


register_method(OodMethod("typicality", "|mean -log p(x) over a batch - H|, nats", typicality, per_example=False,
                          reference="Nalisnick et al. 2019 (typicality)"))
register_method(OodMethod("typicality_example", "|-log p(x) - H|, nats", typicality_example,
                          reference="Nalisnick et al. 2019 (typicality), M = 1"))
