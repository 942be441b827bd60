"""PNG figures: image grids and table rows (matplotlib, no display needed), and the saving every figure shares."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ..files import atomic_path  # noqa: E402


def save_figure(fig, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as temporary:
        fig.savefig(temporary, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def tile_pictures(images: np.ndarray, columns: int) -> np.ndarray:
    """(N, C, H, W) in [0, 1] -> one (rows*H, columns*W, C) picture with 1-pixel gaps."""
    n, c, h, w = images.shape
    rows = math.ceil(n / columns)
    canvas = np.ones((rows * (h + 1) - 1, columns * (w + 1) - 1, c))
    for i, image in enumerate(images):
        top, left = (i // columns) * (h + 1), (i % columns) * (w + 1)
        canvas[top : top + h, left : left + w] = image.transpose(1, 2, 0)
    return canvas


def as_pictures(x: torch.Tensor) -> np.ndarray:
    """(N, *shape) -> (N, C, H, W) in [0, 1] for display: images as they are, flat rows as one strip."""
    x = x.detach().float().cpu()
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4:
        x = x.reshape(len(x), 1, 1, -1)
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 1:  # real-valued data: stretch to the shown range
        x = (x - low) / max(high - low, 1e-12)
    return x.numpy()


def image_grid(x: torch.Tensor, path: str | Path, columns: int = 8, title: str = "") -> Path:
    """Save (N, *shape) examples as one grid."""
    canvas = tile_pictures(as_pictures(x), columns)
    height, width = canvas.shape[:2]
    scale = max(4.0 / max(height, width), 0.02)
    fig, ax = plt.subplots(figsize=(max(width * scale, 3), max(height * scale, 1) + (0.4 if title else 0)))
    ax.imshow(canvas.squeeze(-1) if canvas.shape[-1] == 1 else canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def comparison_grid(originals: torch.Tensor, reconstructions: torch.Tensor, path: str | Path, title: str = "") -> Path:
    """Originals (top of each pair of rows) above their reconstructions."""
    columns = min(len(originals), 8)
    rows = []
    for start in range(0, len(originals), columns):
        rows += [originals[start : start + columns], reconstructions[start : start + columns]]
    return image_grid(torch.cat(rows), path, columns, title)
