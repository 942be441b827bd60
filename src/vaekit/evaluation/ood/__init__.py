"""Out-of-distribution detection: scores registered by name (``OOD_METHODS``), higher = more anomalous,
and the detection numbers (AUROC, AUPRC, FPR at 95 % TPR, out-of-distribution as the positive class).

Importing the package fills the registry, in this order (the order of tables and figures).
"""

from . import baselines, likelihood_ratio, complexity, typicality, regret, orientation, combined  # noqa: F401
from .detection import detection_metrics, roc_points
from .registry import OOD_METHODS, OodMethod, register_method
from .scoring import DEFAULT_K, ScoredSet, Scorer

# The default column of 'vaekit score', the first of these the model supports: Fisher's combination of
# input complexity, the orientation score and likelihood regret (the one per-example score at AUROC 0.98 or
# more on every set of REPRODUCTION.md's study, upside-down images included, on vaekit's model and on the
# papers'), input complexity for a VAE of data that are not images, the reconstruction error for an
# autoencoder.
DEFAULT_SCORES = ("combined", "input_complexity", "reconstruction")

__all__ = ["DEFAULT_K", "DEFAULT_SCORES", "OOD_METHODS", "OodMethod", "ScoredSet", "Scorer", "detection_metrics", "register_method",
           "roc_points"]
