"""VQ-VAE codebook use in short runs: how much of its codebook a short run uses, per quantizer setting.

    python benchmarks/vq_codebook_use.py --data digits --epochs 3 VARIANT ...
    python benchmarks/vq_codebook_use.py --data fashion-mnist --epochs 3 --steps 50 --prior-epochs 0 VARIANT ...

Each VARIANT is a name of VARIANTS (the settings below, over the model's defaults: ``vaekit train
--model vqvae``); each run prints one JSON line: codebook use on the validation split after every epoch
(metrics.csv), on the test split at the end (usage, perplexity, dead codes), the reconstruction
-log p(x|z_q) (nats per test image, binarised once) and, with a code prior fitted, the diversity of 16
samples (distinct code grids; mean pairwise distance of the decoded means). One torch thread.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

import vaekit
from vaekit.evaluation.codebook import codebook_statistics
from vaekit.latent.encode import sample_latents
from vaekit.nn.modes import eval_mode

# name -> model.quantizer settings over the defaults; "before" are the defaults of vaekit 0.2.
VARIANTS = {
    "before": {"restart": 100, "init": "uniform", "commitment": 0.25, "ema": False},
    "restart1": {"restart": 1, "init": "uniform", "commitment": 0.25, "ema": False},
    "restart5": {"restart": 5, "init": "uniform", "commitment": 0.25, "ema": False},
    "restart10": {"restart": 10, "init": "uniform", "commitment": 0.25, "ema": False},
    "kmeans": {"restart": 100, "init": "kmeans", "commitment": 0.25, "ema": False},
    "kmeans-restart5": {"restart": 5, "init": "kmeans", "commitment": 0.25, "ema": False},
    "kmeans-restart10": {"restart": 10, "init": "kmeans", "commitment": 0.25, "ema": False},
    "ema-restart10": {"restart": 10, "init": "uniform", "commitment": 0.25, "ema": True},
    "ema-kmeans-restart10": {"restart": 10, "init": "kmeans", "commitment": 0.25, "ema": True},
    "rotation-restart10": {"restart": 10, "init": "uniform", "commitment": 0.25, "gradient": "rotation"},
    "cosine-kmeans-restart10": {"restart": 10, "init": "kmeans", "cosine": True},
    "restart2": {"restart": 2, "init": "uniform", "commitment": 0.25, "ema": False},
    "ema-restart1": {"restart": 1, "init": "uniform", "commitment": 0.25, "ema": True},
    "ema-restart2": {"restart": 2, "init": "uniform", "commitment": 0.25, "ema": True},
    "ema-restart5": {"restart": 5, "init": "uniform", "commitment": 0.25, "ema": True},
    "restart2-commit1": {"restart": 2, "init": "uniform", "commitment": 1.0, "ema": False},
    "ema-restart2-commit1": {"restart": 2, "init": "uniform", "commitment": 1.0, "ema": True},
    "after": {},  # the current defaults
}
SAMPLES = 16


def measure(data: str, variant: str, epochs: int, steps: int, prior_epochs: int, seed: int) -> dict:
    quantizer = {"name": "nearest", **VARIANTS[variant]}
    config = vaekit.Config().replace(
        model={"name": "vqvae", "quantizer": quantizer, "code_prior": {"epochs": prior_epochs}},
        train={"epochs": epochs, "steps_per_epoch": steps, "seed": seed, "device": "cpu", "report": False})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        run = vaekit.train(config, data=data, out=Path(folder) / "run")
        rows = [line.split(",") for line in (run.dir / "metrics.csv").read_text().splitlines()]
    header, rows = rows[0], rows[1:]
    val_usage = [round(float(row[header.index("codebook_usage")]), 3) for row in rows]
    model, test = run.model, run.data.test
    result = {"data": data, "variant": variant, "settings": quantizer, "epochs": epochs, "steps_per_epoch": steps,
              "seed": seed, "val_usage_by_epoch": val_usage, "seconds": round(time.perf_counter() - started, 1),
              **{f"test_{key}": value for key, value in codebook_statistics(model, test).items()},
              "test_nll_x_given_zq": reconstruction_nats(model, test)}
    if model.prior is not None:
        result.update(sample_diversity(model, seed))
    return result


@torch.no_grad()
def reconstruction_nats(model, data, batch_size: int = 1000) -> float:
    """-log p(x | z_q(x)), nats per example, mean over ``data``."""
    total = 0.0
    with eval_mode(model):
        for start in range(0, len(data), batch_size):
            x = data.inputs(slice(start, start + batch_size))
            total += float(-model.decode(model.encode(x).mean).log_prob(x).sum())
    return total / len(data)


def sample_diversity(model, seed: int) -> dict:
    """Distinct code grids among SAMPLES draws of the code prior and the mean pairwise L2 distance of their decoded means."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        z, means = sample_latents(model, SAMPLES)
    distinct = len({tuple(row.tolist()) for row in z})
    flat = means.flatten(1).double()
    pairwise = torch.cdist(flat, flat)
    mean_distance = float(pairwise.sum() / (SAMPLES * (SAMPLES - 1)))
    return {"distinct_samples": distinct, "sample_mean_pairwise_l2": round(mean_distance, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", choices=list(VARIANTS))
    parser.add_argument("--data", default="digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=0, help="train.steps_per_epoch (0: full passes)")
    parser.add_argument("--prior-epochs", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    torch.set_num_threads(1)
    for variant in args.variants:
        for seed in args.seeds:
            print(json.dumps(measure(args.data, variant, args.epochs, args.steps, args.prior_epochs, seed)), flush=True)


if __name__ == "__main__":
    main()
