"""Out-of-distribution detection: scores registered by name (``OOD_METHODS``), higher = more anomalous,
and the detection numbers (AUROC, AUPRC, FPR at 95 % TPR, out-of-distribution as the positive class).

Importing the package fills the registry, in this order (the order of tables and figures).
"""

from . import baselines, likelihood_ratio, complexity, typicality, regret, orientation, combined  # noqa: F401
from .detection import detection_metrics, roc_points
from .registry import OOD_METHODS, OodMethod, register_method
from .scoring import DEFAULT_K, ScoredSet, Scorer

# The default column of 'vaekit score': the per-example score that did best on REPRODUCTION.md's study
# (AUROC 0.98 or more against MNIST, noise and constant images; 0.89 on upside-down images) at the cost
# of one log p(x) and one PNG per example (the combination with the likelihood ratio, 0.91 there, needs
# a background model trained first).
DEFAULT_SCORE = "input_complexity"

__all__ = ["DEFAULT_K", "DEFAULT_SCORE", "OOD_METHODS", "OodMethod", "ScoredSet", "Scorer", "detection_metrics", "register_method",
           "roc_points"]
