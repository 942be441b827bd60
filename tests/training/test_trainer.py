"""The fast paths of training: 8-bit dynamic binarisation and the compiled forward pass."""

import pytest
import torch
from interrupted import train_interrupted

import vaekit
from vaekit.data.array import ArrayData
from vaekit.training.batches import ResidentBatches
from vaekit.training.checkpoint import load_tensors


def test_dynamic_binarisation_of_8_bit_levels_draws_bernoulli_of_level_over_255():
    levels = torch.tensor([0, 1, 64, 128, 254, 255], dtype=torch.uint8)
    data = ArrayData(levels.repeat(4000, 1), None, "levels", scale=torch.tensor(1 / 255))
    batches = ResidentBatches(data, batch_size=4000, dynamic_binarize=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        bits = torch.cat([batch.x for _ in range(5) for batch in batches])  # (20000, 6)
    assert bits.dtype == torch.float32 and set(bits.unique().tolist()) <= {0.0, 1.0}
    assert bits[:, 0].sum() == 0 and bits[:, -1].sum() == len(bits)  # never and always
    p = levels.double() / 255
    standard_error = (p * (1 - p) / len(bits)).sqrt()
    assert ((bits.double().mean(0) - p).abs() <= 4 * standard_error + 1e-12).all()


@pytest.mark.slow
def test_a_compiled_run_resumes_bit_identical(tmp_path, small_config, monkeypatch):
    """VAEKIT_COMPILE=1 compiles the forward pass (full batches; digits' last batch is partial)."""
    monkeypatch.setenv("VAEKIT_COMPILE", "1")
    config = small_config.replace(train={"epochs": 3})
    whole = vaekit.train(config, out=tmp_path / "whole")

    train_interrupted(config, tmp_path / "cut", epochs=2)
    resumed = vaekit.train(resume=tmp_path / "cut")
    expected, _ = load_tensors(whole.dir / "last.safetensors")
    got, _ = load_tensors(resumed.dir / "last.safetensors")
    for name in expected:
        assert torch.equal(expected[name], got[name]), name
