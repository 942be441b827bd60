"""vaekit denoise: clean, noisy and reconstructed rows."""

import numpy as np
import pytest
from helpers import assert_png, read_npz, run_ok


def test_denoise_writes_clean_noisy_and_reconstructed_rows(opened, capsys):
    printed = run_ok(["denoise", str(opened.run_dir), "--n", "40", "--noise", "0.25", "--seed", "1"], capsys)
    png, npz = opened.run_dir / "denoised.png", opened.run_dir / "denoised.npz"
    assert f"written: {png}" in printed
    assert_png(png)
    written = read_npz(npz)
    for name in ("clean", "noisy", "reconstruction"):
        assert written[name].shape == (40, 1, 8, 8), name
    assert float(written["noise"]) == 0.25
    assert set(np.unique(written["noisy"])) <= {0.0, 1.0}  # bits flipped, still binary
    assert (written["noisy"] != written["clean"]).mean() == pytest.approx(0.25, abs=0.04)  # 2,560 pixels
