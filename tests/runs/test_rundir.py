"""The run folder's one owner: every file name spelled in vaekit.rundir only, eval.json keeping every
evaluation per setting and heading with the tightest, one is-this-a-run check, the code prior's one result key, metrics rows, one load."""

import ast
import json
import os
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from helpers import DATA

import vaekit
from vaekit import Config
from vaekit.errors import UserError
from vaekit.files import atomic_write_json, read_metadata
from vaekit.rundir import Figures, RunDir, save_model
from vaekit.training.trainer import TrainState

SRC = Path(vaekit.__file__).parent
OLD_RUN = DATA / "run_v0_1_0"


def run_file_names() -> set[str]:
    """Every file name RunDir and Figures define (those with a suffix; folder names are plain words)."""
    names = {value for owner in (RunDir, Figures) for key, value in vars(owner).items()
             if key.isupper() and isinstance(value, str) and "." in value}
    assert {"model.safetensors", "eval.json", "metrics.csv", "samples.png"} <= names
    return names


def spelled_names(path: Path, names: set[str], root: Path = SRC) -> list[str]:
    """String constants in ``path`` (docstrings and help prose aside) that are a run file's name or end
    with '/NAME': what code building a path from a literal would write."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in names or any(node.value.endswith("/" + name) for name in names):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value!r}")
    return found


def test_no_module_but_rundir_spells_a_run_file_name():
    names = run_file_names()
    found = [hit for path in sorted(SRC.rglob("*.py")) if path.name != "rundir.py" for hit in spelled_names(path, names)]
    assert found == [], "spell these through vaekit.rundir.RunDir:\n" + "\n".join(found)


def test_the_name_check_finds_a_literal_name(tmp_path):
    """The test above can fail: literal names are found, in a path or alone; docstrings are prose."""
    module = tmp_path / "vaekit_like.py"
    module.write_text('"""Reads model.safetensors."""\nPATH = "runs/a/eval.json"\nWEIGHTS = "model.safetensors"\n')
    assert spelled_names(module, run_file_names(), tmp_path) == [
        "vaekit_like.py:2: 'runs/a/eval.json'", "vaekit_like.py:3: 'model.safetensors'"]


def test_check_names_the_folder_and_what_a_run_folder_holds(tmp_path):
    with pytest.raises(UserError) as caught:
        RunDir.check(tmp_path)
    assert str(caught.value) == f"{tmp_path}: no model.safetensors here; pass a run folder written by 'vaekit train'"
    assert not RunDir.is_run(tmp_path) and RunDir.is_run(OLD_RUN)
    with pytest.raises(UserError, match="no model.safetensors here"):
        vaekit.load(tmp_path)  # the same check behind every reader


def copy_of_old_run(tmp_path) -> RunDir:
    return RunDir(shutil.copytree(OLD_RUN, tmp_path / "run"))


def evaluation(k: int, elbo: float, examples: int = 100, data: str = "digits", **more) -> dict:
    """A flat evaluation as evaluate_run gives it (the numbers that matter here)."""
    return {"elbo_nats": elbo, "k": k, "examples": examples, "data": data, "split": "test", "seed": 0, **more}


def test_a_looser_evaluation_never_replaces_a_tighter_one_and_every_setting_is_kept(tmp_path):
    run = copy_of_old_run(tmp_path)
    run.write_evaluation(evaluation(100, -30.0, log_px_nats=-28.5))
    run.write_evaluation(evaluation(0, -31.0))  # training's final evaluation
    run.write_evaluation(evaluation(10, -31.5, log_px_nats=-29.0))
    kept = run.read_evaluation()
    assert {key: kept[key] for key in ("k", "elbo_nats", "log_px_nats")} == {"k": 100, "elbo_nats": -30.0,
                                                                              "log_px_nats": -28.5}
    assert sorted(kept[RunDir.EVALUATIONS]) == ["k=0 n=100 digits test", "k=10 n=100 digits test",
                                                "k=100 n=100 digits test"]
    assert kept[RunDir.EVALUATIONS]["k=10 n=100 digits test"]["log_px_nats"] == -29.0
    assert kept[RunDir.WEIGHTS_ID] == run.weights_id() and run.evaluation_is_current()
    run.write_evaluation(evaluation(100, -30.5, seed=1, log_px_nats=-28.6))  # the same setting again: it replaces
    assert run.read_evaluation()["seed"] == 1 and len(run.read_evaluation()[RunDir.EVALUATIONS]) == 3
    run.write_evaluation(evaluation(5000, -30.0, examples=10, log_px_nats=-28.0))  # more samples, fewer examples
    assert run.read_evaluation()["k"] == 5000


def test_an_evaluation_of_other_data_heads_the_file_without_competing(tmp_path):
    run = copy_of_old_run(tmp_path)
    run.write_evaluation(evaluation(100, -30.0))
    run.write_evaluation(evaluation(0, -90.0, data="other.npy"))
    assert (run.read_evaluation()["data"], run.read_evaluation()["k"]) == ("other.npy", 0)
    run.write_evaluation(evaluation(0, -31.0))
    assert (run.read_evaluation()["data"], run.read_evaluation()["k"]) == ("digits", 100)


def test_a_section_of_the_same_weights_is_kept_unless_the_new_evaluation_has_one_of_that_name(tmp_path):
    run = copy_of_old_run(tmp_path)
    run.write_evaluation(evaluation(0, -30.0, disentanglement={"mig": 0.1}, extra={"a": 1}))
    run.write_evaluation(evaluation(0, -31.0, extra={"a": 2}))
    kept = run.read_evaluation()
    assert (kept["disentanglement"], kept["extra"], kept["elbo_nats"]) == ({"mig": 0.1}, {"a": 2}, -31.0)


def test_evaluations_of_earlier_weights_are_kept_under_their_weights_but_never_head_the_file(tmp_path):
    run = copy_of_old_run(tmp_path)
    run.write_evaluation(evaluation(100, -30.0, log_px_nats=-28.5, disentanglement={"mig": 0.1}))
    earlier = run.weights_id()
    run.weights.write_bytes(run.weights.read_bytes() + b" ")  # other weights (training went on)
    assert not run.evaluation_is_current()
    run.write_evaluation(evaluation(0, -25.0))
    kept = run.read_evaluation()
    assert (kept["k"], kept["elbo_nats"], "disentanglement" in kept) == (0, -25.0, False)
    assert kept[RunDir.EVALUATIONS]["k=100 n=100 digits test"] == {**evaluation(100, -30.0, log_px_nats=-28.5,
                                                                              disentanglement={"mig": 0.1}),
                                                                   RunDir.WEIGHTS_ID: earlier}


def test_an_eval_json_of_an_earlier_version_is_kept_as_one_evaluation(tmp_path):
    run = copy_of_old_run(tmp_path)
    old = json.loads((OLD_RUN / "expected_eval.json").read_text())  # written by vaekit 0.1, no weights named
    atomic_write_json(run.evaluation, old)
    assert run.evaluation_is_current()  # not older than the weights: taken to be theirs
    run.write_evaluation(evaluation(0, -31.0, examples=old["examples"]))
    kept = run.read_evaluation()
    assert kept["k"] == old["k"] == 20 and kept["elbo_nats"] == old["elbo_nats"]
    later = run.evaluation.stat().st_mtime + 10
    atomic_write_json(run.evaluation, old)
    os.utime(run.weights, (later, later))  # an old eval.json older than the weights: of earlier weights
    assert not run.evaluation_is_current()


def test_metrics_rows_round_trip_with_columns_that_appear_later(tmp_path):
    run = RunDir(tmp_path)
    history = [{"epoch": 1, "train_elbo": -40.5}, {"epoch": 2, "train_elbo": -35.25, "val_elbo": -36.0}]
    run.write_metrics(history)
    assert run.metrics.read_text().splitlines()[0] == "epoch,train_elbo,val_elbo"
    assert run.read_metrics() == history
    assert RunDir(tmp_path / "none").read_metrics() == []


def test_the_code_prior_is_saved_with_the_weights_keeping_the_stored_config_and_data(tmp_path):
    run = copy_of_old_run(tmp_path)
    before = run.metadata()
    model = vaekit.load(run.path)
    run.save_fitted(model, {"code_prior": {"train_code_nll_nats": 10.0, "val_code_nll_nats": 11.0}})
    after = run.metadata()
    assert after["data"] == before["data"] and after["code_prior"] == {"train_code_nll_nats": 10.0, "val_code_nll_nats": 11.0}
    assert Config.from_dict(after["config"]) == Config.from_dict(before["config"])
    assert run.read_code_prior()["val_code_nll_nats"] == 11.0


def test_the_old_code_prior_key_is_read_as_the_new_one(tmp_path, vae):
    run = RunDir(tmp_path)
    save_model(run.weights, vae, Config().replace(model={"latent_dim": 3}), {"code_prior": {"test_code_nll_nats": 12.5}})
    assert run.read_code_prior() == {"val_code_nll_nats": 12.5}  # written by 'vaekit fit-code-prior' before 0.2
    assert RunDir(OLD_RUN).read_code_prior() is None


def test_an_old_resume_state_with_best_val_elbo_loads_as_best_val_score():
    stored = read_metadata(RunDir(OLD_RUN).resume)["train_state"]
    assert "best_val_elbo" in stored  # written by 0.1.0
    state = TrainState.from_dict(stored)
    assert state.best_val_score == stored["best_val_elbo"] and state.epoch == stored["epoch"]


def test_resume_refuses_other_settings_naming_them_before_reading_the_folder(tmp_path):
    with pytest.raises(UserError, match=r"drop --batch-size, --out$"):
        vaekit.train(resume=tmp_path / "no-such-run", batch_size=32, epochs=3, out=tmp_path / "x")
    with pytest.raises(UserError, match=r"drop --config, --set or the data options"):
        vaekit.train(Config(), resume=tmp_path / "no-such-run")


def test_one_public_load():
    assert "load" in vaekit.__all__ and "load_model" not in vaekit.__all__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from vaekit.training.checkpoint import load_model

        assert vaekit.load_model is load_model
    assert any(issubclass(w.category, DeprecationWarning) and "vaekit.load(" in str(w.message) for w in caught)


def test_load_takes_a_run_folder_or_a_checkpoint_file_and_which_weights():
    best, last = vaekit.load(OLD_RUN), vaekit.load(OLD_RUN, which="last")
    from_file = vaekit.load(RunDir(OLD_RUN).weights)
    x = torch.rand(3, *best.data_shape)
    assert torch.equal(best.encode(x).mean, from_file.encode(x).mean)
    assert last.data_shape == best.data_shape
    with pytest.raises(UserError, match="which='best'"):
        vaekit.load(OLD_RUN, which="best")


def test_a_model_config_is_stored_with_the_weights(tmp_path, vae):
    save_model(tmp_path / "m.safetensors", vae, Config().replace(model={"latent_dim": 3}), {"note": [1, 2]})
    stored = read_metadata(tmp_path / "m.safetensors")
    assert stored["note"] == [1, 2] and stored["data_shape"] == [6] and stored["config"]["model"]["latent_dim"] == 3
    assert stored["vaekit"] == vaekit.__version__


def test_the_code_prior_stage_stores_its_numbers_under_the_name_rundir_reads():
    from vaekit.models.code_prior import PriorFitting

    assert PriorFitting.name == RunDir.CODE_PRIOR


def test_a_run_folder_without_config_yaml_reads_the_config_stored_with_its_weights(tmp_path):
    run = shutil.copytree(OLD_RUN, tmp_path / "run")
    with_file = RunDir(run).read_config()
    (run / RunDir.CONFIG).unlink()
    assert RunDir(run).read_config() == with_file  # the same values, stored beside the weights
    with pytest.raises(UserError, match="config file not found"):
        RunDir(tmp_path).read_config()  # not a run: nothing to fall back to
