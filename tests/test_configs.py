"""configs/: one YAML per row of the published Fashion-MNIST table. Each loads, states the protocol,
and trains for an epoch on a small MNIST-format folder. configs/sweeps/: the studies as sweep files
(the table, the VQ comparison, the disentanglement study), each point's config as the study needs it."""

import struct
from pathlib import Path

import numpy as np
import pytest
from helpers import REPOSITORY

from vaekit import load_config, train

CONFIGS = REPOSITORY / "configs"
ROWS = {"fmnist-vae": ("vae", "normal"), "fmnist-vamp": ("vae", "vamp"), "fmnist-hvae": ("hvae", "vamp"),
        "fmnist-conv-hvae": ("conv_hvae", "vamp"), "fmnist-conv-hvae-exemplar": ("conv_hvae", "exemplar")}


@pytest.fixture(scope="module")
def small_idx(tmp_path_factory) -> Path:
    """60 training and 12 test images of 28x28 grey levels, in IDX files."""
    folder = tmp_path_factory.mktemp("idx")
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60), ("t10k", 12)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        header = struct.pack(">HBB", 0, 0x08, 3) + struct.pack(">3I", n, 28, 28)
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.tobytes())
    return folder


def test_one_config_per_row():
    assert {path.stem for path in CONFIGS.glob("*.yaml")} == set(ROWS)


@pytest.mark.parametrize("row", sorted(ROWS))
def test_config_states_the_protocol(row):
    config = load_config(CONFIGS / f"{row}.yaml")
    model = config.model
    assert (model.name, model.prior.name) == ROWS[row]
    assert model.latent_dim == 40 and model.trunk.gated
    assert (model.width or model.trunk.hidden[-1]) == 300 if model.name in ("hvae", "conv_hvae") else model.trunk.hidden[-1] == 300
    assert model.likelihood.name == "bernoulli" and config.data.binarize == "dynamic"
    assert model.prior.get("components") == (500 if model.prior.name in ("vamp", "exemplar") else None)
    assert config.data.source == "fashion-mnist" and round(config.data.val_fraction * 60_000) == 10_000
    assert (config.train.lr, config.train.batch_size, config.train.patience) == (5e-4, 100, 50)
    assert config.objective.warmup_epochs == 100 and config.train.epochs == 2000


@pytest.mark.parametrize("row", sorted(ROWS))
def test_config_trains_an_epoch(row, small_idx, tmp_path):
    config = load_config(CONFIGS / f"{row}.yaml").replace(train={"epochs": 1, "report": False})
    if config.model.prior.name == "exemplar":  # its 500 exemplars come from the training split: 50 images here
        config = config.replace(model={"prior": {"components": 20}})
    run = train(config, data=f"idx:{small_idx}", out=tmp_path / row)
    assert run.state.epoch == 1 and (run.dir / "model.safetensors").stat().st_size > 0
    assert run.model.data_shape == (1, 28, 28)


SWEEPS = {"fmnist-table.yaml": "the rows", "vq-compare.yaml": "the quantisers", "disentanglement.yaml": "the objectives"}


def sweep_points(name: str):
    from vaekit.studies.points import expand
    from vaekit.studies.spec import read_sweep
    from vaekit.studies.validate import point_configs

    spec = read_sweep(CONFIGS / "sweeps" / name)
    points = expand(spec)
    return points, point_configs(spec, points, build=False)


def test_the_studies_are_sweep_files():
    assert {path.name for path in (CONFIGS / "sweeps").glob("*.yaml")} == set(SWEEPS)


def test_the_table_sweep_runs_every_row_config_and_evaluates_with_k_5000():
    points, configs = sweep_points("fmnist-table.yaml")
    for point in points:
        assert configs[point.name] == load_config(CONFIGS / f"fmnist-{point.variant}.yaml")
    assert {f"fmnist-{point.variant}" for point in points} == set(ROWS)
    assert read_sweep_file("fmnist-table.yaml")["evaluate"] == {"eval": {"k": 5000}}


def test_the_vq_sweep_keeps_the_code_budget_of_128_bits():
    import math

    points, configs = sweep_points("vq-compare.yaml")
    assert len(points) == 6
    for point in points:
        model = configs[point.name].model
        quantizer = model.quantizer
        per_position = (math.log2(math.prod(quantizer.levels)) if quantizer.name == "fsq"
                        else quantizer.get("codebooks", 1) * math.log2(quantizer.codebook_size))
        assert model.code_positions * per_position == 128, point.name
        assert configs[point.name].data.source == "fashion-mnist" and model.trunk.hidden == (256,)


def test_the_disentanglement_sweep_trains_each_objective_on_dsprites():
    points, configs = sweep_points("disentanglement.yaml")
    objectives = {point.variant: configs[point.name].objective for point in points}
    assert objectives["factorvae_35"].gamma == 35 and objectives["beta_tcvae_6"].beta == 6
    assert objectives["beta_vae_4"].name == "elbo" and objectives["beta_vae_4"].beta == 4
    for config in configs.values():
        assert config.data.source == "dsprites" and config.model.latent_dim == 10
        assert config.model.trunk.hidden == (1200, 1200) and config.train.steps_per_epoch == 100


def read_sweep_file(name: str) -> dict:
    import yaml

    return yaml.safe_load((CONFIGS / "sweeps" / name).read_text())
