"""vaekit sample: --n's default is a rule (64 for a grid, 8 per class with --label all), not a sentinel;
the draws and their latents written are those of model.sample."""

import shutil

import numpy as np
import pytest
import torch
from helpers import DATA, assert_png, cli_error, read_npz, run_ok

import vaekit.commands._shared as shared
import vaekit.commands.sample as sample_command
from vaekit.cli import main
from vaekit.latent import decode_mean
from vaekit.seeding import seeded

OLD_CVAE = DATA / "runs_before_0_2" / "cvae"


@pytest.mark.parametrize(("argv", "rows"), [
    (["--label", "all"], 8),  # not given: a row of 8 per class
    (["--label", "all", "--n", "64"], 64),  # given as 64: 64 per class (the sentinel made it 8)
    (["--label", "all", "--n", "3"], 3),
])
def test_samples_per_class(tmp_path, argv, rows):
    run = shutil.copytree(OLD_CVAE, tmp_path / "run")
    assert main(["sample", str(run), *argv, "--out", str(tmp_path / "s.png")]) == 0
    with np.load(tmp_path / "s.npz") as stored:
        classes = len(stored["labels"])
        assert classes >= 2 and stored["samples"].shape[:2] == (classes, rows)


def test_a_grid_of_64_by_default(tmp_path):
    run = shutil.copytree(OLD_CVAE, tmp_path / "run")
    assert main(["sample", str(run)]) == 0
    with np.load(run / "samples.npz") as stored:
        assert stored["samples"].shape[0] == 64 and stored["z"].shape[0] == 64


def test_sample_writes_the_draws_and_their_latents(opened, capsys, tmp_path):
    out = tmp_path / "s.png"
    run_ok(["sample", str(opened.run_dir), "--n", "12", "--temperature", "0.7", "--seed", "2", "--out", str(out)], capsys)
    assert_png(out)
    written = read_npz(tmp_path / "s.npz")
    assert written["samples"].shape == (12, 1, 8, 8) and written["z"].shape == (12, 4)
    with seeded(2, "cpu"):
        expected = opened.model.sample(12, 0.7)  # the same draws as before the arrays were written
    np.testing.assert_allclose(written["samples"], expected.numpy(), atol=1e-6)
    np.testing.assert_allclose(written["samples"], decode_mean(opened.model, torch.as_tensor(written["z"])).numpy(), atol=1e-6)


@pytest.mark.parametrize(("argv", "pattern"), [
    (["--temperature", "nan"], r"argument --temperature: must be a finite number from 0 to 10 .*got 'nan'"),
    (["--temperature", "inf"], r"argument --temperature: must be a finite number from 0 to 10 .*got 'inf'"),
    (["--temperature", "-1"], r"argument --temperature: must be a finite number from 0 to 10 .*got '-1'"),
    (["--temperature", "1e300"], r"argument --temperature: must be a finite number from 0 to 10 .*got '1e300'"),
    (["--n", "0"], r"argument --n: must be an integer at least 1, got '0'"),
    (["--n", "-4"], r"argument --n: must be an integer at least 1, got '-4'"),
    (["--n", "2.5"], r"argument --n: must be an integer at least 1, got '2.5'"),
    (["--seed", "-1"], r"argument --seed: must be an integer from 0 to 4294967295, got '-1'"),
    (["--label", "all", "--n", "0"], r"argument --n: must be an integer at least 1, got '0'"),
    (["--label", "all", "--temperature", "nan"], r"argument --temperature: must be a finite number.*got 'nan'"),
])
def test_sample_refuses_a_bad_temperature_or_count_before_writing(tmp_path, capsys, argv, pattern):
    run = shutil.copytree(OLD_CVAE, tmp_path / "run")
    out = tmp_path / "s.png"
    cli_error(["sample", str(run), *argv, "--out", str(out)], capsys, pattern)
    assert not out.exists() and not out.with_suffix(".npz").exists()


def test_sample_refuses_a_result_larger_than_the_memory_available_with_its_size(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shared, "available_memory", lambda: 10**9)
    run, out = shutil.copytree(OLD_CVAE, tmp_path / "run"), tmp_path / "s.png"
    cli_error(["sample", str(run), "--n", "100000000", "--out", str(out)], capsys,
              r"--n: the result \(100000000 x 64 float32 numbers\) would take 25\.6 GB, twice that while "
              r"written, and 1\.0 GB of memory is available; ask for fewer$")
    cli_error(["sample", str(run), "--label", "all", "--n", "10000000", "--out", str(out)], capsys,
              r"--n: the result \((\d+)0000000 x 64 float32 numbers\) would take")  # per class: n times the classes
    assert not out.exists() and not out.with_suffix(".npz").exists()


def test_sample_refuses_a_result_larger_than_the_free_disk(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shared, "free_disk", lambda out: 10**6)
    run, out = shutil.copytree(OLD_CVAE, tmp_path / "run"), tmp_path / "s.png"
    cli_error(["sample", str(run), "--n", "5000", "--out", str(out)], capsys,
              rf"--n: the result \(5000 x 64 float32 numbers\) would take 1\.3 MB on disk and {tmp_path} has 1\.0 MB free")
    assert not out.exists()


def test_the_picture_of_many_samples_shows_the_first_ones_and_the_npz_holds_all(tmp_path, monkeypatch):
    monkeypatch.setattr(sample_command, "SHOWN", 16)
    run = shutil.copytree(OLD_CVAE, tmp_path / "run")
    shown = []
    monkeypatch.setattr("vaekit.figures.grids.image_grid", lambda x, path, columns, title: shown.append((len(x), title)))
    assert main(["sample", str(run), "--n", "40", "--out", str(tmp_path / "s.png")]) == 0
    assert shown == [(16, "the first 16 of 40 samples, temperature 1")]
    assert read_npz(tmp_path / "s.npz")["samples"].shape[0] == 40
