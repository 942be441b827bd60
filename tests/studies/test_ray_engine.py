"""The ray engine: each point a Ray task declaring its CPUs and GPUs, with as many threads as CPUs; a
local instance is started when no address is given. A stand-in for Ray checks the tasks the engine
builds; a local Ray instance (about 20 s with its start) checks that a tiny grid gives the same
metrics.csv on Ray as on the local pool (wall time aside)."""

import pytest
from helpers import read_metrics
from sweeps import sweep_file

import vaekit
from vaekit.studies import ray_engine
from vaekit.studies.engines import EngineOptions
from vaekit.studies.worker import Job


class FakeRay:
    """What the engine uses of Ray: remote(**resources)(function) -> .remote(job) refs; wait; get; cancel."""

    class exceptions:
        RayError = RuntimeError

    def __init__(self):
        self.declared, self.results = [], {}

    def remote(self, **resources):
        self.declared.append(resources)

        def wrap(function):
            fake = self

            class Task:
                @staticmethod
                def remote(job):
                    ref = object()
                    fake.results[ref] = function(job)
                    return ref

            return Task

        return wrap

    def wait(self, refs, num_returns):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        return self.results[ref]


def test_each_point_is_a_task_declaring_its_resources_with_as_many_threads(monkeypatch):
    ran = []
    monkeypatch.setattr(ray_engine, "run_job", lambda job: ran.append(job) or {"name": job.name, "threads": job.threads})
    fake, records = FakeRay(), []
    jobs = [Job(name, None, {}, {}, seed, "out") for seed, name in enumerate(["a", "b", "c"])]
    ray_engine.run_tasks(fake, jobs, EngineOptions(workers=2, cpus_per_run=3, gpus_per_run=0.5), records.append)
    assert fake.declared == [{"num_cpus": 3, "num_gpus": 0.5, "max_retries": 0}]
    assert [r["name"] for r in records] == ["a", "b", "c"] and {r["threads"] for r in records} == {3}


def test_a_local_instance_is_started_unless_an_address_is_given():
    local = ray_engine.init_arguments(EngineOptions(workers=2))
    assert local["num_cpus"] == 2 and local["include_dashboard"] is False
    assert ray_engine.SOURCE_ROOT in local["runtime_env"]["env_vars"]["PYTHONPATH"]  # the tasks import this vaekit
    assert ray_engine.init_arguments(EngineOptions(address="auto")) == {"address": "auto"}


def without_seconds(rows):
    return [{key: value for key, value in row.items() if key != "seconds"} for row in rows]


def test_ray_gives_the_local_pools_numbers(tmp_path):
    pytest.importorskip("ray")
    path = sweep_file(tmp_path, grid={"objective.beta": [1, 4]}, evaluate={"eval": {"k": 0}}, epochs=1)
    local = vaekit.sweep(path, tmp_path / "local", workers=2)
    on_ray = vaekit.sweep(path, tmp_path / "ray", workers=2, engine="ray")
    assert [row["name"] for row in local.rows] == [row["name"] for row in on_ray.rows] == ["beta=1,seed=0", "beta=4,seed=0"]
    for name in ("beta=1,seed=0", "beta=4,seed=0"):
        assert without_seconds(read_metrics(tmp_path / "local" / "runs" / name)) == without_seconds(
            read_metrics(tmp_path / "ray" / "runs" / name))
    assert [row["elbo_nats"] for row in local.rows] == [row["elbo_nats"] for row in on_ray.rows]
