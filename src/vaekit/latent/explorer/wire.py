"""The explorer's wire format: arrays out as exact float32 bytes, parameters in checked one by one.

Arrays go out as {"shape": [...], "float32": BASE64} (little-endian float32, so the page paints
exactly what the model decoded, 4 bytes a number). Every parameter that comes in is checked
against its type and bounds; anything else is a ``BadRequest`` (HTTP 400) naming the parameter.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import torch

from ...config.ranges import SPAN_MAX, TEMPERATURE_MAX

MAX_BODY = 1 << 20  # bytes of a request body: a batch of 64 latents of 1,000 numbers is far less
MAX_BATCH = 64  # latents per decode request, samples per draw
MAX_STEPS = 64  # points along a path or a traversal
MAX_ABS_Z = 1e3  # |z| beyond this is no point of any trained latent space; decoders give inf or NaN there
MAX_SPAN = SPAN_MAX  # the command line's bounds (vaekit traverse --span, vaekit sample --temperature)
MAX_TEMPERATURE = TEMPERATURE_MAX
MAX_SEED = 2**31 - 1


class BadRequest(Exception):
    """A request the explorer refuses: ``status`` (400 unless said) and a message for the page."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def packed(x: torch.Tensor) -> dict:
    """A tensor as {"shape", "float32": base64 of its little-endian float32 bytes}: exact and compact."""
    values = x.detach().cpu().float().numpy().astype("<f4")
    return {"shape": list(values.shape), "float32": base64.b64encode(values.tobytes()).decode("ascii")}


def unpacked(message: dict) -> np.ndarray:
    """The inverse of ``packed``: a float32 array of the message's shape."""
    flat = np.frombuffer(base64.b64decode(message["float32"]), dtype="<f4")
    return flat.reshape(message["shape"])


def _no_constant(name: str):
    raise BadRequest(f"{name} is not a number JSON allows; send finite numbers")


def parse_body(raw: bytes) -> dict:
    """The JSON object of a request body; NaN and Infinity (which Python's json would accept) refused."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"the body is not JSON ({exc}); send a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
    return body


def only(body: dict, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown parameter(s) {', '.join(unknown)}; this request takes {', '.join(allowed) or 'none'}")


MISSING = object()


def integer(body: dict, name: str, low: int, high: int, default=MISSING) -> int:
    """An integer parameter in [low, high] (JSON true/false and 3.0 are not integers here)."""
    value = body.get(name, default)
    if value is MISSING:
        raise BadRequest(f"{name} is missing: an integer from {low} to {high}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be an integer from {low} to {high}, got {value!r:.40}")
    if not low <= value <= high:
        raise BadRequest(f"{name} must be from {low} to {high}, got {value}")
    return value


def number(body: dict, name: str, low: float, high: float, default=MISSING, open_low: bool = False) -> float:
    """A finite number parameter in [low, high] ((low, high] with ``open_low``)."""
    value = body.get(name, default)
    if value is MISSING:
        raise BadRequest(f"{name} is missing: a number from {low:g} to {high:g}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number, got {value!r:.40}")
    if not (low < value if open_low else low <= value) or value > high:
        bounds = f"{'above' if open_low else 'from'} {low:g} {'and at most' if open_low else 'to'} {high:g}"
        raise BadRequest(f"{name} must be {bounds}, got {value:g}")
    return float(value)


def choice(body: dict, name: str, allowed, default=MISSING) -> str:
    value = body.get(name, default)
    if value is MISSING or value not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)}, got {value if value is not MISSING else 'nothing'!r:.40}")
    return value


def vectors(body: dict, name: str, length: int, bound: float, kind: str = "number") -> tuple[torch.Tensor, bool]:
    """(n, length) from one list of ``length`` numbers (n = 1, single=True) or a list of n such lists
    (1 <= n <= MAX_BATCH). kind 'number': finite floats with |value| <= bound, as float32; kind
    'integer': integers in [0, bound), as int64."""
    value = body.get(name, MISSING)
    if value is MISSING:
        raise BadRequest(f"{name} is missing: a list of {length} {kind}s, or a list of such lists")
    single = isinstance(value, list) and all(not isinstance(v, list) for v in value)
    rows = [value] if single else value
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_BATCH:
        raise BadRequest(f"{name} must be a list of {length} {kind}s or a list of 1 to {MAX_BATCH} such lists")
    for row in rows:
        if not isinstance(row, list) or len(row) != length:
            size = len(row) if isinstance(row, list) else type(row).__name__
            raise BadRequest(f"{name}: each row must be a list of {length} {kind}s (one per latent), got {size}")
        for v in row:
            _check_entry(name, v, bound, kind)
    dtype = torch.int64 if kind == "integer" else torch.float32
    return torch.tensor(rows, dtype=dtype), single


def _check_entry(name: str, v, bound: float, kind: str) -> None:
    if kind == "integer":
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < bound:
            raise BadRequest(f"{name}: every entry must be an integer from 0 to {int(bound) - 1}, got {v!r:.40}")
    elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or abs(v) > bound:
        raise BadRequest(f"{name}: every entry must be a finite number with |value| <= {bound:g}, got {v!r:.40}")
