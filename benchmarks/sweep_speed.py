"""Studies: the wall time of one sweep of 8 small runs on the local engine with one worker (in the
command's own process, all cores' threads) and with two (two processes, cores ÷ 2 threads each), and on
the ray engine with a local Ray instance of two CPUs (its start included), in alternation, each in a
fresh ``vaekit sweep`` process.

The runs: MLP VAEs on digits (8x8), grid objective.beta [1, 2, 4, 8] x seeds [0, 1], ``--epochs`` epochs
of batch 64, no report, no evaluation. The speed-up is local-1's wall time over local-2's; Ray's
overhead per task is (ray - local-2) / 8, its instance's start included (the runs are the same).

    python benchmarks/sweep_speed.py [--epochs 8] [--rounds 1] [--systems local-1 local-2 ray-2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import common

SYSTEMS = {"local-1": ["--workers", "1"], "local-2": ["--workers", "2"], "ray-2": ["--workers", "2", "--engine", "ray"]}
POINTS = 8


def sweep_file(folder: Path, epochs: int) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({
        "base": {"model": {"latent_dim": 8, "trunk": {"hidden": [128, 64]}},
                 "train": {"epochs": epochs, "batch_size": 64, "report": False, "device": "cpu"}},
        "grid": {"objective.beta": [1, 2, 4, 8]}, "seeds": [0, 1]}, sort_keys=False))
    return path


def run_system(name: str, sweep: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(common.ROOT / "src"), "VAEKIT_COMPILE": "0"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vaekit", "sweep", str(sweep), "--out", str(out), *SYSTEMS[name]],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS))
    args = parser.parse_args()
    results = {"machine": common.machine(), "epochs": args.epochs, "rounds": args.rounds, "points": POINTS,
               "seconds": {name: [] for name in args.systems}, "load": {name: [] for name in args.systems}}
    with tempfile.TemporaryDirectory() as folder:
        sweep = sweep_file(Path(folder), args.epochs)
        for round_ in range(args.rounds):
            for name in args.systems:
                seconds = run_system(name, sweep, Path(folder) / f"{name}-{round_}")
                results["seconds"][name].append(round(seconds, 2))
                results["load"][name].append(load())
                print(f"{name}: {seconds:.1f} s (load {load()})", flush=True)
    best = {name: min(times) for name, times in results["seconds"].items()}
    if "local-1" in best and "local-2" in best:
        results["speedup_workers_2"] = round(best["local-1"] / best["local-2"], 3)
    if "ray-2" in best and "local-2" in best:
        results["ray_overhead_per_task_s"] = round((best["ray-2"] - best["local-2"]) / POINTS, 2)
    print(f"wrote {common.save_result('sweep_speed', results)}")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
