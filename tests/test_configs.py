"""configs/: one YAML per row of the published Fashion-MNIST table. Each loads, states the protocol,
and trains for an epoch on a small MNIST-format folder; reproduce.sh refuses what it cannot run."""

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import REPOSITORY

from vaekit import load_config, train
from vaekit.cli import main

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


def test_reproduce_script_refuses_an_unknown_row():
    script = CONFIGS / "reproduce.sh"
    result = subprocess.run(["bash", str(script), "fmnist-nope"], capture_output=True, text=True)
    assert result.returncode == 2 and "fmnist-vae" in result.stderr
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    assert result.returncode == 2 and "usage" in result.stderr


def test_reproduction_table_marks_what_a_run_changed(small_idx, tmp_path):
    """The REPRODUCTION.md row of a shortened run: the published number from the config's header,
    the K and test images eval used, and every setting the run changed."""
    config = load_config(CONFIGS / "fmnist-vae.yaml").replace(train={"epochs": 2, "report": False},
                                                              objective={"warmup_epochs": 1})
    run = train(config, data=f"idx:{small_idx}", out=tmp_path / "run")
    assert main(["eval", str(run.dir), "--k", "3", "--examples", "5"]) == 0
    table = subprocess.run([sys.executable, str(CONFIGS / "reproduction_table.py"), f"fmnist-vae={run.dir}"],
                           capture_output=True, text=True, check=True).stdout
    cells = [cell.strip() for cell in table.splitlines()[2].strip("|").split("|")]
    assert cells[:2] == ["VAE with standard prior", "228.70"]
    assert cells[3:7] == ["3", "5", f"2 ({run.state.best_epoch})", "epoch limit"]
    assert "objective.warmup_epochs: 100 -> 1" in cells[-1] and "train.epochs: 2000 -> 2" in cells[-1]
    assert "data.source: fashion-mnist -> idx:" in cells[-1]
