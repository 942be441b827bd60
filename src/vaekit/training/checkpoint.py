"""Checkpoints: safetensors weights plus JSON metadata (config, data shape, versions).

Tensors and plain values only, no pickles: a checkpoint loads in any Python process without the
training code's objects and never executes code.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..config import Config
from ..errors import UserError
from ..io import atomic_path
from ..models.model import LatentVariableModel, build_model

RESUME_PREFIX = "resume."  # tensors under this prefix are resume state, not weights


def versions() -> dict[str, str]:
    from .._version import __version__

    return {"vaekit": __version__, "torch": torch.__version__}


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


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> None:
    """Write ``tensors`` atomically; ``metadata`` values are stored as JSON strings."""
    plain = {name: tensor.detach().to("cpu").contiguous() for name, tensor in tensors.items()}
    with atomic_path(path) as temporary:
        save_file(plain, str(temporary), metadata={key: json.dumps(value) for key, value in metadata.items()})


def _check_exists(path: Path) -> None:
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found; pass a run folder or a .safetensors file written by vaekit")


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The plain values stored beside the tensors, without reading the tensors."""
    path = Path(path)
    _check_exists(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            return {key: json.loads(value) for key, value in (handle.metadata() or {}).items()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable safetensors checkpoint ({exc}); it may be truncated") from None


def load_tensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    metadata = read_metadata(path)
    try:
        return load_file(str(path)), metadata
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable safetensors checkpoint ({exc}); it may be truncated") from None


def save_model(
    path: str | Path, model: LatentVariableModel, config: Config, extra: dict | None = None, tensors: dict | None = None
) -> None:
    """Weights, the full config and the data shape, so ``load_model`` needs nothing else.
    ``extra`` adds plain metadata; ``tensors`` adds tensors (resume state) beside the weights."""
    metadata = {"config": config.to_dict(), "data_shape": list(model.data_shape), **versions(), **(extra or {})}
    save_tensors(path, {**model.state_dict(), **(tensors or {})}, metadata)


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[LatentVariableModel, Config, dict]:
    """(model in eval mode, config, metadata) from a checkpoint written by ``save_model``."""
    tensors, metadata = load_tensors(path)
    if "config" not in metadata or "data_shape" not in metadata:
        raise UserError(f"{path}: this safetensors file has no vaekit config; it was not written by vaekit")
    config = Config.from_dict(metadata["config"], f"{path} (stored config)")
    with torch.random.fork_rng(devices=[]):  # the random initialisation is overwritten; keep the caller's RNG as it was
        model = build_model(config.model, tuple(metadata["data_shape"]))
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(RESUME_PREFIX)})
    return model.to(device).eval(), config, metadata
