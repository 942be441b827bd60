"""vaekit sample: --n's default is a rule (64 for a grid, 8 per class with --label all), not a sentinel."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from vaekit.cli import main

OLD_CVAE = Path(__file__).parents[1] / "data" / "runs_before_0_2" / "cvae"


@pytest.mark.parametrize(("argv", "rows"), [
    (["--label", "all"], 8),  # not given: a row of 8 per class
    (["--label", "all", "--n", "64"], 64),  # given as 64: 64 per class (the sentinel made it 8)
    (["--label", "all", "--n", "3"], 3),
])
def test_samples_per_class(tmp_path, argv, rows):
    run = shutil.copytree(OLD_CVAE, tmp_path / "run")
    assert main(["sample", str(run), *argv, "--out", str(tmp_path / "s.png")]) == 0
    with np.load(tmp_path / "s.npz") as stored:
        classes = len(stored["labels"])
        assert classes >= 2 and stored["samples"].shape[:2] == (classes, rows)


def test_a_grid_of_64_by_default(tmp_path):
    run = shutil.copytree(OLD_CVAE, tmp_path / "run")
    assert main(["sample", str(run)]) == 0
    with np.load(run / "samples.npz") as stored:
        assert stored["samples"].shape[0] == 64 and stored["z"].shape[0] == 64
