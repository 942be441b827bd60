"""The compiled forward pass (VAEKIT_COMPILE=1): a compiled run resumes bit-identical."""

import pytest
import torch
from interrupted import train_interrupted

import vaekit
from vaekit.training.checkpoint import load_tensors


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
