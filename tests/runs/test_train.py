"""vaekit.runs.train: resume bit-identity, atomic writes, non-finite stops, early stopping, binarization; and
behaviour kept across the 0.2 redesign: training from each configuration written by the code before it
(flat 0.1 config files, migrated on read) gives the same metrics.csv, bit for bit, on CPU.

The files in ``tests/data/golden_metrics`` were written by vaekit 0.1 (`vaekit train ... --epochs 2`, see
each ``*.config.yaml``); only the wall-clock column ``seconds`` may differ.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from helpers import DATA, cli_error, read_csv, read_metrics, torch_threads
from interrupted import train_interrupted

import vaekit
from vaekit import files
from vaekit.cli import main
from vaekit.runs.prepared import prepare_data
from vaekit.training import checkpoint
from vaekit.training.batches import ResidentBatches
from vaekit.training.checkpoint import load_tensors
from vaekit.training.trainer import NonFiniteLoss, Trainer, TrainState


def test_resume_ends_bit_identical_to_an_uninterrupted_run(tmp_path, small_config):
    whole = vaekit.train(small_config, out=tmp_path / "whole")
    train_interrupted(small_config, tmp_path / "cut", epochs=2)
    assert len(read_metrics(tmp_path / "cut")) == 2
    resumed = vaekit.train(resume=tmp_path / "cut")
    assert resumed.state.epoch == whole.state.epoch == 4
    expected, _ = load_tensors(whole.dir / "last.safetensors")
    got, _ = load_tensors(resumed.dir / "last.safetensors")
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name
    assert open(whole.dir / "metrics.csv").read().count("\n") == open(resumed.dir / "metrics.csv").read().count("\n")


def test_training_leaves_the_global_random_state_alone(tmp_path, small_config):
    before = torch.get_rng_state()
    vaekit.train(small_config.replace(train={"epochs": 1}), out=tmp_path / "run")
    assert torch.equal(before, torch.get_rng_state())


def test_run_folder_holds_config_versions_and_a_loadable_model(tmp_path, small_config):
    run = vaekit.train(small_config, out=tmp_path / "run")
    stored = yaml.safe_load((run.dir / "config.yaml").read_text())
    assert vaekit.Config.from_dict(stored) == run.config
    info = (run.dir / "run.json").read_text()
    assert torch.__version__ in info and vaekit.__version__ in info
    hardware = json.loads(info)["hardware"]  # where the run's times were measured
    assert f"{os.cpu_count()} cores, {torch.get_num_threads()} torch thread" in hardware, hardware
    model = vaekit.load(run.dir)
    x = run.data.test.inputs(slice(0, 5))
    assert torch.equal(model.encode(x).mean, run.model.encode(x).mean)


def test_a_write_killed_midway_leaves_the_previous_checkpoint_loadable(tmp_path, small_config, monkeypatch):
    run = vaekit.train(small_config.replace(train={"epochs": 1}), out=tmp_path / "run")
    path = run.dir / "model.safetensors"
    before = path.read_bytes()

    def dies_halfway(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"\x00" * 100)  # a partial file, then the process "dies"
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "save_file", dies_halfway)  # the tensor files' writer (vaekit.files)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save_model(path, run.model, run.config)
    assert path.read_bytes() == before
    assert vaekit.load(run.dir) is not None
    assert [p.name for p in run.dir.iterdir() if p.name.endswith(".tmp")] == []


def test_non_finite_loss_stops_with_epoch_and_step_and_keeps_the_last_good_checkpoint(tmp_path, small_config, monkeypatch):
    from vaekit.runs import train as run_module

    real_build = run_module.build_objective
    steps_per_epoch = -(-len(prepare_data(small_config, None, torch.device("cpu")).train) // 64)

    def poisoned(config, model):
        objective = real_build(config, model)
        calls = {"n": 0}

        def call(model, batch, beta=None):
            output = objective(model, batch, beta)
            calls["n"] += model.training  # count training steps, not validation batches
            if model.training and calls["n"] == steps_per_epoch + 3:  # epoch 2, step 3
                output.loss = output.loss * float("nan")
            return output

        call.beta_at = objective.beta_at
        return call

    monkeypatch.setattr(run_module, "build_objective", poisoned)
    saved = []
    remember = lambda state: saved.append((tmp_path / "bad" / "last.safetensors").read_bytes())  # noqa: E731
    with pytest.raises(NonFiniteLoss, match=r"epoch 2, step 3.*learning rate"):
        vaekit.train(small_config, out=tmp_path / "bad", on_epoch=remember)
    assert len(saved) == 1
    assert (tmp_path / "bad" / "last.safetensors").read_bytes() == saved[0]
    assert all(torch.isfinite(t).all() for t in load_tensors(tmp_path / "bad" / "last.safetensors")[0].values())


def test_early_stopping_stops_after_patience_epochs_without_improvement(monkeypatch):
    from vaekit.training import trainer as trainer_module

    scores = iter([-10.0, -9.0, -9.5, -9.2, -9.1, -8.0])
    monkeypatch.setattr(trainer_module, "mean_terms", lambda *a, **k: {"elbo": next(scores)})
    config = vaekit.Config().train.__class__(epochs=10, patience=3)
    model = vaekit.build_model(vaekit.ModelConfig(hidden=(4,), latent_dim=2, likelihood="gaussian"), (3,))
    trainer = Trainer(model, None, config, None, None, TrainState())
    trainer.train_epoch = lambda batches, on_step: {}
    improved = []
    state = trainer.fit(batches=None, val_data=[0], on_epoch=lambda s, better: improved.append(better))
    assert state.epoch == 5 and state.stopped_early
    assert state.best_epoch == 2 and state.best_val_score == -9.0
    assert improved == [True, True, False, False, False]


def test_dynamic_binarization_resamples_training_batches_and_fixes_the_test_set(small_config):
    prepared = prepare_data(small_config, None, torch.device("cpu"))
    assert prepared.binarize == "dynamic"
    again = prepare_data(small_config, None, torch.device("cpu"))
    assert torch.equal(prepared.test.inputs(), again.test.inputs())
    assert set(prepared.test.inputs().unique().tolist()) <= {0.0, 1.0}
    train = prepared.train.subset(torch.arange(64))
    batches = ResidentBatches(train, batch_size=64, dynamic_binarize=True)
    torch.manual_seed(0)
    first, second = next(iter(batches)).x, next(iter(batches)).x
    assert set(first.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(first.sum(0), second.sum(0))  # new draws (the order is the same multiset)
    draws = torch.stack([next(iter(batches)).x.sum(0) for _ in range(200)]).mean(0)
    assert torch.allclose(draws, train.inputs().sum(0), atol=0.8)  # E[Bernoulli(x)] = x


def test_static_binarization_draws_the_training_set_once(small_config):
    config = small_config.replace(data={"binarize": "static"})
    prepared = prepare_data(config, None, torch.device("cpu"))
    assert prepared.train.values.dtype == torch.uint8
    assert set(prepared.train.inputs().unique().tolist()) <= {0.0, 1.0}


def test_bernoulli_without_binarization_rejects_grey_levels(small_config):
    config = small_config.replace(data={"binarize": "none"})
    with pytest.raises(vaekit.UserError, match=r"outside the support of likelihood 'bernoulli'"):
        prepare_data(config, None, torch.device("cpu"))


def test_tensorboard_event_files_hold_each_epochs_metrics(tmp_path, small_config):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = vaekit.train(small_config.replace(train={"epochs": 3}), out=tmp_path / "run")
    events = EventAccumulator(str(run.dir / "tensorboard"))
    events.Reload()
    elbo = events.Scalars("train/elbo")
    assert [e.step for e in elbo] == [1, 2, 3]
    assert [e.value for e in elbo] == pytest.approx([row["train_elbo"] for row in run.state.history], rel=1e-6)


def test_cosine_schedule_decays_the_learning_rate_to_zero_over_the_run(tmp_path, small_config):
    config = small_config.replace(train={"lr_schedule": "cosine", "epochs": 4, "lr": 0.01})
    rates = [row["lr"] for row in vaekit.train(config, out=tmp_path / "run").state.history]
    assert rates[0] == 0.01 and all(a > b for a, b in zip(rates, rates[1:]))
    assert rates[-1] == pytest.approx(0.01 * (1 + np.cos(np.pi * 3 / 4)) / 2)


def test_gradient_clipping_bounds_the_norm_and_reports_the_norm_before_clipping(small_config):
    model = torch.nn.Linear(3, 2)
    (model(torch.full((4, 3), 100.0)) ** 2).sum().backward()
    before = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()])
    trainer = Trainer(model, None, small_config.train.__class__(grad_clip=0.5), None, None)
    reported = trainer.clip_gradients()
    assert reported == pytest.approx(float(before)) and float(before) > 0.5
    after = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()])
    assert float(after) == pytest.approx(0.5, rel=1e-4)


def test_asking_for_cuda_without_a_gpu_is_a_clear_error(small_config, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(vaekit.UserError, match="no CUDA device is available here; use --set train.device=cpu"):
        vaekit.train(small_config.replace(train={"device": "cuda"}))


def test_validation_on_the_test_split_uses_the_whole_training_set_and_the_fixed_test_draw(small_config):
    config = small_config.replace(data={"validation": "test"})
    prepared = prepare_data(config, None, torch.device("cpu"))
    assert len(prepared.train) + len(prepared.test) == 1797 and prepared.val is prepared.test  # nothing held out
    with pytest.raises(vaekit.UserError, match="data.validation 'sometimes' is not one of: split, test, none"):
        prepare_data(config.replace(data={"validation": "sometimes"}), None, torch.device("cpu"))
    with pytest.raises(vaekit.UserError, match="have no test split; use data.validation=split"):
        prepare_data(config, torch.rand(20, 4).round(), torch.device("cpu"))


def test_a_checkpoint_loads_in_a_fresh_process_from_tensors_and_json_alone(tmp_path, small_config):
    import subprocess
    import sys

    run = vaekit.train(small_config.replace(train={"epochs": 1}), out=tmp_path / "run")
    x = run.data.test.inputs(slice(0, 3))
    torch.save(x, tmp_path / "x.pt")
    script = (
        "import json, sys, torch, vaekit\n"
        "from safetensors import safe_open\n"
        f"with safe_open({str(run.dir / 'model.safetensors')!r}, 'pt') as f: meta = f.metadata()\n"
        "assert all(isinstance(json.loads(v), (dict, list, str, int, float)) for v in meta.values())\n"
        f"model = vaekit.load({str(run.dir)!r})\n"
        f"x = torch.load({str(tmp_path / 'x.pt')!r})\n"
        "print(json.dumps(model.encode(x).mean.tolist()))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == run.model.encode(x).mean.tolist()


GOLDEN = DATA / "golden_metrics"
CASES = sorted(path.name.removesuffix(".config.yaml") for path in GOLDEN.glob("*.config.yaml"))


def rows_without_time(path: Path) -> list[dict]:
    return [{key: value for key, value in row.items() if key != "seconds"} for row in read_csv(path)]


GOLDEN_THREADS = 2  # the torch threads that wrote the golden files (the 2-core machine's default): with one,
# three of them (conv and Gaussian likelihoods) differ in the last bits, as the sums split differently


@pytest.mark.parametrize("case", CASES)
def test_training_from_a_0_1_config_repeats_its_metrics_bit_for_bit(case, tmp_path):
    out = tmp_path / case
    with torch_threads(GOLDEN_THREADS):
        assert main(["train", "--config", str(GOLDEN / f"{case}.config.yaml"), "--out", str(out)]) == 0
    assert rows_without_time(out / "metrics.csv") == rows_without_time(GOLDEN / f"{case}.csv")


@pytest.mark.parametrize("epochs", [2, 1])
def test_resume_to_no_more_epochs_than_done_is_refused_and_leaves_the_config_alone(tmp_path, small_config, capsys,
                                                                                    epochs):
    run = vaekit.train(small_config.replace(model={"trunk": {"hidden": [8]}}, train={"epochs": 2}),
                       out=tmp_path / "run").dir
    config_before, metrics_before = (run / "config.yaml").read_bytes(), (run / "metrics.csv").read_bytes()
    cli_error(["train", "--resume", str(run), "--epochs", str(epochs)], capsys,
              rf"{run}: already trained 2 epochs; --epochs must be more than 2, got {epochs}$")
    assert (run / "config.yaml").read_bytes() == config_before
    assert (run / "metrics.csv").read_bytes() == metrics_before
