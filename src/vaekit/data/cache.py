"""The user cache of generated data: binary images stored bit-packed, with a SHA-256 checksum.

The folder is ``$XDG_CACHE_HOME/vaekit``, else ``~/.cache/vaekit``. An entry NAME is two files:
NAME.npy, the (N, ceil(P/8)) uint8 rows of ``numpy.packbits`` over each example's P pixels, and
NAME.json with the checksum of those bytes, the example shape and the generator's version. A
missing, truncated, altered or outdated entry is rebuilt, never used; both files are written
atomically, the checksum last, so an interrupted write leaves no entry that passes the check.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..files import atomic_path, atomic_write_json

log = logging.getLogger("vaekit")


def cache_folder() -> Path:
    """$XDG_CACHE_HOME/vaekit, or ~/.cache/vaekit when the variable is unset or empty."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vaekit"


def checksum(array: np.ndarray) -> str:
    """SHA-256 of the array's bytes, in hex."""
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def read_packed(name: str, version: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """The (N, *shape) uint8 {0, 1} images of entry ``name``; None when it is missing or does not
    match its checksum, shape or ``version`` (the reason goes to the 'vaekit' logger)."""
    folder = cache_folder()
    bits, meta = folder / f"{name}.npy", folder / f"{name}.json"
    if not (bits.is_file() and meta.is_file()):
        return None
    try:
        expected = json.loads(meta.read_text())
        packed = np.load(bits, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        log.info("%s: cached %s is unreadable (%s); rebuilding it", folder, name, exc)
        return None
    if expected.get("version") != version or tuple(expected.get("shape", ())) != tuple(shape) or \
            expected.get("sha256") != checksum(packed):
        log.info("%s: cached %s is damaged or outdated (checksum, shape or version differ); rebuilding it", folder, name)
        return None
    pixels = int(np.prod(shape))
    return np.unpackbits(packed, axis=1, count=pixels).reshape(len(packed), *shape)


def write_packed(name: str, version: str, images: np.ndarray) -> None:
    """Store (N, *shape) {0, 1} images as entry ``name``: packed bits, then their checksum."""
    packed = np.packbits(images.reshape(len(images), -1), axis=1)  # (N, ceil(P / 8))
    folder = cache_folder()
    with atomic_path(folder / f"{name}.npy") as temporary:
        with open(temporary, "wb") as file:
            np.save(file, packed)
    atomic_write_json(folder / f"{name}.json", {"version": version, "shape": list(images.shape[1:]),
                                                 "sha256": checksum(packed), "examples": len(images)})


def cached_images(name: str, version: str, shape: tuple[int, ...], build: Callable[[], np.ndarray]) -> np.ndarray:
    """(N, *shape) uint8 {0, 1}: entry ``name`` from the cache when it passes its checks, else
    ``build()`` stored there first. A cache folder that cannot be written is skipped (logged)."""
    images = read_packed(name, version, shape)
    if images is not None:
        return images
    images = build()
    try:
        write_packed(name, version, images)
    except OSError as exc:
        log.info("%s: cannot write the cache (%s); the data were built and are used without caching", cache_folder(), exc)
    return images
