"""MIG exists once: the public function and the suite share one implementation, and one code
dimension is an error there and left out of the suite (disentanglement_lib fails on it too)."""

import numpy as np
import pytest
import torch

from vaekit.data.array import ArrayData
from vaekit.data.factors import factor_info
from vaekit.disentanglement import mig
from vaekit.errors import UserError
from vaekit.evaluation.disentanglement import information, suite
from vaekit.evaluation.disentanglement.information import mig_from_information

TINY = {"num_train": 300, "num_test": 100, "num_bins": 20, "sap_C": 0.01,
        "beta_vae": {"batch_size": 8, "num_train": 40, "num_eval": 20},
        "factor_vae": {"batch_size": 8, "num_train": 40, "num_eval": 20, "num_variance_estimate": 100,
                       "prune_threshold": 0.05}}


def full_factorial(sizes=(3, 4)) -> ArrayData:
    codes = np.stack(np.unravel_index(np.arange(int(np.prod(sizes))), sizes), 1)
    info = factor_info(codes, [f"f{k}" for k in range(len(sizes))])
    return ArrayData(torch.from_numpy(codes).float(), None, "toy", factors=torch.from_numpy(codes), factor_info=info)


def test_mig_from_information_is_the_normalised_gap_between_the_top_two():
    information = np.array([[0.9, 0.1], [0.3, 0.6], [0.2, 0.5]])  # (D, K) nats
    entropy = np.array([1.0, 2.0])
    assert mig_from_information(information, entropy) == pytest.approx(((0.9 - 0.3) / 1.0 + (0.6 - 0.5) / 2.0) / 2)


def test_one_code_dimension_is_a_clear_error_in_both_entry_points():
    with pytest.raises(UserError, match="at least 2 code dimensions"):
        mig(np.arange(10.0)[:, None], np.arange(10)[:, None] % 2)
    with pytest.raises(UserError, match="MIG needs at least 2 code dimensions"):
        mig_from_information(np.array([[0.5, 0.2]]), np.array([1.0, 1.0]))


def test_the_suite_leaves_mig_out_for_one_dimension_and_agrees_with_mig_otherwise(monkeypatch):
    monkeypatch.setattr(suite, "FAST", TINY)
    data = full_factorial()
    one = suite.disentanglement_metrics(lambda x: x[:, :1].numpy(), data, fast=True)
    assert "mig" not in one and "sap" not in one and "dci_disentanglement" in one
    calls = []
    monkeypatch.setattr(information, "mig_from_information",
                        lambda *args: calls.append(args) or mig_from_information(*args))
    two = suite.disentanglement_metrics(lambda x: x.numpy(), data, fast=True)  # codes are the factors
    assert len(calls) == 1  # the suite's MIG is this function's
    assert two["mig"] == pytest.approx(1.0, abs=0.1) and mig(data.factors.numpy() + 0.0, data.factors.numpy()) == 1.0


def test_dci_of_one_code_dimension_is_finite_without_a_warning():
    import warnings

    from vaekit.evaluation.disentanglement.predictive import dci_from_importance

    importance = np.array([[0.2, 0.8, 0.0]])  # (D = 1 code, K = 3 factors)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dci = dci_from_importance(importance)
    assert dci["completeness"] == 1.0  # each factor's importance over codes has one outcome: entropy 0
    p = np.array([0.2, 0.8]) + 1e-11
    p /= p.sum()
    assert dci["disentanglement"] == pytest.approx(1.0 + np.sum(p * np.log(p)) / np.log(3))  # 1 - H base K
