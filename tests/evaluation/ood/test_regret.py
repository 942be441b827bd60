"""Likelihood regret: the batched per-example encoder copies equal the reference code's per-example loop."""

import numpy as np
import pytest
import torch

from vaekit import build_model
from vaekit.errors import UserError
from vaekit.evaluation.ood.regret import PosteriorNet, optimise_copies, posterior_outputs, regret_scores

SHAPE = (1, 4, 4)


@pytest.fixture(scope="module")
def model():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return build_model({"latent_dim": 3, "trunk": {"hidden": [16]}, "likelihood": "bernoulli"}, SHAPE).eval()


@pytest.fixture(scope="module")
def x():
    return torch.bernoulli(torch.full((6, *SHAPE), 0.4), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("layers", ["encoder", "head"])
def test_batched_copies_equal_one_example_at_a_time(model, x, layers):
    steps = 7
    eps = torch.randn((steps, len(x), 3), generator=torch.Generator().manual_seed(2))
    together = optimise_copies(model, x, eps, steps, lr=1e-2, layers=layers)
    for i in range(len(x)):
        alone = optimise_copies(model, x[i : i + 1], eps[:, i : i + 1], steps, lr=1e-2, layers=layers)
        for name, value in alone.items():
            torch.testing.assert_close(together[name][i : i + 1], value, rtol=1e-4, atol=1e-5)


def test_optimising_moves_each_copy_and_leaves_the_model_alone(model, x):
    before = {name: p.clone() for name, p in model.named_parameters()}
    eps = torch.zeros((20, len(x), 3))
    copies = optimise_copies(model, x, eps, 20, lr=1e-2)
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) and p.grad is None
    net = PosteriorNet(model)
    start = posterior_outputs(net, {n: p.detach().expand(len(x), *p.shape) for n, p in net.named_parameters()}, x)
    assert not torch.allclose(posterior_outputs(net, copies, x), start)


@pytest.mark.parametrize("layers", ["encoder", "head"])
def test_no_steps_no_regret_and_steps_gain_likelihood(model, x, layers):
    assert np.array_equal(regret_scores(model, x, k=10, steps=0, layers=layers), np.zeros(len(x)))
    gained = regret_scores(model, x, k=200, steps=50, lr=1e-2, layers=layers)
    assert gained.mean() > 0  # the encoder fitted to each example gives it a higher likelihood


def test_unknown_layers_are_refused(model, x):
    with pytest.raises(UserError, match="likelihood regret layers 'all': choose one of head, encoder"):
        regret_scores(model, x, k=5, layers="all")


def test_regret_needs_a_gaussian_encoder():
    autoencoder = build_model({"name": "ae", "latent_dim": 2, "trunk": {"hidden": [8]}, "likelihood": "bernoulli"}, SHAPE)
    with pytest.raises(UserError, match="likelihood_regret re-optimises a Gaussian encoder"):
        regret_scores(autoencoder, torch.zeros(2, *SHAPE), k=5)


def test_head_copies_apply_the_head_and_share_no_memory_with_it(model, x):
    """The head's copies are stored transposed (n, F, 2D) so the weight gradient needs no transposed copy;
    each still computes the head's output, and a step on them leaves the model's head as it was."""
    from vaekit.evaluation.ood.regret import encoder_copies

    head, features = model.head.linear, model.encoder(x).detach()
    copies = encoder_copies(head, len(x))
    assert copies["weight_t"].shape == (len(x), *head.weight.t().shape) and copies["weight_t"].is_contiguous()
    torch.testing.assert_close(posterior_outputs(head, copies, features), head(features), rtol=1e-5, atol=1e-6)
    before = head.weight.clone()
    optimise_copies(model, x[:1], torch.zeros((3, 1, 3)), 3, lr=1e-1, layers="head")
    assert torch.equal(head.weight, before)
