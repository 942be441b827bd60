"""Out-of-distribution figures: per method, the score histograms (in-distribution against each other
set) and the ROC curves (one per other set), out-of-distribution as the positive class."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .grids import plt, save_figure

BINS = 50


def score_histograms(in_scores: np.ndarray, out_scores: dict[str, np.ndarray], label: str, title: str,
                     path: str | Path) -> Path:
    """Density histograms on shared bins between the 1st and 99th percentile of all scores (outliers in the
    end bins), so that one extreme set does not squeeze the rest into a bar."""
    every = np.concatenate([in_scores, *out_scores.values()])
    finite = every[np.isfinite(every)]
    low, high = np.percentile(finite, [1, 99]) if len(finite) else (0.0, 1.0)
    edges = np.linspace(low, high if high > low else low + 1, BINS + 1)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, scores in [("in-distribution", in_scores), *out_scores.items()]:
        ax.hist(np.clip(scores, edges[0], edges[-1]), bins=edges, density=True, histtype="step", linewidth=1.5,
                label=f"{name} ({len(scores)})")
    ax.set(xlabel=label, ylabel="density", title=title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return save_figure(fig, path)


def roc_figure(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], title: str, path: str | Path) -> Path:
    """``curves``: set name -> (fpr, tpr, auroc)."""
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, (fpr, tpr, auroc) in curves.items():
        ax.plot(fpr, tpr, label=f"{name} (AUROC {auroc:.3f})")
    ax.plot([0, 1], [0, 1], color="0.7", linestyle=":", linewidth=1)
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title=title, xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    return save_figure(fig, path)
