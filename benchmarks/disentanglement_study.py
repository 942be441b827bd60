"""The disentanglement study of REPRODUCTION.md: seven objectives on dSprites, trained for a fixed
wall-clock budget each (all at once, at the lowest CPU priority), then scored with every metric of
``vaekit.disentanglement`` on the whole dSprites factor space.

    python benchmarks/disentanglement_study.py prepare  --out DIR [--subset 100000]
    python benchmarks/disentanglement_study.py train    --out DIR --minutes 60   # again: resumes each run
    python benchmarks/disentanglement_study.py evaluate --out DIR [--full] [--models ...]  # metrics per run
    python benchmarks/disentanglement_study.py evaluate-light --out DIR        # MIG, SAP, modularity only (cheap)
    python benchmarks/disentanglement_study.py table    --out DIR               # study.json and the markdown table

The common setup (the literature's where the CPU allows): 10 latent dimensions, an MLP encoder and
mirrored decoder, Bernoulli likelihood, batch 64, Adam; each model's own weights as in its paper.
``prepare`` writes the training images: a uniform random subset of dSprites (``--subset 0``: all
737,280), so that seven concurrent runs fit in memory; each run then sees about one example in
10 once, far from a full pass either way. ``train`` runs one ``vaekit train`` per model (epochs of
100 steps, so a run stopped by the budget loses at most one epoch and ``train`` again resumes it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STEPS_PER_EPOCH = 100
COMMON = {
    "model": {"name": "vae", "trunk": "mlp", "latent_dim": 10, "hidden": [1200, 1200], "likelihood": "bernoulli"},
    "data": {"validation": "none", "binarize": "none"},
    "train": {"epochs": 100_000, "batch_size": 64, "lr": 1e-3, "seed": 0, "report": False,
              "steps_per_epoch": STEPS_PER_EPOCH, "device": "cpu"},
}
# name -> (objective settings, the paper and its setting)
MODELS = {
    "vae": ({"name": "elbo"}, "Kingma and Welling (2014): beta = 1"),
    "beta_vae_4": ({"name": "elbo", "beta": 4.0}, "Higgins et al. (2017): beta = 4 on dSprites"),
    "beta_vae_16": ({"name": "elbo", "beta": 16.0}, "the largest beta of Locatello et al.'s (2019) sweep"),
    "beta_tcvae_1.5": ({"name": "beta_tcvae", "beta": 1.5}, "Chen et al. (2018), a smaller beta: alpha = gamma = 1, beta = 1.5 (MSS)"),
    "beta_tcvae_2": ({"name": "beta_tcvae", "beta": 2.0}, "Chen et al. (2018), a smaller beta: alpha = gamma = 1, beta = 2 (MSS)"),
    "beta_tcvae_6": ({"name": "beta_tcvae", "beta": 6.0}, "Chen et al. (2018): alpha = gamma = 1, beta = 6 (MSS)"),
    "factorvae_10": ({"name": "factorvae", "gamma": 10.0}, "Kim and Mnih (2018): gamma = 10, the smallest of their sweep"),
    "factorvae_35": ({"name": "factorvae", "gamma": 35.0}, "Kim and Mnih (2018): gamma = 35, 6 x 1000 discriminator"),
    "capacity": ({"name": "capacity", "gamma": 1000.0, "capacity_max": 25.0, "capacity_steps": 2000},
                 "Burgess et al. (2018): gamma = 1000, C to 25 nats (over 100,000 steps there; 2,000 here)"),
    "dip_vae_i": ({"name": "dip_vae_i", "lambda_od": 10.0, "lambda_d": 100.0},
                  "Kumar et al. (2018): lambda_od = 10, lambda_d = 10 lambda_od"),
}
# Published values on dSprites quoted in REPRODUCTION.md (best settings of each paper, 300,000 steps or more).
PUBLISHED = {"factorvae_35": {"factor_vae_score": 0.82}, "beta_tcvae_6": {"mig": 0.45}}
PAPER_STEPS = 300_000


def python() -> list[str]:
    return [sys.executable]


def environment() -> dict:
    """Each run on one thread and without torch.compile: seven share two cores."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", VAEKIT_COMPILE="0")
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def prepare(out: Path, subset: int) -> None:
    """OUT/dsprites-train.npz: 'x' (N, 1, 64, 64) uint8 0/255 and 'factors' (N, 5), random rows."""
    sys.path.insert(0, str(ROOT / "src"))
    from vaekit.data import load_data

    data = load_data("dsprites", None).train
    rows = np.arange(len(data))
    if subset:
        rows = np.sort(np.random.default_rng(0).choice(len(data), subset, replace=False))
    images = data.values[rows].numpy() * np.uint8(255)  # {0, 1} -> {0, 255}: 8-bit levels that scale back to {0, 1}
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "dsprites-train.npz", x=images, factors=data.factors[rows].numpy(),
             factor_names=np.array(data.factor_info.names))


