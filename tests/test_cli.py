"""The command line end to end: the README's main job, an IDX folder, user errors (exit code 2), and help
texts that list what is registered."""

import gzip
import json
import math
import re
import shlex
import struct
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from helpers import REPOSITORY, cli_error, read_metrics

import vaekit
from vaekit.cli import build_parser, main
from vaekit.data import SOURCES
from vaekit.export.formats import FORMATS
from vaekit.latent import PATHS

README = REPOSITORY / "README.md"


# The README's runs as written (slow: 100 and 2 x 50 epochs), and in the default suite the same with
# only their epochs cut to SHORT_EPOCHS.
AS_WRITTEN = pytest.param(None, marks=pytest.mark.slow, id="as-written")
SHORT_EPOCHS = 15  # enough for the main job's ELBO to gain 5 nats and its KL to pass 1 nat


def main_job_arguments(out: Path, epochs: int | None = None) -> list[str]:
    """The README's main-job command (after 'vaekit'), with --out pointed at ``out`` and, unless None, --epochs
    set to ``epochs``."""
    line = next(line for line in README.read_text().splitlines() if "vaekit train --data digits" in line)
    words = shlex.split(line.split(".venv/bin/vaekit", 1)[1])
    words[words.index("--out") + 1] = str(out)
    if epochs is not None:
        words[words.index("--epochs") + 1] = str(epochs)
    return words


@pytest.mark.parametrize("epochs", [SHORT_EPOCHS, AS_WRITTEN])
def test_readme_main_job_writes_its_files_and_improves_the_elbo(epochs, tmp_path, capsys):
    out = tmp_path / "digits-vae"
    assert main(main_job_arguments(out, epochs)) == 0
    printed = capsys.readouterr().out
    for name in ("model.safetensors", "config.yaml", "reconstructions.png", "samples.png"):
        assert str(out / name) in printed
    for name in ("model.safetensors", "last.safetensors", "config.yaml", "metrics.csv", "run.json",
                 "curves.png", "reconstructions.png", "samples.png"):
        assert (out / name).stat().st_size > 0, name
    rows = read_metrics(out)
    assert float(rows[-1]["train_elbo"]) > float(rows[0]["train_elbo"]) + 5
    assert float(rows[-1]["val_elbo"]) > float(rows[0]["val_elbo"])
    assert float(rows[-1]["train_kl"]) > 1.0  # the latent code is used, not collapsed


def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    """IDX header: two zero bytes, type 0x08 (unsigned byte), ndim, then each size as big-endian uint32."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with (gzip.open if compress else open)(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def idx_folder(tmp_path) -> Path:
    """A small MNIST-format folder: 300 train and 60 test images of 12x10 bars, with labels."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "idx"
    folder.mkdir()
    for prefix, n in (("train", 300), ("t10k", 60)):
        labels = rng.integers(0, 3, n)
        images = np.zeros((n, 12, 10), np.uint8)
        for i, label in enumerate(labels):
            images[i, :, 3 * label : 3 * label + 3] = rng.integers(150, 256)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images, compress=True)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, compress=False)
    return folder


