"""PNG figures: image grids, table rows and training curves (matplotlib, no display needed)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from .io import atomic_path  # noqa: E402


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as temporary:
        fig.savefig(temporary, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _tile(images: np.ndarray, columns: int) -> np.ndarray:
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
    canvas = _tile(as_pictures(x), columns)
    height, width = canvas.shape[:2]
    scale = max(4.0 / max(height, width), 0.02)
    fig, ax = plt.subplots(figsize=(max(width * scale, 3), max(height * scale, 1) + (0.4 if title else 0)))
    ax.imshow(canvas.squeeze(-1) if canvas.shape[-1] == 1 else canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return _save(fig, path)


def comparison_grid(originals: torch.Tensor, reconstructions: torch.Tensor, path: str | Path, title: str = "") -> Path:
    """Originals (top of each pair of rows) above their reconstructions."""
    columns = min(len(originals), 8)
    rows = []
    for start in range(0, len(originals), columns):
        rows += [originals[start : start + columns], reconstructions[start : start + columns]]
    return image_grid(torch.cat(rows), path, columns, title)


def training_curves(history: list[dict], path: str | Path) -> Path:
    """ELBO (train and validation) and KL per epoch, in nats per example."""
    epochs = [row["epoch"] for row in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    for key, label in [("train_elbo", "train"), ("val_elbo", "validation"), ("train_log_px_z", "train log p(x|z)")]:
        if any(key in row for row in history):
            left.plot(epochs, [row.get(key, np.nan) for row in history], marker=".", label=label)
    left.set(xlabel="epoch", ylabel="nats per example", title="ELBO" if "train_elbo" in history[0] else "log p(x|z)")
    left.legend()
    for key, label in [("train_kl", "train"), ("val_kl", "validation")]:
        if any(key in row for row in history):
            right.plot(epochs, [row.get(key, np.nan) for row in history], marker=".", label=label)
    right.set(xlabel="epoch", ylabel="nats per example", title="KL(q(z|x) || p(z))")
    if right.lines:
        right.legend()
    fig.tight_layout()
    return _save(fig, path)
