"""Helpers shared by the test files (tests/ is on sys.path, so ``from helpers import read_csv``).

One place for what several test files did alike: reading a run's CSV and .npz files (closing them),
the "one line on stderr, exit 2, no traceback" check of a user error (``cli_error``, ``data_error``),
running a command that must succeed, and the small parts and runs that tests in several folders build
(``train_small_run``, ``small_vqvae``, ``small_quantizer``, ``perturbed_model``). The linear-Gaussian oracle keeps its own
module (oracles.py), as do the helpers of one kind of test (parallel.py, interrupted.py,
explorer_helpers.py, browser.py).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import vaekit
from vaekit import Config, ModelConfig, build_model
from vaekit.cli import main
from vaekit.config import DataConfig
from vaekit.data import load_data
from vaekit.errors import UserError
from vaekit.models.quantizers import build_quantizer

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"  # the stored run folders and golden files the tests compare against
REPOSITORY = TESTS.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL_DISCRIMINATOR = {"discriminator_hidden": 16, "discriminator_layers": 2}  # FactorVAE's, small for tests


def use_one_thread(environ) -> None:
    """One torch thread in this process and (through ``environ``, os.environ) in the processes its tests start.

    The suite's models are tiny: a second OpenMP thread only waits for the first, and on a busy machine it
    waits long (the README's main job for 4 epochs on the 2-core machine under load 18: 91 s with 2 threads,
    20 s with 1; 25 s of CPU time against 5). A test that needs another count says so (``torch_threads``)."""
    torch.set_num_threads(1)
    environ["OMP_NUM_THREADS"] = "1"


@contextlib.contextmanager
def torch_threads(count: int):
    """The body runs with ``count`` torch threads, then the count before is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def read_csv(path: Path | str) -> list[dict]:
    """The rows of a CSV file with a header line, as dicts of strings; the file is closed on return."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def read_metrics(run_dir: Path | str) -> list[dict]:
    """The rows of ``run_dir/metrics.csv`` (one per epoch), as dicts of strings."""
    return read_csv(Path(run_dir) / "metrics.csv")


def assert_one_line_error(err: str, pattern: str) -> None:
    """``err`` (what stderr got) is one line matching the regular expression ``pattern``, no traceback."""
    assert re.search(pattern, err), err
    assert "Traceback" not in err and err.count("\n") == 1, err


def cli_error(argv: list[str], capsys, pattern: str) -> str:
    """Run ``vaekit argv``; assert it exits 2 with one line on stderr matching ``pattern``; return that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err, pattern)
    return err


def train_small_run(tmp_path_factory, name: str, latent_dim: int) -> Path:
    """The folder of a tiny MLP VAE trained for 3 epochs on digits (Bernoulli, dynamic binarization)."""
    config = Config().replace(model={"hidden": [32], "latent_dim": latent_dim},
                              train={"epochs": 3, "batch_size": 64, "device": "cpu"})
    out = tmp_path_factory.mktemp(name) / "run"
    vaekit.train(config, out=out)
    return out


def tiny_config(report: bool = False) -> Config:
    """A tiny MLP VAE on digits (hidden 8, latent_dim 2), 1 epoch of 6 steps of 256 examples, ending with the
    report or not: the cheapest finished run, for tests of the run folder rather than of learning."""
    return Config().replace(model={"trunk": {"hidden": [8]}, "latent_dim": 2},
                            train={"epochs": 1, "batch_size": 256, "report": report})


def copy_of_run(run_dir: Path, tmp_path: Path) -> Path:
    """A copy of the run folder ``run_dir`` as tmp_path/run, for a test that changes it."""
    return Path(shutil.copytree(run_dir, tmp_path / "run"))


def run_ok(arguments: list[str], capsys) -> str:
    """Run ``vaekit arguments``; assert it exits 0; return what it printed on stdout."""
    assert main(arguments) == 0
    return capsys.readouterr().out


def assert_png(path: Path) -> None:
    """``path`` is a PNG file that PIL reads through, not an empty or truncated picture."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 500, path
    with Image.open(path) as image:
        image.verify()


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz file by name (np.ndarray each), read into memory; the file is closed on return."""
    with np.load(path) as loaded:
        return {name: loaded[name] for name in loaded.files}


def data_error(spec: str, **config) -> str:
    """The error of ``vaekit train --data SPEC --set data.KEY=VALUE ...`` as a user sees it: exit code 2,
    one line on stderr, no traceback. The library raises the same text as a UserError; returns that text."""
    with pytest.raises(UserError) as info:
        load_data(spec, DataConfig(**config))
    arguments = ["train", "--data", spec] + [f"--set=data.{key}={value}" for key, value in config.items()]
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = main(arguments)
    printed = stderr.getvalue()
    assert code == 2, printed
    assert_one_line_error(printed, "")
    assert printed == f"vaekit train: error: {info.value}\n"
    return str(info.value)


def random_uint8(shape, seed: int) -> np.ndarray:
    """np.ndarray of ``shape``, uint8 levels 0..255 drawn uniformly from a generator seeded with ``seed``."""
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def small_quantizer(**options) -> torch.nn.Module:
    """The quantizer part a small VQ-VAE config builds (latent_dim 4; codebook_size 8 unless fsq), seeded 0.
    ``options`` are flat model options (quantizer="residual", codebooks=4, ...), migrated as a config is."""
    torch.manual_seed(0)
    size = {} if options.get("quantizer") == "fsq" else {"codebook_size": 8}  # fsq has no codebook to size
    model = ModelConfig(name="vqvae", latent_dim=4, **size, **options)
    return build_quantizer(model.quantizer, model.latent_dim)


def small_vqvae(shape=(1, 8, 8), trunk="conv", **changes) -> vaekit.LatentVariableModel:
    """A small VQ-VAE (latent_dim 3, 16 codes, Bernoulli) for data of ``shape``, seeded 0; ``changes`` are
    flat model options that replace the defaults."""
    torch.manual_seed(0)
    settings = dict(latent_dim=3, hidden=(16,), channels=(4, 6), likelihood="bernoulli", codebook_size=16)
    config = ModelConfig(name="vqvae", trunk=trunk, **{**settings, **changes})
    return build_model(config, shape)


def binary_batch(shape=(1, 8, 8), n=6, seed=0) -> torch.Tensor:
    """(n, *shape) float tensor of 0s and 1s, each 1 with probability 1/2, from a generator seeded ``seed``."""
    return (torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed)) < 0.5).float()



def perturbed_model(config, shape) -> vaekit.LatentVariableModel:
    """The model ``config`` builds for data of ``shape``, seeded, in eval mode, every parameter moved by
    0.3 N(0, 1) noise from its initial value, so that inputs and labels visibly change its outputs (a
    freshly initialised decoder's bias-only outputs hardly depend on them)."""
    torch.manual_seed(0)
    model = build_model(config, shape).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    return model


def train_ood_run(tmp_path_factory, name: str, model: str = "vae") -> Path:
    """A tiny MLP model ('vae' or 'ae') trained for 2 epochs on digits without a report, for the ood tests."""
    config = Config().replace(model={"name": model, "trunk": {"hidden": [32]}, "latent_dim": 4},
                              train={"epochs": 2, "batch_size": 64, "device": "cpu", "report": False})
    out = tmp_path_factory.mktemp(name) / "run"
    vaekit.train(config, out=out)
    return out


def uint8_images_file(path: Path, n: int, shape=(1, 8, 8), seed: int = 0) -> Path:
    """An .npz of n uniform-noise 8-bit images (key 'x')."""
    np.savez(path, x=np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8))
    return path