def config_for(name: str, out: Path) -> dict:
    objective, _ = MODELS[name]
    return {**COMMON, "objective": objective, "data": {**COMMON["data"], "source": str(out / "dsprites-train.npz")}}


def train(out: Path, minutes: float, names: list[str]) -> None:
    """One ``vaekit train`` per model, all at once under ``nice -n 19``, each stopped after ``minutes``."""
    import yaml

    processes = []
    for name in names:
        run = out / name
        if (run / "last.safetensors").exists():
            command = ["--resume", str(run)]
        else:
            (out / "configs").mkdir(parents=True, exist_ok=True)
            config_path = out / "configs" / f"{name}.yaml"
            config_path.write_text(yaml.safe_dump(config_for(name, out), sort_keys=False))
            command = ["--config", str(config_path), "--out", str(run)]
            if run.exists() and not any(run.iterdir()):
                run.rmdir()
        log = open(out / f"{name}.log", "a")
        argv = ["nice", "-n", "19", "timeout", f"{int(minutes * 60)}s", *python(), "-m", "vaekit.cli", "train",
                *command]
        processes.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=environment(), cwd=ROOT))
    for process in processes:
        process.wait()


def budget(run: Path) -> dict:
    """Steps, epochs and training seconds of a run, from its metrics.csv."""
    import csv

    rows = list(csv.DictReader(open(run / "metrics.csv")))
    seconds = sum(float(row["seconds"]) for row in rows)
    steps = len(rows) * STEPS_PER_EPOCH
    return {"steps": steps, "epochs": len(rows), "train_seconds": round(seconds, 1),
            "share_of_paper_steps": steps / PAPER_STEPS}


# Smaller sample counts than the metrics' own --fast, for machines where even those take too long:
# the classifier scores then carry standard errors of about 0.05 (100 test votes).
TINY = {"num_train": 1000, "num_test": 500, "beta_vae": {"num_train": 200, "num_eval": 100},
        "factor_vae": {"num_train": 200, "num_eval": 100, "num_variance_estimate": 1000}}


def use_tiny_counts() -> None:
    """Shrink the --fast sample counts in place (the metrics record the counts they used)."""
    from vaekit.evaluation.disentanglement import suite

    for key, value in TINY.items():
        if isinstance(value, dict):
            suite.FAST[key] = {**suite.FAST[key], **value}
        else:
            suite.FAST[key] = value


def trained_runs(out: Path, names: list[str]):
    """(name, OUT/NAME) of each named run that has written its model, in the given order."""
    for name in names:
        if (out / name / "model.safetensors").exists():
            yield name, out / name


def rendered_draw(n: int, seed: int):
    """(codes (n, 5) int, images (n, 1, 64, 64) float32 in {0, 1}): factor codes drawn uniformly and
    independently over dSprites' factor space, drawn by vaekit's renderer (so the 737,280 images need
    not be in memory)."""
    import torch

    from vaekit.data import dsprites

    rng = np.random.default_rng(seed)
    codes = np.stack([rng.integers(0, size, n) for size in dsprites.SIZES], 1)
    return codes, torch.from_numpy(dsprites.render(codes)).float().unsqueeze(1)