def test_idx_folder_trains_evaluates_samples_and_reconstructs(idx_folder, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--data", f"idx:{idx_folder}", "--epochs", "3", "--batch-size", "32",
                 "--latent-dim", "3", "--set", "model.hidden=[64]", "--out", str(run)]) == 0
    assert (run / "model.safetensors").stat().st_size > 0
    assert main(["eval", str(run), "--k", "20"]) == 0
    printed = capsys.readouterr().out
    results = json.loads((run / "eval.json").read_text())
    assert re.search(rf"nll_nats\s+{results['nll_nats']:.4f}", printed)  # the table shows what the file holds
    assert results["k"] == 20 and results["examples"] == 60 and results["split"] == "test"
    assert results["binarize"] == "dynamic (the test split binarised once with seed 2)"
    assert results["log_px_nats"] > results["elbo_nats"]  # the importance-sampled bound is tighter
    assert results["nll_bits_per_dim"] == pytest.approx(results["nll_nats"] / (120 * math.log(2)))
    sample_png, recon_png = tmp_path / "s.png", tmp_path / "r.png"
    assert main(["sample", str(run), "--n", "16", "--out", str(sample_png)]) == 0
    assert main(["reconstruct", str(run), "--out", str(recon_png)]) == 0
    assert sample_png.read_bytes()[:8] == recon_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "--data", "no-such-data"], r"not a known data name; known names: .*digits"),
        (["train", "--set", "model.bogus=1"], r"model: unknown key 'bogus' \(= 1\) for model 'vae'; known keys: .*latent_dim"),
        (["train", "--set", "train.epochs=many"], r"train.epochs must be int"),
        (["train", "--config", "missing.yaml"], r"missing.yaml: config file not found"),
        (["train", "--model", "gan"], r"unknown model 'gan'; known: ae, .*vae"),
        (["train", "--likelihood", "poisson"], r"unknown likelihood 'poisson'; known: .*bernoulli"),
        (["train", "--set", "data.binarize=none"], r"outside the support of likelihood 'bernoulli'"),
        (["train", "--model", "ae", "--beta", "4"], r"objective: unknown key 'beta' \(= 4.0\) for objective 'reconstruction'; known keys: name$"),
        (["eval", "no-such-run"], r"no-such-run: no model.safetensors here"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(arguments, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli_error(arguments, capsys, message)


def test_bad_config_file_names_the_file_and_the_field(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("model:\n  latent_dim: 2.5\n")
    assert main(["train", "--config", str(config)]) == 2
    assert f"{config}: model.latent_dim must be int, got 2.5" in capsys.readouterr().err


def test_console_script_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "vaekit.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("train", "eval", "sample", "reconstruct"):
        assert command in result.stdout


@pytest.mark.parametrize("epochs", [SHORT_EPOCHS, AS_WRITTEN])
def test_readme_python_example_runs_as_written_and_beta_shrinks_the_kl(epochs, tmp_path, monkeypatch):
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    if epochs is not None:
        assert block.count("epochs=50") == 2  # both runs
        block = block.replace("epochs=50", f"epochs={epochs}")
    monkeypatch.chdir(tmp_path)  # its runs/ folders land here
    names: dict = {}
    exec(block, names)
    assert names["posterior"].mean.shape == (8, 16)
    assert names["x_hat"].shape == names["x"].shape == (8, 1, 8, 8)
    assert names["samples"].shape == (16, 1, 8, 8)
    kl = lambda run: run.state.history[-1]["val_kl"]  # noqa: E731
    assert kl(names["beta_vae"]) < kl(names["run"])


def help_of(command: str, option: str) -> str:
    parser = build_parser()
    subparser = parser._subparsers._group_actions[0].choices[command]
    action = next(a for a in subparser._actions if option in a.option_strings)
    return " ".join(action.help.split()) + " " + " ".join(action.choices or [])


@contextmanager
def registered(registry, name: str):
    """``name`` registered in ``registry`` for the body, then removed again."""
    registry.register(name)(object)
    try:
        yield
    finally:
        del registry._entries[name]


@pytest.mark.parametrize("command, option, registry", [
    ("train", "--model", vaekit.MODELS), ("train", "--prior", vaekit.PRIORS),
    ("train", "--likelihood", vaekit.LIKELIHOODS), ("train", "--trunk", vaekit.TRUNKS),
    ("train", "--objective", vaekit.OBJECTIVES), ("train", "--data", SOURCES), ("interpolate", "--method", PATHS),
    ("export", "--format", FORMATS),
])
def test_help_lists_every_registered_name_from_the_registry(command, option, registry):
    text = help_of(command, option)
    for name in registry.names():
        assert name in text, (option, name)
    with registered(registry, "newly_registered_part"):
        assert "newly_registered_part" in help_of(command, option)
    assert "newly_registered_part" not in help_of(command, option)


def test_train_help_names_the_vq_vae():
    assert "vqvae" in help_of("train", "--model")


@pytest.mark.parametrize("option, value", [
    ("--latent-dim", lambda config: config.model.latent_dim), ("--epochs", lambda config: config.train.epochs),
    ("--batch-size", lambda config: config.train.batch_size), ("--lr", lambda config: f"{config.train.lr:g}"),
    ("--seed", lambda config: config.train.seed),
])
def test_train_help_shows_the_defaults_of_the_config(option, value, monkeypatch):
    assert f"(default {value(vaekit.Config())})" in help_of("train", option)
    changed = vaekit.Config().replace(model={"latent_dim": 7}, train={"epochs": 9, "batch_size": 33, "lr": 0.25,
                                                                      "seed": 5})
    monkeypatch.setattr("vaekit.commands.train.Config", lambda: changed)
    assert f"(default {value(changed)})" in help_of("train", option)


def test_an_os_error_on_a_named_file_midway_is_one_line_and_exit_2_and_any_other_is_not_hidden(monkeypatch, capsys):
    from vaekit.commands.registry import COMMANDS

    def full_disk(args):
        raise OSError(28, "No space left on device", "runs/a/model.safetensors")

    monkeypatch.setattr(COMMANDS.get("report"), "run", staticmethod(full_disk))
    cli_error(["report", "runs/a"], capsys, r"^vaekit report: error: runs/a/model.safetensors: No space left on device$")

    def unnamed(args):
        raise OSError("a socket closed")

    monkeypatch.setattr(COMMANDS.get("report"), "run", staticmethod(unnamed))
    with pytest.raises(OSError, match="a socket closed"):
        main(["report", "runs/a"])
