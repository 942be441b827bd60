"""Sweep files expand into points: the counts multiply (variants x grid x draws x seeds), the names read
back the settings and stay distinct, random draws keep their values when the count grows, and a
malformed file is refused naming the key."""

import itertools
import math

import pytest

from vaekit.errors import UserError
from vaekit.studies.points import expand, format_value, short_names
from vaekit.studies.spec import parse_sweep


def spec(**values):
    return parse_sweep(values, "s.yaml", None)


def test_the_points_are_the_product_of_variants_grid_draws_and_seeds():
    points = expand(spec(variants={"a": {"objective.name": "elbo"}, "b": {"objective.name": "iwae"}},
                         grid={"objective.beta": [1, 4, 16], "model.latent_dim": [2, 8]},
                         random={"count": 3, "seed": 5, "parameters": {"train.lr": {"loguniform": [1e-4, 1e-2]}}},
                         seeds=[0, 1]))
    assert len(points) == 2 * 3 * 2 * 3 * 2
    assert len({p.name for p in points}) == len(points)
    combos = {(p.variant, p.settings["objective.beta"], p.settings["model.latent_dim"], p.draw, p.seed) for p in points}
    assert combos == set(itertools.product("ab", [1, 4, 16], [2, 8], range(3), [0, 1]))
    for point in points:
        assert 1e-4 <= point.settings["train.lr"] < 1e-2
        assert point.name.startswith(f"{point.variant},draw={point.draw},beta=") and point.name.endswith(f"seed={point.seed}")


def test_names_read_back_the_settings():
    points = expand(spec(grid={"objective.beta": [0.5, 4], "model.prior.name": ["normal", "mog"]}, seeds=[3]))
    assert [p.name for p in points] == ["beta=0.5,name=normal,seed=3", "beta=0.5,name=mog,seed=3",
                                        "beta=4,name=normal,seed=3", "beta=4,name=mog,seed=3"]
    assert expand(spec())[0].name == "seed=0"


def test_two_keys_with_one_last_part_are_named_whole():
    assert short_names(["model.prior.name", "model.trunk.name", "objective.beta"]) == {
        "model.prior.name": "model.prior.name", "model.trunk.name": "model.trunk.name", "objective.beta": "beta"}


def test_values_keep_the_digits_that_tell_them_apart():
    assert format_value(1e-3) == "0.001" and format_value(4.0) == "4"
    assert format_value(0.12345678) == "0.12345678"  # 4 digits would read back another number
    assert format_value([256, 256]) == "256x256" and format_value(True) == "true"
    assert format_value("idx:/data/fashion mnist") == "idx__data_fashion_mnist"
    assert format_value({"name": "fsq", "levels": [4, 4]}) == "fsq+levels=4x4"
    close = expand(spec(grid={"objective.beta": [1.00001, 1.00002]}))
    assert len({p.name for p in close}) == 2


def test_random_draws_do_not_change_when_the_count_grows():
    parameters = {"objective.beta": {"uniform": [1, 10]}, "model.latent_dim": {"randint": [2, 5]},
                  "model.prior.name": {"choice": ["normal", "mog"]}}
    three = expand(spec(random={"count": 3, "seed": 1, "parameters": parameters}))
    five = expand(spec(random={"count": 5, "seed": 1, "parameters": parameters}))
    assert [p.settings for p in five[:3]] == [p.settings for p in three]
    other_seed = expand(spec(random={"count": 3, "seed": 2, "parameters": parameters}))
    assert [p.settings for p in other_seed] != [p.settings for p in three]
    for point in five:
        assert 2 <= point.settings["model.latent_dim"] <= 5 and point.settings["model.prior.name"] in ("normal", "mog")


def test_loguniform_draws_spread_evenly_in_the_logarithm():
    draws = expand(spec(random={"count": 400, "seed": 0, "parameters": {"train.lr": {"loguniform": [1e-4, 1e-2]}}}))
    logs = [math.log10(p.settings["train.lr"]) for p in draws]
    below = sum(value < -3 for value in logs) / len(logs)  # the middle of [-4, -2] in log10
    assert 0.4 < below < 0.6


@pytest.mark.parametrize("values, pattern", [
    ({"grid": {"beta": [1, 2]}}, "key 'beta' must be a dotted setting SECTION.KEY"),
    ({"grid": {"objective.beta": []}}, "grid.objective.beta must be a non-empty list"),
    ({"grid": {"objective.beta": [1, 1]}}, "lists a value twice"),
    ({"grid": {"train.seed": [1, 2]}}, "train.seed is swept by 'seeds"),
    ({"seeds": [0, 0]}, "seeds must be a non-empty list of distinct integers"),
    ({"random": {"count": 0, "parameters": {"train.lr": {"uniform": [0, 1]}}}}, "random.count must be an integer"),
    ({"random": {"count": 2, "parameters": {"train.lr": {"normal": [0, 1]}}}}, "unknown distribution 'normal'"),
    ({"random": {"count": 2, "parameters": {"train.lr": {"loguniform": [0, 1]}}}}, "loguniform needs 0 < low"),
    ({"random": {"count": 2, "parameters": {"train.lr": {"uniform": [2, 1]}}}}, r"expected \[low, high\] with low < high"),
    ({"grid": {"objective.beta": [1]}, "random": {"count": 2, "parameters": {"objective.beta": {"uniform": [0, 1]}}}},
     "objective.beta is both in grid and in random"),
    ({"gird": {}}, "unknown key 'gird'; known keys: base, variants, grid"),
    ({"variants": {"a": {"objective.name": "elbo"}, "b": {"objective.name": "elbo"}}, "seeds": [0]}, None),
])
def test_malformed_sweep_files_are_refused_naming_the_key(values, pattern):
    if pattern is None:  # two variants with the same settings are allowed: their names differ
        assert len(expand(spec(**values))) == 2
        return
    with pytest.raises(UserError, match=pattern) as error:
        expand(spec(**values))
    assert str(error.value).startswith("s.yaml: ") and "\n" not in str(error.value)
