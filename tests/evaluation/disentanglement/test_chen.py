"""mig_chen, Chen et al.'s MIG estimator: against a port of their code (tests/chen_reference.py) on a
constructed grid, on representations whose answer is known, and its errors."""


import numpy as np
import pytest
import torch
from chen_reference import mutual_info_metric_shapes

from vaekit import disentanglement as dm
from vaekit.data.array import ArrayData
from vaekit.data.factors import FactorInfo
from vaekit.errors import UserError
from vaekit.evaluation.disentanglement.chen import chen_entropies, mig_from_entropies

GRID = (2, 2, 3, 2, 3)  # shape, scale, orientation, x, y: 72 examples, row-major like dSprites
NAMES = ("shape", "scale", "orientation", "x", "y")


def grid_factors(grid=GRID) -> np.ndarray:
    return np.stack(np.unravel_index(np.arange(int(np.prod(grid))), grid), 1)


def posteriors(factors: np.ndarray, seed: int = 0, spread: float = 0.3):
    """(mean, std) (N, 5) float64: dimensions mixing the factors to different degrees, varied widths."""
    rng = np.random.default_rng(seed)
    mixing = np.array([[0, 1.0, 0, 0, 0.2], [0, 0, 1.0, 0.3, 0], [0, 0, 0, 1.0, 0], [0.5, 0, 0, 0.4, 1.0],
                       [0, 0, 0, 0, 0]]).T  # (K=5 factors, D=5 dims)
    mean = factors @ mixing + spread * rng.standard_normal((len(factors), 5))
    std = np.exp(rng.uniform(-1.5, 0.0, size=mean.shape))
    return torch.from_numpy(mean), torch.from_numpy(std)


def test_entropies_and_mig_agree_with_the_port_of_their_code():
    factors = grid_factors()
    mean, std = posteriors(factors)
    z = mean + std * torch.randn(mean.shape, generator=torch.Generator().manual_seed(1), dtype=mean.dtype)
    params = torch.stack([mean, std.log()], -1)  # their (mu, logsigma)
    expected = mutual_info_metric_shapes(z, params, GRID)
    marginal, conditional = chen_entropies(z, mean, std, factors[:, 1:], num_samples=len(z))  # every sample
    score, information = mig_from_entropies(marginal, conditional, GRID[1:])
    assert score == pytest.approx(expected, abs=1e-10)
    assert information.shape == (4, 5) and (information >= 0).all()
    assert 0.05 < score < 0.95  # a case where the gaps are neither trivial nor complete


def test_the_whole_function_draws_one_code_per_example_as_the_port_does():
    factors = grid_factors()
    mean, std = posteriors(factors, seed=3)
    z = mean + std * torch.randn(mean.shape, generator=torch.Generator().manual_seed(7), dtype=mean.dtype)
    expected = mutual_info_metric_shapes(z, torch.stack([mean, std.log()], -1), GRID)
    results = dm.mig_chen_of_posteriors(mean, std, factors, NAMES, GRID, num_samples=10_000, seed=7)
    assert results["mig_chen"] == pytest.approx(expected, abs=1e-10)
    assert results["mig_chen_factors"] == ["scale", "orientation", "x", "y"]  # their set: shape left out


def test_codes_that_copy_each_factor_score_one_and_shape_alone_scores_zero():
    factors = grid_factors()
    copies = torch.from_numpy(factors * 10.0)  # well separated values, narrow posteriors
    narrow = torch.full(copies.shape, 1e-3, dtype=torch.float64)
    results = dm.mig_chen_of_posteriors(copies, narrow, factors, NAMES, GRID)
    assert results["mig_chen"] == pytest.approx(1.0, abs=1e-3)
    information = np.array(results["mig_chen_information_nats"])  # (4, 5): I(z_j; v_k) = log L_k on the diagonal
    assert np.allclose(information[np.arange(4), np.arange(1, 5)], np.log(GRID[1:]), atol=1e-3)
    shape_only = copies.clone()
    shape_only[:, 1:] = 0.0  # only shape is encoded: their factor set gives no credit
    assert dm.mig_chen_of_posteriors(shape_only, narrow, factors, NAMES, GRID)["mig_chen"] == pytest.approx(0, abs=1e-3)


def test_fewer_samples_give_a_nearby_estimate():
    factors = grid_factors()
    mean, std = posteriors(factors)
    full = dm.mig_chen_of_posteriors(mean, std, factors, NAMES, GRID)["mig_chen"]
    fewer = dm.mig_chen_of_posteriors(mean, std, factors, NAMES, GRID, num_samples=60)["mig_chen"]
    assert fewer != full and abs(fewer - full) < 0.1


def test_a_model_on_factor_data_is_scored_from_its_posteriors():
    factors = grid_factors()
    info = FactorInfo(NAMES, GRID, tuple(tuple(range(s)) for s in GRID), full_factorial=True)
    data = ArrayData(torch.from_numpy(factors).float(), None, "grid", factors=torch.from_numpy(factors),
                     factor_info=info)
    mean, std = posteriors(factors)
    rows = {tuple(f): i for i, f in enumerate(factors.tolist())}

    class Encoder(torch.nn.Module):  # q(z|x) looked up by the example's factor codes
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

        def encode(self, x):
            index = torch.tensor([rows[tuple(row)] for row in x.long().tolist()])
            return torch.distributions.Independent(torch.distributions.Normal(mean[index], std[index]), 1)

    model = Encoder()
    through_model = dm.mig_chen(model, data, seed=2)
    direct = dm.mig_chen_of_posteriors(mean, std, factors, NAMES, GRID, seed=2)
    assert through_model["mig_chen"] == pytest.approx(direct["mig_chen"], abs=1e-12)
    assert through_model["mig_chen_settings"]["examples"] == len(factors)


@pytest.mark.parametrize("call, fragment", [
    (lambda: dm.mig_chen(None, ArrayData(torch.zeros(4, 2), None, "plain")), "plain: these data have no ground-truth"),
    (lambda: dm.mig_chen_of_posteriors(torch.zeros(4, 1), torch.ones(4, 1), np.zeros((4, 2), int), ("a", "b"), (2, 2)),
     "at least 2 code dimensions"),
    (lambda: dm.mig_chen_of_posteriors(torch.zeros(4, 2), torch.ones(4, 2), np.zeros((3, 2), int), ("a", "b"), (2, 2)),
     "same N"),
    (lambda: dm.mig_chen_of_posteriors(torch.zeros(4, 2), torch.ones(4, 2), np.zeros((4, 1), int), ("shape",), (3,)),
     "no factor left"),
])
def test_bad_inputs_raise_user_errors(call, fragment):
    with pytest.raises(UserError, match=fragment):
        call()


def test_an_autoencoder_has_no_spread_to_sample_and_is_refused():
    from vaekit import Config, build_model

    factors = grid_factors()
    info = FactorInfo(NAMES, GRID, tuple(tuple(range(s)) for s in GRID), full_factorial=True)
    data = ArrayData(torch.from_numpy(factors).float().reshape(len(factors), 5), None, "grid",
                     factors=torch.from_numpy(factors), factor_info=info)
    model = build_model(Config().replace(model={"name": "ae", "latent_dim": 2, "trunk": {"hidden": [4]},
                                                "likelihood": {"name": "gaussian"}}).model, (5,))
    with pytest.raises(UserError, match="needs a posterior with a spread"):
        dm.mig_chen(model, data)
