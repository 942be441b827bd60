"""Orientation: how much more likely the model finds the input turned or flipped than as given,

    S(x) = log sum_{g in G} p(g x) - log p(x) = -log P(g = identity | x)   (nats, >= 0),

G the symmetries of the pixel grid (for square images the 8 rotations and reflections of the square,
else the 4 that keep the shape: identity, the two flips, the half turn), P(g | x) the posterior over
which of them was applied to an upright image, with a uniform prior and the model's p(x) as the
likelihood. The idea is Golan and El-Yaniv's (2018, "Deep anomaly detection using geometric
transformations") and Hendrycks et al.'s (2019, rotation prediction): an input whose orientation a
model of upright data cannot recognise as the upright one is anomalous. Here no classifier is trained:
Bayes' rule on the generative model is the classifier.

Every g permutes pixels, so g x has the same pixel values and nearly the same compressed length as x:
the complexity that makes a raw likelihood prefer simple inputs cancels in the ratio, which is why the
score can see what the likelihood cannot (upside-down images of REPRODUCTION.md's study). It is blind to
what does not change under G (noise, constant images, inputs symmetric under G) and to inputs foreign in
every orientation: ``combined`` joins it with input complexity and likelihood regret for those.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ...errors import UserError
from .registry import OodMethod, register_method
from .scoring import ScoredSet, Scorer

Transform = Callable[[torch.Tensor], torch.Tensor]  # (N, C, H, W) -> the same pixels rearranged
KEEP_SHAPE: dict[str, Transform] = {
    "flip_vertical": lambda x: x.flip(-2),
    "flip_horizontal": lambda x: x.flip(-1),
    "half_turn": lambda x: x.flip(-2, -1),
}
SQUARE_ONLY: dict[str, Transform] = {  # the transposes exchange H and W
    "transpose": lambda x: x.transpose(-2, -1),
    "quarter_turn": lambda x: x.transpose(-2, -1).flip(-1),
    "three_quarter_turn": lambda x: x.transpose(-2, -1).flip(-2),
    "anti_transpose": lambda x: x.transpose(-2, -1).flip(-2, -1),
}


def transforms(shape: tuple[int, ...]) -> dict[str, Transform]:
    """The non-identity elements of G for inputs of ``shape`` (C, H, W): 7 for square images, else 3."""
    if len(shape) != 3:
        raise UserError(f"orientation turns and flips images C x H x W; these inputs have shape {tuple(shape)}")
    return {**KEEP_SHAPE, **SQUARE_ONLY} if shape[1] == shape[2] else dict(KEEP_SHAPE)


def reoriented(scored: ScoredSet, name: str, transform: Transform) -> ScoredSet:
    """The set with every example transformed, kept in the set's cache (its log p(x) is computed once)."""
    key = f"orientation/{name}"
    if key not in scored.cache:
        scored.cache[key] = ScoredSet(f"{scored.name}/{name}", transform(scored.x).contiguous())
    return scored.cache[key]


def orientation(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """S(x) (N,) nats: logsumexp over G of log p(g x) minus log p(x), each log p from the scorer's k samples."""
    group = transforms(tuple(scored.x.shape[1:]))  # a UserError for inputs that are not images, before any work
    upright = -scorer.nll(scored)
    others = [-scorer.nll(reoriented(scored, name, g)) for name, g in group.items()]
    return np.logaddexp.reduce(np.stack([upright, *others]), axis=0) - upright


register_method(OodMethod("orientation", "log sum_g p(g x) - log p(x), nats (g: turns and flips)", orientation,
                          needs="image_px", reference="after Golan and El-Yaniv 2018"))
