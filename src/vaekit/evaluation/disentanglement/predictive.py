"""Classifier-based disentanglement metrics: SAP, DCI, explicitness.

Definitions and defaults are disentanglement_lib's; every classifier is fitted on (codes, factors)
and scored on separate (codes_test, factors_test), never on its own training points (the
``*_train`` numbers are reported beside, as the library does). codes: (N, D) float, the
representation (for a VAE the posterior mean); factors: (N, K) integer codes.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...errors import UserError
from ..metrics import Metric, register_metric
from .information import as_codes_and_factors
from .sample import FactorSample

SAP_C = 0.01  # LinearSVC's C for discrete factors


def train_and_test(codes, factors, codes_test, factors_test, need_dims: int = 1):
    codes, factors = as_codes_and_factors(codes, factors, need_dims)
    codes_test, factors_test = as_codes_and_factors(codes_test, factors_test, need_dims)
    if codes_test.shape[1] != codes.shape[1] or factors_test.shape[1] != factors.shape[1]:
        raise UserError(f"training and test sets differ in width: codes {codes.shape[1]} vs {codes_test.shape[1]}, "
                        f"factors {factors.shape[1]} vs {factors_test.shape[1]}")
    return codes, factors, codes_test, factors_test


def sap_matrix(codes, factors, codes_test, factors_test) -> np.ndarray:
    """(D, K): test accuracy of a LinearSVC(C=0.01, class_weight='balanced') predicting factor k
    from code dimension d alone (discrete factors)."""
    from sklearn.svm import LinearSVC

    scores = np.zeros((codes.shape[1], factors.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear's convergence warnings: the library never prints
        for d in range(codes.shape[1]):
            for k in range(factors.shape[1]):
                classifier = LinearSVC(C=SAP_C, class_weight="balanced")
                classifier.fit(codes[:, d:d + 1], factors[:, k])
                scores[d, k] = np.mean(classifier.predict(codes_test[:, d:d + 1]) == factors_test[:, k])
    return scores


def sap(codes, factors, codes_test, factors_test) -> float:
    """Separated Attribute Predictability (Kumar et al., 2018) for discrete factors, as
    disentanglement_lib's ``SAP_score``: per factor, the gap between the best and second-best
    test accuracy of a one-dimension LinearSVC (C = 0.01, balanced class weights; ``sap_matrix``);
    averaged over factors. Needs D >= 2."""
    codes, factors, codes_test, factors_test = train_and_test(codes, factors, codes_test, factors_test, 2)
    ordered = np.sort(sap_matrix(codes, factors, codes_test, factors_test), axis=0)
    return float(np.mean(ordered[-1] - ordered[-2]))


def fit_boosted_trees(codes, column, codes_test, column_test, seed):
    """(importances (D,), train accuracy, test accuracy) of one seeded GradientBoostingClassifier
    with scikit-learn's defaults (100 stages of depth-3 trees, learning rate 0.1)."""
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(random_state=seed).fit(codes, column)
    return (np.abs(model.feature_importances_), float(np.mean(model.predict(codes) == column)),
            float(np.mean(model.predict(codes_test) == column_test)))


def importance_matrix(codes, factors, codes_test, factors_test, seed: int = 0, n_jobs: int = 1):
    """((D, K) importances, mean train accuracy, mean test accuracy) of one boosted-tree classifier
    per factor; ``n_jobs`` factors are fitted in parallel processes (the same numbers).

    A factor with C values costs C trees per boosting stage (C = 2: one), so the factors are handed
    out with the most values first: the longest fits start at once and the short ones fill the gaps."""
    columns = [(codes, factors[:, k], codes_test, factors_test[:, k], seed) for k in range(factors.shape[1])]
    if n_jobs > 1 and len(columns) > 1:
        from joblib import Parallel, delayed

        order = sorted(range(len(columns)), key=lambda k: -len(np.unique(factors[:, k])))
        done = Parallel(n_jobs=min(n_jobs, len(columns)))(delayed(fit_boosted_trees)(*columns[k]) for k in order)
        fitted = [done[order.index(k)] for k in range(len(columns))]
    else:
        fitted = [fit_boosted_trees(*c) for c in columns]
    importances = np.stack([f[0] for f in fitted], 1)  # (D, K)
    return importances, float(np.mean([f[1] for f in fitted])), float(np.mean([f[2] for f in fitted]))


def weighted_one_minus_entropy(importance: np.ndarray, axis: int) -> float:
    """sum over slices of (1 - entropy of the slice's normalised importances, base = slice length)
    times the slice's share of the total importance; axis 1: per code (disentanglement), axis 0:
    per factor (completeness). A zero matrix weighs every slice equally."""
    from scipy.stats import entropy  # here, not at the top: it took half the command line's start-up time

    length = importance.shape[axis]
    if length == 1:  # one outcome has entropy 0 in any base; scipy would divide 0 by log 1 (NaN and a warning)
        per_slice = np.ones(importance.shape[1 - axis])
    else:
        per_slice = 1.0 - entropy(importance + 1e-11, base=length, axis=axis)
    total = importance if importance.sum() != 0.0 else np.ones_like(importance)
    weights = total.sum(axis) / total.sum()
    return float(np.sum(per_slice * weights))


