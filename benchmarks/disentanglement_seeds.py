"""The seed study of REPRODUCTION.md: VAE, beta-VAE, beta-TCVAE and FactorVAE at their
disentanglement_lib recipes (``configs/dsprites/dlib_*.yaml``), several seeds each, every run scored
with every registered disentanglement metric; Locatello et al. (2019) showed the seed moves these
scores as much as the method, so one seed per method says little.

    python benchmarks/disentanglement_seeds.py run   --out DIR --steps 200 --minutes 60 [--seeds 0 1 2] [--tiny]
    python benchmarks/disentanglement_seeds.py table --out DIR   # the JSON, the box figure, the markdown rows

``run`` trains one (setting, seed) after the other, seed-major (every setting at seed 0 first), so a
budget that runs out leaves whole seeds; each run is ``--steps`` steps of its recipe (epochs of 100
batches) in one thread, then scored by ``vaekit.disentanglement.disentanglement_metrics`` with the
``fast`` sample counts (the JSON records them), and appended to DIR/runs.jsonl. It starts no run
after ``--minutes``. ``table`` writes benchmarks/results/disentanglement-seeds.json (a list of
{"setting", "seed", "steps", "metrics": {...}, ...}) and the figure beside it.

The grid is a sweep waiting to happen: (setting, seed) -> ``vaekit train --config RECIPE --set
train.seed=S --epochs E --set train.steps_per_epoch=100``, then ``vaekit disentangle RUN --fast``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
RECIPES = ROOT / "configs" / "dsprites"
SETTINGS = {"vae": "dlib_vae", "beta_vae": "dlib_beta_vae", "beta_tcvae": "dlib_beta_tcvae",
            "factorvae": "dlib_factorvae"}
STEPS_PER_EPOCH = 100
PAPER_STEPS = 300_000
SCORES = ("mig", "mig_chen", "factor_vae_score", "beta_vae_score", "dci_disentanglement", "sap", "modularity",
          "factor_vae_active_dims")


def single_thread() -> None:
    """One thread, no torch.compile: the study shares a small machine."""
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", VAEKIT_COMPILE="0")
    sys.path.insert(0, str(ROOT / "src"))
    import torch

    torch.set_num_threads(1)


def train_one(setting: str, seed: int, steps: int, out: Path):
    """Train SETTING's recipe at ``seed`` for ``steps`` steps into OUT/SETTING-sSEED; (model, steps done).
    A run already trained there (a study restarted) is loaded instead."""
    from vaekit import load, load_config, train
    from vaekit.rundir import RunDir

    folder = out / f"{setting}-s{seed}"
    if RunDir.is_run(folder):
        return load(folder), RunDir(folder).epochs_done() * STEPS_PER_EPOCH
    config = load_config(RECIPES / f"{SETTINGS[setting]}.yaml").replace(
        train={"seed": seed, "epochs": max(1, steps // STEPS_PER_EPOCH), "steps_per_epoch": STEPS_PER_EPOCH,
               "device": "cpu", "report": False})
    run = train(config, out=folder)
    return run.model, run.state.epoch * STEPS_PER_EPOCH


# Smaller sample counts than the metrics' --fast, where even those cost more CPU than the study has: the
# classifier scores then carry standard errors of about 0.05 (100 test votes); the rows record the counts.
TINY = {"num_train": 1000, "num_test": 500, "beta_vae": {"num_train": 200, "num_eval": 100},
        "factor_vae": {"num_train": 200, "num_eval": 100, "num_variance_estimate": 1000},
        "mig_chen": {"num_examples": 2000, "num_samples": 1000}}


def use_tiny_counts() -> None:
    """Shrink the --fast sample counts in place (the results record the counts they used)."""
    from vaekit.evaluation.disentanglement import suite

    for key, value in TINY.items():
        suite.FAST[key] = {**suite.FAST[key], **value} if isinstance(value, dict) else value


def score(model, seed: int) -> dict:
    """Every registered disentanglement metric of the run's best model on dSprites, fast (or tiny) counts."""
    from vaekit.data import load_data
    from vaekit.disentanglement import disentanglement_metrics

    data = load_data("dsprites", None).train
    return disentanglement_metrics(model, data, seed=seed, fast=True, n_jobs=1)


