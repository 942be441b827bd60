"""vaekit export on a trained digits run: the files encode as vaekit does, the manifest's preprocessing is the
one training applied, and bad input exits 2 with one line and writes nothing."""

import json
import re
import shutil

import numpy as np
import onnxruntime
import pytest
import torch
from helpers import REPOSITORY, cli_error, run_ok

from vaekit.config import DataConfig
from vaekit.data import load_data
from vaekit.latent import encode_data

README = REPOSITORY / "README.md"


def test_the_onnx_encoder_gives_vaekits_embeddings_of_the_test_split(opened, capsys, tmp_path):
    out = tmp_path / "exported"
    printed = run_ok(["export", str(opened.run_dir), "--out", str(out)], capsys)
    assert printed.splitlines() == [f"written: {out / name}" for name in ("decoder.onnx", "encoder.onnx", "manifest.json")]
    x = opened.data.inputs().numpy()  # (359, 1, 8, 8): the test split as the model takes it (binarised once)
    encoder = onnxruntime.InferenceSession(str(out / "encoder.onnx"))  # the README's three lines
    mean, log_var = encoder.run(None, {"x": x})
    expected = encode_data(opened.model, opened.data)
    np.testing.assert_allclose(mean, expected["mean"].numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(log_var, expected["log_var"].numpy(), rtol=1e-5, atol=1e-5)


def test_the_manifest_states_the_preprocessing_training_applied(opened, tmp_path, capsys):
    out = tmp_path / "exported"
    run_ok(["export", str(opened.run_dir), "--out", str(out), "--format", "torchscript", "--parts", "encoder"], capsys)
    manifest = json.loads((out / "manifest.json").read_text())
    steps = manifest["preprocessing"]
    raw = load_data("digits", DataConfig()).train  # levels 0..16, as the source holds them
    prepared = (raw.values.float().numpy() - np.array(steps["shift"])) * np.array(steps["scale"])
    np.testing.assert_allclose(prepared, raw.inputs().numpy(), rtol=0, atol=1e-7)  # what training binarised
    assert steps["binarize"]["mode"] == "dynamic" and steps["binarize"]["threshold"] == 0.5
    assert steps["value_range"] == "exactly 0 or 1" and not steps["eight_bit"]
    assert manifest["likelihood"]["name"] == "bernoulli" and manifest["format"] == "torchscript"
    assert manifest["opset"] is None and list(manifest["files"]) == ["encoder"]
    assert sorted(path.name for path in out.iterdir()) == ["encoder.pt", "manifest.json"]
    encoder = torch.jit.load(str(out / "encoder.pt"))
    x = opened.data.inputs(slice(0, 37))
    mean, log_var = encoder(x)
    np.testing.assert_allclose(mean.detach().numpy(), opened.model.encode(x).mean.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arguments, pattern", [
    (["--format", "tflite"], r"--format 'tflite': not a format vaekit exports to; one of onnx, torchscript"),
    (["--parts", "encoder,prior"], r"--parts 'encoder,prior': a comma-separated list of encoder, decoder"),
    (["--format", "torchscript", "--opset", "13"], r"--opset 13: only --format onnx takes an opset"),
    (["--opset", "7"], r"argument --opset: must be an integer from 11 to 20, got .7."),
])
def test_bad_options_exit_2_with_one_line_and_write_nothing(opened, capsys, tmp_path, arguments, pattern):
    out = tmp_path / "exported"
    cli_error(["export", str(opened.run_dir), "--out", str(out), *arguments], capsys, rf"^vaekit export: error: {pattern}")
    assert not out.exists()


def test_a_folder_that_is_not_a_run_exits_2(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("not a run")
    cli_error(["export", str(tmp_path), "--out", str(tmp_path / "exported")], capsys,
              rf"^vaekit export: error: {tmp_path}: no model.safetensors here; pass a run folder")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_an_existing_out_that_is_not_empty_is_left_as_it_was(opened, capsys, tmp_path):
    out = tmp_path / "exported"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    cli_error(["export", str(opened.run_dir), "--out", str(out)], capsys,
              rf"^vaekit export: error: --out {out}: a folder that is not empty is there already")
    assert sorted(path.name for path in out.iterdir()) == ["keep.txt"] and (out / "keep.txt").read_text() == "mine"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["exported"]  # no staging folder left
    (out / "keep.txt").unlink()  # an empty folder is fine
    run_ok(["export", str(opened.run_dir), "--out", str(out), "--parts", "decoder"], capsys)
    assert sorted(path.name for path in out.iterdir()) == ["decoder.onnx", "manifest.json"]


def test_the_readme_encodes_an_example_with_onnx_runtime_as_vaekit_does(opened, capsys, tmp_path, monkeypatch):
    block = next(code for code in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if "onnxruntime" in code)
    monkeypatch.chdir(tmp_path)
    run_ok(["export", str(opened.run_dir), "--out", "runs/digits-onnx"], capsys)
    raw = load_data("digits", DataConfig()).test.values[5, 0].numpy()  # (8, 8) uint8 levels 0..16
    np.save("digit.npy", raw)
    names: dict = {}
    exec(block, names)
    x = (torch.from_numpy(raw).float() / 16 >= 0.5).float().view(1, 1, 8, 8)
    assert torch.equal(torch.from_numpy(names["x"]), x)
    np.testing.assert_allclose(names["mean"], opened.model.encode(x).mean.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_without_out_the_files_go_to_the_run_folder_by_format(opened, capsys):
    out = opened.run_dir / "export" / "torchscript"
    try:
        printed = run_ok(["export", str(opened.run_dir), "--format", "torchscript", "--parts", "encoder"], capsys)
        assert printed.splitlines() == [f"written: {out / 'encoder.pt'}", f"written: {out / 'manifest.json'}"]
    finally:
        shutil.rmtree(opened.run_dir / "export", ignore_errors=True)  # the run folder as the other tests share it
