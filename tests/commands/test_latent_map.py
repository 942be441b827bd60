"""vaekit latent-map: PCA of a 4-D run without a manifold; the means and the manifold of a 2-D run."""

import numpy as np
from helpers import assert_png, read_npz, run_ok

from vaekit.latent import encode_data


def test_latent_map_of_a_4d_run_is_its_pca_and_has_no_manifold(opened, capsys, tmp_path):
    out = tmp_path / "m.png"
    run_ok(["latent-map", str(opened.run_dir), "--out", str(out)], capsys)
    assert_png(out)
    written = read_npz(tmp_path / "m.npz")
    assert written["coords"].shape == (359, 2) and written["labels"].shape == (359,)
    assert "manifold_z" not in written and not (tmp_path / "m_manifold.png").exists()
    run_ok(["latent-map", str(opened.run_dir), "--method", "tsne", "--max-points", "50", "--out", str(out)], capsys)
    written = read_npz(tmp_path / "m.npz")
    assert written["coords"].shape == (50, 2) and written["index"].shape == written["labels"].shape == (50,)
    np.testing.assert_array_equal(written["labels"], opened.data.labels.numpy()[written["index"]])


def test_latent_map_of_a_2d_run_shows_the_means_and_the_manifold(opened_2d, capsys):
    printed = run_ok(["latent-map", str(opened_2d.run_dir), "--grid", "6"], capsys)
    folder = opened_2d.run_dir
    for name in ("latent_map.png", "latent_map_manifold.png"):
        assert_png(folder / name)
        assert f"written: {folder / name}" in printed
    written = read_npz(folder / "latent_map.npz")
    np.testing.assert_array_equal(written["coords"], encode_data(opened_2d.model, opened_2d.data)["mean"].numpy())
    assert written["manifold_z"].shape == (6, 6, 2) and written["manifold_decoded"].shape == (6, 6, 1, 8, 8)
    assert written["manifold_z"][0, 0, 0] < written["manifold_z"][0, -1, 0]  # z0 grows to the right
    assert written["manifold_z"][0, 0, 1] > written["manifold_z"][-1, 0, 1]  # z1 grows upwards
