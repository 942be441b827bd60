"""vaekit encode: the .npz holds the posterior means of the test split, as vaekit.latent gives them."""

import numpy as np
from helpers import read_npz, run_ok

from vaekit.latent import encode_data


def test_encode_writes_the_posterior_means_of_the_test_split(opened, capsys, tmp_path):
    out = tmp_path / "codes.npz"
    printed = run_ok(["encode", str(opened.run_dir), "--out", str(out), "--device", "cpu"], capsys)
    assert f"written: {out} (mean (359, 4), log_var (359, 4), labels (359,))" in printed
    encoded = read_npz(out)
    expected = encode_data(opened.model, opened.data)
    np.testing.assert_array_equal(encoded["mean"], expected["mean"].numpy())
    np.testing.assert_array_equal(encoded["labels"], opened.data.labels.numpy())
    assert np.isfinite(encoded["log_var"]).all()
    run_ok(["encode", str(opened.run_dir)], capsys)  # the default file
    np.testing.assert_array_equal(read_npz(opened.run_dir / "encoded.npz")["mean"], encoded["mean"])
