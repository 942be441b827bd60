"""The baselines: the likelihood itself and the reconstruction error.

Nalisnick et al. (2019, "Do deep generative models know what they don't know?") showed that these
can rank simple out-of-distribution inputs (MNIST for a Fashion-MNIST model) as *more* likely than
the training distribution; they are kept as references and for models without p(x)."""

from __future__ import annotations

import numpy as np

from .registry import OodMethod, register_method
from .scoring import ScoredSet, Scorer


def nll(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """-log p(x) (N,) nats: the importance-sampled estimate with ``scorer.k`` draws (Burda et al., 2016)."""
    return scorer.nll(scored)


def negative_elbo(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """-ELBO(x) (N,) nats, one posterior draw per example: an upper bound on -log p(x)."""
    return -scorer.terms(scored)["elbo"]


def reconstruction(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """-log p(x|z) (N,) nats at one z ~ q(z|x) (an autoencoder: at its code): the reconstruction error in
    the likelihood's own units (squared error for a Gaussian of unit sigma, cross-entropy for a Bernoulli)."""
    return -scorer.terms(scored)["log_px_z"]


register_method(OodMethod("nll", "-log p(x), nats (importance-sampled)", nll,
                          reference="Burda et al. 2016; the failure: Nalisnick et al. 2019"))
register_method(OodMethod("neg_elbo", "-ELBO, nats", negative_elbo, reference="Kingma and Welling 2014"))
register_method(OodMethod("reconstruction", "-log p(x|z), nats", reconstruction, needs=""))
