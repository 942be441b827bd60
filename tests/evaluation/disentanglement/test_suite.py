"""Disentanglement metrics on constructed representations whose answers are known."""

import math

import numpy as np
import pytest
import torch

from vaekit import disentanglement as dm
from vaekit.data.array import ArrayData
from vaekit.data.factors import factor_info
from vaekit.errors import UserError
from vaekit.evaluation.disentanglement.predictive import dci_from_importance

SIZES = (3, 4, 5, 4)  # a small full factorial set: 240 combinations
N_TRAIN, N_TEST, BINS = 3000, 1500, 20


def all_codes(sizes=SIZES):
    return np.stack(np.unravel_index(np.arange(int(np.prod(sizes))), sizes), 1)


def factor_set(sizes=SIZES) -> ArrayData:
    """A full factorial set whose inputs are its factor codes, so an 'encoder' can be any map of them."""
    codes = all_codes(sizes)
    info = factor_info(codes, [f"f{k}" for k in range(len(sizes))])
    return ArrayData(torch.from_numpy(codes).float(), None, "toy", factors=torch.from_numpy(codes), factor_info=info)


PERMUTATION, SCALES = [2, 0, 3, 1], np.array([0.3, -2.0, 1.5, 0.7])


def aligned(factors: np.ndarray) -> np.ndarray:
    """Permuted, rescaled factors with light noise that is a fixed function of the input (so
    encoding an example twice gives the same code, as a posterior mean does)."""
    noise = 0.03 * np.sin(factors @ np.array([12.9898, 78.233, 37.719, 4.1414]) * 43758.5453)
    return factors[:, PERMUTATION] * SCALES + noise[:, None]


def rotation(d=4, seed=3) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def independent(factors: np.ndarray) -> np.ndarray:
    """Codes that ignore the factors: a pseudo-random function of the example's index."""
    index = np.ravel_multi_index(factors.T.astype(int), SIZES)
    return np.random.default_rng(7).normal(size=(int(np.prod(SIZES)), 4))[index]


def draw(n, seed):
    factors = np.stack([np.random.default_rng(seed + k).integers(s, size=n) for k, s in enumerate(SIZES)], 1)
    return factors


@pytest.fixture(scope="module")
def sets():
    train, test = draw(N_TRAIN, 0), draw(N_TEST, 100)
    rotate = rotation()
    return {
        "aligned": (aligned(train), train, aligned(test), test),
        "rotated": (aligned(train) @ rotate, train, aligned(test) @ rotate, test),
        "independent": (np.random.default_rng(1).normal(size=(N_TRAIN, 4)), train,
                        np.random.default_rng(2).normal(size=(N_TEST, 4)), test),
    }


def mi_bias_bound(n, levels):
    """Twice the leading bias of the plug-in mutual information of independent discrete variables,
    (bins - 1)(levels - 1) / (2n) nats (Miller's correction): the tolerance for 'near 0'."""
    return 2 * (BINS - 1) * (levels - 1) / (2 * n)


def test_mig_by_hand_on_eight_points():
    factors = np.array([[0], [0], [0], [0], [1], [1], [1], [1]])
    codes = np.array([[0, 0], [0, 1], [0, 0], [1, 1], [1, 0], [1, 1], [1, 0], [1, 1]], float)
    # code 0 vs factor: joint counts (0,0)=3 (0,1)=1 (1,1)=4; code 1 is independent of the factor
    information = 3 / 8 * math.log(2) + 1 / 8 * math.log(2 / 5) + 1 / 2 * math.log(8 / 5)
    matrix = dm.mutual_information_matrix(codes, factors)
    assert matrix == pytest.approx(np.array([[information], [0.0]]), abs=1e-12)
    assert dm.mig(codes, factors) == pytest.approx(information / math.log(2), abs=1e-12)


def test_dci_by_hand_on_an_importance_matrix():
    # code 0 only informs factor 0; code 1 informs both equally
    scores = dci_from_importance(np.array([[1.0, 0.0], [1.0, 1.0]]))
    # per code 1 - H_2: code 0 -> 1, code 1 -> 0; code weights 1/3, 2/3
    assert scores["disentanglement"] == pytest.approx(1 / 3, abs=1e-9)
    # per factor 1 - H_2 over codes: factor 0 (1/2, 1/2) -> 0, factor 1 (0, 1) -> 1; weights 2/3, 1/3
    assert scores["completeness"] == pytest.approx(1 / 3, abs=1e-9)
    assert dci_from_importance(np.eye(3))["disentanglement"] == pytest.approx(1, abs=1e-9)
    assert dci_from_importance(np.ones((3, 3)))["completeness"] == pytest.approx(0, abs=1e-9)


