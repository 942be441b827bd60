"""The local engine: each worker's PyTorch threads are the cores shared evenly (never below one), set
before the job's first torch work; one worker runs the jobs in this process and gives the caller its
threads back afterwards."""

import torch

from vaekit.studies import engines, worker
from vaekit.studies.engines import EngineOptions, run_local, threads_per_worker
from vaekit.studies.worker import Job, Stopped


def test_workers_share_the_cores_evenly(monkeypatch):
    monkeypatch.setattr(engines, "cores", lambda: 16)
    assert [threads_per_worker(n) for n in (1, 2, 3, 16, 40)] == [16, 8, 5, 1, 1]


def test_one_worker_runs_here_on_its_threads_and_restores_the_callers(monkeypatch, tmp_path):
    seen = []

    def train_point(job, run_dir, stop):
        seen.append((job.name, torch.get_num_threads()))
        raise Stopped  # as a stop request would: no record

    monkeypatch.setattr(engines, "cores", lambda: 3)
    monkeypatch.setattr(worker, "train_point", train_point)
    before = torch.get_num_threads()
    records = []
    jobs = [Job(name, None, {}, {}, 0, str(tmp_path)) for name in ("a", "b")]
    run_local(jobs, EngineOptions(workers=1), records.append)
    assert seen == [("a", 3), ("b", 3)] and records == []
    assert torch.get_num_threads() == before


def test_a_stop_asked_before_a_job_starts_skips_it(monkeypatch, tmp_path):
    class Set:
        def is_set(self):
            return True

    monkeypatch.setattr(worker, "train_point", lambda *a: (_ for _ in ()).throw(AssertionError("started")))
    assert worker.run_job(Job("a", None, {}, {}, 0, str(tmp_path)), Set()) is None
