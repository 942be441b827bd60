"""A sweep on the local engine: a failing point is recorded with its error while the others finish
(exit 1); the results table, its JSON twin and --summary agree with the run folders; a run stopped
mid-way is resumed by running the sweep again (finished points skipped) and ends exactly as an
uninterrupted run; a sweep file that grew adds its new points."""

import json
import math

import pytest
from sweeps import sweep_file
from helpers import read_csv, read_metrics, run_ok

import vaekit
from vaekit.cli import main
from vaekit.rundir import RunDir
from vaekit.studies.folder import StudyDir
from vaekit.studies.points import expand
from vaekit.studies.spec import read_sweep
from vaekit.studies.sweep import FIXED_SECTIONS
from vaekit.studies.validate import point_configs
from vaekit.studies.worker import Job, run_job



def steps_per_epoch(config) -> int:
    """Batches of 128 in the training split the config's data give (what the trainer takes per epoch)."""
    import torch

    from vaekit.runs.prepared import prepare_data

    return math.ceil(len(prepare_data(config, None, torch.device("cpu")).train) / config.train.batch_size)


@pytest.fixture(scope="module")
def failing_study(tmp_path_factory):
    """(exit status, stdout, OUT) of a sweep whose second learning rate makes the loss non-finite."""
    folder = tmp_path_factory.mktemp("failing")
    path = sweep_file(folder, grid={"train.lr": [0.001, 1.0e12]}, evaluate={"eval": {"k": 2}})
    out = folder / "out"
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["sweep", str(path), "--out", str(out)])
    return status, printed.getvalue(), out


def test_a_failing_point_is_recorded_and_the_others_finish(failing_study):
    status, printed, out = failing_study
    assert status == 1
    rows = {row["name"]: row for row in read_csv(out / "results.csv")}
    assert set(rows) == {"lr=0.001,seed=0", "lr=1e+12,seed=0"}
    good, bad = rows["lr=0.001,seed=0"], rows["lr=1e+12,seed=0"]
    assert good["status"] == "done" and good["error"] == ""
    assert bad["status"] == "failed" and bad["error"].startswith("NonFiniteLoss: the loss became non-finite")
    assert "1 of 2 runs failed:" in printed and f"lr=1e+12,seed=0: {bad['error']}" in printed
    assert RunDir.is_run(out / "runs" / "lr=0.001,seed=0")


def test_the_results_hold_settings_steps_and_the_evaluations_numbers(failing_study):
    _, _, out = failing_study
    good = read_csv(out / "results.csv")[0]
    run = RunDir(out / "runs" / good["name"])
    assert float(good["train.lr"]) == 0.001 and int(good["seed"]) == 0
    assert int(good["steps"]) == 2 * steps_per_epoch(run.read_config())
    evaluation = run.read_evaluation()
    assert float(good["elbo_nats"]) == evaluation["elbo_nats"] and float(good["nll_nats"]) == evaluation["nll_nats"]
    assert int(good["eval_k"]) == 2
    best = run.read_metrics()[int(good["best_epoch"]) - 1]
    assert float(good["val_elbo"]) == best["val_elbo"]
    as_json = json.loads((out / "results.json").read_text())
    assert [row["name"] for row in as_json["rows"]] == [row["name"] for row in read_csv(out / "results.csv")]
    assert as_json["rows"][0]["elbo_nats"] == evaluation["elbo_nats"]
    assert as_json["sweep"]["grid"] == {"train.lr": [0.001, 1.0e12]}


def test_the_summary_prints_the_table(failing_study, capsys):
    _, _, out = failing_study
    lines = run_ok(["sweep", "--summary", str(out)], capsys).splitlines()
    assert lines[0].split()[:4] == ["name", "status", "steps", "wall_seconds"] and "elbo_nats" in lines[0]
    assert lines[1].split()[:2] == ["lr=0.001,seed=0", "done"]
    assert lines[2].split()[:2] == ["lr=1e+12,seed=0", "failed"] and lines[2].endswith("the last good checkpoint is kept. "
                                                                                        "Likely causes: a learning rate too high (now 1e+12; try --lr 1e+11 or --set train.grad_clip=1), or a likelihood that does not fit the data (e.g. a learned-sigma Gaussian collapsing on constant pixels).")