def test_dci_on_a_tiny_array_of_exact_factor_copies():
    factors = np.repeat(np.array([[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]), 10, axis=0)
    codes = factors[:, ::-1].astype(float)  # code 0 = factor 1, code 1 = factor 0
    scores = dm.dci(codes, factors, codes, factors)
    assert scores["disentanglement"] > 0.99 and scores["completeness"] > 0.99
    assert scores["informativeness_train"] == 1.0 and scores["informativeness_test"] == 1.0
    importance = np.array(scores["importance"])
    assert importance[0, 1] > 0.99 * importance[:, 1].sum() and importance[1, 0] > 0.99 * importance[:, 0].sum()


def test_dci_in_parallel_processes_gives_the_numbers_of_one_process():
    """Factors handed out with the most values first (three, two, four values here) come back in
    the factors' own order: the importance columns and accuracies equal the sequential run's."""
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(3, size=120), rng.integers(2, size=120), rng.integers(4, size=120)], 1)
    codes = factors[:, [2, 0, 1]] + 0.3 * rng.normal(size=(120, 3))
    sequential = dm.dci(codes[:80], factors[:80], codes[80:], factors[80:], n_jobs=1)
    parallel = dm.dci(codes[:80], factors[:80], codes[80:], factors[80:], n_jobs=2)
    assert parallel == sequential
    assert np.argmax(sequential["importance"], 0).tolist() == [1, 2, 0]  # column k: factor k's own code


def test_aligned_codes_score_near_one_and_independent_codes_near_zero(sets):
    aligned_mig, independent_mig = dm.mig(*sets["aligned"][:2]), dm.mig(*sets["independent"][:2])
    assert aligned_mig > 0.8
    entropy = min(math.log(s) for s in SIZES)  # uniform factors
    assert independent_mig < mi_bias_bound(N_TRAIN, max(SIZES)) / entropy
    aligned_sap, independent_sap = dm.sap(*sets["aligned"]), dm.sap(*sets["independent"])
    assert aligned_sap > 0.2 and aligned_sap > 5 * independent_sap
    # a 5-class accuracy's standard error on N_TEST points bounds the gap between two chance-level codes
    assert independent_sap < 4 * math.sqrt(0.25 / N_TEST)
    assert dm.gaussian_total_correlation(sets["independent"][0]) < 4 * 6 / (2 * N_TRAIN)  # chi2 with D(D-1)/2 dof


@pytest.mark.slow
def test_dci_on_aligned_independent_and_rotated_codes(sets):
    aligned_dci = dm.dci(*sets["aligned"])
    assert aligned_dci["disentanglement"] > 0.9 and aligned_dci["completeness"] > 0.9
    assert aligned_dci["informativeness_test"] > 0.95
    independent_dci = dm.dci(*sets["independent"])
    assert independent_dci["disentanglement"] < 0.15 and independent_dci["completeness"] < 0.15
    rotated_dci = dm.dci(*sets["rotated"])
    assert rotated_dci["disentanglement"] < aligned_dci["disentanglement"] - 0.2


def test_a_rotated_copy_scores_lower(sets):
    assert dm.mig(*sets["rotated"][:2]) < dm.mig(*sets["aligned"][:2]) - 0.3
    assert dm.sap(*sets["rotated"]) < dm.sap(*sets["aligned"])
    assert dm.modularity(*sets["rotated"][:2]) < dm.modularity(*sets["aligned"][:2])
    assert dm.gaussian_total_correlation(sets["rotated"][0]) > dm.gaussian_total_correlation(sets["aligned"][0])


def test_permuting_latent_dimensions_changes_nothing(sets):
    codes, factors, codes_test, factors_test = sets["rotated"]
    order = [3, 1, 0, 2]
    assert dm.mig(codes[:, order], factors) == pytest.approx(dm.mig(codes, factors), abs=1e-12)
    assert dm.modularity(codes[:, order], factors) == pytest.approx(dm.modularity(codes, factors), abs=1e-12)
    assert dm.sap(codes[:, order], factors, codes_test[:, order], factors_test) == pytest.approx(
        dm.sap(codes, factors, codes_test, factors_test), abs=1e-9)
    assert dm.gaussian_total_correlation(codes[:, order]) == pytest.approx(dm.gaussian_total_correlation(codes))
    assert (dm.mutual_information_matrix(codes[:, order], factors) == dm.mutual_information_matrix(codes, factors)[order]).all()
    explicit = dm.explicitness(codes, factors, codes_test, factors_test)
    assert dm.explicitness(codes[:, order], factors, codes_test[:, order], factors_test) == pytest.approx(explicit, abs=1e-3)


def test_explicitness_is_high_for_informative_codes_and_half_for_noise(sets):
    assert dm.explicitness(*sets["aligned"])["test"] > 0.9
    noise = dm.explicitness(*sets["independent"])["test"]
    assert abs(noise - 0.5) < 0.05


