"""vaekit.data.array.from_arrays: the one door of in-memory inputs refuses data with nothing in it."""

import numpy as np
import pytest

from vaekit.data.array import from_arrays
from vaekit.errors import UserError


@pytest.mark.parametrize(("shape", "what"), [((0, 16), "no examples"), ((0, 1, 8, 8), "no examples"),
                                             ((5, 0), "examples of no values")])
def test_inputs_with_no_examples_or_no_values_are_refused_naming_them(shape, what):
    with pytest.raises(UserError, match=rf"^arrays: inputs of shape \({shape[0]}, .*\) hold {what}; give at least one"):
        from_arrays(np.zeros(shape, np.float32), None, "arrays")


def test_one_example_of_one_value_is_data():
    assert from_arrays(np.ones((1, 1), np.float32), None, "arrays").shape == (1,)
