"""Training speed, quality and memory: vaekit against pythae and the tutorial loop, in alternation.

For each model (784-400-20, 784-512-256-16) and batch size (128, 1024), every round trains each
system once, in a fresh process, for the same number of epochs on the same binarised
Fashion-MNIST; the order of the systems rotates from round to round. Each run reports its epoch
times and peak resident memory and saves its weights; one evaluator (vaekit's, seed 0) gives the
test ELBO of every system's weights. The fp32 matmul limit is measured in the same script
(before and after the runs, best of both).

samples/s of a run: the fastest epoch after the first (the first holds start-up and, for vaekit,
compilation; on a shared machine the fastest epoch is the one least disturbed by other work);
of a system: the best of its rounds. The ratios compare those; ``time to train`` is the whole
run, first epoch included.

    python benchmarks/train_speed.py [--epochs 10] [--rounds 2] [--device cpu] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import common
import matmul_limit

SYSTEMS = {
    # name: (python, script, extra arguments, extra environment)
    "vaekit": (common.MAIN_PYTHON, "vaekit_vae.py", ["train"], {"VAEKIT_COMPILE": "1"}),
    "vaekit-eager": (common.MAIN_PYTHON, "vaekit_vae.py", ["train"], {"VAEKIT_COMPILE": "0"}),
    "vaekit-dynamic": (common.MAIN_PYTHON, "vaekit_vae.py", ["train", "--binarize", "dynamic"], {"VAEKIT_COMPILE": "1"}),
    "tutorial": (common.MAIN_PYTHON, "tutorial_vae.py", [], {}),
    "pythae": (common.PYTHAE_PYTHON, "pythae_vae.py", ["train"], {}),
}


def run_system(name: str, model: str, batch: int, args, work: Path) -> dict:
    python, script, extra, env = SYSTEMS[name]
    weights = work / f"{name}-{model}-{batch}.npz"
    argv = [*extra, "--model", model, "--batch", batch, "--epochs", args.epochs, "--device", args.device,
            "--out", weights]
    if args.train_size:
        argv += ["--train-size", args.train_size]
    result = common.run_runner(python, script, argv, env=env)
    result["system"] = name
    ends = [0.0, *result["epoch_ends"]]
    n = args.train_size or 60000
    rates = [n / (b - a) for a, b in zip(ends[:-1], ends[1:])]
    result["epoch_rates"] = rates
    result["best_rate"] = max(rates[1:]) if len(rates) > 1 else rates[0]
    result["median_rate"] = statistics.median(rates[1:]) if len(rates) > 1 else rates[0]
    result["test_elbo_nats"] = test_elbo(model, weights, args.device)
    return result


def test_elbo(model: str, weights: Path, device: str) -> float:
    """The common evaluator: vaekit's ELBO (k = 0, seed 0) on the binarised test set."""
    import vaekit_vae

    from vaekit.evaluation.likelihood import evaluate

    return evaluate(vaekit_vae.model_from_weights(model, str(weights), device), vaekit_vae.test_data(), k=0, seed=0)["elbo_nats"]


