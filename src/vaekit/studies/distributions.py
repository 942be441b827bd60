"""The distributions a sweep file's ``random`` section draws settings from, registered by name.

Each is written ``{NAME: [arguments]}`` in the file (``objective.beta: {loguniform: [0.5, 16]}``);
its class checks the arguments once, when the file is read, and draws one value from a NumPy
generator. Draw i of a sweep always uses the same generator stream (``points.random_draws``), so a
file whose ``count`` grew keeps its earlier draws.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import UserError
from ..registry import Registry

DISTRIBUTIONS: Registry = Registry("distribution")


def _bounds(args: Any, where: str, kind: type) -> tuple:
    """[low, high] with low < high, each of ``kind`` (an int is taken for a float)."""
    ok = isinstance(args, list) and len(args) == 2 and all(
        isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a) for a in args)
    if not ok or (kind is int and not all(isinstance(a, int) for a in args)) or not args[0] < args[1]:
        raise UserError(f"{where}: expected [low, high] with low < high ({kind.__name__}s), got {args!r}")
    return kind(args[0]), kind(args[1])


@DISTRIBUTIONS.register("uniform")
class Uniform:
    """A float uniform on [low, high)."""

    def __init__(self, args: Any, where: str):
        self.low, self.high = _bounds(args, where, float)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


@DISTRIBUTIONS.register("loguniform")
class LogUniform:
    """A float whose logarithm is uniform on [log low, log high); 0 < low < high (learning rates, beta)."""

    def __init__(self, args: Any, where: str):
        self.low, self.high = _bounds(args, where, float)
        if self.low <= 0:
            raise UserError(f"{where}: loguniform needs 0 < low, got {args!r}")

    def draw(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


@DISTRIBUTIONS.register("randint")
class RandInt:
    """An integer uniform on low..high, both included."""

    def __init__(self, args: Any, where: str):
        self.low, self.high = _bounds(args, where, int)

    def draw(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))


@DISTRIBUTIONS.register("choice")
class Choice:
    """One of a list of values, each equally likely."""

    def __init__(self, args: Any, where: str):
        if not isinstance(args, list) or not args:
            raise UserError(f"{where}: choice needs a non-empty list of values, got {args!r}")
        self.values = args

    def draw(self, rng: np.random.Generator):
        return self.values[int(rng.integers(len(self.values)))]


def distribution(value: Any, where: str):
    """The distribution ``{NAME: arguments}`` names, its arguments checked; a UserError naming ``where``."""
    if not isinstance(value, dict) or len(value) != 1:
        raise UserError(f"{where}: expected one distribution as {{NAME: [arguments]}} "
                        f"({', '.join(DISTRIBUTIONS.names())}), got {value!r}")
    (name, args), = value.items()
    try:
        kind = DISTRIBUTIONS.get(name)
    except UserError as error:
        raise UserError(f"{where}: {error}") from None
    return kind(args, where)
