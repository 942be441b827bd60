"""Everything ``vaekit eval`` reports about a trained run, as one flat JSON-ready dict."""

from __future__ import annotations

import dataclasses
import time

import torch

from ..data.array import ArrayData
from ..data.binarize import binarize_once, is_binary
from ..errors import UserError
from ..evaluation.codebook import codebook_evaluation
from ..evaluation.conditional import conditional_sample_accuracy
from ..evaluation.diagnostics import latent_diagnostics
from ..evaluation.likelihood import evaluate
from ..evaluation.probe import linear_probe
from .disentangle import evaluation_scores
from ..rundir import RunDir
from ..training import distributed
from .open import EvaluationData, open_run
from .prepared import binarize_seed, resolve_device


def evaluate_run(evaluated: EvaluationData, k: int = 0, seed: int = 0, examples: int | None = None,
                 sharded: bool = False) -> dict:
    """The numbers of ``evaluated.model`` on ``evaluated.data`` (its test or validation split), or on its
    first ``examples`` examples (file order; for costly models where the whole split does not fit
    the time at hand: eval.json's ``examples`` says how many were scored).

    Keys (every number names its unit, or is a count or an accuracy):

    - from ``vaekit.evaluation.likelihood.evaluate``: elbo_nats, log_px_z_nats, kl_nats (an autoencoder:
      log_px_z_nats only), with k > 0 log_px_nats and nll_nats, for images the bits per dimension;
      k, seed, examples, and likelihood_seconds (its time).
    - from ``vaekit.evaluation.diagnostics.latent_diagnostics``: active_units, active_unit_threshold,
      posterior_mean_variance (D floats), kl_per_dim_nats (D floats; models with a prior),
      reconstruction_mse, psnr_db (images).
    - from ``vaekit.evaluation.codebook.codebook_evaluation`` on the same split (a VQ-VAE: per codebook the
      usage, the share of codes used, the perplexity and the dead codes, and code_counts, the histogram;
      none for a VAE).
    - from ``vaekit.evaluation.probe.linear_probe``, when both splits have labels: probe_accuracy,
      raw_probe_accuracy, chance_accuracy, probe_train_examples, probe_test_examples.
    - for a conditional model, from ``vaekit.evaluation.conditional.conditional_sample_accuracy``:
      conditional_sample_accuracy, sample_classifier_test_accuracy, sample_classifier_chance, and counts.
    - from ``vaekit.runs.disentangle.evaluation_scores``, when the split has ground-truth factors: the
      disentanglement metrics with their fast sample counts (beta_vae_score, factor_vae_score, mig, sap,
      dci_*, modularity, explicitness_*, gaussian_total_correlation_nats; 'vaekit disentangle' for the
      full counts).
    - data, split, binarize (``evaluated.describe()``); seconds: the whole evaluation's wall time.

    Each metric's key, label and format are registered in ``vaekit.evaluation.metrics.METRICS``.

    ``sharded``: called on every process of a torch.distributed group, which share the likelihood's
    batches (one random stream per batch, the same numbers whatever the number of processes); the
    other numbers are computed by every process alike.
    """
    started = time.perf_counter()
    evaluated = first_examples(evaluated, examples)
    results = evaluate(evaluated.model, evaluated.data, k=k, seed=seed, sharded=sharded)
    results["likelihood_seconds"] = results.pop("seconds")
    results.update(latent_diagnostics(evaluated.model, evaluated.data, seed=seed))
    results.update(codebook_evaluation(evaluated.model, evaluated.data))  # a VQ-VAE: codebook health; nothing otherwise
    if evaluated.train is not None:
        results.update(linear_probe(evaluated.model, probe_training_data(evaluated), evaluated.data, seed=seed) or {})
    if evaluated.model.classes and evaluated.model.prior is not None and evaluated.train is not None:  # do samples show their class?
        results.update(conditional_sample_accuracy(evaluated.model, evaluated.train, evaluated.data, seed=seed) or {})
    if getattr(evaluated.data, "factors", None) is not None:  # data with ground-truth factors: the cheap metrics
        results.update(evaluation_scores(evaluated.model, evaluated.data, seed))
    results.update(evaluated.describe())
    results["seconds"] = time.perf_counter() - started
    return results


def evaluate_run_dir(run_dir, device: str = "auto", data_spec=None, k: int = 0, seed: int = 0,
                     examples: int | None = None) -> dict | None:
    """``evaluate_run`` on the run folder's best model (``open_run``), written to its eval.json
    (``RunDir.write_evaluation``). Under torchrun every process scores a share of the batches and
    global rank 0 writes; the results on rank 0, None on the others."""
    try:
        joined_device = distributed.join(resolve_device(device, "--device"))
        evaluated = open_run(run_dir, str(joined_device), data_spec)
        results = evaluate_run(evaluated, k=k, seed=seed, examples=examples, sharded=distributed.joined())
        first = distributed.is_first()
    finally:
        distributed.leave()
    if not first:
        return None
    RunDir(run_dir).write_evaluation(results)
    return results


def first_examples(evaluated: EvaluationData, examples: int | None) -> EvaluationData:
    """``evaluated`` with only the first ``examples`` examples of its split (None: all of them)."""
    if examples is None:
        return evaluated
    if not 1 <= examples <= len(evaluated.data):
        raise UserError(f"--examples must be between 1 and the {len(evaluated.data)} examples of the "
                        f"{evaluated.split} split, got {examples}")
    return dataclasses.replace(evaluated, data=evaluated.data.subset(torch.arange(examples)))


def probe_training_data(evaluated: EvaluationData) -> ArrayData:
    """The training split as the probe should see it: like the evaluation split.

    Under dynamic binarisation the training split is kept grey (batches are resampled in
    training) while the evaluation split is binarised once; a probe fitted on grey inputs and
    scored on binary ones would measure the mismatch, so the training split is then binarised
    once too, with the seed a static run would use for it.
    """
    train = evaluated.train
    if is_binary(evaluated.data) and not is_binary(train):
        return binarize_once(train, binarize_seed(evaluated.config, "train"))
    return train
