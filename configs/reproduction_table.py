"""The rows of REPRODUCTION.md from run folders: vaekit's test NLL beside the published one.

    python configs/reproduction_table.py ROW=RUN_DIR [ROW=RUN_DIR ...]

ROW names a config here (configs/ROW.yaml, whose header states the published NLL); RUN_DIR is the
folder `configs/reproduce.sh ROW` wrote (config.yaml, metrics.csv, run.json, eval.json with K > 0).
Every setting in which the run differs from the row's config is listed, so a shortened run is
marked as such. Prints a Markdown table.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
COLUMNS = ["row", "published NLL", "vaekit NLL", "K", "test images", "epochs run (best)", "stopped by",
           "s/epoch (median)", "training (h)", "evaluation (h)", "hardware", "differs from the row's config"]


def published(row: str) -> tuple[str, float]:
    """(the row's name, its published NLL in nats) from the config's header comment."""
    header = (HERE / f"{row}.yaml").read_text()
    name = re.search(r'Row "([^"]+)"', header)
    nats = re.search(r"published: ([0-9.]+) nats", header)
    if not (name and nats):
        raise SystemExit(f"configs/{row}.yaml: its header must name the row and 'published: N nats'")
    return name.group(1), float(nats.group(1))


def differences(expected: dict, actual: dict, prefix: str = "") -> list[str]:
    """'section.field: expected -> actual' for every setting of the row's config the run changed."""
    changed = []
    for key, value in expected.items():
        got = actual.get(key)
        if isinstance(value, dict):
            changed += differences(value, got or {}, f"{prefix}{key}.")
        elif normalise(got) != normalise(value):
            changed.append(f"{prefix}{key}: {value} -> {got}")
    return changed


def normalise(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def row_cells(row: str, run_dir: Path) -> list[str]:
    name, nats = published(row)
    results = json.loads((run_dir / "eval.json").read_text())
    if not results.get("k"):
        raise SystemExit(f"{run_dir}/eval.json: no importance-sampled likelihood (k = 0); run 'vaekit eval {run_dir} --k 5000'")
    with open(run_dir / "metrics.csv") as handle:
        epochs = list(csv.DictReader(handle))
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    seconds = [float(epoch["seconds"]) for epoch in epochs]
    median = statistics.median(seconds)
    best = max(epochs, key=lambda epoch: float(epoch["val_elbo"]))["epoch"]
    stopped = stop_reason(len(epochs), int(best), config["train"])
    run = json.loads((run_dir / "run.json").read_text())
    changed = differences(yaml.safe_load((HERE / f"{row}.yaml").read_text()), config)
    return [name, f"{nats:.2f}", f"**{results['nll_nats']:.2f}**", f"{results['k']:,}", f"{results['examples']:,}",
            f"{len(epochs)} ({best})", stopped, f"{median:.1f}",
            f"{len(epochs) * median / 3600:.2f}", f"{results['likelihood_seconds'] / 3600:.2f}",
            run.get("hardware", run.get("device", "?")), "; ".join(changed) or "none"]


def stop_reason(epochs: int, best: int, train: dict) -> str:
    """Why training ended: its epoch limit, early stopping (patience epochs without a better
    validation ELBO), or neither (the process was stopped from outside, e.g. by a time limit)."""
    if epochs >= train["epochs"]:
        return "epoch limit"
    if 0 < train["patience"] <= epochs - best:
        return "early stopping"
    return "stopped from outside (time limit)"


def main(argv: list[str]) -> None:
    if not argv or any("=" not in pair for pair in argv):
        raise SystemExit(__doc__)
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for pair in argv:
        row, run_dir = pair.split("=", 1)
        print("| " + " | ".join(row_cells(row, Path(run_dir))) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
