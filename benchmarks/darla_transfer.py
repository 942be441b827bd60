"""The transfer comparison of REPRODUCTION.md (after DARLA, Higgins et al., 2017): VAE, beta-VAE and
beta-VAE_DAE on dSprites, scored by zero-shot transfer to a shifted rendering of the same factors.

    python benchmarks/darla_transfer.py --out DIR --steps 3000 [--reuse STUDY_DIR] [--targets SPEC ...]

It trains the DAE (configs/dsprites/darla_dae.yaml), then beta-VAE_DAE in its feature space
(darla_beta_vae_dae.yaml); VAE and beta-VAE are the seed study's seed-0 runs when ``--reuse`` names its
folder and they are finished (in its runs.jsonl; the same recipes and steps), else trained here; a run
already trained in DIR (the script run again, for other targets) is reused. Each is scored by
``vaekit.evaluation.disentanglement.transfer.transfer_score`` (probes fitted on source codes, tested on
the target's codes of the same factor values; the ``fast`` counts) and written to
benchmarks/results/darla-transfer.json. One thread, like the seed study.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from disentanglement_seeds import RECIPES, STEPS_PER_EPOCH, read_rows, single_thread

ROOT = Path(__file__).resolve().parent.parent
SHIFTED = ("dsprites:intensity=0.75", "dsprites:intensity=0.5", "dsprites:intensity=0.5,background=0.25")  # mild to far


def train_recipe(name: str, steps: int, out: Path, **objective) -> Path:
    """OUT/NAME trained for ``steps`` steps of its recipe (or as it is, when already trained there)."""
    from vaekit import load_config, train
    from vaekit.rundir import RunDir

    if RunDir.is_run(out / name):
        return out / name
    config = load_config(RECIPES / f"{name}.yaml").replace(
        train={"epochs": max(1, steps // STEPS_PER_EPOCH), "steps_per_epoch": STEPS_PER_EPOCH, "device": "cpu"},
        objective=objective)
    return train(config, out=out / name).dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--reuse", type=Path, help="the seed study's folder: its vae-s0 and beta_vae-s0 runs")
    parser.add_argument("--targets", nargs="+", default=list(SHIFTED), help="shifted renderings to score against")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "darla-transfer.json")
    args = parser.parse_args()
    single_thread()
    from vaekit import load
    from vaekit.data import load_data
    from vaekit.evaluation.disentanglement.suite import FAST
    from vaekit.evaluation.disentanglement.transfer import transfer_score

    started = time.perf_counter()
    dae = train_recipe("darla_dae", args.steps, args.out)
    runs = {"beta_vae_dae": train_recipe("darla_beta_vae_dae", args.steps, args.out, dae_run=str(dae))}
    finished = {(row["setting"], row["seed"]) for row in read_rows(args.reuse / "runs.jsonl")} if args.reuse else set()
    for setting, recipe in (("vae", "dlib_vae"), ("beta_vae", "dlib_beta_vae")):
        reused = (setting, 0) in finished  # a finished and scored run of the seed study, at the same steps
        runs[setting] = args.reuse / f"{setting}-s0" if reused else train_recipe(recipe, args.steps, args.out)
    trained = time.perf_counter() - started
    source = load_data("dsprites", None).train
    rows = []
    for spec in args.targets:
        target = load_data(spec, None).train
        for setting in ("vae", "beta_vae", "beta_vae_dae"):
            scores = transfer_score(load(runs[setting]), source, target, 0, FAST["num_train"], FAST["num_test"])
            rows.append({"setting": setting, "run": str(runs[setting]), "steps": args.steps, "target": spec,
                         **{key: scores[key] for key in scores if key.startswith("transfer_")},
                         "settings": scores["transfer"]})
            print(json.dumps(rows[-1]), flush=True)
    args.results.write_text(json.dumps({"train_seconds_this_call": round(trained, 1), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
