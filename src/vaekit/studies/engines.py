"""The engines that run a sweep's jobs, registered by name: ``local`` (this machine's processes) and
``ray`` (``ray_engine``: a Ray cluster).

An engine is called ``engine(jobs, options, on_record)``: it sets each job's threads, runs the jobs,
calls ``on_record(record)`` as each one ends, and on KeyboardInterrupt (SIGINT) stops every running
job at its next step (each run folder stays resumable, no record written) and raises
KeyboardInterrupt again.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable

import torch

from ..registry import Registry
from .worker import Job, record_failure, run_job

ENGINES: Registry = Registry("engine")
_STOP = None  # a worker process's stop flag (set by the pool's initializer)


@dataclass(frozen=True)
class EngineOptions:
    """workers: processes (local) or tasks at once (ray: the CPUs of a local instance it starts); address:
    the Ray cluster to join ('auto', host:port; None starts a local instance); cpus and gpus per run
    (ray's declared resources; cpus are the run's threads)."""

    workers: int = 1
    address: str | None = None
    cpus_per_run: int = 1
    gpus_per_run: float = 0.0


def cores() -> int:
    """The CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """PyTorch threads per worker: the cores shared evenly (two threads per process on two shared cores
    made oneDNN convolutions many times slower than one)."""
    return max(1, cores() // max(1, workers))


@ENGINES.register("local")
def run_local(jobs: list[Job], options: EngineOptions, on_record: Callable[[dict], None]) -> None:
    """A pool of ``options.workers`` spawned processes, each on cores ÷ workers threads; one worker runs
    the jobs in this process instead (no start-up cost), its threads set back afterwards."""
    threads = threads_per_worker(options.workers)
    for job in jobs:
        job.threads = threads
    if options.workers <= 1 or len(jobs) <= 1:
        run_here(jobs, on_record)
    else:
        run_pool(jobs, min(options.workers, len(jobs)), on_record)


def run_here(jobs: list[Job], on_record: Callable[[dict], None]) -> None:
    """The jobs one after another in this process (Ctrl-C interrupts the running one where it is; its
    folder keeps its last epoch's checkpoint)."""
    before = torch.get_num_threads()
    try:
        for job in jobs:
            record = run_job(job)
            if record is not None:
                on_record(record)
    finally:
        torch.set_num_threads(before)


def _start_worker(stop) -> None:
    """A pool process ignores SIGINT (the terminal sends it to the whole group): the parent asks it to
    stop through ``stop``, so it ends at a step boundary instead of wherever the signal lands."""
    global _STOP
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STOP = stop


def _run_in_worker(job: Job) -> dict | None:
    return run_job(job, _STOP)


def run_pool(jobs: list[Job], workers: int, on_record: Callable[[dict], None]) -> None:
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(stop,)) as pool:
        pending = {pool.submit(_run_in_worker, job): job for job in jobs}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    collect(future, pending.pop(future), on_record)
        except KeyboardInterrupt:
            stop.set()
            for future in pending:
                future.cancel()
            for future in [f for f in pending if not f.cancelled()]:
                collect(future, pending[future], on_record)  # finished before the stop, or stopped (None)
            raise


def collect(future, job: Job, on_record: Callable[[dict], None]) -> None:
    """The job's record from its future; a worker process that died is recorded as the job's failure."""
    try:
        record = future.result()
    except BrokenProcessPool as error:
        record = record_failure(job, f"the worker process died ({error})")
    if record is not None:
        on_record(record)
