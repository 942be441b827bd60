"""A study folder: the one place that names its files.

    OUT/
      sweep.yaml        the sweep file as given the first time (a later run of the sweep must keep its
                        base and evaluations; its grid, draws, variants and seeds may grow)
      runs/NAME/        each point's ordinary run folder (vaekit.rundir.RunDir)
      records/NAME.json each finished point's record, written last: its presence marks the point done
                        (or failed, with the error); the others are trained (or resumed) on the next run
      results.csv       one row per recorded point: settings, seed, steps, wall time, every number
      results.json      the same rows, with the sweep's settings
      study.html        the self-contained page; its figures in figures/: against_KEY.png (each metric
                        against the swept KEY) and rate_distortion.png
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from ..errors import UserError
from ..files import FolderFile, atomic_write_json, atomic_write_text

UNSAFE = re.compile(r"[^A-Za-z0-9._=+\-]")  # characters replaced by '_' in a file or folder name


class StudyDir:
    SWEEP = "sweep.yaml"
    RUNS = "runs"
    RECORDS = "records"
    RESULTS_CSV = "results.csv"
    RESULTS_JSON = "results.json"
    PAGE = "study.html"
    FIGURES = "figures"
    RATE_DISTORTION = "rate_distortion.png"

    # OUT/<file> for each of the files above, e.g. ``study.results_csv``
    sweep_file = FolderFile(SWEEP)
    results_csv = FolderFile(RESULTS_CSV)
    results_json = FolderFile(RESULTS_JSON)
    page = FolderFile(PAGE)
    figures = FolderFile(FIGURES)

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def run_dir(self, name: str) -> Path:
        return self.path / self.RUNS / name

    def record_file(self, name: str) -> Path:
        return self.path / self.RECORDS / f"{name}.json"

    def against_figure(self, parameter: str) -> Path:
        """OUT/figures/against_KEY.png: each metric against the swept ``parameter`` (KEY path-safe)."""
        return self.figures / f"against_{UNSAFE.sub('_', parameter)}.png"

    @property
    def rate_distortion_figure(self) -> Path:
        return self.figures / self.RATE_DISTORTION

    def write_record(self, record: dict) -> None:
        path = self.record_file(record["name"])
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, record)

    def read_record(self, name: str) -> dict | None:
        path = self.record_file(name)
        return json.loads(path.read_text()) if path.is_file() else None

    def records(self) -> list[dict]:
        """Every record in the folder, by name."""
        folder = self.path / self.RECORDS
        return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))] if folder.is_dir() else []

    def is_study(self) -> bool:
        return self.sweep_file.is_file()

    def check(self) -> "StudyDir":
        """This StudyDir; a UserError naming the folder when it holds no study."""
        if not self.is_study():
            raise UserError(f"{self.path}: no {self.SWEEP} here; pass a folder written by 'vaekit sweep ... --out'")
        return self

    def claim(self, raw: dict, fixed: tuple[str, ...]) -> None:
        """Store the sweep file's contents as OUT/sweep.yaml, or, when the folder holds a study, check that
        the ``fixed`` sections (base, evaluate) are the ones it was run with; the rest may grow. Refuses a
        folder that holds other files. Grown sections are stored."""
        if self.is_study():
            stored = yaml.safe_load(self.sweep_file.read_text()) or {}
            changed = [key for key in fixed if stored.get(key) != raw.get(key)]
            if changed:
                raise UserError(f"{self.path}: this study was run with another {' and '.join(changed)} "
                                f"({self.sweep_file}); keep {', '.join(changed)} as they were, or choose a new --out")
        elif self.path.exists() and any(self.path.iterdir()):
            raise UserError(f"{self.path}: the folder exists, is not empty and holds no study; choose another --out")
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.sweep_file, yaml.safe_dump(raw, sort_keys=False))
