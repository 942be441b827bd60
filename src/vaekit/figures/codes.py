"""The histogram of code use of a VQ-VAE: one panel per codebook, codes by frequency."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .grids import plt, save_figure


def code_use_histogram(counts, perplexities, path: str | Path) -> Path:
    """``counts`` (S, K): how often each of the K codes of each of S codebooks was chosen. Each panel
    shows the codes' shares of use, most used first, on a log scale; its title gives the codes used
    and ``perplexities`` (S,), as evaluation computed them (``vaekit.evaluation.codebook.perplexity``:
    the number of equally used codes with the same entropy)."""
    counts = np.asarray(counts, dtype=float)
    fig, axes = plt.subplots(len(counts), 1, squeeze=False, figsize=(7, 2.2 * len(counts) + 0.4))
    for stage, (ax, row, perplexity) in enumerate(zip(axes[:, 0], counts, perplexities)):
        share = np.sort(row)[::-1] / max(row.sum(), 1)
        used = share[share > 0]
        ax.bar(np.arange(len(share)), share, width=1.0, color="#1f5f9f")
        ax.set_yscale("log")
        name = "codebook" if len(counts) == 1 else f"codebook {stage + 1}"
        ax.set(ylabel="share of use", title=f"{name}: {len(used)} of {len(row)} codes used, perplexity {perplexity:.1f}")
    axes[-1, 0].set_xlabel("codes, most used first")
    return save_figure(fig, path)
