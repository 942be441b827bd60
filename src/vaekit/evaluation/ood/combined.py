"""One score that holds on every set of the study: the component scores standardised on in-distribution
training examples, and their maximum,

    C(x) = max_m (s_m(x) - mean_m) / std_m,   mean_m, std_m over ``CALIBRATION`` training examples,

so an input is as anomalous as its most anomalous component says, each measured in standard deviations
of the training data's own scores (no out-of-distribution data is used to choose or weigh anything).
Each published score fails on some pair (REPRODUCTION.md, "Out-of-distribution detection"); the
components are chosen there so that where one is blind another sees.
"""

from __future__ import annotations

import numpy as np

from .registry import OOD_METHODS, OodMethod, register_method
from .scoring import ScoredSet, Scorer

COMPONENTS = ("input_complexity", "likelihood_regret")
CALIBRATION = 500  # training examples that set each component's mean and standard deviation


def calibration_set(scorer: Scorer) -> ScoredSet:
    reference = scorer.reference_set()
    size = scorer.option("combined_calibration", CALIBRATION)
    return reference if len(reference) <= size else ScoredSet("calibration", reference.x[:size])


def statistics(scorer: Scorer, name: str) -> tuple[float, float]:
    """(mean, std) of component ``name`` on the calibration examples."""
    values = OOD_METHODS.get(name).scores(scorer, scorer.once("calibration", lambda: calibration_set(scorer)))
    return float(values.mean()), float(values.std()) or 1.0


def standardised(scorer: Scorer, name: str, scored: ScoredSet) -> np.ndarray:
    """(s_m(x) - mean_m) / std_m for component ``name``, its statistics computed once per scorer."""
    mean, std = scorer.once(f"statistics/{name}", lambda: statistics(scorer, name))
    return (OOD_METHODS.get(name).scores(scorer, scored) - mean) / std


def combined(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """C(x) (N,), in training standard deviations: the largest standardised component."""
    return np.max([standardised(scorer, name, scored) for name in COMPONENTS], axis=0)


register_method(OodMethod("combined", f"max standardised ({', '.join(COMPONENTS)})", combined, needs="posterior",
                          reference="this library: REPRODUCTION.md"))