def evaluate(out: Path, names: list[str], full: bool, tiny: bool = False) -> None:
    """OUT/NAME/disentanglement.json for each model, then OUT/study.json: metrics, reconstruction, KL."""
    sys.path.insert(0, str(ROOT / "src"))
    import torch

    from vaekit import load
    from vaekit.data import load_data
    from vaekit.disentanglement import disentanglement_metrics
    from vaekit.evaluation.likelihood import mean_terms

    if tiny:
        use_tiny_counts()
    data = load_data("dsprites", None).train
    held = data.subset(torch.from_numpy(np.random.default_rng(1).choice(len(data), 10_000, replace=False)))
    for name, run in trained_runs(out, names):
        model = load(run)  # the best weights, in eval mode
        started = time.perf_counter()
        metrics = disentanglement_metrics(model, data, seed=0, fast=not full, n_jobs=os.cpu_count() or 1)
        (run / "disentanglement.json").write_text(json.dumps(metrics, indent=1))
        terms = mean_terms(model, held, k=0, batch_size=500, seed=0)
        row = {"objective": MODELS[name][0], "setting": MODELS[name][1], **budget(run),
               "reconstruction_nats": -terms["log_px_z"], "kl_nats": terms["kl"],
               "metrics_seconds": round(time.perf_counter() - started, 1), "metric_sizes": metrics["settings"],
               **{key: metrics[key] for key in SCORES}}
        (run / "study_row.json").write_text(json.dumps(row, indent=1))


LIGHT = {"num_train": 1000, "num_test": 500, "seed": 0}


def evaluate_light(out: Path, names: list[str]) -> None:
    """The metrics that need no sampling of factor-sharing batches (MIG, SAP, modularity; the
    BetaVAE and FactorVAE scores and DCI's boosted trees cost too much CPU where the study ran), on
    LIGHT's 1,000 + 500 uniformly drawn dSprites factor codes, drawn by vaekit's renderer (so the
    737,280 images need not be in memory); reconstruction and KL on the same 1,500 images."""
    sys.path.insert(0, str(ROOT / "src"))
    import torch

    from vaekit import ELBO, load
    from vaekit.data.batch import Batch
    from vaekit.disentanglement import mig, modularity, sap

    n = LIGHT["num_train"] + LIGHT["num_test"]
    codes, x = rendered_draw(n, LIGHT["seed"])
    train, test = slice(0, LIGHT["num_train"]), slice(LIGHT["num_train"], n)
    for name, run in trained_runs(out, names):
        started = time.perf_counter()
        model = load(run)  # the best weights, in eval mode
        with torch.no_grad(), torch.random.fork_rng():
            torch.manual_seed(0)
            means = model.encode(x).mean.numpy()  # (n, 10): the representation is the posterior mean
            terms = ELBO()(model, Batch(x)).terms
        row = {"objective": MODELS[name][0], "setting": MODELS[name][1], **budget(run),
               "reconstruction_nats": -float(terms["log_px_z"].mean()), "kl_nats": float(terms["kl"].mean()),
               "mig": mig(means[train], codes[train]), "modularity": modularity(means[train], codes[train]),
               "sap": sap(means[train], codes[train], means[test], codes[test]),
               "beta_vae_score": float("nan"), "factor_vae_score": float("nan"), "dci_disentanglement": float("nan"),
               "metric_sizes": {**LIGHT, "images_for_reconstruction_and_kl": n},
               "metrics_seconds": round(time.perf_counter() - started, 1)}
        (run / "study_row.json").write_text(json.dumps(row, indent=1))


MIG_DRAWS = {"num_train": 10_000, "seeds": [0, 1, 2]}


