"""The numbers an option allows, declared once: the commands' option types (``commands/_shared.py``'s
``number_option``) and the config's checks of seeds, latent_dim and trunk widths read them, so a value is
refused with the same words wherever it is given.

``Range(int, low=1)`` is "an integer at least 1"; ``Range(float, low=0, open_low=True)`` is "a finite
number above 0". Floats are always finite: NaN and infinity reach no model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import UserError

SEED_MAX = 2**32 - 1  # NumPy's and scikit-learn's seeds are 32-bit (t-SNE, splits); torch's would take 2**64 - 1


@dataclass(frozen=True)
class Range:
    """Integers (``kind`` int) or finite floats (``kind`` float) from ``low`` to ``high`` (None: no bound);
    ``open_low``: ``low`` itself is excluded (e.g. a learning rate above 0); ``note`` says what a special
    value means, e.g. '0: no clipping'."""

    kind: type
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    note: str = ""

    def allows(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        if self.kind is float and not finite_float(value):
            return False
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        return self.high is None or value <= self.high

    def describe(self) -> str:
        """The allowed values in words: 'an integer from 0 to 4294967295', 'a finite number above 0'."""
        what = "an integer" if self.kind is int else "a finite number"
        low, high = _shown(self.low), _shown(self.high)
        if self.low is not None and self.high is not None and not self.open_low:
            bounds = f" from {low} to {high}"
        elif self.low is not None:
            bounds = f" {'above' if self.open_low else 'at least'} {low}"
            bounds += "" if self.high is None else f" and at most {high}"
        else:
            bounds = "" if self.high is None else f" at most {high}"
        return what + bounds + (f" ({self.note})" if self.note else "")

    def check(self, key: str, value: Any) -> Any:
        """``value`` when allowed, else a one-line UserError naming ``key``, the value and the range."""
        if not self.allows(value):
            raise UserError(f"{key} must be {self.describe()}, got {value!r}")
        return value

    def parse(self, text: str) -> int | float:
        """The number written in ``text`` (a command-line value); a ValueError in this range's words when
        it is not one or lies outside."""
        try:
            value = self.kind(text)
        except ValueError:
            raise ValueError(f"must be {self.describe()}, got {text!r}") from None
        if not self.allows(value):
            raise ValueError(f"must be {self.describe()}, got {text!r}")
        return value


def finite_float(value: int | float) -> bool:
    """Whether ``value`` is a finite float or an int that a float holds (not beyond 1.8e308)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _shown(bound: float | None) -> str:
    """A bound as written in a message: integers in full (4294967295, not 4.29e+09), floats short (0.001)."""
    return str(bound) if isinstance(bound, int) else f"{bound:g}" if bound is not None else ""


# The ranges several options share (the config's train section and the commands' flags).
COUNT = Range(int, low=1)  # epochs, batch sizes, numbers of outputs
SEED = Range(int, low=0, high=SEED_MAX)
LATENT_DIM_MAX = 2**16  # far beyond any VAE's code; a typo's extra digits would otherwise die in the allocator
LATENT_DIM = Range(int, low=1, high=LATENT_DIM_MAX)
WIDTH = Range(int, low=1, high=LATENT_DIM_MAX)  # a trunk's hidden widths and channels, bounded alike
LEARNING_RATE = Range(float, low=0, open_low=True)
IMPORTANCE_SAMPLES_MAX = 1_000_000  # 5,000 is the papers' K; a typo's extra zeros should not run for days
IMPORTANCE_SAMPLES = Range(int, low=0, high=IMPORTANCE_SAMPLES_MAX, note="0: the ELBO only")
TEMPERATURE_MAX = 10.0  # times the prior's scale: far beyond any useful draw, still finite in float32
SPAN_MAX = 100.0  # |z| of a traversal, in prior standard deviations
TEMPERATURE = Range(float, low=0, high=TEMPERATURE_MAX, note="0: the prior's centre")
SPAN = Range(float, low=0, high=SPAN_MAX, open_low=True)
INDEX = Range(int, low=0)  # an example of the evaluation split; checked against its size once the data are known
PICTURES_PER_ROW_MAX = 1000  # decoded points in one row of a figure (a path, a traversal)
STEPS = Range(int, low=2, high=PICTURES_PER_ROW_MAX)
GRID = Range(int, low=2, high=200)  # manifold points per axis: 40,000 decoded pictures at most
MAP_POINTS = Range(int, low=5)  # scikit-learn's t-SNE needs a handful of points (latent.maps checks the same)
PORT = Range(int, low=0, high=65535, note="0: a free port")
GPU_SHARE = Range(float, low=0)  # GPUs a Ray task declares: a fraction shares one, 0 runs on CPUs
NOISE = Range(float, low=0, high=100.0)  # a Gaussian noise's standard deviation in input units, or a flip probability
