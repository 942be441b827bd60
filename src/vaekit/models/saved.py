"""A saved model read back: the weights and stored config of a checkpoint, rebuilt from the registry.

Here, below the trainer, so that a part needing another run's model (the beta-VAE_DAE objective's
frozen DAE) can load one; ``vaekit.training.checkpoint.load_model`` is this function.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..config import Config
from ..errors import UserError
from ..files import load_tensors
from .model import LatentVariableModel, build_model

RESUME_PREFIX = "resume."  # tensors under this prefix are resume state, not weights


def load_saved(path: str | Path, device: str | torch.device = "cpu") -> tuple[LatentVariableModel, Config, dict]:
    """(model in eval mode, config, metadata) from a checkpoint written by ``save_model`` (a .safetensors
    file; ``vaekit.load`` takes a run folder)."""
    tensors, metadata = load_tensors(path)
    if "config" not in metadata or "data_shape" not in metadata:
        raise UserError(f"{path}: this safetensors file has no vaekit config; it was not written by vaekit")
    config = Config.from_dict(metadata["config"], f"{path} (stored config)")
    with torch.random.fork_rng(devices=[]):  # the random initialisation is overwritten; keep the caller's RNG as it was
        model = build_model(config.model, tuple(metadata["data_shape"]))
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(RESUME_PREFIX)})
    return model.to(device).eval(), config, metadata
