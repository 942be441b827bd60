"""Disentanglement metrics, as plain functions on arrays and on a model with factor data.

``information``: MIG, modularity, the mutual-information matrix, the Gaussian total correlation.
``predictive``: SAP, DCI, explicitness (classifiers fitted on one set, scored on another).
``sampled``: the BetaVAE and FactorVAE scores, which draw batches sharing a factor's value.
``suite``: all of them for one model, with settings, sample counts and times (``vaekit disentangle``).
Definitions and defaults follow disentanglement_lib; ``vaekit.disentanglement`` is the public face.
"""

from .information import gaussian_total_correlation, mig, modularity, mutual_information_matrix
from .predictive import dci, explicitness, sap
from .sampled import Representation, beta_vae_score, factor_vae_score
from .suite import DEFAULTS, FAST, disentanglement_metrics

__all__ = ["DEFAULTS", "FAST", "Representation", "beta_vae_score", "dci", "disentanglement_metrics", "explicitness",
           "factor_vae_score", "gaussian_total_correlation", "mig", "modularity", "mutual_information_matrix", "sap"]
