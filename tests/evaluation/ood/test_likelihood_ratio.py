"""The likelihood ratio cancels a background term both models share; the perturbation mutates at its rate."""

import numpy as np
import pytest
import torch

from vaekit.errors import UserError
from vaekit.evaluation.ood import detection_metrics
from vaekit.evaluation.ood.likelihood_ratio import perturb, ratio_scores


def test_ratio_cancels_a_shared_background_term():
    rng = np.random.default_rng(0)
    semantic_in, semantic_out = rng.normal(0, 1, 300), rng.normal(3, 1, 300)  # -log p_semantic: outliers higher
    background_in, background_out = rng.normal(50, 5, 300), rng.normal(20, 5, 300)  # outliers are simpler
    nll_in, nll_out = semantic_in + background_in, semantic_out + background_out
    assert detection_metrics(nll_in, nll_out)["auroc"] < 0.05  # the raw likelihood inverts
    constant = 7.0  # the background model's own normaliser
    scores_in = ratio_scores(nll_in, background_in + constant)
    scores_out = ratio_scores(nll_out, background_out + constant)
    assert np.allclose(scores_in, semantic_in - constant) and np.allclose(scores_out, semantic_out - constant)
    assert detection_metrics(scores_in, scores_out)["auroc"] == detection_metrics(semantic_in, semantic_out)["auroc"]


def test_perturbation_rate_and_range():
    values = torch.full((200, 1, 10, 10), 9, dtype=torch.uint8)
    generator = torch.Generator().manual_seed(0)
    assert torch.equal(perturb(values, 0.0, generator), values)
    mutated = perturb(values, 0.2, generator)
    changed = float((mutated != values).float().mean())
    assert abs(changed - 0.2 * 255 / 256) < 0.01  # a draw equal to the old value leaves it unchanged
    assert mutated.dtype == torch.uint8 and int(mutated.max()) > 250 and int(mutated.min()) < 5
    floats = torch.rand(50, 6) * 4 - 2
    replaced = perturb(floats, 1.0, generator)
    assert float(replaced.min()) >= float(floats.min()) and float(replaced.max()) <= float(floats.max())
    with pytest.raises(UserError, match="mutation rate"):
        perturb(values, 1.5, generator)
