"""``vaekit.sweep``: read a sweep file, validate every point, run the points not yet done on an engine,
and write the results and the page. ``summary_table``: the table of a study folder, as text."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import yaml

from ..config.ranges import COUNT, GPU_SHARE
from ..errors import UserError
from .engines import ENGINES, EngineOptions
from .evaluations import evaluations
from .folder import StudyDir
from .page import write_page
from .points import expand
from .results import result_rows, summary_columns, text_table, write_results
from .spec import parse_sweep, read_sweep
from .validate import point_configs
from .worker import DONE, Job
from . import ray_engine  # noqa: F401  (registers the 'ray' engine; Ray itself is imported when it runs)

FIXED_SECTIONS = ("base", "evaluate")  # what a study keeps from run to run (the points may grow)


@dataclass
class StudyResult:
    """What a sweep did: its folder, the rows of its points (results.csv), the points it ran this time, those
    it found done, and the failed ones (by name)."""

    folder: Path
    rows: list[dict] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        return [row for row in self.rows if row["status"] != DONE]


def sweep(sweep_file: str | Path | Mapping, out: str | Path, workers: int = 1, engine: str = "local",
          address: str | None = None, cpus_per_run: int = 1, gpus_per_run: float = 0.0,
          on_record: Callable[[dict], None] | None = None, on_start: Callable[[list[str], list[str]], None] | None = None,
          check_builds: bool = True) -> StudyResult:
    """Run the study ``sweep_file`` (a YAML path or its mapping) into ``out``.

    Every point is validated first (its config, its model and objective built on its data; a UserError
    naming the point and the key). Points with a record are skipped, interrupted ones resumed from their
    checkpoints, new ones started. ``engine``: 'local' (``workers`` processes, each on cores ÷ workers
    threads) or 'ray' (``address`` of a cluster, else a local instance; each run a task declaring
    ``cpus_per_run`` CPUs and ``gpus_per_run`` GPUs). ``on_start(to_run, skipped)`` is called once
    before the first run, ``on_record(record)`` as each point ends. A failed point is recorded with its
    error and the others go on. results.csv, results.json and study.html are written at the end, and on
    KeyboardInterrupt (which stops every run resumably) before it is raised again.
    """
    run_engine, options = engine_and_options(engine, workers, address, cpus_per_run, gpus_per_run)
    spec = read_sweep(sweep_file)
    points = expand(spec)
    steps = evaluations(spec.evaluate, spec.where)
    configs = point_configs(spec, points, build=check_builds)
    study = StudyDir(out)
    study.claim(spec.raw, FIXED_SECTIONS)
    done = {point.name for point in points if (study.read_record(point.name) or {}).get("status") == DONE}
    jobs = [Job(point.name, point.variant, configs[point.name].to_dict(), point.settings, point.seed, str(study.path),
                steps) for point in points if point.name not in done]
    result = StudyResult(study.path, skipped=[point.name for point in points if point.name in done])
    if on_start is not None:
        on_start([job.name for job in jobs], result.skipped)

    def recorded(record: dict) -> None:
        result.ran.append(record["name"])
        if on_record is not None:
            on_record(record)

    try:
        run_engine(jobs, options, recorded)
    finally:
        records = [r for r in (study.read_record(point.name) for point in points) if r is not None]
        result.rows = result_rows(records, spec.swept_keys, [point.name for point in points])
        write_results(study, result.rows, spec.raw)
        write_page(study, result.rows, spec.swept_keys, spec.where)
    return result


def engine_and_options(engine: str, workers: int, address: str | None, cpus_per_run: int,
                       gpus_per_run: float) -> tuple[Callable, EngineOptions]:
    """The engine and its options, checked before anything is read or written."""
    try:
        run_engine = ENGINES.get(engine)
    except UserError as error:
        raise UserError(f"--engine: {error}") from None
    COUNT.check("--workers", workers)  # the same ranges as the command's options, for vaekit.sweep's callers
    if address is not None and engine != "ray":
        raise UserError(f"--address {address}: only the ray engine joins a cluster; add --engine ray")
    COUNT.check("--cpus-per-run", cpus_per_run)
    GPU_SHARE.check("--gpus-per-run", gpus_per_run)
    return run_engine, EngineOptions(workers, address, cpus_per_run, gpus_per_run)


def summary_table(out: str | Path) -> str:
    """The results of the study folder ``out`` as a text table (name, status, steps, wall time and the
    headline numbers), from its records; the points its sweep file had that have no record yet are
    listed at the end."""
    study = StudyDir(out).check()
    spec = parse_sweep(yaml.safe_load(study.sweep_file.read_text()) or {}, str(study.sweep_file), study.path)
    names = [point.name for point in expand(spec)]
    records = [r for r in (study.read_record(name) for name in names) if r is not None]
    rows = result_rows(records, spec.swept_keys, names)
    waiting = [name for name in names if study.read_record(name) is None]
    lines = [text_table(rows, summary_columns(rows, spec.swept_keys))] if rows else ["no point has finished yet"]
    if waiting:
        lines.append(f"not run yet ({len(waiting)}): {', '.join(waiting)}")
    return "\n".join(lines)
