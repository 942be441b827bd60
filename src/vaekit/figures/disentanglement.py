"""Disentanglement figures: the latent x factor mutual information, a traversal of each factor's
most informative dimension, and that dimension against the factor's value."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .grids import plt, save_figure
from .latent import row_grid


def dimension_order(information: np.ndarray) -> np.ndarray:
    """(D,) dimensions grouped by the factor they inform most (factor order), the most informative
    first within each group, so a disentangled code shows a staircase."""
    best = information.argmax(1)
    return np.lexsort((-information.max(1), best))


def information_heatmap(information, factor_names: Sequence[str], path: str | Path) -> Path:
    """Heatmap of the (D, K) mutual information in nats, dimensions ordered by ``dimension_order``."""
    information = np.asarray(information, dtype=float)
    order = dimension_order(information)
    fig, ax = plt.subplots(figsize=(1.0 * len(factor_names) + 2.5, 0.35 * len(order) + 1.5))
    image = ax.imshow(information[order], cmap="viridis", aspect="auto", vmin=0)
    for row, d in enumerate(order):
        for column in range(information.shape[1]):
            value = information[d, column]
            ax.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if value < 0.5 * information.max() else "black")
    ax.set_xticks(range(len(factor_names)), factor_names)
    ax.set_yticks(range(len(order)), [f"z{d}" for d in order])
    ax.set(xlabel="factor", ylabel="latent dimension", title="mutual information, nats (20-bin histogram)")
    fig.colorbar(image, ax=ax, label="nats")
    return save_figure(fig, path)


def factor_traversal(decoded: torch.Tensor, labels: Sequence[str], path: str | Path, title: str = "") -> Path:
    """One labelled row per factor: decoded (K, steps, *shape) sweeping its most informative dimension."""
    return row_grid(list(decoded), labels, path, title)


def factor_scatter(values: Sequence[np.ndarray], codes: Sequence[np.ndarray], labels: Sequence[str],
                   path: str | Path) -> Path:
    """One panel per factor: its most informative dimension's code (y) against the factor's value (x)."""
    fig, axes = plt.subplots(1, len(labels), figsize=(3.0 * len(labels), 3.0), squeeze=False)
    for ax, x, y, label in zip(axes[0], values, codes, labels):
        ax.scatter(x, y, s=3, alpha=0.3)
        ax.set(xlabel=label.split(":")[0], ylabel=label.split(": ")[-1], title=label)
    fig.tight_layout()
    return save_figure(fig, path)
