"""Conditional sample accuracy: do the samples a conditional model draws for class c look like class c?

A classifier (the linear probe's classifier on the raw inputs: a standardised logistic regression on
the flattened inputs) is fitted on the real training data; then ``per_class`` samples are drawn for
each class the training data hold, and the score is the share of them the classifier assigns to
the class they were drawn for. The same classifier's accuracy on the real test data stands beside
it for scale (a sample score near it means samples as recognisable as real data).
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.array import ArrayData
from ..nn.modes import eval_mode
from ..seeding import seeded
from .probe import fit_classifier, flat_inputs, subsample
from .metrics import Metric, register_metric


def conditional_sample_accuracy(model, train: ArrayData, test: ArrayData | None, per_class: int = 100,
                                seed: int = 0, max_train: int = 5000) -> dict | None:
    """JSON-ready numbers, or None when the training data have no labels.

    - ``conditional_sample_accuracy``: share of the samples drawn for class c (decoded means,
      ``model.sample(per_class, labels=c)``) that the classifier assigns to c. An unconditional model
      takes no label: its samples are scored against the class of their draw, which measures chance.
    - ``sample_classifier_test_accuracy``: the classifier's accuracy on the real test data (when labelled).
    - ``sample_classifier_chance``: 1 / number of classes (the samples are balanced over classes).
    - ``conditional_samples_per_class``, ``sample_classifier_train_examples``: counts.

    The classifier sees at most ``max_train`` training examples (a seeded subset) in the units the model
    takes (grey levels where training binarises dynamically, since the samples are means too).
    """
    if train.labels is None:
        return None
    train = train.subset(subsample(len(train), max_train, seed)) if len(train) > max_train else train
    classifier = fit_classifier(flat_inputs(train), train.labels.cpu().numpy(), seed)
    classes = train.labels.unique().cpu()  # (L,)
    parameter = next(model.parameters())
    with torch.no_grad(), seeded(seed, parameter.device), eval_mode(model):
        samples = [model.sample(per_class, labels=int(c) if model.classes else None) for c in classes]
    flat = torch.cat(samples).flatten(1).double().cpu().numpy()  # (L * per_class, F)
    targets = classes.repeat_interleave(per_class).numpy()
    result = {
        "conditional_sample_accuracy": float(np.mean(classifier.predict(flat) == targets)),
        "sample_classifier_chance": 1.0 / len(classes),
        "conditional_samples_per_class": per_class,
        "sample_classifier_train_examples": len(train),
    }
    if test is not None and test.labels is not None and len(test):
        result["sample_classifier_test_accuracy"] = float(classifier.score(flat_inputs(test), test.labels.cpu().numpy()))
    return result


# --- registered metrics (keys of ``conditional_sample_accuracy``) ---------------------------------

register_metric(Metric("conditional_sample_accuracy", "samples classified as the class drawn for", "conditional",
                       order="higher_is_better", headline=True))
register_metric(Metric("sample_classifier_test_accuracy", "the same classifier on real test data", "conditional",
                       headline=True))
register_metric(Metric("sample_classifier_chance", "chance (one over the classes)", "conditional"))
register_metric(Metric("conditional_samples_per_class", "samples per class", "conditional"))
register_metric(Metric("sample_classifier_train_examples", "classifier training examples", "conditional"))
