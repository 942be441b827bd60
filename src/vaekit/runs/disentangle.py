"""Disentanglement of a trained run: every metric on its factor data, written to
RUN_DIR/disentanglement.json, and the figures in RUN_DIR/disentanglement/."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch

from ..data import load_data
from ..data.array import ArrayData
from ..data.binarize import binarize_once, resolve_mode
from ..errors import UserError
from ..evaluation.disentanglement.information import mutual_information_matrix
from ..evaluation.disentanglement.sampled import Representation, factor_sampler
from ..evaluation.disentanglement.suite import DEFAULTS, FAST, disentanglement_metrics
from ..evaluation.disentanglement.transfer import check_same_factors, transfer_score
from ..evaluation.metrics import metrics
from ..figures.names import DISENTANGLEMENT_FIGURES, figure_file
from ..figures.disentanglement import factor_scatter, factor_traversal, information_heatmap
from ..latent.encode import decode_mean
from ..rundir import RunDir
from ..training.checkpoint import load_model
from .prepared import binarize_seed, resolve_device, resolve_likelihood

SCATTER_POINTS, STEPS = 2000, 9


def factor_data(run_dir: Path, model, data_spec=None) -> ArrayData:
    """The run's data source (or ``data_spec``) with its ground-truth factors, every example of its
    training file, as the model's encoder saw them (binarised once with the test seed when training
    binarised them)."""
    config = RunDir(run_dir).read_config()
    spec = config.data.source if data_spec is None else data_spec
    if spec == "arrays":
        raise UserError(f"{run_dir}: this run was trained on arrays passed in Python; pass --data with factors")
    data = load_data(spec, config.data).train
    if getattr(data, "factors", None) is None:  # streamed image folders have none either
        raise UserError(f"{data.name}: these data have no ground-truth factors; pass --data dsprites or an .npz "
                        "with 'factors' (N, K) integer codes beside 'x'")
    if data.shape != model.data_shape:
        raise UserError(f"{data.name}: examples of shape {data.shape} do not fit this model's shape {model.data_shape}")
    if resolve_mode(config.data.binarize, resolve_likelihood(config.model.likelihood.name, data), data) != "none":
        data = binarize_once(data, binarize_seed(config, "test"))
    return data


def disentangle_run(run_dir: str | Path, data_spec=None, fast: bool = False, seed: int = 0,
                    device: str = "auto", transfer_to: str | None = None) -> dict:
    """Every metric of ``vaekit.disentanglement`` for the run's best model (its posterior mean) on
    its factor data; with ``transfer_to`` (a data spec with the same factors, e.g. a shifted
    rendering) also the zero-shot transfer score. Writes RUN_DIR/disentanglement.json and the
    figures, returns the results. Bad input fails before anything is computed or written."""
    started = time.perf_counter()
    run = RunDir.check(run_dir)
    run_dir = run.path
    model = load_model(run.weights, resolve_device(device, "--device"))[0]
    data = factor_data(run_dir, model, data_spec)
    target = transfer_target(run_dir, model, data, transfer_to) if transfer_to else None
    represent = Representation(model, data)
    results = disentanglement_metrics(represent, data, seed, fast, n_jobs=os.cpu_count() or 1)
    if target is not None:
        counts = FAST if fast else DEFAULTS
        results.update(transfer_score(model, data, target, seed, counts["num_train"], counts["num_test"],
                                      f"--transfer-to {transfer_to}"))
    results["representation"] = "posterior mean"
    results["figures"] = draw_figures(run.disentanglement_folder, model, data, seed,
                                      results["mutual_information_nats"], represent)
    results["seconds"]["with_figures"] = time.perf_counter() - started
    run.write_disentanglement(results)
    return results


def transfer_target(run_dir: Path, model, source: ArrayData, spec: str) -> ArrayData:
    """The data of ``--transfer-to SPEC``, checked: factors (names and sizes) and shape as the run's."""
    target = factor_data(run_dir, model, spec)
    check_same_factors(source, target, f"--transfer-to {spec}")
    return target


def evaluation_scores(model, data: ArrayData, seed: int = 0) -> dict:
    """The scores of ``disentanglement_metrics`` with its fast sizes on ``data`` (an evaluation split
    with factors: its rows are picked by shared value), for ``vaekit eval``; keys as there, plus
    disentanglement_settings ('fast') and disentanglement_seconds. The keys are those of the registered
    disentanglement metrics (``vaekit.evaluation.metrics``); the matrices stay in disentanglement.json.
    When the split cannot serve the metrics (a value with fewer rows than a batch), the reason as
    disentanglement_left_out."""
    try:
        results = disentanglement_metrics(model, data, seed, fast=True, n_jobs=os.cpu_count() or 1)
    except UserError as exc:
        return {"disentanglement_left_out": str(exc)}
    scores = {key: results[key] for metric in metrics("disentanglement") for key in metric.keys(results)}
    return {**scores, "disentanglement_settings": "fast", "disentanglement_seconds": results["seconds"]["total"]}


def draw_figures(folder: Path, model, data: ArrayData, seed: int = 0, information=None,
                 represent: Representation | None = None) -> list[str]:
    """The heatmap of the (D, K) mutual information (``information``, else computed from the sample),
    a traversal of each factor's most informative dimension over the codes' 2-98 % range around
    their median, and that dimension against the factor's value; from up to 2,000 examples (those
    ``represent`` already encoded, else random ones). Returns the PNG paths."""
    folder.mkdir(parents=True, exist_ok=True)
    represent = represent or Representation(model, data)
    rows = np.flatnonzero(represent.done)
    if len(rows) == 0:
        rows = np.unique(factor_sampler(data).sample(SCATTER_POINTS, np.random.default_rng(seed)))
    rows = np.random.default_rng(seed).choice(rows, size=min(SCATTER_POINTS, len(rows)), replace=False)
    codes, factors = represent(rows), data.factors[rows].numpy()  # (n, D), (n, K)
    information = mutual_information_matrix(codes, factors) if information is None else np.asarray(information)
    info = data.factor_info
    best = information.argmax(0)  # (K,): each factor's most informative dimension
    labels = [f"{name}: z{d}" for name, d in zip(info.names, best)]
    information_heatmap(information, info.names, folder / figure_file("mutual_information"))
    low, high = np.quantile(codes, 0.02, axis=0), np.quantile(codes, 0.98, axis=0)  # (D,)
    z = torch.from_numpy(np.median(codes, 0)).float().repeat(len(best), STEPS, 1)  # (K, steps, D)
    for k, d in enumerate(best):
        z[k, :, d] = torch.linspace(float(low[d]), float(high[d]), STEPS)
    factor_traversal(decode_mean(model, z).cpu(), labels, folder / figure_file("factor_traversal"),
                     "each row sweeps the factor's most informative dimension over its 2-98% range")
    values = [np.asarray(info.values[k])[factors[:, k]] for k in range(len(info.names))]
    factor_scatter(values, [codes[:, d] for d in best], labels, folder / figure_file("factor_scatter"))
    return [str(folder / figure_file(name)) for name in DISENTANGLEMENT_FIGURES]
