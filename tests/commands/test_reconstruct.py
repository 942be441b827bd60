"""vaekit reconstruct: a valid PNG and the inputs with their reconstructions."""

import numpy as np
import torch
from helpers import assert_png, read_npz, run_ok


def test_reconstruct_writes_inputs_and_their_reconstructions(opened, capsys, tmp_path):
    out = tmp_path / "r.png"
    run_ok(["reconstruct", str(opened.run_dir), "--n", "10", "--out", str(out), "--device", "cpu"], capsys)
    assert_png(out)
    written = read_npz(tmp_path / "r.npz")
    assert written["inputs"].shape == written["reconstructions"].shape == (10, 1, 8, 8)
    np.testing.assert_array_equal(written["inputs"], opened.data.inputs(slice(0, 10)).numpy())
    x = torch.as_tensor(written["inputs"])
    np.testing.assert_allclose(written["reconstructions"], opened.model.reconstruct(x).numpy(), atol=1e-6)
