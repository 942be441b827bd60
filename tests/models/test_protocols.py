"""Optional hooks of a model's parts are typed protocols, found with isinstance, not by probing names."""

from types import SimpleNamespace

import pytest

from vaekit.evaluation.likelihood import memory_factor
from vaekit.models.protocols import WideOutput
from vaekit.models.registry import LIKELIHOODS

# Decoded values per input element of the likelihoods that decode more than one (1 x 4 x 4 images).
WIDE = {"categorical256": 256, "discretized_logistic": 3}  # 256 logits; a logistic's mean, log-scale, weight


@pytest.mark.parametrize("name", LIKELIHOODS.names())
def test_evaluation_shrinks_batches_by_the_values_a_likelihood_decodes_per_element(name):
    likelihood = LIKELIHOODS.get(name)((1, 4, 4))
    assert isinstance(likelihood, WideOutput) == (name in WIDE)
    assert memory_factor(SimpleNamespace(likelihood=likelihood)) == WIDE.get(name, 1)