def evaluate_mig(out: Path, names: list[str]) -> dict:
    """MIG and modularity at disentanglement_lib's default 10,000 points, on three independent
    draws of uniform dSprites factor codes (seeds 0, 1, 2; ``rendered_draw``): mean and spread over
    the draws, to size the sampling noise of the --fast table's MIG. OUT/mig_default.json."""
    sys.path.insert(0, str(ROOT / "src"))
    import torch

    from vaekit import load
    from vaekit.disentanglement import mig, modularity

    draws = [rendered_draw(MIG_DRAWS["num_train"], seed) for seed in MIG_DRAWS["seeds"]]
    results = {}
    for name, run in trained_runs(out, names):
        model = load(run)  # the best weights, in eval mode
        scores = []
        for codes, x in draws:
            with torch.no_grad():
                means = torch.cat([model.encode(x[i:i + 1000]).mean for i in range(0, len(x), 1000)]).numpy()
            scores.append((mig(means, codes), modularity(means, codes)))
        migs, modularities = np.array(scores).T
        results[name] = {"mig_mean": float(migs.mean()), "mig_min": float(migs.min()), "mig_max": float(migs.max()),
                         "modularity_mean": float(modularities.mean()), **MIG_DRAWS}
        print(f"{name}: MIG {migs.mean():.3f} ({migs.min():.3f} to {migs.max():.3f}), "
              f"modularity {modularities.mean():.3f}", flush=True)
    (out / "mig_default.json").write_text(json.dumps(results, indent=1))
    return results


def collect(out: Path) -> dict:
    """OUT/study.json: every evaluated model's row, in the order of MODELS."""
    study = {name: json.loads((out / name / "study_row.json").read_text())
             for name in MODELS if (out / name / "study_row.json").exists()}
    if (out / "mig_default.json").exists():  # from evaluate-mig
        for name, row in json.loads((out / "mig_default.json").read_text()).items():
            if name in study:
                study[name]["mig_default_points"] = row
    (out / "study.json").write_text(json.dumps(study, indent=1))
    return study


SCORES = ["beta_vae_score", "factor_vae_score", "mig", "dci_disentanglement", "sap", "modularity"]


def table(out: Path) -> str:
    study = collect(out)
    header = ["model", "steps", "train min", "BetaVAE", "FactorVAE", "MIG", "MIG, 10,000 points", "DCI dis.", "SAP",
              "modularity", "recon. nats", "KL nats", "published"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in study.items():
        published = ", ".join(f"{key} {value}" for key, value in PUBLISHED.get(name, {}).items()) or "—"
        scores = [f"{row[key]:.2f}" if not math.isnan(row[key]) else "not run" for key in SCORES]
        many = row.get("mig_default_points")
        scores.insert(SCORES.index("mig") + 1, f"{many['mig_mean']:.3f} ({many['mig_min']:.3f}–{many['mig_max']:.3f})" if many else "not run")
        cells = [name, f"{row['steps']:,}", f"{row['train_seconds'] / 60:.0f}", *scores,
                 f"{row['reconstruction_nats']:.1f}", f"{row['kl_nats']:.1f}", published]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["prepare", "train", "evaluate", "evaluate-light", "evaluate-mig", "table"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--subset", type=int, default=100_000, help="training images (0: all 737,280)")
    parser.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget of each run")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--full", action="store_true", help="the metrics' default sample sizes (else --fast)")
    parser.add_argument("--tiny", action="store_true", help="sample sizes smaller than --fast (TINY)")
    args = parser.parse_args()
    if args.stage == "prepare":
        prepare(args.out, args.subset)
    elif args.stage == "train":
        train(args.out, args.minutes, args.models)
    elif args.stage == "evaluate":
        evaluate(args.out, args.models, args.full, args.tiny)
    elif args.stage == "evaluate-light":
        evaluate_light(args.out, args.models)
    elif args.stage == "evaluate-mig":
        evaluate_mig(args.out, args.models)
    else:
        print(table(args.out))


if __name__ == "__main__":
    main()
