"""DARLA's masking noise and the denoising objective of model 'dae'."""

import pytest
import torch

from vaekit import Config, UserError, build_model, build_objective
from vaekit.data.batch import Batch
from vaekit.objectives.denoising import occlude


def test_each_example_loses_one_axis_aligned_rectangle_and_keeps_the_rest():
    torch.manual_seed(0)
    x = torch.rand(64, 2, 10, 12) + 1.0  # no zeros of its own
    occluded = occlude(x)
    masked = occluded == 0  # (B, C, H, W)
    assert torch.equal(masked[:, 0], masked[:, 1])  # every channel alike
    rows, columns = masked[:, 0].any(2), masked[:, 0].any(1)  # (B, H), (B, W)
    assert torch.equal(masked[:, 0], rows[:, :, None] & columns[:, None, :])  # a rectangle
    for axis in (rows, columns):  # contiguous: one run of masked positions
        steps = (axis[:, 1:].int() - axis[:, :-1].int()).abs().sum(1)
        assert (steps <= 2).all()
    assert torch.equal(occluded[~masked], x[~masked])


def test_the_masked_share_is_the_product_of_two_expected_interval_lengths():
    """E|U1 - U2| = 1/3 for U1, U2 ~ U[0, 1]: a rectangle covers (1/3)^2 = 1/9 of the image on average."""
    torch.manual_seed(1)
    masked = occlude(torch.ones(20000, 1, 64, 64)) == 0
    assert masked.float().mean().item() == pytest.approx(1 / 9, abs=0.005)
    flat = occlude(torch.ones(20000, 200)) == 0  # flat rows: one interval, a third on average
    assert flat.float().mean().item() == pytest.approx(1 / 3, abs=0.01)


def test_the_dae_reconstructs_the_clean_input_from_the_occluded_one():
    config = Config().replace(model={"name": "dae", "latent_dim": 3, "trunk": {"name": "conv", "channels": [4]},
                                     "likelihood": {"name": "bernoulli"}})
    model = build_model(config.model, (1, 8, 8))
    objective = build_objective(config.objective, model)
    x = (torch.rand(5, 1, 8, 8) < 0.5).float()
    torch.manual_seed(3)
    output = objective(model, Batch(x))
    torch.manual_seed(3)
    expected = model.decode(model.encode(occlude(x)).mean).log_prob(x)
    assert torch.allclose(output.terms["log_px_z"], expected) and output.loss == -expected.mean()


def test_denoising_refuses_a_model_with_a_prior():
    model = build_model(Config().replace(model={"likelihood": {"name": "bernoulli"}}).model, (1, 8, 8))
    with pytest.raises(UserError, match="use --model dae"):
        build_objective(Config().replace(objective={"name": "denoising"}).objective, model)
