"""Linear probe: how much of the labels a linear classifier reads off the latent code.

A logistic regression is fitted on the posterior means E_q[z|x] of the training split (the
embedding; never a sample, whose noise would blur the classes) and scored on the test split.
The same probe on the raw inputs is the baseline: a code that beats it has made the classes
easier to separate, and one far below it has thrown label information away.
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.array import ArrayData, batches
from ..latent import encode_data
from .likelihood import default_batch_size
from .metrics import Metric, register_metric

MAX_ITER = 5000  # lbfgs on standardised features converges well within this on the built-in data


def linear_probe(model, train: ArrayData, test: ArrayData, max_train: int = 10000, seed: int = 0) -> dict | None:
    """Test accuracy of logistic regressions on the latent means and on the raw inputs.

    train, test: labelled data of the model's shape. None when either has no labels, the test
    split is empty, or the training labels hold a single class.
    At most ``max_train`` training examples are used, a subset drawn with a generator seeded by
    ``seed`` (the global random state is untouched). Features are standardised (``StandardScaler``)
    inside the fitted pipeline. Returns a JSON-ready dict:

    - ``probe_accuracy``: share of test examples classified right from E_q[z|x] (D features).
    - ``raw_probe_accuracy``: the same from the flattened inputs (prod(data_shape) features).
    - ``chance_accuracy``: share of the most common test label (always guessing it).
    - ``probe_train_examples``, ``probe_test_examples``: counts.
    """
    if train.labels is None or test.labels is None or len(test) == 0:
        return None
    if len(train) > max_train:
        train = train.subset(subsample(len(train), max_train, seed))
    train_y, test_y = train.labels.cpu().numpy(), test.labels.cpu().numpy()  # (n,), (M,)
    if len(np.unique(train_y)) < 2:
        return None  # one class: nothing to tell apart
    latent = fit_and_score(posterior_means(model, train), train_y, posterior_means(model, test), test_y, seed)
    raw = fit_and_score(flat_inputs(train), train_y, flat_inputs(test), test_y, seed)
    return {
        "probe_accuracy": latent,
        "raw_probe_accuracy": raw,
        "chance_accuracy": float(np.unique(test_y, return_counts=True)[1].max() / len(test_y)),
        "probe_train_examples": int(len(train_y)),
        "probe_test_examples": int(len(test_y)),
    }


def subsample(n: int, most: int, seed: int) -> torch.Tensor:
    """(min(n, most),) sorted positions drawn without replacement by a generator seeded with ``seed``."""
    if n <= most:
        return torch.arange(n)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[:most].sort().values


def posterior_means(model, data: ArrayData) -> np.ndarray:
    """(N, D) float64: E_q[z|x] for every example (the embedding, never a sample)."""
    return encode_data(model, data)["mean"].double().numpy()


def flat_inputs(data: ArrayData) -> np.ndarray:
    """(N, prod(data_shape)) float64: the inputs as the model sees them, one row per example."""
    like = torch.empty(0, dtype=torch.float64)  # read in batches onto the CPU: streamed data never in memory twice
    rows = [x.flatten(1) for x in batches(data, default_batch_size(data.shape, len(data)), like)]
    return torch.cat(rows).numpy()


def fit_and_score(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, seed: int) -> float:
    """Accuracy on (test_x, test_y) of a standardised logistic regression fitted on (train_x, train_y)."""
    return float(fit_classifier(train_x, train_y, seed).score(test_x, test_y))


def fit_classifier(train_x: np.ndarray, train_y: np.ndarray, seed: int):
    """A standardised logistic regression (scikit-learn pipeline) fitted on (train_x (n, F), train_y (n,))."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=MAX_ITER, random_state=seed))
    return probe.fit(train_x, train_y)


# --- registered metrics (keys of ``linear_probe``) -------------------------------------------------

register_metric(Metric("probe_accuracy", "linear probe accuracy", "probe", order="higher_is_better", headline=True))
register_metric(Metric("raw_probe_accuracy", "the same probe on the raw inputs", "probe"))
register_metric(Metric("chance_accuracy", "chance (most common label)", "probe"))
register_metric(Metric("probe_train_examples", "probe training examples", "probe"))
register_metric(Metric("probe_test_examples", "probe test examples", "probe"))
