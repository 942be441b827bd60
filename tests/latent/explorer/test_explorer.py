"""The explorer answers requests that arrive on many threads at once exactly as it answers them one at
a time: seeded samples keep their seed's draws, cached reconstructions and traversals their values;
a conditional model decodes each example with that example's own label."""

import random
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from helpers import perturbed_model

from vaekit import ModelConfig
from vaekit.data.array import ArrayData
from vaekit.latent.encode import decode_mean, posterior_mean
from vaekit.latent.explorer import Explorer

SHAPE = (1, 4, 4)


def small_model(conditional: bool):
    config = ModelConfig(latent_dim=3, hidden=(16,), likelihood="bernoulli", conditional=conditional,
                         classes=3 if conditional else 0)
    return perturbed_model(config, SHAPE)


def data(n=40):
    values = (torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(2)) < 0.4).to(torch.uint8)
    return ArrayData(values, torch.arange(n) % 3, "bits")


REQUESTS = ([("sample", {"n": 4, "seed": seed, "temperature": 0.7}) for seed in range(6)]
            + [("example", {"index": i}) for i in (0, 5, 17, 39)]
            + [("traverse", {"index": i, "dim": 1, "steps": 5}) for i in (3, 8)]
            + [("interpolate", {"from": 1, "to": 30, "steps": 4})])


def ask(explorer, request):
    method, body = request
    return getattr(explorer, method)(dict(body))


@pytest.fixture
def frequent_thread_switches():
    """Threads switch every microsecond, so that requests really overlap (without the explorer's lock,
    seeded samples then draw from each other's reseeded global generator and this test fails)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize("conditional", [False, True])
def test_concurrent_requests_get_the_answers_of_sequential_ones(conditional, frequent_thread_switches):
    model, split = small_model(conditional), data()
    sequential = [ask(Explorer(model, split), r) for r in REQUESTS]  # a fresh explorer per request: no cache
    for trial in range(3):
        shared = Explorer(model, split)
        order = [k for k in range(len(REQUESTS)) for _ in range(4)]
        random.Random(trial).shuffle(order)
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda k: (k, ask(shared, REQUESTS[k])), order))
        for k, answer in answers:
            assert answer == sequential[k], REQUESTS[k]


def test_a_conditional_model_reconstructs_each_example_with_its_own_label():
    model, split = small_model(True), data()
    explorer = Explorer(model, split)
    i = 7  # label 1
    x = split.inputs(slice(i, i + 1))
    label = split.labels[i : i + 1]
    expected = decode_mean(model, posterior_mean(model, x, label), label)[0]
    torch.testing.assert_close(explorer.reconstruction(i), expected)  # decoded in a block of 40: rounding differs
    other = decode_mean(model, posterior_mean(model, x, label + 1), label + 1)[0]
    assert not torch.allclose(explorer.reconstruction(i), other, atol=1e-3)
