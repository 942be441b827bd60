"""Every point is validated before the first run starts: an unknown key, a bad value or a part's range
error exits 2 with one line naming the sweep file, the point and the key, and nothing is written."""

import pytest
import yaml
from helpers import cli_error

from vaekit.studies.points import expand
from vaekit.studies.spec import parse_sweep
from vaekit.studies.validate import point_config

BASE = {"model": {"latent_dim": 4, "trunk": {"hidden": [16]}}, "train": {"epochs": 1, "report": False}}


def write(tmp_path, **values):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"base": BASE, **values}, sort_keys=False))
    return path


@pytest.mark.parametrize("grid, point, key", [
    ({"objective.beta": [1, 2], "model.colour": ["red"]}, r"beta=1,colour=red,seed=0", "unknown key 'colour'"),
    ({"train.epochs": [1, 0]}, r"epochs=0,seed=0", r"train\.epochs must be at least 1, got 0"),
    ({"objective.beta": [1, "big"]}, r"beta=big,seed=0", r"objective\.beta must be float, got 'big'"),
    ({"model.prior.name": ["mog"], "model.prior.components": [3, 0]}, r"name=mog,components=0,seed=0",
     "components"),  # the prior's own range check, when it is built on the point's data
])
def test_a_bad_point_exits_2_naming_it_and_the_key_before_anything_is_written(tmp_path, capsys, grid, point, key):
    out = tmp_path / "study"
    sweep = write(tmp_path, grid=grid)
    line = cli_error(["sweep", str(sweep), "--out", str(out)], capsys, f"{sweep}: point {point}: .*{key}")
    assert line.startswith("vaekit sweep: error: ")
    assert not out.exists()


def test_a_config_layers_defaults_base_then_the_points_settings_and_seed(tmp_path):
    other = tmp_path / "row.yaml"
    other.write_text(yaml.safe_dump({"model": {"latent_dim": 7, "prior": {"name": "mog", "components": 5}}}))
    spec = parse_sweep({"base": {"train": {"epochs": 3}}, "variants": {"row": {"config": "row.yaml"},
                        "plain": {"model.latent_dim": 2}}, "grid": {"model.prior.name": ["normal"]}, "seeds": [4]},
                       "s.yaml", tmp_path)
    row, plain = (point_config(spec, point) for point in expand(spec))
    assert (row.model.latent_dim, row.model.prior.name, row.train.epochs, row.train.seed) == (7, "normal", 3, 4)
    assert "components" not in row.model.prior.to_dict()  # the grid's prior replaced the file's, its options dropped
    assert (plain.model.latent_dim, plain.train.epochs) == (2, 3)


def test_an_unknown_evaluation_and_ood_without_vaekit_ood_are_refused(tmp_path, capsys):
    import vaekit

    sweep = write(tmp_path, evaluate={"eval": {"k": 5}, "score": True})
    cli_error(["sweep", str(sweep), "--out", str(tmp_path / "a")], capsys, "evaluate: unknown evaluation 'score'; known: ")
    sweep = write(tmp_path, evaluate={"eval": {"kk": 5}})
    cli_error(["sweep", str(sweep), "--out", str(tmp_path / "a")], capsys, r"evaluate\.eval: unknown option 'kk'; known: k")
    if "ood" not in dir(vaekit):
        sweep = write(tmp_path, evaluate={"ood": {"against": ["mnist"]}})
        cli_error(["sweep", str(sweep), "--out", str(tmp_path / "a")], capsys, "ood evaluation needs vaekit.ood")
    assert not (tmp_path / "a").exists()


def test_the_command_refuses_what_it_cannot_run(tmp_path, capsys):
    sweep = write(tmp_path)
    cli_error(["sweep", str(sweep)], capsys, r"give a sweep file and --out OUT \(or --summary OUT\)")
    cli_error(["sweep", str(sweep), "--out", str(tmp_path / "o"), "--address", "auto"], capsys,
              "only the ray engine joins a cluster; add --engine ray")
    cli_error(["sweep", str(sweep), "--out", str(tmp_path / "o"), "--workers", "0"], capsys, r"argument --workers: must be an integer at least 1, got .0.")
    (tmp_path / "empty").mkdir()
    cli_error(["sweep", "--summary", str(tmp_path / "empty")], capsys, "no sweep.yaml here")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    cli_error(["sweep", str(sweep), "--out", str(tmp_path / "full")], capsys, "not empty and holds no study")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_the_readmes_sweep_file_is_valid_and_has_the_runs_it_says():
    import re

    from helpers import REPOSITORY

    from vaekit.studies.validate import point_configs

    studies = (REPOSITORY / "README.md").read_text().split("## Studies", 1)[1]
    text = re.search(r"```yaml\n(.*?)```", studies, re.S).group(1)
    spec = parse_sweep(yaml.safe_load(text), "README", REPOSITORY)
    points = expand(spec)
    configs = point_configs(spec, points, build=False)
    assert len(points) == 12 and "12 runs, two at a time" in studies
    assert {config.objective.beta for config in configs.values()} == {0.5, 1, 4, 16}
    assert {config.train.seed for config in configs.values()} == {0, 1, 2}
