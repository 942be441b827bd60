"""One-shot reproduction on one GPU: the four settings of the seed study (VAE, beta-VAE, beta-TCVAE,
FactorVAE at their disentanglement_lib recipes, ``configs/dsprites/dlib_*.yaml``), one seed, towards
the papers' 300,000 steps, inside a wall-clock budget (a lent GPU gives about 10 minutes a command).

    python benchmarks/disentanglement_gpu.py --minutes 9                      # on the GPU
    python benchmarks/disentanglement_gpu.py --minutes 1 --device cpu --data FILE.npz --probe-steps 2 \\
        --steps-per-epoch 2 --max-steps 6 --out DIR --results DIR/rows.json        # the CPU check of the tests

The four runs go at once, one process each on the same device (small models leave a GPU mostly
idle, so they overlap), each compiled by the trainer (``torch.compile``; off on CPU). Each first
measures its step time, concurrently with the others: two epochs of ``--steps-per-epoch`` steps,
the second one timed. From that it extends the run (``vaekit train --resume RUN --epochs M``) by as
many steps as fit before the deadline, less a reserve for scoring and for compiling again (the
probe's first epoch less its second), capped at 300,000, and says how many it reached. Each run is
then scored with every registered disentanglement metric (``fast`` counts) and written as one row of
the seed study's format ({"setting", "seed", "steps", "metrics", ...}) to ``--results`` (default
benchmarks/results/disentanglement-gpu.json), with the device's name.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from disentanglement_seeds import PAPER_STEPS, RECIPES, SCORES, SETTINGS  # noqa: E402  (the study's settings)

SCORE_RESERVE = 0.2  # share of the budget kept for scoring the four runs


def settings_config(setting: str, args, epochs: int):
    """The recipe of ``setting`` with this script's device, data, seed and epoch length."""
    from vaekit import load_config

    data = {"source": args.data} if args.data else {}
    return load_config(RECIPES / f"{SETTINGS[setting]}.yaml").replace(
        train={"seed": args.seed, "epochs": epochs, "steps_per_epoch": args.steps_per_epoch, "device": args.device,
               "report": False}, data=data)


def epoch_seconds(run_dir: Path) -> list[float]:
    """The wall-clock seconds of each epoch, from the run's metrics.csv."""
    with open(run_dir / "metrics.csv") as handle:
        return [float(row["seconds"]) for row in csv.DictReader(handle)]


def worker(setting: str, args, deadline: float, results: list) -> None:
    """Probe, extend to the budget, score: one row appended to ``results`` (a manager list)."""
    import torch

    from vaekit import train
    from vaekit.data import load_data
    from vaekit.disentanglement import disentanglement_metrics

    torch.set_num_threads(max(1, (os.cpu_count() or 4) // len(args.settings)))
    run_dir = args.out / setting
    started = time.time()
    probe = train(settings_config(setting, args, 2), out=run_dir)  # epoch 1 compiles; epoch 2 is timed
    first, second = epoch_seconds(run_dir)
    step_seconds = second / args.steps_per_epoch
    recompile = max(0.0, first - second)  # the extension compiles again in its own train()
    reserve = SCORE_RESERVE * args.minutes * 60
    affordable = int(max(0.0, deadline - reserve - recompile - time.time()) / step_seconds)
    target = min(args.max_steps, PAPER_STEPS, 2 * args.steps_per_epoch + affordable)
    epochs = target // args.steps_per_epoch
    run = train(resume=run_dir, epochs=epochs) if epochs > probe.state.epoch else probe
    trained = time.time() - started
    data = load_data(args.data or "dsprites", None).train
    row = {"setting": setting, "recipe": f"configs/dsprites/{SETTINGS[setting]}.yaml", "seed": args.seed,
           "steps": run.state.epoch * args.steps_per_epoch, "step_seconds": step_seconds,
           "share_of_paper_steps": run.state.epoch * args.steps_per_epoch / PAPER_STEPS,
           "train_seconds": round(trained, 1), "device": device_name(args.device)}
    try:
        scores = disentanglement_metrics(run.model, data, seed=args.seed, fast=True, n_jobs=1)
        row["metrics"] = {key: scores[key] for key in SCORES if key in scores}
        row["metric_settings"] = {"fast": True, **scores["settings"]}
    except Exception as error:  # noqa: BLE001  (a run's row still says how far it got)
        row["metrics"], row["metrics_left_out"] = {}, str(error)
    row["score_seconds"] = round(time.time() - started - trained, 1)
    results.append(row)


def device_name(device: str) -> str:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return "cpu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=9.0, help="the whole budget, probing and scoring included")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data", default="", help="data instead of the recipes' dsprites (the CPU check)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--steps-per-epoch", type=int, default=1000)
    parser.add_argument("--max-steps", type=int, default=PAPER_STEPS)
    parser.add_argument("--out", type=Path, default=Path("runs") / "disentanglement-gpu")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "disentanglement-gpu.json")
    args = parser.parse_args()
    if args.device == "cpu":
        os.environ["VAEKIT_COMPILE"] = "0"  # compiling costs more than it saves in a short CPU check
    import torch.multiprocessing as mp

    deadline = time.time() + args.minutes * 60
    context = mp.get_context("spawn")  # CUDA needs fresh processes
    with context.Manager() as manager:
        results = manager.list()
        processes = [context.Process(target=worker, args=(s, args, deadline, results)) for s in args.settings]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        rows = sorted(results, key=lambda row: args.settings.index(row["setting"]))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(rows, indent=1) + "\n")
    for row in rows:
        shown = ", ".join(f"{k} {v:.3f}" for k, v in row["metrics"].items() if isinstance(v, float))
        print(f"{row['setting']}: {row['steps']} steps ({100 * row['share_of_paper_steps']:.1f}% of 300,000), "
              f"{row['step_seconds'] * 1000:.1f} ms/step on {row['device']}; {shown}")
    missing = set(args.settings) - {row["setting"] for row in rows}
    if missing:
        raise SystemExit(f"no row for {sorted(missing)}: see the worker errors above")


if __name__ == "__main__":
    main()