def dci_from_importance(importance: np.ndarray) -> dict:
    """{'disentanglement', 'completeness'} from a (D, K) importance matrix (Eastwood and Williams, 2018)."""
    return {"disentanglement": weighted_one_minus_entropy(importance, 1),
            "completeness": weighted_one_minus_entropy(importance, 0)}


def dci(codes, factors, codes_test, factors_test, seed: int = 0, n_jobs: int = 1) -> dict:
    """Disentanglement, completeness and informativeness (Eastwood and Williams, 2018) as in
    disentanglement_lib: one GradientBoostingClassifier per factor (scikit-learn defaults, seeded
    with ``seed``); importances = |feature_importances_| (D, K); disentanglement = sum over codes of
    (1 - entropy of the code's importances over factors, base K) weighted by the code's share of
    importance; completeness the same per factor over codes (base D); informativeness_train and
    informativeness_test = mean accuracy over factors on (codes, factors) and on the test set.
    Returns those four and 'importance' ((D, K) nested lists)."""
    codes, factors, codes_test, factors_test = train_and_test(codes, factors, codes_test, factors_test)
    importance, train_accuracy, test_accuracy = importance_matrix(codes, factors, codes_test, factors_test, seed, n_jobs)
    return {**dci_from_importance(importance), "informativeness_train": train_accuracy,
            "informativeness_test": test_accuracy, "importance": importance.tolist()}


def logistic_regression(seed: int = 0):
    """scikit-learn's LogisticRegression() as disentanglement_lib ran it (scikit-learn 0.20's default:
    liblinear, one-vs-rest, C = 1), so the numbers compare with the literature."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(LogisticRegression(solver="liblinear", random_state=seed))


def roc_auc(classifier, codes: np.ndarray, column: np.ndarray) -> float:
    """Macro ROC-AUC of the classifier's class probabilities against one-hot ``column``, over the
    classes present in ``column`` (the library's MultiLabelBinarizer would fail on a missing class)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import label_binarize

    probabilities = classifier.predict_proba(codes)
    truth = label_binarize(column, classes=classifier.classes_)
    if truth.shape[1] == 1:  # two classes: label_binarize gives one column
        truth = np.hstack([1 - truth, truth])
    present = truth.any(0) & ~truth.all(0)
    return float(roc_auc_score(truth[:, present], probabilities[:, present]))


def explicitness(codes, factors, codes_test, factors_test, seed: int = 0) -> dict:
    """Explicitness (Ridgeway and Mozer, 2018) as in disentanglement_lib: codes standardised with
    the training mean and standard deviation; per factor, a logistic regression (``logistic_regression``)
    fitted on the training codes, its macro one-vs-rest ROC-AUC on the training and the test set;
    averaged over factors. Returns {'train', 'test'}, each in [0, 1] (0.5: chance)."""
    codes, factors, codes_test, factors_test = train_and_test(codes, factors, codes_test, factors_test)
    mean, std = codes.mean(0), codes.std(0)
    std = np.where(std > 0, std, 1.0)  # a constant dimension stays 0 instead of NaN
    train_x, test_x = (codes - mean) / std, (codes_test - mean) / std
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(factors.shape[1]):
            classifier = logistic_regression(seed).fit(train_x, factors[:, k])
            scores.append((roc_auc(classifier, train_x, factors[:, k]), roc_auc(classifier, test_x, factors_test[:, k])))
    return {"train": float(np.mean([s[0] for s in scores])), "test": float(np.mean([s[1] for s in scores]))}


# --- registered: computed by the suite on its training and test draws ------------------------------


def held_out(sample: FactorSample) -> tuple:
    return sample.codes, sample.factors, sample.codes_test, sample.factors_test


def sap_of(sample: FactorSample) -> dict:
    """SAP of the sample; none for one-dimensional codes (see ``sap``)."""
    return {"sap": sap(*held_out(sample))} if sample.dims > 1 else {}


def dci_of(sample: FactorSample) -> dict:
    """The four DCI scores, and the (D, K) importance matrix as dci_importance (disentanglement.json only)."""
    scores = dci(*held_out(sample), sample.seed, sample.n_jobs)
    return {f"dci_{key}": value for key, value in scores.items()}


def explicitness_of(sample: FactorSample) -> dict:
    scores = explicitness(*held_out(sample), sample.seed)
    return {"explicitness_train": scores["train"], "explicitness_test": scores["test"]}


BETTER = "higher_is_better"
register_metric(Metric("sap", "SAP", "disentanglement", order=BETTER, compute=sap_of))
register_metric(Metric("dci_disentanglement", "DCI disentanglement", "disentanglement", order=BETTER, compute=dci_of,
                       step="dci"))
register_metric(Metric("dci_completeness", "DCI completeness", "disentanglement", order=BETTER))
register_metric(Metric("dci_informativeness_train", "DCI informativeness (train)", "disentanglement", order=BETTER,
                       table=False))
register_metric(Metric("dci_informativeness_test", "DCI informativeness (test)", "disentanglement", order=BETTER))
register_metric(Metric("explicitness_train", "explicitness (train)", "disentanglement", order=BETTER, table=False,
                       compute=explicitness_of, step="explicitness"))
register_metric(Metric("explicitness_test", "explicitness (test)", "disentanglement", order=BETTER))