def summarise(runs: list[dict], limits: dict, systems: list[str]) -> list[dict]:
    rows = []
    for key in sorted({(r["model"], r["batch"]) for r in runs}, key=lambda k: (k[0] != "tutorial", k[1])):
        model, batch = key
        hidden, latent = common.model_spec(model)
        flops = common.train_flops_per_sample(hidden, latent)
        limit = limits["train"][model][str(batch)]["gflops"]
        row = {"model": model, "batch": batch, "limit_gflops": limit, "flops_per_sample": flops, "systems": {}}
        for system in systems:
            mine = [r for r in runs if (r["model"], r["batch"], r["system"]) == (model, batch, system)]
            if not mine:
                continue
            best = max(r["best_rate"] for r in mine)
            row["systems"][system] = {
                "samples_per_s": best,
                "samples_per_s_median_epoch": statistics.median(r["median_rate"] for r in mine),
                "share_of_limit": best * flops / 1e9 / limit,
                "test_elbo_nats": statistics.mean(r["test_elbo_nats"] for r in mine),
                "test_elbo_by_round": [r["test_elbo_nats"] for r in mine],
                "peak_rss_mib": max(r["peak_rss_mib"] for r in mine),
                "rss_before_mib": max(r["rss_before_mib"] for r in mine),
                "train_seconds": statistics.median(r["train_seconds"] for r in mine),
                "first_epoch_seconds": statistics.median(r["epoch_ends"][0] for r in mine),
                **({"peak_cuda_mib": max(r["peak_cuda_mib"] for r in mine)} if "peak_cuda_mib" in mine[0] else {}),
            }
        for peer in ("tutorial", "pythae"):
            if "vaekit" in row["systems"] and peer in row["systems"]:
                row[f"vs_{peer}"] = row["systems"]["vaekit"]["samples_per_s"] / row["systems"][peer]["samples_per_s"]
        rows.append(row)
    return rows


def print_rows(rows: list[dict]) -> None:
    for row in rows:
        print(f"{common.describe(row['model'])}, batch {row['batch']} (matmul limit {row['limit_gflops']:.0f} GFLOP/s):")
        for system, value in row["systems"].items():
            print(f"  {system:15s} {value['samples_per_s']:9,.0f} samples/s  {value['share_of_limit']:5.0%} of limit  "
                  f"test ELBO {value['test_elbo_nats']:8.2f}  peak RSS {value['peak_rss_mib']:6.0f} MiB  "
                  f"time to train {value['train_seconds']:6.1f} s")
        for peer in ("tutorial", "pythae"):
            if f"vs_{peer}" in row:
                print(f"  vaekit / {peer}: {row[f'vs_{peer}']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="tutorial,mlp512")
    parser.add_argument("--batches", default="128,1024")
    parser.add_argument("--systems", default="vaekit,vaekit-eager,tutorial,pythae")
    parser.add_argument("--dynamic-batch", type=int, default=128, help="also run vaekit-dynamic at this batch size (0: no)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="OMP_NUM_THREADS for every process (0: torch's default)")
    parser.add_argument("--train-size", type=int, default=0, help="first N training images (smoke tests)")
    parser.add_argument("--name", default="", help="results/train_speed[-NAME].json")
    args = parser.parse_args()
    common.use_threads(args.threads)
    import torch

    common.prepare_data()
    device = torch.device(args.device)
    models, batches = args.models.split(","), [int(b) for b in args.batches.split(",")]
    systems = args.systems.split(",")
    limit_before = matmul_limit.measure(models, batches, 4096, device)
    runs = []
    with tempfile.TemporaryDirectory() as work:
        for model in models:
            for batch in batches:
                here = systems + (["vaekit-dynamic"] if batch == args.dynamic_batch else [])
                for r in range(args.rounds):
                    order = here[r % len(here):] + here[: r % len(here)]
                    for system in order:
                        result = run_system(system, model, batch, args, Path(work))
                        common.log(f"{system} {common.describe(model)} batch {batch} round {r + 1}: "
                                   f"{result['best_rate']:,.0f} samples/s (epochs: "
                                   f"{', '.join(f'{x:,.0f}' for x in result['epoch_rates'])}), "
                                   f"test ELBO {result['test_elbo_nats']:.2f}, peak RSS {result['peak_rss_mib']:.0f} MiB")
                        runs.append(result)
    limits = matmul_limit.best_of(limit_before, matmul_limit.measure(models, batches, 4096, device))
    rows = summarise(runs, limits, [*systems, "vaekit-dynamic"])
    print_rows(rows)
    name = "train_speed" + (f"-{args.name}" if args.name else "")
    path = common.save_result(name, {"machine": common.machine(), "args": vars(args), "limits": limits,
                                     "rows": rows, "runs": runs})
    print(f"wrote {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
