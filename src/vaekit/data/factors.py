"""Ground-truth factors of variation, and the two ways the disentanglement metrics draw from them.

A factor data set has, beside its N examples, integer codes ``factors`` (N, K): factor k of example
i takes the code factors[i, k] in 0..sizes[k]-1. ``FactorInfo`` names the factors and gives each
code's real value (dSprites' scale 0.5..1, orientation 0..2*pi, ...).

``FactorSampler`` draws rows (indices into the data set) in the two patterns the metrics need:
random rows (so random (observation, factors) pairs), and batches whose rows share the value of
one chosen factor. For a full factorial set (every combination of codes exactly once, in row-major
order, as dSprites) rows come from factor codes by index arithmetic, exactly as disentanglement_lib
samples factors independently and uniformly; for any other set, by picking rows that share the
value. Every draw comes from a ``numpy.random.Generator`` the caller seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UserError


@dataclass(frozen=True)
class FactorInfo:
    """What the factor codes mean.

    names: K factor names. sizes: K counts of codes (factor k takes codes 0..sizes[k]-1).
    values: per factor, the real value of each code (sizes[k] floats; the code itself when unknown).
    full_factorial: True when row i holds the i-th combination of codes in row-major order over
    ``sizes`` (every combination once), so rows follow from codes by arithmetic.
    """

    names: tuple[str, ...]
    sizes: tuple[int, ...]
    values: tuple[tuple[float, ...], ...]
    full_factorial: bool = False

    def describe(self) -> dict:
        """JSON-ready: names, sizes and whether the set is full factorial."""
        return {"factor_names": list(self.names), "factor_sizes": list(self.sizes),
                "full_factorial": self.full_factorial}


def checked_factors(factors: np.ndarray, n_examples: int, where: str) -> np.ndarray:
    """(N, K) int64 codes 0..L_k-1 from integer (or integer-valued) codes of shape (N, K) or (N,).

    Raises a UserError naming ``where`` for non-integers, a wrong length, negative codes or a factor
    that takes a single value (nothing to disentangle)."""
    factors = np.asarray(factors)
    if factors.ndim == 1:
        factors = factors[:, None]
    if factors.ndim != 2 or factors.shape[1] == 0:
        raise UserError(f"{where}: factors of shape {factors.shape}; expected (N, K) integer codes, one row per example")
    if len(factors) != n_examples:
        raise UserError(f"{where}: {len(factors)} rows of factors but {n_examples} examples; "
                        "save one row of factor codes per example")
    integral = factors.dtype.kind in "iub" or (
        factors.dtype.kind == "f" and bool(np.isfinite(factors).all()) and bool((factors == np.round(factors)).all()))
    if not integral:
        raise UserError(f"{where}: factors must be integer codes, got {factors.dtype} values; "
                        "map each factor's values to codes 0..L-1 before saving")
    factors = factors.astype(np.int64)
    if n_examples and factors.min() < 0:
        raise UserError(f"{where}: factor codes must be >= 0, found {int(factors.min())}; use codes 0..L-1")
    single = [k for k in range(factors.shape[1]) if len(np.unique(factors[:, k])) < 2]
    if single:
        raise UserError(f"{where}: factor(s) {single} take a single value; drop them (a factor must vary)")
    return factors


def factor_info(factors: np.ndarray, names=None, where: str = "factors") -> FactorInfo:
    """FactorInfo of codes (N, K) (``checked_factors``): sizes from the largest code, values = codes,
    names from ``names`` (K strings) or 'factor_0', ...; full factorial when the rows are."""
    k = factors.shape[1]
    if names is None:
        names = [f"factor_{i}" for i in range(k)]
    names = [str(name) for name in np.asarray(names).reshape(-1)]
    if len(names) != k:
        raise UserError(f"{where}: {len(names)} factor names for {k} factors; save one name per column")
    sizes = tuple(int(size) for size in factors.max(0) + 1)
    values = tuple(tuple(float(v) for v in range(size)) for size in sizes)
    return FactorInfo(tuple(names), sizes, values, is_full_factorial(factors, sizes))


def is_full_factorial(factors: np.ndarray, sizes: tuple[int, ...]) -> bool:
    """True when row i holds the i-th combination of codes, row-major over ``sizes``."""
    if len(factors) != int(np.prod(sizes)):
        return False
    return bool((np.ravel_multi_index(factors.T, sizes) == np.arange(len(factors))).all())


class FactorSampler:
    """Rows of a factor data set drawn in the patterns the metrics need.

    factors: (N, K) int64 codes of the data set's rows; info: their ``FactorInfo``.
    """

    def __init__(self, factors: np.ndarray, info: FactorInfo, name: str = "data"):
        self.factors, self.info, self.name = np.asarray(factors), info, name
        self.sizes = np.asarray(info.sizes)
        self._groups: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    @property
    def num_factors(self) -> int:
        return len(self.sizes)

    def rows(self, codes: np.ndarray) -> np.ndarray:
        """(n,) row indices of the codes (n, K): index arithmetic (full factorial sets only)."""
        return np.ravel_multi_index(codes.T, self.info.sizes)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n,) random rows: every factor uniform and independent for a full factorial set (as
        disentanglement_lib's ``sample_factors``), uniform over rows otherwise."""
        if self.info.full_factorial:
            codes = np.stack([rng.integers(size, size=n) for size in self.info.sizes], 1)  # (n, K)
            return self.rows(codes)
        return rng.integers(len(self.factors), size=n)

    def sample_sharing(self, factor: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n,) rows that all share the value of ``factor``: the value of a random row (so a
        uniform value for a full factorial set), the other factors random."""
        if self.info.full_factorial:
            codes = np.stack([rng.integers(size, size=n) for size in self.info.sizes], 1)  # (n, K)
            codes[:, factor] = codes[0, factor]
            return self.rows(codes)
        value = self.factors[rng.integers(len(self.factors)), factor]
        members = self._members(factor, value)
        if len(members) < n:
            raise UserError(f"{self.name}: factor {self.info.names[factor]!r} has only {len(members)} row(s) with "
                            f"code {value}, fewer than the batch of {n} that must share it; use a smaller batch "
                            "size or data with more rows per value")
        return rng.choice(members, size=n, replace=False)

    def sample_pairs(self, factor: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(first, second): (n,) rows each, pair i sharing the value of ``factor``, the rest random
        (disentanglement_lib's BetaVAE pairs: factors2[:, k] = factors1[:, k])."""
        first = self.sample(n, rng)
        if self.info.full_factorial:
            codes = np.stack([rng.integers(size, size=n) for size in self.info.sizes], 1)  # (n, K)
            codes[:, factor] = self.factors_of(first)[:, factor]
            return first, self.rows(codes)
        order, starts, counts = self._group_table(factor)
        group = np.searchsorted(self._group_values(factor), self.factors[first, factor])  # (n,) group of each row
        second = order[starts[group] + (rng.random(n) * counts[group]).astype(np.int64)]
        return first, second

    def factors_of(self, rows: np.ndarray) -> np.ndarray:
        """(n, K) codes of the rows."""
        if self.info.full_factorial:
            return np.stack(np.unravel_index(rows, self.info.sizes), 1).astype(np.int64)
        return self.factors[rows]

    def _group_table(self, factor: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(order, starts, counts): rows sorted by their code of ``factor``, where each value's run
        starts and how long it is (values in increasing order)."""
        if factor not in self._groups:
            column = self.factors[:, factor]
            order = np.argsort(column, kind="stable")
            _, starts, counts = np.unique(column[order], return_index=True, return_counts=True)
            self._groups[factor] = (order, starts, counts)
        return self._groups[factor]

    def _group_values(self, factor: int) -> np.ndarray:
        order, starts, _ = self._group_table(factor)
        return self.factors[order[starts], factor]

    def _members(self, factor: int, value: int) -> np.ndarray:
        order, starts, counts = self._group_table(factor)
        group = int(np.searchsorted(self._group_values(factor), value))
        return order[starts[group]: starts[group] + counts[group]]
