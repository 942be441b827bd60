"""MNIST-format IDX folders: train-/t10k- image and label files, plain or gzip-compressed.

IDX layout: a 4-byte big-endian magic number (0x00000803 for 3-d unsigned-byte images,
0x00000801 for 1-d unsigned-byte labels), one big-endian uint32 per dimension, then the bytes.
Images stay uint8 (N, 1, H, W) with scale 1/255, so the model sees grey levels in [0, 1].
train-* files become ``Splits.train``, t10k-* files ``Splits.test``.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from .array import ArrayData, Splits
from .registry import SOURCES

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (N, H, W)
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (N,)
KIND_OF_MAGIC = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}
GZIP_MAGIC = b"\x1f\x8b"
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian package dataset-fashion-mnist


def file_names(split: str, kind: str) -> list[str]:
    """Names a split's file may have: 'train-images-idx3-ubyte', or 'train-images.idx3-ubyte'; each ± '.gz'."""
    dims = "idx3" if kind == "images" else "idx1"
    stems = (f"{split}-{kind}-{dims}-ubyte", f"{split}-{kind}.{dims}-ubyte")
    return [stem + suffix for stem in stems for suffix in (".gz", "")]


def find_file(folder: Path, split: str, kind: str) -> Path | None:
    """The first existing file among ``file_names(split, kind)``, else None."""
    return next((folder / name for name in file_names(split, kind) if (folder / name).is_file()), None)


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic (whatever the name says)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the file ({exc.strerror or exc}); check that it is readable") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise UserError(
            f"{path}: truncated gzip file (the compressed data end early); download or copy the file again"
        ) from None
    except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise UserError(f"{path}: corrupt gzip file ({exc}); download or copy the file again") from None


def read_idx(path: Path, magic: int) -> np.ndarray:
    """The uint8 array of an IDX file whose magic number must be ``magic``; shape from its header."""
    data = read_bytes(path)
    kind = KIND_OF_MAGIC[magic]
    found = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if found != magic:
        raise UserError(f"{path}: {describe_magic(found)}, expected 0x{magic:08X} (an IDX {kind} file of "
                        f"unsigned bytes); check that this is the MNIST-format {kind} file{swap_hint(found, magic)}")
    ndim = magic & 0xFF  # the magic's last byte counts the dimensions
    header = 4 + 4 * ndim
    if len(data) < header:
        raise UserError(f"{path}: truncated file: the {header}-byte IDX header is cut off after {len(data)} bytes; "
                        "download or copy the file again")
    shape = tuple(int(size) for size in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected, present = math.prod(shape), len(data) - header
    described = " x ".join(map(str, shape))
    if present < expected:
        raise UserError(f"{path}: truncated file: the header says {described} = {expected} bytes of data "
                        f"but only {present} are present; download or copy the file again")
    if present > expected:
        raise UserError(f"{path}: {present - expected} bytes after the {described} values the header describes; "
                        "the file is damaged or not an IDX file")
    # copy: frombuffer views immutable bytes, and torch wants writable memory
    return np.frombuffer(data, dtype=np.uint8, count=expected, offset=header).reshape(shape).copy()


def describe_magic(found: int | None) -> str:
    return "file shorter than the 4-byte magic number" if found is None else f"wrong magic number 0x{found:08X}"


def swap_hint(found: int | None, magic: int) -> str:
    """A hint when the file is the other IDX kind (image and label files swapped or renamed)."""
    other = KIND_OF_MAGIC.get(found) if found != magic else None
    return f" (this one is an IDX {other} file: are the images and labels swapped?)" if other else ""


def load_split(folder: Path, split: str) -> ArrayData | None:
    """ArrayData of 'train' or 't10k': uint8 (N, 1, H, W), labels (N,) if a label file exists; None without images."""
    images_path = find_file(folder, split, "images")
    if images_path is None:
        return None
    images = read_idx(images_path, IMAGES_MAGIC)  # (N, H, W)
    labels = None
    labels_path = find_file(folder, split, "labels")
    if labels_path is not None:
        labels = read_idx(labels_path, LABELS_MAGIC)  # (N,)
        if len(labels) != len(images):
            raise UserError(f"{images_path}: {len(images)} images but {labels_path.name} has {len(labels)} labels; "
                            "use the image and label files of the same data set")
        labels = torch.from_numpy(labels).long()
    values = torch.from_numpy(images).unsqueeze(1)  # (N, 1, H, W) uint8
    return ArrayData(values, labels, str(images_path), scale=torch.tensor(1 / 255))


def load_idx_folder(folder: Path, source: str) -> Splits:
    """Splits(train, test) from an IDX folder; test is None without t10k images."""
    if not folder.exists():
        raise UserError(f"{folder}: no such folder; --data {source}:DIR needs the folder that holds the IDX files")
    if not folder.is_dir():
        raise UserError(f"{folder}: is a file, not a folder; pass the folder of the IDX files: --data {source}:DIR")
    train = load_split(folder, "train")
    if train is None:
        expected = ", ".join(file_names("train", "images"))
        raise UserError(f"{folder}: no training images file; expected one of {expected} "
                        "(MNIST-format IDX, gzip-compressed or not)")
    test = load_split(folder, "t10k")
    if test is not None and test.shape != train.shape:
        raise UserError(f"{test.name}: test images are {test.shape} but training images are {train.shape}; "
                        "use the train and t10k files of the same data set")
    return Splits(train, test)


def folder_argument(argument: str, source: str) -> Path:
    if not argument:
        raise UserError(f"--data {source} needs a folder: --data {source}:DIR (with train-images-idx3-ubyte.gz ...)")
    return Path(argument).expanduser()


@SOURCES.register("idx")
def load_idx_source(argument: str, config) -> Splits:
    """Any MNIST-format IDX folder: --data idx:DIR (or just DIR)."""
    return load_idx_folder(folder_argument(argument, "idx"), "idx")


@SOURCES.register("mnist")
def load_mnist_source(argument: str, config) -> Splits:
    """MNIST from a folder the user downloaded: --data mnist:DIR (nothing is downloaded here)."""
    return load_idx_folder(folder_argument(argument, "mnist"), "mnist")


@SOURCES.register("fashion-mnist")
def load_fashion_mnist_source(argument: str, config) -> Splits:
    """Fashion-MNIST: --data fashion-mnist[:DIR]; DIR defaults to the Debian package's folder."""
    if argument:
        return load_idx_folder(Path(argument).expanduser(), "fashion-mnist")
    if not FASHION_MNIST_DIR.is_dir():
        raise UserError(f"{FASHION_MNIST_DIR}: no such folder; install the Debian package dataset-fashion-mnist "
                        "or pass the folder with the IDX files: --data fashion-mnist:DIR")
    return load_idx_folder(FASHION_MNIST_DIR, "fashion-mnist")
