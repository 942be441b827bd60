"""The sample every disentanglement metric of the suite is computed from, drawn and encoded once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data.array import ArrayData


@dataclass
class FactorSample:
    """What a registered disentanglement metric's ``compute(sample) -> dict`` may read.

    codes, codes_test: (N, D), (M, D) float64 representations of the training and test draws;
    factors, factors_test: (N, K), (M, K) int64 factor codes; information: (D, K) nats, the mutual
    information of the codes (20 histogram bins) with each factor; represent: the ``Representation``
    (encodes further rows, for the metrics that draw their own batches); data: the factor data;
    settings: the suite's ``DEFAULTS`` or ``FAST``; seed and n_jobs as given to the suite.
    """

    codes: np.ndarray
    factors: np.ndarray
    codes_test: np.ndarray
    factors_test: np.ndarray
    information: np.ndarray
    represent: object  # vaekit.evaluation.disentanglement.sampled.Representation
    data: ArrayData
    settings: dict
    seed: int = 0
    n_jobs: int = 1

    @property
    def dims(self) -> int:
        """D, the width of the codes."""
        return self.codes.shape[1]
