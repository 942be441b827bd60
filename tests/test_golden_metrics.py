"""Behaviour kept across the 0.2 redesign: training from each configuration written by the code before
it (flat 0.1 config files, migrated on read) gives the same metrics.csv, bit for bit, on CPU.

The files in ``data/golden_metrics`` were written by vaekit 0.1 (`vaekit train ... --epochs 2`, see
each ``*.config.yaml``); only the wall-clock column ``seconds`` may differ.
"""

import csv
from pathlib import Path

import pytest

from vaekit.cli import main

GOLDEN = Path(__file__).parent / "data" / "golden_metrics"
CASES = sorted(path.name.removesuffix(".config.yaml") for path in GOLDEN.glob("*.config.yaml"))


def rows_without_time(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return [{key: value for key, value in row.items() if key != "seconds"} for row in csv.DictReader(handle)]


@pytest.mark.parametrize("case", CASES)
def test_training_from_a_0_1_config_repeats_its_metrics_bit_for_bit(case, tmp_path):
    out = tmp_path / case
    assert main(["train", "--config", str(GOLDEN / f"{case}.config.yaml"), "--out", str(out)]) == 0
    assert rows_without_time(out / "metrics.csv") == rows_without_time(GOLDEN / f"{case}.csv")
