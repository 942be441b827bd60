"""Every disentanglement metric of one representation on one factor data set, with its settings.

One draw of ``num_train`` (10,000) training and ``num_test`` (5,000) test examples serves MIG,
SAP, DCI, modularity, explicitness and the total correlation (disentanglement_lib draws each
metric's own; the definitions are unchanged), and the BetaVAE and FactorVAE scores draw their
batches; every distinct example is encoded once (``Representation``). ``fast`` uses smaller
counts (``FAST``) for a quick look; the output says which were used.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ...data.array import ArrayData
from .information import (
    NUM_BINS,
    discrete_entropy,
    discrete_mutual_information,
    gaussian_total_correlation,
    histogram_discretize,
    modularity_from_information,
)
from .predictive import SAP_C, dci, explicitness, sap
from .sampled import BATCH_SIZE, PRUNE_THRESHOLD, as_representation, beta_vae_score, factor_sampler, factor_vae_score

DEFAULTS = {
    "num_train": 10000, "num_test": 5000, "num_bins": NUM_BINS, "sap_C": SAP_C,
    "beta_vae": {"batch_size": BATCH_SIZE, "num_train": 10000, "num_eval": 5000},
    "factor_vae": {"batch_size": BATCH_SIZE, "num_train": 10000, "num_eval": 5000, "num_variance_estimate": 10000,
                   "prune_threshold": PRUNE_THRESHOLD},
}
FAST = {
    **DEFAULTS, "num_train": 2000, "num_test": 1000,
    "beta_vae": {"batch_size": BATCH_SIZE, "num_train": 1000, "num_eval": 500},
    "factor_vae": {**DEFAULTS["factor_vae"], "num_train": 1000, "num_eval": 500, "num_variance_estimate": 2000},
}
CLASSIFIERS = {
    "sap": "LinearSVC(C=0.01, class_weight='balanced') per (code dimension, factor); discrete factors",
    "dci": "GradientBoostingClassifier(random_state=seed) per factor, scikit-learn defaults (100 stages, depth 3)",
    "explicitness": "LogisticRegression(solver='liblinear') one-vs-rest per factor on standardised codes; ROC-AUC",
    "beta_vae": "LogisticRegression(solver='liblinear', random_state=seed) one-vs-rest",
    "discretisation": "20 equal-width histogram bins per code dimension (np.digitize against np.histogram edges)",
    "mutual_information": "sklearn.metrics.mutual_info_score, nats",
}


def disentanglement_metrics(encoder, data: ArrayData, seed: int = 0, fast: bool = False, n_jobs: int = 1) -> dict:
    """Every metric of ``vaekit.disentanglement`` for ``encoder`` (a model: its posterior mean; or a
    function inputs -> codes) on ``data`` (an ``ArrayData`` with factors), as one JSON-ready dict:
    the scores, the (D, K) mutual information and DCI importance matrices, the factors, the
    settings (``DEFAULTS`` or ``FAST``), the sample counts, the seed and the seconds per metric.
    ``n_jobs`` processes fit DCI's per-factor classifiers (the same numbers)."""
    settings = FAST if fast else DEFAULTS
    started = time.perf_counter()
    sampler, represent = factor_sampler(data), as_representation(encoder, data)
    rng = np.random.default_rng(seed)
    train_rows, test_rows = sampler.sample(settings["num_train"], rng), sampler.sample(settings["num_test"], rng)
    codes, codes_test = represent(train_rows), represent(test_rows)
    factors, factors_test = sampler.factors_of(train_rows), sampler.factors_of(test_rows)
    seconds = {"encode_train_test": time.perf_counter() - started}
    results: dict = {}

    def timed(name, compute):
        start = time.perf_counter()
        value = compute()
        seconds[name] = time.perf_counter() - start
        return value

    information = timed("mutual_information", lambda: discrete_mutual_information(
        histogram_discretize(codes, settings["num_bins"]), factors))  # (D, K)
    top = np.sort(information, axis=0)[::-1]
    results["mig"] = float(np.mean((top[0] - top[1]) / discrete_entropy(factors))) if len(top) > 1 else 0.0
    results["modularity"] = modularity_from_information(information) if factors.shape[1] > 1 else 0.0
    results["gaussian_total_correlation_nats"] = timed("total_correlation", lambda: gaussian_total_correlation(codes))
    if codes.shape[1] > 1:
        results["sap"] = timed("sap", lambda: sap(codes, factors, codes_test, factors_test))
    dci_scores = timed("dci", lambda: dci(codes, factors, codes_test, factors_test, seed, n_jobs))
    results.update({f"dci_{key}": value for key, value in dci_scores.items() if key != "importance"})
    scores = timed("explicitness", lambda: explicitness(codes, factors, codes_test, factors_test, seed))
    results.update({"explicitness_train": scores["train"], "explicitness_test": scores["test"]})
    beta = timed("beta_vae", lambda: beta_vae_score(represent, data, seed, **settings["beta_vae"]))
    results.update({"beta_vae_score": beta["eval_accuracy"], "beta_vae_train_accuracy": beta["train_accuracy"]})
    factor = timed("factor_vae", lambda: factor_vae_score(represent, data, seed, **settings["factor_vae"]))
    results.update({"factor_vae_score": factor["eval_accuracy"], "factor_vae_train_accuracy": factor["train_accuracy"],
                    "factor_vae_active_dims": factor["num_active_dims"]})
    seconds["total"] = time.perf_counter() - started
    representation = "posterior mean" if isinstance(encoder, torch.nn.Module) else "codes of the given encoder"
    return {**results, "mutual_information_nats": information.tolist(), "dci_importance": dci_scores["importance"],
            **data.factor_info.describe(), "representation": representation, "seed": seed, "fast": fast, "settings": settings, "classifiers": CLASSIFIERS,
            "samples": {"encoded_examples": represent.encoded, "data_examples": len(data), "data": data.name},
            "seconds": seconds}
