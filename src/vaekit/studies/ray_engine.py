"""The ``ray`` engine: each point a Ray task with its resources declared (CPUs, GPUs).

``--address auto`` (or HOST:PORT) joins a running cluster; without one a local instance is started for
the sweep (``workers`` CPUs, no dashboard) and shut down after it. A task runs ``worker.run_job`` with
as many PyTorch threads as CPUs it declared, so a point gives the same numbers as on the local pool
with the same threads. On a cluster of several machines OUT must be on a filesystem they all share.
Ray is an optional extra: ``pip install "vaekit[ray]"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable


from ..errors import UserError
from .engines import ENGINES, EngineOptions, cores
from .worker import Job, one_line, record_failure, run_job

SOURCE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding the vaekit package


def import_ray():
    try:
        import ray
    except ImportError:
        raise UserError('--engine ray needs Ray: pip install "vaekit[ray]"') from None
    return ray


def task_options(options: EngineOptions) -> dict[str, Any]:
    """The resources each point's task declares to Ray."""
    return {"num_cpus": options.cpus_per_run, "num_gpus": options.gpus_per_run, "max_retries": 0}


def init_arguments(options: EngineOptions) -> dict[str, Any]:
    """ray.init's arguments: join ``address``, or start a local instance of ``workers`` CPUs (all cores
    when workers is 1) whose workers import this vaekit."""
    if options.address:
        return {"address": options.address}
    cpus = options.workers if options.workers > 1 else cores()
    return {"num_cpus": cpus, "include_dashboard": False, "log_to_driver": False,
            "runtime_env": {"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, [SOURCE_ROOT,
                                                                                  os.environ.get("PYTHONPATH")]))}}}


@ENGINES.register("ray")
def run_ray(jobs: list[Job], options: EngineOptions, on_record: Callable[[dict], None]) -> None:
    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(**init_arguments(options))
        except ConnectionError as error:
            raise UserError(f"--address {options.address}: no Ray cluster there ({one_line(error)})") from None
    try:
        run_tasks(ray, jobs, options, on_record)
    finally:
        if started_here:
            ray.shutdown()


def run_tasks(ray, jobs: list[Job], options: EngineOptions, on_record: Callable[[dict], None]) -> None:
    task = ray.remote(**task_options(options))(run_job)
    for job in jobs:
        job.threads = max(1, int(options.cpus_per_run))
    pending = {task.remote(job): job for job in jobs}
    try:
        while pending:
            finished, _ = ray.wait(list(pending), num_returns=1)
            for ref in finished:
                collect(ray, ref, pending.pop(ref), on_record)
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref)  # a KeyboardInterrupt inside the task: it stops where it is, its checkpoint kept
        raise


def collect(ray, ref, job: Job, on_record: Callable[[dict], None]) -> None:
    """The task's record; a task that died (its worker lost) is recorded as the point's failure."""
    try:
        record = ray.get(ref)
    except ray.exceptions.RayError as error:
        record = record_failure(job, f"the Ray task failed: {one_line(error)}")
    if record is not None:
        on_record(record)
