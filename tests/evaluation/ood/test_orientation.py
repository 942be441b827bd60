"""The orientation score: the posterior log-odds, under a model of upright inputs, that an input was turned
or flipped, S(x) = logsumexp_g log p(g x) - log p(x); checked against its closed form under a likelihood
given in closed form, and the transforms against the group they must form."""

import itertools

import numpy as np
import pytest
import torch

from vaekit.errors import UserError
from vaekit.evaluation.ood import ScoredSet, detection_metrics
from vaekit.evaluation.ood.orientation import orientation, transforms


class LikesBrightTops:
    """A scorer whose log p(x) is known: a * (mean of the top half - mean of the bottom half) + b * (mean of
    the left half - mean of the right half), nats. Upright inputs are bright at the top and on the left."""

    def __init__(self, a=40.0, b=10.0):
        self.a, self.b = a, b

    def nll(self, scored: ScoredSet) -> np.ndarray:
        x = scored.x.double()
        h, w = x.shape[-2] // 2, x.shape[-1] // 2
        vertical = x[..., :h, :].mean((-3, -2, -1)) - x[..., h:, :].mean((-3, -2, -1))
        horizontal = x[..., :, :w].mean((-3, -2, -1)) - x[..., :, w:].mean((-3, -2, -1))
        return -(self.a * vertical + self.b * horizontal).numpy()


def test_square_images_have_the_eight_symmetries_of_the_square_and_they_form_a_group():
    x = torch.arange(9.0).reshape(1, 1, 3, 3)
    elements = {"identity": lambda y: y, **transforms((1, 3, 3))}
    images = {name: g(x) for name, g in elements.items()}
    assert len(elements) == 8 and len({tuple(v.flatten().tolist()) for v in images.values()}) == 8  # all distinct
    for g in elements.values():
        assert torch.equal(g(x).flatten().sort().values, x.flatten())  # a permutation of the pixels
    for f, g in itertools.product(elements.values(), repeat=2):  # closed under composition
        assert any(torch.equal(f(g(x)), image) for image in images.values())


def test_other_images_keep_their_shape_with_the_flips_and_the_half_turn():
    assert set(transforms((3, 4, 6))) == {"flip_vertical", "flip_horizontal", "half_turn"}
    x = torch.rand(2, 3, 4, 6)
    assert all(g(x).shape == x.shape for g in transforms((3, 4, 6)).values())


def test_the_score_is_the_closed_form_log_odds_against_the_upright_reading():
    torch.manual_seed(0)
    x = torch.rand(5, 1, 8, 8)
    scorer = LikesBrightTops()
    log_p = lambda y: -scorer.nll(ScoredSet("y", y))  # noqa: E731
    group = [lambda y: y, *transforms((1, 8, 8)).values()]
    expected = np.log(np.sum([np.exp(log_p(g(x))) for g in group], axis=0)) - log_p(x)
    assert np.allclose(orientation(scorer, ScoredSet("x", x)), expected, atol=1e-9)


def test_an_input_unchanged_by_every_symmetry_scores_log_of_the_group_size():
    constant = torch.full((3, 1, 6, 6), 0.4)
    assert np.allclose(orientation(LikesBrightTops(), ScoredSet("c", constant)), np.log(8))
    assert np.allclose(orientation(LikesBrightTops(), ScoredSet("c", torch.full((2, 1, 4, 6), 0.4))), np.log(4))


def test_upside_down_inputs_are_found_and_upright_ones_score_log_2_under_a_left_right_blind_model():
    rng = np.random.default_rng(0)
    ramp = torch.linspace(1, 0, 16)[:, None].expand(16, 16)  # bright top
    upright = (ramp + torch.from_numpy(rng.normal(0, 0.3, (200, 1, 16, 16)))).clamp(0, 1).float()
    flipped = upright.flip(-2)
    scorer = LikesBrightTops(b=0.0)  # cannot tell an input from its mirror image: P(identity | x) = 1/2 at best
    inside, outside = orientation(scorer, ScoredSet("in", upright)), orientation(scorer, ScoredSet("out", flipped))
    assert np.allclose(inside, np.log(2), atol=1e-3)
    assert outside.min() > 10  # turned back, a flipped input is about e^(a / 2) times likelier
    assert detection_metrics(inside, outside)["auroc"] == 1.0


def test_inputs_that_are_not_images_are_refused_by_name():
    with pytest.raises(UserError, match=r"orientation turns and flips images C x H x W; these inputs have shape \(12,\)"):
        orientation(LikesBrightTops(), ScoredSet("table", torch.rand(4, 12)))
