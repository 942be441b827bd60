"""The linear probe on a VAE trained briefly on digits, against chance and the raw-input baseline."""

import dataclasses

import pytest
import torch

from vaekit import Config, train
from vaekit.evaluation.probe import linear_probe
from vaekit.runs.evaluate import probe_training_data
from vaekit.runs.open import open_run


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    """A digits run (MLP [32], z = 4, 10 epochs: about a second of training) opened for evaluation."""
    config = Config().replace(model={"hidden": [32], "latent_dim": 4}, train={"epochs": 10, "batch_size": 64})
    run = train(config, data="digits", out=tmp_path_factory.mktemp("probe") / "run")
    return open_run(run.dir, "cpu")


def test_probe_on_the_latent_means_beats_chance_and_so_does_the_raw_baseline(opened):
    result = linear_probe(opened.model, probe_training_data(opened), opened.data)
    chance = result["chance_accuracy"]
    labels = opened.data.labels
    assert chance == pytest.approx(float(torch.bincount(labels).max()) / len(labels))
    assert chance < 0.2  # ten classes, roughly balanced
    assert result["probe_accuracy"] > 2 * chance  # four latent numbers carry much of the class
    assert result["raw_probe_accuracy"] > 4 * chance  # 64 pixels separate digits well linearly
    assert result["probe_train_examples"] == len(opened.train)
    assert result["probe_test_examples"] == len(opened.data)


def test_training_subset_has_the_requested_size_and_is_reproducible(opened):
    train_data = probe_training_data(opened)
    before = torch.random.get_rng_state()
    first = linear_probe(opened.model, train_data, opened.data, max_train=200, seed=3)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert first["probe_train_examples"] == 200
    assert linear_probe(opened.model, train_data, opened.data, max_train=200, seed=3) == first
    other = linear_probe(opened.model, train_data, opened.data, max_train=200, seed=4)
    assert other["raw_probe_accuracy"] != first["raw_probe_accuracy"]  # another subset: the seed is used


def test_no_probe_without_labels(opened):
    unlabelled = lambda data: dataclasses.replace(data, labels=None)  # noqa: E731
    assert linear_probe(opened.model, unlabelled(opened.train), opened.data) is None
    assert linear_probe(opened.model, opened.train, unlabelled(opened.data)) is None


def test_dynamic_binarization_gives_the_probe_a_binary_training_split(opened):
    assert opened.binarize.startswith("dynamic")
    x = probe_training_data(opened).inputs()
    assert bool(((x == 0) | (x == 1)).all())
    assert not bool(((opened.train.inputs() == 0) | (opened.train.inputs() == 1)).all())  # training kept grey levels
