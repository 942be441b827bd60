"""Time of the full disentanglement metric set for one model on dSprites (CPU), per metric.

Builds the model of the beta-TCVAE paper's dSprites MLP (4096-1200-1200-10, Bernoulli) and,
with --trunk conv, disentanglement_lib's convolutional encoder (32-32-64-64 channels, latent 10),
seeded weights (the metrics' cost depends on the data and sample counts, not on training; the codes
are divided by their spread, see ``standardised``), and
runs ``vaekit.disentanglement.disentanglement_metrics`` on ``--data dsprites`` with the default
sample counts (disentanglement_lib's) and with --fast ones. Rendering / reading the dSprites cache is
timed apart. Records wall-clock and CPU seconds per metric: on a shared machine the wall clock
measures the other jobs too, while the CPU seconds bound what an idle machine needs (at most the CPU
seconds; about half of them for the parts that use both cores). DCI runs in --jobs worker processes
as ``vaekit disentangle`` runs it (default one per CPU; their CPU seconds are not this process's, so
such a row is judged by its wall clock), or with --jobs 1 in this process, every CPU second counted. Writes results/disentanglement_speed.json.

    python benchmarks/disentanglement_speed.py [--trunk mlp conv] [--sizes default fast] [--threads N] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import time

import common

TRUNKS = {"mlp": {"trunk": "mlp", "hidden": (1200, 1200)}, "conv": {"trunk": "conv", "channels": (32, 32, 64, 64)}}


def build(trunk: str):
    import torch

    from vaekit.config import ModelConfig
    from vaekit.models.model import build_model

    torch.manual_seed(0)
    return build_model(ModelConfig(latent_dim=10, likelihood="bernoulli", **TRUNKS[trunk]), (1, 64, 64))


def standardised(model, data):
    """The model's posterior mean divided by its spread over 1,000 examples: seeded weights give codes
    of small spread, which the FactorVAE score would prune; a trained model's codes spread out. The
    cost is the model's encoder pass, as for ``Representation(model, ...)``."""
    import numpy as np
    import torch

    from vaekit.evaluation.disentanglement.sampled import model_encoder

    encode = model_encoder(model)
    spread = encode(data.inputs(torch.arange(0, len(data), len(data) // 1000))).std(0) + 1e-12  # (D,)
    return lambda x: encode(x) / spread.astype(np.float32)


def merged(previous: dict | None, rows: list[dict]) -> list[dict]:
    """The stored rows, each replaced by a new one for the same encoder and counts."""
    keys = {(row["trunk"], row["sizes"]) for row in rows}
    kept = [row for row in (previous or {}).get("rows", []) if (row["trunk"], row["sizes"]) not in keys]
    return kept + rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trunk", nargs="+", default=["mlp"], choices=sorted(TRUNKS))
    parser.add_argument("--sizes", nargs="+", default=["fast", "default"], choices=["fast", "default"])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes for DCI's classifiers (default: one per CPU, as vaekit disentangle; 1: every CPU "
                             "second is counted)")
    parser.add_argument("--name", default="disentanglement_speed")
    args = parser.parse_args()
    import torch

    from vaekit.data import load_data
    from vaekit.disentanglement import disentanglement_metrics

    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    data = load_data("dsprites", None).train
    load_seconds = time.perf_counter() - started
    print(f"dsprites: {len(data)} images loaded in {load_seconds:.1f} s")
    rows = []
    for trunk in args.trunk:
        for sizes in args.sizes:
            encoder = standardised(build(trunk), data)
            results = disentanglement_metrics(encoder, data, seed=0, fast=sizes == "fast", n_jobs=args.jobs)
            rows.append({"trunk": trunk, "sizes": sizes, "jobs": args.jobs, "seconds": results["seconds"],
                         "cpu_seconds": results["cpu_seconds"],
                         "encoded_examples": results["samples"]["encoded_examples"], "settings": results["settings"]})
            parts = ", ".join(f"{k} {v:.1f}" for k, v in results["seconds"].items())
            print(f"{trunk} {sizes}: {results['seconds']['total']:.1f} s in all, {results['cpu_seconds']['total']:.1f} "
                  f"CPU s ({parts}); "
                  f"{results['samples']['encoded_examples']} distinct images encoded")
            rows_so_far = merged(common.load_result(args.name), rows)  # saved after each run: a long one may be cut short
            path = common.save_result(args.name, {"machine": common.machine(), "load_seconds": load_seconds,
                                                  "rows": rows_so_far})
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
