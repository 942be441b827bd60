"""Training curves: the ELBO and the KL per epoch, in nats per example."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .grids import plt, save_figure


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
    return save_figure(fig, path)