def test_sampled_scores_near_one_for_aligned_codes_and_chance_for_independent():
    data = factor_set()
    k, n_eval = len(SIZES), 500
    sizes = dict(num_train=1000, num_eval=n_eval)
    encode = lambda x: aligned(x.numpy())  # noqa: E731
    assert dm.factor_vae_score(encode, data, **sizes)["eval_accuracy"] > 0.97
    assert dm.beta_vae_score(encode, data, **sizes)["eval_accuracy"] > 0.97
    noise = lambda x: independent(x.numpy())  # noqa: E731
    tolerance = 4 * math.sqrt((1 / k) * (1 - 1 / k) / n_eval)  # 4 binomial standard errors around chance 1/K
    assert abs(dm.factor_vae_score(noise, data, **sizes)["eval_accuracy"] - 1 / k) < tolerance
    assert abs(dm.beta_vae_score(noise, data, **sizes)["eval_accuracy"] - 1 / k) < tolerance + 0.05


def test_factor_vae_score_normalises_by_the_global_spread_and_prunes_collapsed_dimensions():
    data = factor_set()
    # factor codes scaled by 1000 on one dimension: without dividing by the global variance that
    # dimension would never have the least variance; a constant dimension is pruned
    encode = lambda x: np.hstack([aligned(x.numpy()) * [1000.0, 1, 1, 1], np.zeros((len(x), 1))])  # noqa: E731
    scores = dm.factor_vae_score(encode, data, num_train=500, num_eval=300)
    assert scores["eval_accuracy"] > 0.97 and scores["num_active_dims"] == 4


def test_the_rotated_encoder_loses_factor_vae_score():
    data = factor_set()
    rotate = rotation()
    aligned_score = dm.factor_vae_score(lambda x: aligned(x.numpy()), data, num_train=500, num_eval=300)
    rotated_score = dm.factor_vae_score(lambda x: aligned(x.numpy()) @ rotate, data, num_train=500, num_eval=300)
    assert rotated_score["eval_accuracy"] < aligned_score["eval_accuracy"] - 0.05


def test_each_distinct_example_is_encoded_once_and_a_model_gives_its_posterior_mean():
    data = factor_set()
    calls = []

    def encode(x):
        calls.append(len(x))
        return aligned(x.numpy())

    represent = dm.Representation(encode, data)
    rows = np.array([5, 5, 7, 5, 9])
    first = represent(rows)
    assert sum(calls) == 3 and (first[0] == first[1]).all()
    represent(np.array([7, 9, 11]))
    assert sum(calls) == 4 and represent.encoded == 4


@pytest.mark.parametrize("call, fragment", [
    (lambda: dm.mig(np.zeros((10, 1)), np.zeros((10, 1), int)), "at least 2 code dimensions"),
    (lambda: dm.mig(np.zeros((10, 2)), np.zeros((9, 1), int)), "same number of rows"),
    (lambda: dm.mig(np.zeros((10, 2)), np.zeros((10, 1))), "integer codes"),
    (lambda: dm.mig(np.full((10, 2), np.nan), np.zeros((10, 1), int)), "NaN"),
    (lambda: dm.gaussian_total_correlation(np.ones((10, 2))), "singular"),
    (lambda: dm.factor_vae_score(lambda x: x, ArrayData(torch.zeros(4, 2), None, "plain"), num_train=10),
     "plain: these data have no ground-truth factors"),
])
def test_bad_metric_inputs_raise_user_errors(call, fragment):
    with pytest.raises(UserError, match=fragment):
        call()


def test_the_recorded_defaults_are_the_functions_defaults_and_disentanglement_libs():
    import inspect

    def defaults(function):
        return {name: p.default for name, p in inspect.signature(function).parameters.items()
                if p.default is not inspect.Parameter.empty and name != "seed"}

    assert defaults(dm.beta_vae_score) == dm.DEFAULTS["beta_vae"] == {"batch_size": 64, "num_train": 10000, "num_eval": 5000}
    assert defaults(dm.factor_vae_score) == dm.DEFAULTS["factor_vae"] == {
        "batch_size": 64, "num_train": 10000, "num_eval": 5000, "num_variance_estimate": 10000, "prune_threshold": 0.05}
    assert defaults(dm.mig)["num_bins"] == defaults(dm.modularity)["num_bins"] == dm.DEFAULTS["num_bins"] == 20
    assert (dm.DEFAULTS["num_train"], dm.DEFAULTS["num_test"], dm.DEFAULTS["sap_C"]) == (10000, 5000, 0.01)
    for function in (dm.mig, dm.sap, dm.dci, dm.modularity, dm.explicitness, dm.beta_vae_score, dm.factor_vae_score):
        assert "disentanglement_lib" in function.__doc__
