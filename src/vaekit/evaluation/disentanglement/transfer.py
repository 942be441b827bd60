"""Zero-shot domain transfer of a representation (after DARLA, Higgins et al., 2017): probes that read
each factor from the codes are trained on the source rendering and tested on the codes of the same
factor values drawn differently (``--data dsprites:intensity=...,background=...``).

For each factor, a logistic regression (``logistic_regression``, disentanglement_lib's setting) is
fitted on the standardised codes of ``num_train`` source examples and scored on ``num_test`` other
factor combinations, once through the source images and once through the target images of the very
same combinations. The accuracies are averaged over factors: a representation that transfers keeps
its target accuracy near its source accuracy. DARLA measured transfer by the reward of an RL agent;
this is the probe-based proxy the library can compute without an environment.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...data.array import ArrayData
from ...errors import UserError
from ..metrics import Metric, register_metric
from .predictive import logistic_regression
from .sampled import as_representation, factor_sampler

NUM_TRAIN, NUM_TEST = 10000, 5000


def check_same_factors(source: ArrayData, target: ArrayData, where: str) -> None:
    """A UserError naming ``where`` unless ``target`` has the factors (names and sizes) of ``source``."""
    factor_sampler(target)  # a UserError for data without factors
    mine, theirs = source.factor_info, target.factor_info
    if (mine.names, mine.sizes) != (theirs.names, theirs.sizes):
        raise UserError(f"{where}: factors {list(theirs.names)} of sizes {list(theirs.sizes)} differ from the run's "
                        f"{list(mine.names)} of sizes {list(mine.sizes)}; transfer needs the same factors")
    if source.shape != target.shape:
        raise UserError(f"{where}: examples of shape {target.shape} differ from the run's {source.shape}")


def rows_by_codes(data: ArrayData) -> dict[tuple, int]:
    """Factor codes -> a row holding them (the first), for finding a combination in other data."""
    rows: dict[tuple, int] = {}
    for row, codes in enumerate(data.factors.numpy().tolist()):
        rows.setdefault(tuple(codes), row)
    return rows


def transfer_score(encoder, source: ArrayData, target: ArrayData, seed: int = 0, num_train: int = NUM_TRAIN,
                   num_test: int = NUM_TEST, where: str = "--transfer-to") -> dict:
    """Probe accuracy on the source codes and on the target codes of the same factor combinations (module
    docstring). encoder: a model (its posterior mean) or a function inputs -> codes. Test combinations
    that the target lacks are left out (the count is reported). Returns transfer_source_accuracy,
    transfer_target_accuracy (means over factors), their per-factor lists, and the settings."""
    check_same_factors(source, target, where)
    rng = np.random.default_rng(seed)
    sampler = factor_sampler(source)
    train_rows, test_rows = sampler.sample(num_train, rng), sampler.sample(num_test, rng)
    lookup = rows_by_codes(target) if not target.factor_info.full_factorial else None
    test_codes = source.factors[test_rows].numpy()
    if lookup is None:  # the same full-factorial order: the same row
        kept, target_rows = test_rows, test_rows
    else:
        found = [lookup.get(tuple(codes)) for codes in test_codes.tolist()]
        kept = test_rows[[row is not None for row in found]]
        target_rows = np.array([row for row in found if row is not None], dtype=np.int64)
    if len(kept) < 2:
        raise UserError(f"{where}: the target data hold fewer than 2 of the {len(test_rows)} test combinations")
    represent, represent_target = as_representation(encoder, source), as_representation(encoder, target)
    train_x, source_x, target_x = represent(train_rows), represent(kept), represent_target(target_rows)
    mean, std = train_x.mean(0), train_x.std(0) + 1e-12  # standardised by the source's training codes
    factors_train, factors_test = source.factors[train_rows].numpy(), source.factors[kept].numpy()
    source_accuracy, target_accuracy = [], []
    for k in range(factors_train.shape[1]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings: the library never prints
            probe = logistic_regression(seed).fit((train_x - mean) / std, factors_train[:, k])
        source_accuracy.append(float(probe.score((source_x - mean) / std, factors_test[:, k])))
        target_accuracy.append(float(probe.score((target_x - mean) / std, factors_test[:, k])))
    return {"transfer_source_accuracy": float(np.mean(source_accuracy)),
            "transfer_target_accuracy": float(np.mean(target_accuracy)),
            "transfer_source_accuracy_per_factor": source_accuracy,
            "transfer_target_accuracy_per_factor": target_accuracy,
            "transfer": {"target": target.name, "num_train": num_train, "num_test": num_test,
                         "test_combinations_found": int(len(kept)), "seed": seed,
                         "probe": "LogisticRegression(solver='liblinear') one-vs-rest per factor, standardised codes"}}


register_metric(Metric("transfer_source_accuracy", "transfer probe accuracy, source rendering", "disentanglement",
                       order="higher_is_better"))
register_metric(Metric("transfer_target_accuracy", "transfer probe accuracy, shifted rendering", "disentanglement",
                       order="higher_is_better"))
