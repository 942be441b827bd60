"""Resume state as tensors and plain values: optimizer, schedule, RNG and trainer state.

Stored in ``last.safetensors`` beside the weights under the ``resume.`` prefix, so one atomic
write keeps weights and resume state consistent.
"""

from __future__ import annotations

import dataclasses

import torch

from .checkpoint import RESUME_PREFIX as PREFIX
from .trainer import TrainState


def pack(optimizer, schedule, state: TrainState, device: torch.device) -> tuple[dict, dict]:
    """(tensors, metadata) holding everything needed to continue bit-identically."""
    optimizer_state = optimizer.state_dict()
    tensors = optimizer_tensors(optimizer_state, f"{PREFIX}optimizer.")
    tensors[f"{PREFIX}rng.cpu"] = torch.get_rng_state()
    if device.type == "cuda":
        tensors[f"{PREFIX}rng.cuda"] = torch.cuda.get_rng_state(device)
    metadata = {
        "optimizer_param_groups": optimizer_state["param_groups"],
        "schedule": schedule.state_dict(),
        "train_state": dataclasses.asdict(state),
    }
    return tensors, metadata


def unpack(tensors: dict, metadata: dict, optimizer, schedule, device: torch.device) -> TrainState:
    """Restore optimizer, schedule and (inside the caller's RNG fork) the RNG; returns the trainer state."""
    load_optimizer(optimizer, tensors, metadata["optimizer_param_groups"], f"{PREFIX}optimizer.")
    schedule.load_state_dict(metadata["schedule"])
    torch.set_rng_state(tensors[f"{PREFIX}rng.cpu"])
    if device.type == "cuda" and f"{PREFIX}rng.cuda" in tensors:
        torch.cuda.set_rng_state(tensors[f"{PREFIX}rng.cuda"], device)
    return TrainState(**metadata["train_state"])


def model_tensors(tensors: dict) -> dict:
    """The model's own weights, without the resume state."""
    return {key: value for key, value in tensors.items() if not key.startswith(PREFIX)}


def optimizer_tensors(optimizer_state: dict, prefix: str) -> dict:
    """An optimizer's ``state_dict()`` as named tensors PREFIX{parameter index}.{name}; the rest of
    it (its param_groups) is plain values, for the metadata."""
    return {f"{prefix}{index}.{name}": value for index, values in optimizer_state["state"].items()
            for name, value in values.items()}


def load_optimizer(optimizer, tensors: dict, param_groups: list, prefix: str) -> None:
    """The inverse of ``optimizer_tensors``: restore ``optimizer`` from the tensors under ``prefix``."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith(prefix):
            index, name = key[len(prefix) :].split(".", 1)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})
