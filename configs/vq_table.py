"""The markdown table of the VQ-VAE quantiser comparison (configs/vq_compare.sh) from its run folders.

    python configs/vq_table.py OUT_DIR

One row per evaluated variant (a folder with eval.json): the test split's reconstruction term and
mean squared error, -log p(codes) under the fitted code prior ("no prior" for a run evaluated before
its prior was fitted), the bound in bits per dimension, codebook health on the test split (per
codebook: usage, perplexity, dead codes) and the time spent. Then, for every trained variant, the
validation numbers of each epoch from metrics.csv.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from vaekit.config import load_config
from vaekit.training.checkpoint import read_metadata

ORDER = ["nearest", "nearest-restarts", "kmeans-cosine", "rotation", "residual", "fsq"]
LABELS = {
    "nearest": "nearest, no restarts",
    "nearest-restarts": "nearest, restarts after 100 batches",
    "kmeans-cosine": "nearest + k-means init + cosine",
    "rotation": "nearest + rotation trick",
    "residual": "residual, 2 stages",
    "fsq": "FSQ",
}


def codebook_cells(results: dict) -> tuple[str, str, str]:
    """usage, perplexity and dead codes per codebook, joined with ' / ' across stages."""
    prefixes = sorted({key.rsplit("_", 1)[0] for key in results if key.startswith("codebook") and key.endswith("_usage")})
    usage = " / ".join(f"{results[p + '_usage']:.0%}" for p in prefixes)
    perplexity = " / ".join(f"{results[p + '_perplexity']:.1f}" for p in prefixes)
    dead = " / ".join(str(results[p + "_dead"]) for p in prefixes)
    return usage, perplexity, dead


def code_budget(model) -> str:
    quantizer = model.quantizer
    if quantizer.name == "fsq":
        return f"{model.code_positions} x {'x'.join(map(str, quantizer.levels))}"
    stages = f"{quantizer.codebooks} x " if quantizer.name == "residual" else ""
    return f"{model.code_positions} x {stages}{quantizer.codebook_size}"


def row(run: Path) -> str:
    results = json.loads((run / "eval.json").read_text())
    model = load_config(run / "config.yaml").model
    history = list(csv.DictReader(open(run / "metrics.csv")))
    training = sum(float(r["seconds"]) for r in history)
    prior = read_metadata(run / "model.safetensors").get("code_prior", {})
    prior_seconds = sum(r["seconds"] for r in prior.get("history", []))
    usage, perplexity, dead = codebook_cells(results)
    if "kl_nats" in results:  # with a fitted code prior
        codes, bits = f"{results['kl_nats']:.2f} ({prior['uniform_code_nll_nats']:.1f})", f"{results['negative_elbo_bits_per_dim']:.4f}"
    else:
        codes = bits = "no prior"
    return (f"| {LABELS.get(run.name, run.name)} | {code_budget(model)} | {-results['log_px_z_nats']:.2f} | "
            f"{results['reconstruction_mse']:.4f} | {codes} | {bits} | {usage} | {perplexity} | {dead} | "
            f"{len(history)} | {training / 60:.1f} | {prior.get('epochs', 0)} | {prior_seconds / 60:.1f} |")


def validation_row(run: Path) -> str:
    """Per epoch, from metrics.csv: -log p(x|z_q) and the codes used on the validation split."""
    history = list(csv.DictReader(open(run / "metrics.csv")))
    usage = [key for key in history[0] if key.startswith("codebook") and key.endswith("_usage")]
    cells = [" / ".join(f"{float(r[key]):.0%}" for key in usage) for r in history]
    nll = [f"{-float(r['val_log_px_z']):.1f}" for r in history]
    return f"| {LABELS.get(run.name, run.name)} | {' -> '.join(nll)} | {' -> '.join(cells)} |"


def main(out: str) -> None:
    runs = sorted((p for p in Path(out).iterdir() if (p / "eval.json").is_file()),
                  key=lambda p: ORDER.index(p.name) if p.name in ORDER else len(ORDER))
    print("| quantiser | codes per image | -log p(x given z_q), nats | MSE | -log p(codes), nats (uniform) | "
          "bits/dim (bound) | codes used | perplexity | dead codes | epochs | training (min) | prior epochs | "
          "prior fit (min) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(row(run))
    trained = sorted((p for p in Path(out).iterdir() if (p / "metrics.csv").is_file()),
                     key=lambda p: ORDER.index(p.name) if p.name in ORDER else len(ORDER))
    print("\n| quantiser | validation -log p(x given z_q) by epoch, nats | validation codes used by epoch |")
    print("|---|---|---|")
    for run in trained:
        print(validation_row(run))


if __name__ == "__main__":
    main(sys.argv[1])
