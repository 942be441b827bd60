"""The latent tools on the command line: each command writes a valid PNG and an .npz whose arrays
have the documented shapes and agree with the library functions; bad requests exit with 2."""

import argparse
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from test_latent import train_small_run

from vaekit.cli import build_parser, main
from vaekit.latent import decode_mean, encode_data, posterior_mean
from vaekit.runs.open import open_run
from vaekit.seeding import seeded

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NEW_COMMANDS = ["encode", "denoise", "interpolate", "traverse", "latent-map"]


def trained(tmp_path_factory, name: str, latent_dim: int) -> SimpleNamespace:
    """run_dir, and the model and test split (359 examples) that the commands open."""
    run_dir = train_small_run(tmp_path_factory, name, latent_dim)
    opened = open_run(run_dir, "cpu")
    return SimpleNamespace(run_dir=run_dir, model=opened.model, data=opened.data)


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    return trained(tmp_path_factory, "commands4", latent_dim=4)


@pytest.fixture(scope="module")
def opened_2d(tmp_path_factory):
    return trained(tmp_path_factory, "commands2", latent_dim=2)


def run_ok(arguments: list[str], capsys) -> str:
    assert main(arguments) == 0
    return capsys.readouterr().out


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 500, path
    with Image.open(path) as image:
        image.verify()


def arrays(path) -> dict[str, np.ndarray]:
    with np.load(path) as loaded:
        return {name: loaded[name] for name in loaded.files}


def test_encode_writes_the_posterior_means_of_the_test_split(opened, capsys, tmp_path):
    out = tmp_path / "codes.npz"
    printed = run_ok(["encode", str(opened.run_dir), "--out", str(out), "--device", "cpu"], capsys)
    assert f"written: {out} (mean (359, 4), log_var (359, 4), labels (359,))" in printed
    encoded = arrays(out)
    expected = encode_data(opened.model, opened.data)
    np.testing.assert_array_equal(encoded["mean"], expected["mean"].numpy())
    np.testing.assert_array_equal(encoded["labels"], opened.data.labels.numpy())
    assert np.isfinite(encoded["log_var"]).all()
    run_ok(["encode", str(opened.run_dir)], capsys)  # the default file
    np.testing.assert_array_equal(arrays(opened.run_dir / "encoded.npz")["mean"], encoded["mean"])


def test_sample_writes_the_draws_and_their_latents(opened, capsys, tmp_path):
    out = tmp_path / "s.png"
    run_ok(["sample", str(opened.run_dir), "--n", "12", "--temperature", "0.7", "--seed", "2", "--out", str(out)], capsys)
    assert_png(out)
    written = arrays(tmp_path / "s.npz")
    assert written["samples"].shape == (12, 1, 8, 8) and written["z"].shape == (12, 4)
    with seeded(2, "cpu"):
        expected = opened.model.sample(12, 0.7)  # the same draws as before the arrays were written
    np.testing.assert_allclose(written["samples"], expected.numpy(), atol=1e-6)
    np.testing.assert_allclose(written["samples"], decode_mean(opened.model, torch.as_tensor(written["z"])).numpy(), atol=1e-6)


def test_reconstruct_writes_inputs_and_their_reconstructions(opened, capsys, tmp_path):
    out = tmp_path / "r.png"
    run_ok(["reconstruct", str(opened.run_dir), "--n", "10", "--out", str(out), "--device", "cpu"], capsys)
    assert_png(out)
    written = arrays(tmp_path / "r.npz")
    assert written["inputs"].shape == written["reconstructions"].shape == (10, 1, 8, 8)
    np.testing.assert_array_equal(written["inputs"], opened.data.inputs(slice(0, 10)).numpy())
    x = torch.as_tensor(written["inputs"])
    np.testing.assert_allclose(written["reconstructions"], opened.model.reconstruct(x).numpy(), atol=1e-6)


def test_denoise_writes_clean_noisy_and_reconstructed_rows(opened, capsys):
    printed = run_ok(["denoise", str(opened.run_dir), "--n", "40", "--noise", "0.25", "--seed", "1"], capsys)
    png, npz = opened.run_dir / "denoised.png", opened.run_dir / "denoised.npz"
    assert f"written: {png}" in printed
    assert_png(png)
    written = arrays(npz)
    for name in ("clean", "noisy", "reconstruction"):
        assert written[name].shape == (40, 1, 8, 8), name
    assert float(written["noise"]) == 0.25
    assert set(np.unique(written["noisy"])) <= {0.0, 1.0}  # bits flipped, still binary
    assert (written["noisy"] != written["clean"]).mean() == pytest.approx(0.25, abs=0.04)  # 2,560 pixels


