"""The manifest's preprocessing is read from the run's stored data transform: 8-bit images, tables, binarisation."""

import json

import numpy as np
import torch
from export_helpers import COLOUR, FAMILIES, saved_run

import vaekit
from vaekit.data.array import ArrayData, from_arrays, holds_8_bit_levels
from vaekit.export.manifest import binarization, is_eight_bit, preprocessing


def test_eight_bit_data_are_named_as_training_holds_them():
    levels = np.random.default_rng(0).integers(0, 256, size=(4, *COLOUR), dtype=np.uint8)
    data = from_arrays(levels, None, "levels")  # uint8: scale 1/255, as every 8-bit source stores it
    stored = {"shift": data.shift.flatten().tolist(), "scale": data.scale.flatten().tolist(), "columns": None}
    assert holds_8_bit_levels(data) and is_eight_bit(stored["shift"], stored["scale"])
    steps = preprocessing(stored, "8-bit levels")
    assert steps["eight_bit"] and steps["raw_values"].startswith("8-bit levels 0..255")
    prepared = (levels - np.array(steps["shift"])) * np.array(steps["scale"])
    np.testing.assert_allclose(prepared, data.inputs().numpy(), rtol=0, atol=1e-7)


def test_table_rows_are_standardised_per_column():
    data = ArrayData(torch.zeros(2, 3), None, "table", shift=torch.tensor([1.0, 2.0, 3.0]),
                     scale=torch.tensor([0.5, 1.0, 2.0]), columns=["a", "b", "c"])
    stored = {"shift": data.shift.tolist(), "scale": data.scale.tolist(), "columns": data.columns}
    steps = preprocessing(stored, "real numbers")
    assert steps["formula"].endswith("per column") and not steps["eight_bit"] and steps["columns"] == ["a", "b", "c"]
    assert not is_eight_bit([0.0, 0.0], [1 / 255, 1 / 255])  # per-column scales are a table's, never 8-bit


def test_binarisation_is_stated_only_for_runs_that_binarised():
    assert binarization("none")["mode"] == "none" and "threshold" not in binarization("none")
    for mode in ("dynamic", "static"):
        stated = binarization(mode)
        assert stated["mode"] == mode and stated["threshold"] == 0.5 and stated["rule"].startswith("bernoulli")


def test_a_vq_vae_manifest_gives_its_code_grid(tmp_path):
    run = saved_run(tmp_path / "run", *FAMILIES["residual_vq"])
    manifest = json.loads((vaekit.export(run, tmp_path / "exported", "torchscript") / "manifest.json").read_text())
    codes = manifest["model"]["codes"]
    assert (codes["positions"], codes["stages"], codes["codebook_size"]) == (2, 2, 8)
    encoder = manifest["files"]["encoder"]["outputs"]
    assert encoder == [{"name": "codes", "shape": ["batch", 4], "dtype": "int64"},
                       {"name": "quantized", "shape": ["batch", 6], "dtype": "float32"}]
    assert manifest["files"]["decoder"]["inputs"] == [{"name": "z", "shape": ["batch", 6], "dtype": "float32"}]
