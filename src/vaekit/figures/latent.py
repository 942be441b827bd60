"""PNG figures of the latent tools: labelled rows of decoded examples, the 2-D latent map and the
decoded manifold. Built on ``figures``: the same picture conversion (images as they are, table
rows as strips) and the same atomic save."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .grids import as_pictures, image_grid, plt, save_figure, tile_pictures

MAX_LEGEND_CLASSES = 20  # more distinct labels than this get a colorbar instead of a legend


def row_grid(rows: Sequence[torch.Tensor], labels: Sequence[str], path: str | Path, title: str = "") -> Path:
    """One labelled row of pictures per tensor in ``rows`` (each (n_i, *shape)).

    All rows share one grey scale: real-valued data are stretched over the range of all rows
    together, so that rows (clean and noisy inputs, say) compare by eye.
    """
    if len(rows) != len(labels):
        raise ValueError(f"{len(rows)} rows but {len(labels)} labels")
    pictures = as_pictures(torch.cat([row.detach().cpu() for row in rows]))  # (sum n_i, C, H, W)
    sizes = np.cumsum([0] + [len(row) for row in rows])
    canvases = [tile_pictures(pictures[start:end], end - start) for start, end in zip(sizes[:-1], sizes[1:])]
    height = sum(c.shape[0] for c in canvases)
    width = max(c.shape[1] for c in canvases)
    scale = min(0.5, 12.0 / width)  # inches per pixel: small images large enough, wide rows within 12 in
    fig, axes = plt.subplots(len(rows), 1, squeeze=False,
                             figsize=(max(width * scale, 3) + 1.5, height * scale + 0.3 * len(rows) + (0.4 if title else 0)))
    for ax, canvas, label in zip(axes[:, 0], canvases, labels):
        ax.imshow(canvas.squeeze(-1) if canvas.shape[-1] == 1 else canvas, cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def latent_scatter(
    coords: torch.Tensor, labels: torch.Tensor | None, path: str | Path, title: str, axes: tuple[str, str]
) -> Path:
    """Scatter of points (M, 2), coloured by integer labels (M,) when given: a legend for up to
    20 distinct labels, else a colorbar."""
    coords = np.asarray(coords, dtype=float)
    fig, ax = plt.subplots(figsize=(6, 5))
    size = float(np.clip(2000 / max(len(coords), 1), 2, 30))  # smaller points for crowded maps
    if labels is None:
        ax.scatter(coords[:, 0], coords[:, 1], s=size, alpha=0.7)
    else:
        labels = np.asarray(labels)
        classes = np.unique(labels)
        if len(classes) <= MAX_LEGEND_CLASSES:
            colours = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
            for i, label in enumerate(classes):
                chosen = labels == label
                ax.scatter(coords[chosen, 0], coords[chosen, 1], s=size, alpha=0.7, color=colours(i), label=str(label))
            ax.legend(title="label", loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=max(1.0, 20 / size))
        else:
            points = ax.scatter(coords[:, 0], coords[:, 1], s=size, alpha=0.7, c=labels, cmap="viridis")
            fig.colorbar(points, ax=ax, label="label")
    ax.set(xlabel=axes[0], ylabel=axes[1], title=title)
    return save_figure(fig, path)


def manifold_figure(decoded: torch.Tensor, path: str | Path, title: str = "") -> Path:
    """A grid of decoded means (n, n, *shape): row r, column c shows decoded[r, c]."""
    n = decoded.shape[1]
    return image_grid(decoded.reshape(-1, *decoded.shape[2:]), path, n, title)


def kl_bar_chart(kl_per_dim, variance, threshold: float, path: str | Path) -> Path:
    """Mean KL per latent dimension (nats), largest first; active units (posterior-mean variance over
    the data above ``threshold``) in a darker colour."""
    kl, variance = np.asarray(kl_per_dim), np.asarray(variance)
    order = np.argsort(-kl, kind="stable")
    colours = ["#1f5f9f" if variance[d] > threshold else "#a9c4de" for d in order]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * len(kl) + 1.5), 3.2))
    ax.bar(range(len(kl)), kl[order], color=colours)
    ax.set_xticks(range(len(kl)), [f"z{d}" for d in order], rotation=90 if len(kl) > 12 else 0)
    ax.set(ylabel="mean KL, nats", title=f"KL per latent dimension (dark: active, Var[E q(z|x)] > {threshold:g})")
    return save_figure(fig, path)
