"""Ctrl-C on 'vaekit sweep --workers 2': every worker stops at its next step, the command exits 130
saying how to resume, finished points keep their records, and running the sweep again skips them and
resumes the interrupted runs from their checkpoints to the end."""

import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import REPOSITORY, read_metrics
from sweeps import sweep_file

import vaekit
from vaekit.rundir import RunDir
from vaekit.studies.folder import StudyDir

EPOCHS = 4


def wait_for_a_checkpoint(runs, process, timeout=300):
    """Wait until some run under ``runs`` has written its first resume checkpoint (so it is mid-way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the sweep ended before it was interrupted: {process.communicate()}")
        if any(RunDir(folder).resume.is_file() for folder in runs.glob("*")):
            return
        time.sleep(0.2)
    pytest.fail("no run wrote a checkpoint in time")


@pytest.mark.slow
def test_sigint_stops_every_worker_and_the_sweep_resumes(tmp_path):
    path = sweep_file(tmp_path, seeds=[0, 1, 2, 3], epochs=EPOCHS)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY / "src"), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "vaekit", "sweep", str(path), "--out", str(out), "--workers", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wait_for_a_checkpoint(out / "runs", process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert stderr.strip().endswith("run the same command again to resume it"), stderr
    study = StudyDir(out)
    finished = {record["name"] for record in study.records()}
    assert len(finished) < 4
    interrupted = [folder.name for folder in (out / "runs").glob("*")
                   if folder.name not in finished and RunDir(folder).resume.is_file()]
    assert interrupted and all(RunDir(out / "runs" / name).epochs_done() < EPOCHS for name in interrupted)

    result = vaekit.sweep(path, out)
    assert sorted(result.skipped) == sorted(finished) and not result.failed
    assert {row["name"] for row in result.rows} == {f"seed={seed}" for seed in range(4)}
    for name in interrupted:
        assert [row["epoch"] for row in read_metrics(out / "runs" / name)] == [str(e) for e in range(1, EPOCHS + 1)]
