"""vaekit traverse: the top dimensions by KL."""

import numpy as np
from helpers import assert_png, read_npz, run_ok


def test_traverse_writes_the_top_dimensions_by_kl(opened, capsys, tmp_path):
    out = tmp_path / "t.png"
    printed = run_ok(["traverse", str(opened.run_dir), "--index", "4", "--top", "2", "--span", "2", "--steps", "5",
                      "--out", str(out)], capsys)
    assert_png(out)
    written = read_npz(tmp_path / "t.npz")
    assert written["dims"].shape == written["kl"].shape == (2,)
    assert written["kl"][0] >= written["kl"][1] > 0
    np.testing.assert_allclose(written["values"], [-2, -1, 0, 1, 2], atol=1e-6)
    assert written["z"].shape == (2, 5, 4) and written["decoded"].shape == (2, 5, 1, 8, 8)
    for row, dim in enumerate(written["dims"]):
        np.testing.assert_array_equal(written["z"][row, :, dim], written["values"])
    assert f"written: {out}" in printed
