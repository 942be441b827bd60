"""Disentanglement metrics, the implementation (the public face is ``vaekit.disentanglement``; import
from there: this package's ``__init__`` re-exports nothing, its modules are internal).

``information``: MIG, modularity, the mutual-information matrix, the Gaussian total correlation.
``chen``: Chen et al.'s MIG estimator (``mig_chen``), from samples of q(z|x) over the whole data set.
``predictive``: SAP, DCI, explicitness (classifiers fitted on one set, scored on another).
``sampled``: the BetaVAE and FactorVAE scores, which draw batches sharing a factor's value.
``sample``: the shared draw every registered metric's ``compute`` reads.
``suite``: all of them for one model, with settings, sample counts and times (``vaekit disentangle``).
Each module registers its metrics in ``vaekit.evaluation.metrics.METRICS`` (section 'disentanglement').
Definitions and defaults follow disentanglement_lib. A new metric is a module here (its function and
its ``register_metric`` call) imported below.
"""

from . import information, chen, predictive, sampled, transfer  # noqa: F401  (they register their metrics, in this order)
