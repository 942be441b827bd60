"""The combined score: Fisher's method over the components' tail probabilities among training examples."""

import numpy as np
import pytest
import torch

from vaekit.evaluation.ood import OOD_METHODS, OodMethod, ScoredSet, Scorer, detection_metrics, register_method
from vaekit.evaluation.ood import combined as combined_module


@pytest.fixture
def two_components(monkeypatch):
    """Components that read column 0 (component a) and column 1 (component b) of x (N, 2)."""
    for name, column in (("fake_a", 0), ("fake_b", 1)):
        register_method(OodMethod(name, name, lambda scorer, scored, c=column: scored.x[:, c].double().numpy()))
    monkeypatch.setattr(combined_module, "COMPONENTS", ("fake_a", "fake_b"))
    yield
    for name in ("fake_a", "fake_b"):
        OOD_METHODS.unregister(name)


def test_each_component_is_a_tail_probability_among_training_examples_and_fisher_sums_their_logs(two_components):
    rng = np.random.default_rng(0)
    training = torch.from_numpy(np.stack([rng.normal(10, 2, 400), rng.normal(-5, 0.5, 400)], 1))
    scorer = Scorer(model=None, reference=lambda: ScoredSet("train", training))
    x = torch.tensor([[14.0, -5.0], [10.0, -3.0], [10.0, -5.0], [100.0, 100.0]])
    t = training.numpy()
    tail = lambda column, value: (1 + np.sum(t[:, column] >= value)) / (1 + len(t))  # noqa: E731
    expected = [-np.log(tail(0, a)) - np.log(tail(1, b)) for a, b in x.numpy()]
    assert np.allclose(combined_module.combined(scorer, ScoredSet("x", x)), expected)
    assert np.isclose(combined_module.combined(scorer, ScoredSet("x", x))[3], 2 * np.log(401))  # beyond every one


def test_a_monotone_change_of_a_component_changes_nothing(two_components, monkeypatch):
    """Only ranks among training examples count: a component's scale or tail does not weigh."""
    rng = np.random.default_rng(2)
    training, x = torch.from_numpy(rng.normal(0, 1, (300, 2))), torch.from_numpy(rng.normal(0.5, 2, (50, 2)))
    before = combined_module.combined(Scorer(model=None, reference=lambda: ScoredSet("t", training)), ScoredSet("x", x))
    stretch = lambda v: torch.stack([torch.exp(3 * v[:, 0]), v[:, 1]], 1)  # noqa: E731
    scorer = Scorer(model=None, reference=lambda: ScoredSet("t", stretch(training)))
    assert np.allclose(combined_module.combined(scorer, ScoredSet("x", stretch(x))), before)


def test_outliers_seen_by_either_component_are_flagged(two_components):
    rng = np.random.default_rng(1)
    normal = lambda n: torch.from_numpy(rng.normal(0, 1, (n, 2)))  # noqa: E731
    scorer = Scorer(model=None, reference=lambda: ScoredSet("train", normal(500)))
    inside = normal(300)
    blind_a, blind_b = normal(150), normal(150)
    blind_a[:, 1] += 6  # component a cannot see these, b can
    blind_b[:, 0] += 6
    outside = torch.cat([blind_a, blind_b])
    score = lambda x: combined_module.combined(scorer, ScoredSet("s", x))  # noqa: E731
    assert detection_metrics(inside[:, 0].numpy(), outside[:, 0].numpy())["auroc"] < 0.8  # each alone misses half
    assert detection_metrics(score(inside), score(outside))["auroc"] > 0.99
