"""A combination of scores by Fisher's method: each component turned into a tail probability against the
same component on in-distribution training examples, and the tails' logarithms summed,

    C(x) = sum_m -log p_m(x),   p_m(x) = (1 + #{calibration examples c: s_m(c) >= s_m(x)}) / (1 + n),

n = ``CALIBRATION`` training examples (Fisher, 1925; the empirical p-value with the +1 of a conformal
test, so p is never 0 and C never infinite). Each component speaks in the same unit, how unusual x is
among training data by that component, whatever its own scale or tail; no out-of-distribution data
weighs anything, and no weight was tuned.

The components: input complexity (Serrà et al., 2020), which finds inputs foreign in content (other
data sets, noise, constant images); the orientation score, which finds inputs turned or flipped, where
input complexity is weakest; and likelihood regret (Xiao et al., 2020), which finds foreign content
where the compressor's correction is weak (on the papers' own model input complexity gives 0.93 against
MNIST, likelihood regret 0.98). On REPRODUCTION.md's study ("Out-of-distribution detection") the three
hold AUROC 0.98 or more on every set, on vaekit's model and on the papers', where no one of them does
and no pair does on both; the sum of the three standardised scores fell to 0.979 against MNIST on
vaekit's model, their maximum to 0.971.
"""

from __future__ import annotations

import numpy as np

from .registry import OOD_METHODS, OodMethod, register_method
from .scoring import ScoredSet, Scorer

COMPONENTS = ("input_complexity", "orientation", "likelihood_regret")
CALIBRATION = 500  # training examples against which each component's tail probability is counted


def calibration_set(scorer: Scorer) -> ScoredSet:
    reference = scorer.reference_set()
    size = scorer.option("combined_calibration", CALIBRATION)
    return reference if len(reference) <= size else ScoredSet("calibration", reference.x[:size])


def calibration_scores(scorer: Scorer, name: str) -> np.ndarray:
    """Component ``name`` on the calibration examples, sorted (n,)."""
    return np.sort(OOD_METHODS.get(name).scores(scorer, scorer.once("calibration", lambda: calibration_set(scorer))))


def tail_log_probability(scorer: Scorer, name: str, scored: ScoredSet) -> np.ndarray:
    """-log p_m(x) (N,) for component ``name``, its calibration scores computed once per scorer."""
    reference = scorer.once(f"calibration/{name}", lambda: calibration_scores(scorer, name))
    at_least = len(reference) - np.searchsorted(reference, OOD_METHODS.get(name).scores(scorer, scored), side="left")
    return -np.log((1 + at_least) / (1 + len(reference)))


def combined(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """C(x) (N,), nats of surprise: Fisher's sum of the components' -log tail probabilities."""
    return np.sum([tail_log_probability(scorer, name, scored) for name in COMPONENTS], axis=0)


register_method(OodMethod("combined", f"Fisher's sum of -log tail probabilities of {', '.join(COMPONENTS)}",
                          combined, needs="image_px", reference="Fisher 1925; REPRODUCTION.md", requires=COMPONENTS))
