"""Disentanglement metrics, public face: pass any representation, ours or not.

Plain functions on arrays, codes (N, D) float (for a VAE the posterior mean) and factors (N, K)
integer codes: ``mig``, ``sap``, ``dci``, ``modularity``, ``explicitness``,
``gaussian_total_correlation``, ``mutual_information_matrix``. The two that sample from the data,
``beta_vae_score`` and ``factor_vae_score``, take a model (or an encode function) and an
``ArrayData`` with factors (``vaekit.data.load_data('dsprites', None).train``);
``disentanglement_metrics`` runs them all. ``mig_chen`` (a model and such data) is Chen et al.'s own MIG
estimator, from samples of q(z|x) over the whole data set; ``mig_chen_of_posteriors`` takes the posteriors. Definitions and defaults follow disentanglement_lib, so
numbers compare with the literature; each function's docstring states its defaults. This module is
the one public path: ``vaekit.evaluation.disentanglement`` holds the implementation and exports nothing.

>>> import numpy as np
>>> from vaekit.disentanglement import mig
>>> factors = np.random.default_rng(0).integers(0, 5, size=(1000, 2))
>>> round(mig(factors + 0.0, factors), 2)
1.0
"""

from .evaluation.disentanglement.chen import mig_chen, mig_chen_of_posteriors
from .evaluation.disentanglement.information import (
    gaussian_total_correlation,
    mig,
    modularity,
    mutual_information_matrix,
)
from .evaluation.disentanglement.predictive import dci, explicitness, sap
from .evaluation.disentanglement.sampled import Representation, beta_vae_score, factor_vae_score
from .evaluation.disentanglement.suite import DEFAULTS, FAST, disentanglement_metrics

__all__ = ["DEFAULTS", "FAST", "Representation", "beta_vae_score", "dci", "disentanglement_metrics", "explicitness",
           "factor_vae_score", "gaussian_total_correlation", "mig", "mig_chen", "mig_chen_of_posteriors", "modularity", "mutual_information_matrix", "sap"]
