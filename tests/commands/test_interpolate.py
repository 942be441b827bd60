"""vaekit interpolate: by index and from .npy files the path is the same."""

import numpy as np
from PIL import Image
from helpers import assert_png, read_npz, run_ok

from vaekit.latent import posterior_mean


def test_interpolate_by_index_and_from_files_gives_the_same_path(opened, capsys, tmp_path):
    out = tmp_path / "i.png"
    run_ok(["interpolate", str(opened.run_dir), "--from", "3", "--to", "7", "--steps", "6", "--out", str(out)], capsys)
    assert_png(out)
    written = read_npz(tmp_path / "i.npz")
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
    files = read_npz(tmp_path / "f.npz")
    assert "z_linear" not in files
    np.testing.assert_allclose(files["z_slerp"], written["z_slerp"], atol=1e-6)
