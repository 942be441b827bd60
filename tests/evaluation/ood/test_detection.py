"""AUROC, AUPRC and FPR at 95 % TPR against brute-force definitions on constructed scores."""

import numpy as np
import pytest

from vaekit.evaluation.ood import detection_metrics


def brute_auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    """P(score_out > score_in) + P(tie) / 2 over every pair (the Mann-Whitney form)."""
    difference = outside[:, None] - inside[None, :]
    return float((difference > 0).mean() + 0.5 * (difference == 0).mean())


def brute_fpr(inside: np.ndarray, outside: np.ndarray) -> float:
    """The smallest share of in-distribution scores >= t over thresholds t that flag >= 95 % of the outliers."""
    return min(float((inside >= t).mean()) for t in np.concatenate([inside, outside]) if (outside >= t).mean() >= 0.95)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_agree_with_their_definitions(seed):
    rng = np.random.default_rng(seed)
    inside, outside = rng.normal(0, 1, 200).round(1), rng.normal(1, 1, 150).round(1)  # rounded: ties happen
    numbers = detection_metrics(inside, outside)
    assert numbers["auroc"] == pytest.approx(brute_auroc(inside, outside), abs=1e-12)
    assert numbers["fpr_at_95_tpr"] == pytest.approx(brute_fpr(inside, outside), abs=1e-12)
    assert 150 / 350 < numbers["auprc"] <= 1  # better than the positives' share when the outliers score higher


def test_separated_reversed_and_identical_scores():
    low, high = np.arange(10.0), np.arange(10.0) + 100
    assert detection_metrics(low, high) == pytest.approx({"auroc": 1.0, "auprc": 1.0, "fpr_at_95_tpr": 0.0})
    reversed_ = detection_metrics(high, low)
    assert reversed_["auroc"] == 0.0 and reversed_["fpr_at_95_tpr"] == 1.0
    assert detection_metrics(np.ones(5), np.ones(7))["auroc"] == 0.5
