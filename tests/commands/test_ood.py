"""vaekit ood on the command line: the table it prints, and bad input refused before anything is written."""

import numpy as np
import pytest
from helpers import cli_error, run_ok, train_ood_run, uint8_images_file

from vaekit.rundir import RunDir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train_ood_run(tmp_path_factory, "ood_cli")


def test_prints_one_row_per_set_and_method(run_dir, tmp_path, capsys):
    noise = uint8_images_file(tmp_path / "noise.npz", 100)
    flat = uint8_images_file(tmp_path / "flat.npz", 100, seed=1)
    out = run_ok(["ood", str(run_dir), "--against", str(noise), "--against", str(flat), "--methods",
                  "nll,input_complexity", "--examples", "50", "--k", "4"], capsys)
    rows = [line.split() for line in out.splitlines()[1:] if line.startswith(("noise", "flat"))]
    assert [row[:2] for row in rows] == [["noise", "nll"], ["noise", "input_complexity"], ["flat", "nll"],
                                         ["flat", "input_complexity"]]
    assert all(0 <= float(value) <= 1 for row in rows for value in row[2:])
    assert RunDir(run_dir).ood.is_file()


@pytest.fixture
def fresh_run(run_dir, tmp_path):
    """A copy of the run without ood outputs, to check that a refused call writes nothing."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("ood*"))
    return copy


def assert_nothing_written(run):
    assert not RunDir(run).ood.exists() and not RunDir(run).ood_folder.exists()


def test_another_shape_names_both(fresh_run, tmp_path, capsys):
    small = uint8_images_file(tmp_path / "small.npz", 30, shape=(1, 4, 4))
    cli_error(["ood", str(fresh_run), "--against", str(small)], capsys,
              r"small.npz.*shape \(1, 4, 4\) do not fit this model's shape \(1, 8, 8\)")
    assert_nothing_written(fresh_run)


def test_unknown_method_lists_the_known(fresh_run, tmp_path, capsys):
    noise = uint8_images_file(tmp_path / "noise.npz", 30)
    cli_error(["ood", str(fresh_run), "--against", str(noise), "--methods", "nll,bogus"], capsys,
              r"unknown ood method 'bogus'; known: .*likelihood_regret.*typicality")
    assert_nothing_written(fresh_run)


def test_too_few_examples_for_the_batch_test(fresh_run, tmp_path, capsys):
    noise = uint8_images_file(tmp_path / "noise.npz", 30)
    cli_error(["ood", str(fresh_run), "--against", str(noise), "--methods", "typicality", "--examples", "15"], capsys,
              r"typicality tests batches of 10 examples and needs 2 per set; in-distribution has 15 examples")
    assert_nothing_written(fresh_run)


def test_nan_in_the_data(fresh_run, tmp_path, capsys):
    x = np.random.default_rng(0).random((20, 1, 8, 8)).astype(np.float32)
    x[3, 0, 2, 2] = np.nan
    np.savez(tmp_path / "bad.npz", x=x)
    cli_error(["ood", str(fresh_run), "--against", str(tmp_path / "bad.npz")], capsys, r"bad.npz.*NaN")
    assert_nothing_written(fresh_run)