def test_interpolate_by_index_and_from_files_gives_the_same_path(opened, capsys, tmp_path):
    out = tmp_path / "i.png"
    run_ok(["interpolate", str(opened.run_dir), "--from", "3", "--to", "7", "--steps", "6", "--out", str(out)], capsys)
    assert_png(out)
    written = arrays(tmp_path / "i.npz")
    x = opened.data.inputs(slice(0, 8))
    np.testing.assert_array_equal(written["endpoints"], x[[3, 7]].numpy())
    np.testing.assert_array_equal(written["t"], np.linspace(0, 1, 6, dtype=np.float32))
    for method in ("linear", "slerp"):
        assert written[f"z_{method}"].shape == (6, 4) and written[f"decoded_{method}"].shape == (6, 1, 8, 8)
        np.testing.assert_allclose(written[f"z_{method}"][[0, -1]], posterior_mean(opened.model, x[[3, 7]]).numpy(), atol=1e-6)
    # the same inputs as files: a .npy of model inputs and a grey PNG of the binary pixels
    np.save(tmp_path / "a.npy", x[3].numpy())
    Image.fromarray((x[7, 0].numpy() * 255).astype(np.uint8), mode="L").save(tmp_path / "b.png")
    from_files = tmp_path / "f.png"
    run_ok(["interpolate", str(opened.run_dir), "--from-file", str(tmp_path / "a.npy"), "--to-file",
            str(tmp_path / "b.png"), "--steps", "6", "--method", "slerp", "--out", str(from_files)], capsys)
    files = arrays(tmp_path / "f.npz")
    assert "z_linear" not in files
    np.testing.assert_allclose(files["z_slerp"], written["z_slerp"], atol=1e-6)


def test_traverse_writes_the_top_dimensions_by_kl(opened, capsys, tmp_path):
    out = tmp_path / "t.png"
    printed = run_ok(["traverse", str(opened.run_dir), "--index", "4", "--top", "2", "--span", "2", "--steps", "5",
                      "--out", str(out)], capsys)
    assert_png(out)
    written = arrays(tmp_path / "t.npz")
    assert written["dims"].shape == written["kl"].shape == (2,)
    assert written["kl"][0] >= written["kl"][1] > 0
    np.testing.assert_allclose(written["values"], [-2, -1, 0, 1, 2], atol=1e-6)
    assert written["z"].shape == (2, 5, 4) and written["decoded"].shape == (2, 5, 1, 8, 8)
    for row, dim in enumerate(written["dims"]):
        np.testing.assert_array_equal(written["z"][row, :, dim], written["values"])
    assert f"written: {out}" in printed


def test_latent_map_of_a_4d_run_is_its_pca_and_has_no_manifold(opened, capsys, tmp_path):
    out = tmp_path / "m.png"
    run_ok(["latent-map", str(opened.run_dir), "--out", str(out)], capsys)
    assert_png(out)
    written = arrays(tmp_path / "m.npz")
    assert written["coords"].shape == (359, 2) and written["labels"].shape == (359,)
    assert "manifold_z" not in written and not (tmp_path / "m_manifold.png").exists()
    run_ok(["latent-map", str(opened.run_dir), "--method", "tsne", "--max-points", "50", "--out", str(out)], capsys)
    written = arrays(tmp_path / "m.npz")
    assert written["coords"].shape == (50, 2) and written["index"].shape == written["labels"].shape == (50,)
    np.testing.assert_array_equal(written["labels"], opened.data.labels.numpy()[written["index"]])


def test_latent_map_of_a_2d_run_shows_the_means_and_the_manifold(opened_2d, capsys):
    printed = run_ok(["latent-map", str(opened_2d.run_dir), "--grid", "6"], capsys)
    folder = opened_2d.run_dir
    for name in ("latent_map.png", "latent_map_manifold.png"):
        assert_png(folder / name)
        assert f"written: {folder / name}" in printed
    written = arrays(folder / "latent_map.npz")
    np.testing.assert_array_equal(written["coords"], encode_data(opened_2d.model, opened_2d.data)["mean"].numpy())
    assert written["manifold_z"].shape == (6, 6, 2) and written["manifold_decoded"].shape == (6, 6, 1, 8, 8)
    assert written["manifold_z"][0, 0, 0] < written["manifold_z"][0, -1, 0]  # z0 grows to the right
    assert written["manifold_z"][0, 0, 1] > written["manifold_z"][-1, 0, 1]  # z1 grows upwards


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["interpolate", "RUN", "--from", "359"], r"--from 359: the evaluation split \(digits, test\) has examples 0 to 358"),
        (["interpolate", "RUN", "--from-file", "missing.npy"], r"missing.npy: no such file"),
        (["interpolate", "RUN", "--from-file", "WRONG"], r"wrong.npy: an example of shape \(3, 3\) does not fit"),
        (["interpolate", "RUN", "--steps", "1"], r"steps must be at least 2"),
        (["traverse", "RUN", "--top", "5"], r"top must be between 1 and the latent dimension 4, got 5"),
        (["traverse", "RUN", "--index", "-1"], r"--index -1: the evaluation split"),
        (["denoise", "RUN", "--noise", "1.5"], r"flip probability must be in \[0, 1\], got 1.5"),
        (["latent-map", "RUN", "--method", "means"], r"needs latent_dim = 2, not 4"),
    ],
)
def test_bad_requests_print_one_line_and_exit_2(opened, arguments, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "wrong.npy", np.zeros((3, 3)))
    arguments = [str(opened.run_dir) if a == "RUN" else str(tmp_path / "wrong.npy") if a == "WRONG" else a
                 for a in arguments]
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert "Traceback" not in err and err.count("\n") == 1


def subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("command", NEW_COMMANDS + ["sample", "reconstruct"])
def test_every_option_is_described_with_its_numeric_default(command):
    parser = subparsers()[command]
    for action in parser._actions:
        if action.dest == "help":
            continue
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
        if isinstance(action.default, (int, float)) and not isinstance(action.default, bool):
            assert f"default {action.default:g}" in action.help, (command, action.option_strings, action.help)