class StopAfter:
    """A stop flag that is set after ``calls`` questions (one per training step)."""

    def __init__(self, calls: int):
        self.calls = calls

    def is_set(self) -> bool:
        self.calls -= 1
        return self.calls < 0


def without_seconds(rows):
    return [{key: value for key, value in row.items() if key != "seconds"} for row in rows]


def test_an_interrupted_sweep_resumes_and_ends_as_an_uninterrupted_run(tmp_path):
    path = sweep_file(tmp_path, seeds=[0, 1])
    spec = read_sweep(path)
    points = expand(spec)
    configs = point_configs(spec, points)
    out = tmp_path / "out"
    StudyDir(out).claim(spec.raw, FIXED_SECTIONS)
    first, second = (Job(p.name, None, configs[p.name].to_dict(), p.settings, p.seed, str(out)) for p in points)
    assert run_job(first)["status"] == "done"
    assert run_job(second, StopAfter(steps_per_epoch(configs[second.name]) + 3)) is None  # stopped in its second epoch: no record
    stopped = RunDir(out / "runs" / second.name)
    assert stopped.epochs_done() == 1 and StudyDir(out).read_record(second.name) is None
    finished_weights = (out / "runs" / first.name / "model.safetensors").stat().st_mtime_ns

    seen = {}
    result = vaekit.sweep(path, out, on_start=lambda run, skipped: seen.update(run=run, skipped=skipped))
    assert seen == {"run": [second.name], "skipped": [first.name]}
    assert result.ran == [second.name] and not result.failed
    assert (out / "runs" / first.name / "model.safetensors").stat().st_mtime_ns == finished_weights
    reference = vaekit.train(configs[second.name], out=tmp_path / "reference")
    assert without_seconds(read_metrics(stopped.path)) == without_seconds(read_metrics(reference.dir))

    grown = sweep_file(tmp_path, "grown.yaml", seeds=[0, 1, 2])
    result = vaekit.sweep(grown, out)
    assert result.ran == ["seed=2"] and result.skipped == ["seed=0", "seed=1"] and len(result.rows) == 3
    changed = sweep_file(tmp_path, "changed.yaml", seeds=[0], evaluate={"eval": {"k": 0}})
    with pytest.raises(vaekit.UserError, match="this study was run with another evaluate"):
        vaekit.sweep(changed, out)


def test_the_page_stands_alone_and_shows_every_row_and_figure(failing_study):
    """study.html in headless Chromium: no console errors, nothing fetched from a host, every row of
    results.csv in its table, every figure embedded and decoded."""
    from browser import BrowserMissing, chrome, close, console_errors, network_requests, requested_urls

    _, _, out = failing_study
    figures = sorted(path.name for path in (out / "figures").glob("*.png"))
    assert figures == ["against_train.lr.png", "rate_distortion.png"]
    try:
        driver = chrome()
    except BrowserMissing as missing:
        pytest.skip(str(missing))
    try:
        driver.get((out / "study.html").as_uri())
        shown = driver.execute_script(
            "return {rows: Array.from(document.querySelectorAll('table')[1].rows).slice(1).map(r => r.cells[0].textContent),"
            " images: Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)}")
        assert shown["rows"] == [row["name"] for row in read_csv(out / "results.csv")]
        assert shown["images"] == [True] * len(figures)
        assert console_errors(driver) == [] and network_requests(requested_urls(driver)) == []
    finally:
        close(driver)


def test_an_ood_evaluation_puts_the_run_s_ood_json_numbers_in_its_row(tmp_path):
    import numpy as np

    constant = tmp_path / "constant.npy"
    np.save(constant, np.zeros((40, 1, 8, 8), dtype=np.float32))
    path = sweep_file(tmp_path, epochs=1, evaluate={"ood": {"against": [str(constant)], "methods": ["nll", "neg_elbo"],
                                                            "k": 2, "examples": 30}})
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    row, = json.loads((out / "results.json").read_text())["rows"]
    run_dir = next((out / "runs").iterdir())
    table = json.loads((run_dir / RunDir.OOD).read_text())
    for method in ("nll", "neg_elbo"):
        auroc = table["constant"][method]["auroc"]
        assert 0.0 <= auroc <= 1.0 and row[f"ood_constant_{method}_auroc"] == auroc
