"""Detection numbers from scores, out-of-distribution examples as the positive class (scikit-learn's metrics)."""

from __future__ import annotations

import numpy as np

TPR = 0.95  # the true-positive rate at which the false-positive rate is reported


def labelled(in_scores: np.ndarray, out_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(y (n_in + n_out,) with 1 for out-of-distribution, scores (same))."""
    y = np.concatenate([np.zeros(len(in_scores)), np.ones(len(out_scores))])
    return y, np.concatenate([in_scores, out_scores]).astype(np.float64)


def detection_metrics(in_scores: np.ndarray, out_scores: np.ndarray) -> dict[str, float]:
    """auroc, auprc (average precision) and fpr_at_95_tpr of the scores (higher = more anomalous).

    The FPR at 95 % TPR is the smallest false-positive rate among the ROC's thresholds whose
    true-positive rate reaches 0.95 (linear interpolation would invent operating points)."""
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve  # scikit-learn loads slowly

    y, scores = labelled(in_scores, out_scores)
    fpr, tpr, _ = roc_curve(y, scores)
    return {"auroc": float(roc_auc_score(y, scores)), "auprc": float(average_precision_score(y, scores)),
            "fpr_at_95_tpr": float(fpr[np.searchsorted(tpr, TPR - 1e-12)])}


def roc_points(in_scores: np.ndarray, out_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) of the ROC curve, for the figures."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(*labelled(in_scores, out_scores))
    return fpr, tpr
