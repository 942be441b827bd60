"""Disentanglement of a trained run: every metric on its factor data, written to
RUN_DIR/disentanglement.json, and the figures in RUN_DIR/disentanglement/."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch

from ..config import load_config
from ..data import load_data
from ..data.array import ArrayData
from ..data.binarize import binarize_once, resolve_mode
from ..errors import UserError
from ..evaluation.disentanglement import Representation, disentanglement_metrics
from ..figures.disentanglement import factor_scatter, factor_traversal, information_heatmap
from ..io import atomic_write_json
from ..latent.encode import decode_mean
from ..training.checkpoint import load_model
from .prepared import binarize_seed, resolve_device, resolve_likelihood

FIGURES = ("mutual_information.png", "factor_traversal.png", "factor_scatter.png")
SCATTER_POINTS, STEPS = 2000, 9


def factor_data(run_dir: Path, model, data_spec=None) -> ArrayData:
    """The run's data source (or ``data_spec``) with its ground-truth factors, every example of its
    training file, as the model's encoder saw them (binarised once with the test seed when training
    binarised them)."""
    config = load_config(run_dir / "config.yaml")
    spec = config.data.source if data_spec is None else data_spec
    if spec == "arrays":
        raise UserError(f"{run_dir}: this run was trained on arrays passed in Python; pass --data with factors")
    data = load_data(spec, config.data).train
    if data.factors is None:
        raise UserError(f"{data.name}: these data have no ground-truth factors; pass --data dsprites or an .npz "
                        "with 'factors' (N, K) integer codes beside 'x'")
    if data.shape != model.data_shape:
        raise UserError(f"{data.name}: examples of shape {data.shape} do not fit this model's shape {model.data_shape}")
    if resolve_mode(config.data.binarize, resolve_likelihood(config.model.likelihood, data), data) != "none":
        data = binarize_once(data, binarize_seed(config, "test"))
    return data


def disentangle_run(run_dir: str | Path, data_spec=None, fast: bool = False, seed: int = 0,
                    device: str = "auto") -> dict:
    """Every metric of ``vaekit.disentanglement`` for the run's best model (its posterior mean) on
    its factor data; writes RUN_DIR/disentanglement.json and the figures, returns the results."""
    started = time.perf_counter()
    run_dir = Path(run_dir)
    if not (run_dir / "model.safetensors").is_file():
        raise UserError(f"{run_dir}: no model.safetensors here; pass a run folder written by 'vaekit train'")
    model = load_model(run_dir / "model.safetensors", resolve_device(device))[0]
    data = factor_data(run_dir, model, data_spec)
    represent = Representation(model, data)
    results = disentanglement_metrics(represent, data, seed, fast, n_jobs=os.cpu_count() or 1)
    results["representation"] = "posterior mean"
    results["figures"] = draw_figures(run_dir / "disentanglement", model, data, represent, results, seed)
    results["seconds"]["with_figures"] = time.perf_counter() - started
    atomic_write_json(run_dir / "disentanglement.json", results)
    return results


def draw_figures(folder: Path, model, data: ArrayData, represent: Representation, results: dict, seed: int) -> list[str]:
    """The heatmap, the traversal of each factor's most informative dimension and its scatter."""
    folder.mkdir(parents=True, exist_ok=True)
    information = np.asarray(results["mutual_information_nats"])  # (D, K)
    names, info = results["factor_names"], data.factor_info
    best = information.argmax(0)  # (K,): each factor's most informative dimension
    labels = [f"{name}: z{d}" for name, d in zip(names, best)]
    information_heatmap(information, names, folder / FIGURES[0])
    rows = np.flatnonzero(represent.done)  # the examples the metrics encoded
    rows = np.random.default_rng(seed).choice(rows, size=min(SCATTER_POINTS, len(rows)), replace=False)
    codes, factors = represent(rows), data.factors[rows].numpy()
    low, high = np.quantile(codes, 0.02, axis=0), np.quantile(codes, 0.98, axis=0)  # (D,): the codes' range
    base = torch.from_numpy(np.median(codes, 0)).float()  # (D,): a typical code
    z = base.repeat(len(best), STEPS, 1)  # (K, steps, D)
    for k, d in enumerate(best):
        z[k, :, d] = torch.linspace(float(low[d]), float(high[d]), STEPS)
    factor_traversal(decode_mean(model, z).cpu(), labels, folder / FIGURES[1],
                     "each row sweeps the factor's most informative dimension over its 2-98% range")
    values = [np.asarray(info.values[k])[factors[:, k]] for k in range(len(names))]
    factor_scatter(values, [codes[:, d] for d in best], labels, folder / FIGURES[2])
    return [str(folder / name) for name in FIGURES]
