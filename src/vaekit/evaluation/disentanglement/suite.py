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
from ..metrics import metrics
from .chen import NUM_SAMPLES as CHEN_SAMPLES
from .information import NUM_BINS, discrete_mutual_information, histogram_discretize
from .predictive import SAP_C
from .sample import FactorSample
from .sampled import BATCH_SIZE, PRUNE_THRESHOLD, as_representation, factor_sampler

DEFAULTS = {
    "num_train": 10000, "num_test": 5000, "num_bins": NUM_BINS, "sap_C": SAP_C,
    "beta_vae": {"batch_size": BATCH_SIZE, "num_train": 10000, "num_eval": 5000},
    "factor_vae": {"batch_size": BATCH_SIZE, "num_train": 10000, "num_eval": 5000, "num_variance_estimate": 10000,
                   "prune_threshold": PRUNE_THRESHOLD},
    "mig_chen": {"num_examples": 0, "num_samples": CHEN_SAMPLES},  # Chen et al.'s: every example (0), 10,000 codes
}
FAST = {
    **DEFAULTS, "num_train": 2000, "num_test": 1000,
    "beta_vae": {"batch_size": BATCH_SIZE, "num_train": 1000, "num_eval": 500},
    "factor_vae": {**DEFAULTS["factor_vae"], "num_train": 1000, "num_eval": 500, "num_variance_estimate": 2000},
    "mig_chen": {"num_examples": 5000, "num_samples": 1000},  # a random 5,000 examples: no longer their estimate
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
    """Every registered disentanglement metric (``vaekit.evaluation.metrics``, section
    'disentanglement'; with ``fast`` those of cost class 'fast' only) for ``encoder`` (a model: its
    posterior mean; or a function inputs -> codes) on ``data`` (an ``ArrayData`` with factors), as one
    JSON-ready dict: the scores, the (D, K) mutual information and DCI importance matrices, the
    factors, the settings (``DEFAULTS`` or ``FAST``), the sample counts, the seed, and the wall-clock
    seconds and this process's CPU seconds per metric. A metric the sample cannot serve (MIG, SAP and the total
    correlation with one code dimension, modularity with one factor) is left out.
    ``n_jobs`` processes fit DCI's per-factor classifiers (the same numbers)."""
    settings = FAST if fast else DEFAULTS
    started, cpu_started = time.perf_counter(), time.process_time()
    sampler, represent = factor_sampler(data), as_representation(encoder, data)
    sampler.check_batches(settings["factor_vae"]["batch_size"])  # before any work: every value fills a batch
    rng = np.random.default_rng(seed)
    train_rows, test_rows = sampler.sample(settings["num_train"], rng), sampler.sample(settings["num_test"], rng)
    codes, codes_test = represent(train_rows), represent(test_rows)
    factors, factors_test = sampler.factors_of(train_rows), sampler.factors_of(test_rows)
    seconds = {"encode_train_test": time.perf_counter() - started}
    cpu_seconds = {"encode_train_test": time.process_time() - cpu_started}

    def timed(name, compute):
        start, cpu_start = time.perf_counter(), time.process_time()
        value = compute()
        seconds[name] = time.perf_counter() - start
        cpu_seconds[name] = time.process_time() - cpu_start  # this process's threads; not DCI's worker processes
        return value

    information = timed("mutual_information", lambda: discrete_mutual_information(
        histogram_discretize(codes, settings["num_bins"]), factors))  # (D, K)
    sample = FactorSample(codes, factors, codes_test, factors_test, information, represent, data, settings, seed, n_jobs)
    results: dict = {}
    for metric in metrics("disentanglement", ("fast",) if fast else ("fast", "default")):
        if metric.compute is not None:
            results.update(timed(metric.step or metric.name, lambda: metric.compute(sample)))
    seconds["total"], cpu_seconds["total"] = time.perf_counter() - started, time.process_time() - cpu_started
    representation = "posterior mean" if isinstance(encoder, torch.nn.Module) else "codes of the given encoder"
    return {**results, "mutual_information_nats": information.tolist(),
            **data.factor_info.describe(), "representation": representation, "seed": seed, "fast": fast, "settings": settings, "classifiers": CLASSIFIERS,
            "samples": {"encoded_examples": represent.encoded, "data_examples": len(data), "data": data.name},
            "seconds": seconds, "cpu_seconds": cpu_seconds}
