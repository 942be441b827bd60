"""benchmarks/disentanglement_gpu.py on the CPU with a tiny step count: the four settings run at once,
each probes its step time, extends its run to the step cap, and writes one scored row."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import REPOSITORY


def squares64(path, repeats=64):
    """A 12x12 square at one of 4 x 4 positions on 64x64 images, each position ``repeats`` times,
    with its two factors: 1,024 rows, 256 per factor value (enough for every metric's batches)."""
    codes = np.stack(np.unravel_index(np.arange(16), (4, 4)), 1)
    images = np.zeros((16, 64, 64), np.uint8)
    for i, (x, y) in enumerate(codes):
        images[i, 8 + 12 * y:20 + 12 * y, 8 + 12 * x:20 + 12 * x] = 255
    np.savez(path, x=np.tile(images, (repeats, 1, 1))[:, None], factors=np.tile(codes, (repeats, 1)),
             factor_names=np.array(["x", "y"]))
    return path


@pytest.mark.slow
def test_the_four_settings_run_at_once_to_the_step_cap_and_write_scored_rows(tmp_path):
    data, results = squares64(tmp_path / "squares.npz"), tmp_path / "rows.json"
    command = [sys.executable, str(REPOSITORY / "benchmarks" / "disentanglement_gpu.py"), "--minutes", "5",
               "--device", "cpu", "--data", str(data), "--steps-per-epoch", "2", "--max-steps", "6",
               "--out", str(tmp_path / "runs"), "--results", str(results)]
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY / "src"), "OMP_NUM_THREADS": "1"}
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    rows = json.loads(results.read_text())
    assert [row["setting"] for row in rows] == ["vae", "beta_vae", "beta_tcvae", "factorvae"]
    for row in rows:
        assert row["steps"] == 6 and row["share_of_paper_steps"] == 6 / 300_000 and row["device"] == "cpu"
        assert row["step_seconds"] > 0 and row["seed"] == 0
        assert 0 <= row["metrics"]["mig"] <= 1 and 0 <= row["metrics"]["mig_chen"] <= 1
        history = json.loads((tmp_path / "runs" / row["setting"] / "run.json").read_text())["history"]
        assert history[0]["changed"]["epochs"] == [2, 3]  # the probe's 2 epochs, extended by --resume
    assert "6 steps (0.0% of 300,000)" in finished.stdout
