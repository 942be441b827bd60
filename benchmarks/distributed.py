"""Data-parallel training: the cost of DDP at world size 1 against the plain trainer, and 2 gloo
processes against 1 (on a 2-core CPU a correctness demo, not a speed-up: the two processes share
the same two cores that one process already uses).

Each system runs ``vaekit train`` on binarised Fashion-MNIST (``--train-size`` images; 784-512-256-16 MLP VAE, global batch 128, no
validation, no report, compile off so that every system runs the same eager step) in a fresh
process, the systems in alternation, ``--rounds`` times:

- plain: ``python -m vaekit train ...``
- ddp-1: ``python -m torch.distributed.run --standalone --nproc-per-node 1 -m vaekit train ...``
- gloo-2: the same with ``--nproc-per-node 2`` (torchrun gives each process OMP_NUM_THREADS=1)

samples/s of a run: the training examples over the fastest epoch after the first, from metrics.csv's
``seconds`` (the training pass, without the checkpoint write); of a system, the best of its rounds.
The last epoch's training ELBO shows that the runs learn the same (same global batches per step).

    python benchmarks/distributed.py [--epochs 3] [--rounds 2] [--train-size 60000] [--device cpu] [--name NAME]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

LAUNCH = {
    "plain": [],
    "ddp-1": ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1"],
    "gloo-2": ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"],
}


def run_system(name: str, args, out: Path) -> dict:
    python = sys.executable
    launch = LAUNCH[name] if name != "plain" else []
    train = ["train", "--data", str(args.data), "--set", "model.trunk.hidden=[512,256]",
             "--latent-dim", "16", "--batch-size", "128", "--epochs", str(args.epochs), "--set", "data.validation=none",
             "--set", "train.report=false", "--device", args.device, "--out", str(out)]
    command = [python, *launch, "-m", "vaekit", *train]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=common.ROOT, timeout=7200,
                          env={**os.environ, "VAEKIT_COMPILE": "0"})
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    seconds = [float(row["seconds"]) for row in rows]
    return {"system": name, "epoch_seconds": seconds, "best_rate": args.train_examples / min(seconds[1:] or seconds),
            "train_elbo_last": float(rows[-1]["train_elbo"]), "process_seconds": time.perf_counter() - started}


def training_images(n: int, work: Path) -> Path:
    """The first n Fashion-MNIST training images (binarised once, as every benchmark uses them) as a .npy file."""
    import numpy as np

    path = work / f"fashion-mnist-{n}.npy"
    np.save(path, common.load_data("train")[:n].astype(bool))  # bool: binary values, not 8-bit levels
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--train-size", type=int, default=60000, help="the first N training images")
    parser.add_argument("--name", default="", help="results/distributed-NAME.json (e.g. cuda)")
    args = parser.parse_args()
    args.train_examples = args.train_size
    runs = []
    with tempfile.TemporaryDirectory() as work:
        args.data = training_images(args.train_size, Path(work))
        for round_index in range(args.rounds):
            order = list(LAUNCH)[round_index % 3:] + list(LAUNCH)[:round_index % 3]  # rotate the order
            for name in order:
                result = run_system(name, args, Path(work) / f"{name}-{round_index}")
                common.log(f"round {round_index + 1} {name}: {result['best_rate']:.0f} samples/s, "
                           f"train ELBO {result['train_elbo_last']:.2f}")
                runs.append(result)
    best = {name: max(r["best_rate"] for r in runs if r["system"] == name) for name in LAUNCH}
    elbo = {name: [r["train_elbo_last"] for r in runs if r["system"] == name] for name in LAUNCH}
    result = {"machine": common.machine(), "args": {**vars(args), "data": str(args.data)}, "runs": runs, "best_rate": best, "train_elbo_last": elbo,
              "ddp1_over_plain": best["ddp-1"] / best["plain"], "gloo2_over_ddp1": best["gloo-2"] / best["ddp-1"]}
    path = common.save_result("distributed" + (f"-{args.name}" if args.name else ""), result)
    common.log(f"wrote {path}")
    for name in LAUNCH:
        print(f"{name:8s} {best[name]:10.0f} samples/s  train ELBO (last epoch) {elbo[name]}")
    print(f"DDP world size 1 / plain: {result['ddp1_over_plain']:.3f}; 2 gloo processes / 1: {result['gloo2_over_ddp1']:.3f}")


if __name__ == "__main__":
    main()
