"""Checkpoints: safetensors weights plus JSON metadata (config, data shape, versions).

Tensors and plain values only, no pickles: a checkpoint loads in any Python process without the
training code's objects and never executes code.
"""

from __future__ import annotations

import contextlib
import os
import platform

import torch

from ..files import load_tensors, read_metadata, save_tensors  # noqa: F401  (also importable from here, as before 0.2)
from ..rundir import save_model, versions  # noqa: F401  (the checkpoint layout lives with the run folder's)
from ..models.saved import RESUME_PREFIX, load_saved


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


load_model = load_saved  # (model in eval mode, config, metadata) from a checkpoint file
