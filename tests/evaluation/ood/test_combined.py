"""The combined score: each component standardised on training examples, then summed."""

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


def test_each_component_in_training_standard_deviations(two_components):
    rng = np.random.default_rng(0)
    training = torch.from_numpy(np.stack([rng.normal(10, 2, 400), rng.normal(-5, 0.5, 400)], 1))
    scorer = Scorer(model=None, reference=lambda: ScoredSet("train", training))
    x = torch.tensor([[14.0, -5.0], [10.0, -3.0], [10.0, -5.0]])
    mean, std = training.mean(0).numpy(), training.std(0, unbiased=False).numpy()
    expected = ((x.numpy() - mean) / std).sum(1)
    assert np.allclose(combined_module.combined(scorer, ScoredSet("x", x)), expected)


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
