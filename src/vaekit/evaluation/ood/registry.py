"""The registry of out-of-distribution scores: each method registered once, by name, beside its definition.

An ``OodMethod`` turns one scored set (``ScoredSet``: inputs x (N, *shape) and a cache of per-example
terms) into scores, higher = more anomalous: one per example, or one per batch of examples for a batch
test (``per_example`` False). ``needs`` says what of the model it uses, so that an autoencoder gets the
methods that make sense for it and a one-line refusal for the rest:

- ``"px"``: log p(x) (a prior: VAEs, not autoencoders);
- ``"image_px"``: log p(x) of images C x H x W (the orientation score turns and flips them);
- ``"posterior"``: a diagonal Gaussian posterior whose encoder can be re-optimised (likelihood regret);
- ``""``: any model with an encoder and a decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...registry import Registry

NEEDS = ("", "px", "image_px", "posterior")


@dataclass(frozen=True)
class OodMethod:
    """One registered score. ``score(scorer, scored) -> (M,) float64``, higher = more anomalous.

    ``label``: how tables and figures name it (with its unit); ``reference``: the paper it follows;
    ``requires``: the registered methods it computes (a combination), each of which the model must support."""

    name: str
    label: str
    score: Callable[..., np.ndarray]
    needs: str = "px"
    per_example: bool = True
    reference: str = ""
    requires: tuple[str, ...] = ()

    def __post_init__(self):
        if self.needs not in NEEDS:
            raise ValueError(f"ood method {self.name!r}: needs {self.needs!r} is not one of {NEEDS}")

    def scores(self, scorer, scored) -> np.ndarray:
        """``score(scorer, scored)``, computed once per set (kept in ``scored.cache``: a combination reuses it)."""
        key = f"scores/{self.name}"
        if key not in scored.cache:
            scored.cache[key] = self.score(scorer, scored)
        return scored.cache[key]


OOD_METHODS: Registry[OodMethod] = Registry("ood method")


def register_method(method: OodMethod) -> OodMethod:
    """Add ``method`` to ``OOD_METHODS`` (a name can be registered once)."""
    OOD_METHODS.register(method.name)(method)
    return method
