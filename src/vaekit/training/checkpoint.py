"""Checkpoints: safetensors weights plus JSON metadata (config, data shape, versions).

Tensors and plain values only, no pickles: a checkpoint loads in any Python process without the
training code's objects and never executes code.
"""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path

import torch

from ..config import Config
from ..errors import UserError
from ..files import load_tensors, read_metadata, save_tensors  # noqa: F401  (also importable from here, as before 0.2)
from ..rundir import save_model, versions  # noqa: F401  (the checkpoint layout lives with the run folder's)
from ..models.model import LatentVariableModel, build_model

RESUME_PREFIX = "resume."  # tensors under this prefix are resume state, not weights


def hardware(device: torch.device) -> str:
    """The machine a run used, in words: the GPU's name, or the CPU's model with its cores and torch's threads."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):  # Linux names the CPU model in /proc/cpuinfo; platform often does not
        names = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")]
        model = names[0] if names else model
    threads = torch.get_num_threads()
    return f"{model}, {os.cpu_count()} cores, {threads} torch thread{'s' if threads != 1 else ''}"


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[LatentVariableModel, Config, dict]:
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
