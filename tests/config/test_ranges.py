"""config/ranges.py: the declared ranges of numeric options accept exactly their values, say them in words,
and parse command-line text with the same verdict as they check values."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaekit.config import Config
from vaekit.config.ranges import COUNT, LEARNING_RATE, SEED, Range, finite_float
from vaekit.errors import UserError

NUMBERS = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True))
RANGES = [COUNT, SEED, LEARNING_RATE, Range(float, low=0, high=1), Range(int, high=-3), Range(float)]


@pytest.mark.parametrize("allowed", RANGES, ids=lambda r: r.describe())
@settings(max_examples=60, deadline=None)
@given(value=NUMBERS)
def test_a_range_allows_exactly_the_finite_numbers_of_its_kind_within_its_bounds(allowed, value):
    inside = ((allowed.low is None or (value > allowed.low if allowed.open_low else value >= allowed.low))
              and (allowed.high is None or value <= allowed.high))
    finite = isinstance(value, int) if allowed.kind is int else finite_float(value)
    expected = finite and inside
    assert allowed.allows(value) == expected


@pytest.mark.parametrize("allowed", RANGES, ids=lambda r: r.describe())
@settings(max_examples=60, deadline=None)
@given(value=NUMBERS)
def test_parsing_the_text_of_a_number_agrees_with_checking_the_number(allowed, value):
    text = repr(value) if isinstance(value, float) else str(value)
    if allowed.allows(value):
        assert allowed.parse(text) == allowed.kind(value)  # a float range reads an integer as the nearest float
    elif not (allowed.kind is float and isinstance(value, int) and allowed.allows(float(value))):
        with pytest.raises(ValueError, match=f"^must be {allowed.describe()}, got "):
            allowed.parse(text)


def test_the_words_state_the_bounds_in_full():
    assert SEED.describe() == "an integer from 0 to 4294967295"
    assert COUNT.describe() == "an integer at least 1"
    assert LEARNING_RATE.describe() == "a finite number above 0"
    assert Range(int, low=0, high=10**6, note="0: off").describe() == "an integer from 0 to 1000000 (0: off)"


@pytest.mark.parametrize("text", ["1.5", "nan", "inf", "1e3", "x", "", "True"])
def test_an_integer_range_refuses_text_that_is_no_integer(text):
    with pytest.raises(ValueError, match="must be an integer"):
        COUNT.parse(text)


def test_a_check_names_the_key_the_value_and_the_range():
    with pytest.raises(UserError, match=r"^train\.seed must be an integer from 0 to 4294967295, got -1$"):
        SEED.check("train.seed", -1)
    assert SEED.check("train.seed", 7) == 7


@pytest.mark.parametrize("key, section", [("seed", "train"), ("split_seed", "data")])
@pytest.mark.parametrize("seed", [-1, 2**32, 2**64])
def test_the_config_refuses_a_seed_that_numpy_or_torch_cannot_take(key, section, seed):
    with pytest.raises(UserError, match=rf"{section}\.{key} must be an integer from 0 to 4294967295, got {seed}"):
        Config().replace(**{section: {key: seed}})
