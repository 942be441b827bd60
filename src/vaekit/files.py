"""Files: atomic writes (a temporary file in the same folder, then a rename) and tensor files
(safetensors with JSON metadata).

A run killed midway through a write leaves the previous file intact, never half of a new one.
"""

from __future__ import annotations

import json
import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from .errors import UserError


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _new_temporary(path)
    mode = os.stat(temporary).st_mode & 0o777
    try:
        yield Path(temporary)
        os.chmod(temporary, mode)  # a writer that replaced the file (safetensors makes it 0600) gets the mode back
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _new_temporary(path: Path) -> str:
    """Create an empty, unique file beside ``path`` and return its name.

    Created with mode 0666 less the process's umask, as a plain ``open`` would (0644 under the usual
    umask), so a run folder is as readable as any other file the user writes; ``tempfile.mkstemp``
    would make it 0600 and the rename would keep that.
    """
    while True:
        temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return str(temporary)
        except FileExistsError:  # another writer drew the same name: draw again
            continue


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def atomic_write_json(path: str | Path, value: Any) -> None:
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


class FolderFile:
    """A read-only attribute of a folder class (one with ``.path``): the path FOLDER/``name`` of one of its
    files or sub-folders, named once by the class (``RunDir``, ``StudyDir``)."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, folder, owner=None):
        return self if folder is None else folder.path / self.name


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> None:
    """Write ``tensors`` atomically; ``metadata`` values are stored as JSON strings."""
    plain = {name: tensor.detach().to("cpu").contiguous() for name, tensor in tensors.items()}
    with atomic_path(path) as temporary:
        save_file(plain, str(temporary), metadata={key: json.dumps(value) for key, value in metadata.items()})


def check_destination(path: str | Path, folder: bool = False) -> Path:
    """Check, before any work, that ``path`` can be written: a file (``folder``: a folder, made when missing)
    whose parent folders exist or can be made. A UserError of one line naming the path and the reason when
    a folder is wanted where a file is (or the reverse), a parent is a file, or the nearest existing folder
    does not take a new file (read-only, no permission, a read-only file system). Writing a probe file there
    and removing it is the one test that holds for every user, root included (``os.access`` says yes to
    root on a folder its mode forbids). Returns ``path``."""
    path = Path(path)
    if path.exists() and path.is_dir() != folder:
        wanted, found = ("a folder", "a file") if folder else ("a file", "a folder")
        raise UserError(f"{path}: is {found}; {wanted} is wanted here")
    existing = next(parent for parent in (path if folder else path.parent, *path.parents) if parent.exists())
    if not existing.is_dir():
        raise UserError(f"{path}: cannot be written, {existing} is a file, not a folder")
    try:
        os.unlink(_new_temporary(existing / ".vaekit-write-check"))
    except OSError as exc:
        raise UserError(f"{path}: cannot be written, {existing} does not take new files ({exc.strerror})") from None
    return path


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