def run_study(out: Path, steps: int, minutes: float, seeds: list[int], settings: list[str], tiny: bool) -> None:
    single_thread()
    if tiny:
        use_tiny_counts()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    done = {(row["setting"], row["seed"]) for row in read_rows(log)}
    started = time.perf_counter()
    for seed in seeds:
        for setting in settings:
            if (setting, seed) in done:
                continue
            if time.perf_counter() - started > minutes * 60:
                print(f"budget of {minutes} minutes spent: {setting} seed {seed} and later not started", flush=True)
                return
            began = time.perf_counter()
            model, steps_done = train_one(setting, seed, steps, out)
            trained = time.perf_counter() - began
            results = score(model, seed)
            row = {"setting": setting, "recipe": f"configs/dsprites/{SETTINGS[setting]}.yaml", "seed": seed,
                   "steps": steps_done, "share_of_paper_steps": steps_done / PAPER_STEPS,
                   "train_seconds": round(trained, 1),
                   "score_seconds": round(time.perf_counter() - began - trained, 1),
                   "metrics": {key: results[key] for key in SCORES if key in results},
                   "metric_settings": {"fast": True, "tiny": tiny, **results["settings"]}}
            with open(log, "a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)


def read_rows(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []


def table(out: Path, results: Path) -> None:
    """The JSON list, the box figure and the markdown rows (median [min, max] over seeds)."""
    import numpy as np

    rows = read_rows(out / "runs.jsonl")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(rows, indent=1) + "\n")
    settings = [s for s in SETTINGS if any(row["setting"] == s for row in rows)]
    figure(rows, settings, results.with_suffix(".png"))
    print("| setting | seeds | steps | " + " | ".join(SCORES) + " |")
    print("|---|---|---|" + "---|" * len(SCORES))
    for setting in settings:
        mine = [row for row in rows if row["setting"] == setting]
        cells = []
        for key in SCORES:
            values = np.array([row["metrics"][key] for row in mine if key in row["metrics"]])
            cells.append(f"{np.median(values):.3f} [{values.min():.3f}, {values.max():.3f}]" if len(values) else "")
        print(f"| {setting} | {len(mine)} | {mine[0]['steps']} | " + " | ".join(cells) + " |")


def figure(rows: list[dict], settings: list[str], path: Path) -> None:
    """One panel per metric, one box per setting, the seeds as points (as Locatello et al.'s Figure 7)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    keys = [key for key in SCORES if any(key in row["metrics"] for row in rows)]
    fig, axes = plt.subplots(1, len(keys), figsize=(2.6 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        values = [[row["metrics"][key] for row in rows if row["setting"] == s and key in row["metrics"]]
                  for s in settings]
        ax.boxplot(values, widths=0.6, showfliers=False)
        for i, points in enumerate(values, start=1):
            ax.scatter(np.full(len(points), i) + np.linspace(-0.12, 0.12, len(points)), points, s=12, zorder=3)
        ax.set_xticks(range(1, len(settings) + 1), settings, rotation=45, ha="right", fontsize=8)
        ax.set_title(key, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run")
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--steps", type=int, default=400)
    run.add_argument("--minutes", type=float, default=60.0)
    run.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    run.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    run.add_argument("--tiny", action="store_true", help="the TINY sample counts (a CPU that cannot afford --fast's)")
    tab = commands.add_parser("table")
    tab.add_argument("--out", type=Path, required=True)
    tab.add_argument("--results", type=Path, default=RESULTS / "disentanglement-seeds.json")
    args = parser.parse_args()
    if args.command == "run":
        run_study(args.out, args.steps, args.minutes, args.seeds, args.settings, args.tiny)
    else:
        table(args.out, args.results)


if __name__ == "__main__":
    main()
