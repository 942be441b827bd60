"""NumPy files: FILE.npy holds the inputs; FILE.npz holds inputs, labels and optionally a test split.

Inputs are (N, features), (N, C, H, W), or (N, H, W) read as one-channel images (N, 1, H, W).
uint8 stays uint8 with scale 1/255; other numbers become float32 with scale 1 (``from_arrays``).
Files load with ``allow_pickle=False``: a pickled array could run code from the file.

npz keys: inputs 'x' (or 'inputs', 'x_train', or the only array), labels 'y' (or 'labels',
'y_train'), test split 'x_test' with optional 'y_test' (Keras's mnist.npz loads as it is).
Ground-truth factors for the disentanglement metrics: 'factors' (N, K) integer codes 0..L_k-1,
optional 'factors_test' for 'x_test' and 'factor_names' (K strings).
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from .array import ArrayData, Splits, from_arrays
from .factors import checked_factors, factor_info, is_integral
from .registry import SOURCES

INPUT_KEYS = ("x", "inputs", "x_train")
LABEL_KEYS = ("y", "labels", "y_train")
TEST_INPUT_KEY, TEST_LABEL_KEY = "x_test", "y_test"
FACTORS_KEY, TEST_FACTORS_KEY, FACTOR_NAMES_KEY = "factors", "factors_test", "factor_names"
NPY_MAGIC, ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # a zip archive with no members: what numpy.savez(FILE) writes without arrays
READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)  # what np.load raises on damaged files


def read_arrays(path: Path, keys: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Every array of a .npy file (as key 'x') or a .npz archive (only ``keys`` when given, so
    other members, such as pickled metadata, are never read), refusing pickled objects."""
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "no such file"
        raise UserError(f"{path}: {what}; pass a NumPy file saved with numpy.save or numpy.savez")
    with path.open("rb") as file:
        start = file.read(len(NPY_MAGIC))
    if start.startswith(EMPTY_ZIP_MAGIC):
        raise UserError(f"{path}: an .npz archive that holds no arrays; save the inputs in it, "
                        "e.g. numpy.savez(FILE, x=inputs)")
    if not start.startswith((NPY_MAGIC, ZIP_MAGIC)):
        # without this check np.load blames pickles for any file that is not NumPy's
        raise UserError(f"{path}: not a NumPy file (it starts with neither the .npy header nor a .npz zip header); "
                        "save the arrays with numpy.save or numpy.savez")
    try:
        loaded = np.load(path, allow_pickle=False)  # np.load looks at the bytes, not the suffix
        if isinstance(loaded, np.ndarray):
            return {"x": loaded}
        with loaded:  # npz members are read lazily, so damage inside the archive shows up here
            arrays = {key: loaded[key] for key in loaded.files if keys is None or key in keys}
    except READ_ERRORS as exc:
        raise UserError(f"{path}: not a readable NumPy file ({exc}); the file may be damaged or not .npy/.npz; "
                        "save numeric arrays (no Python objects) with numpy.save or numpy.savez") from None
    if not arrays:
        wanted = "" if keys is None else f" named {', '.join(keys)}"
        raise UserError(f"{path}: an .npz archive that holds no arrays{wanted}; save the inputs in it, "
                        "e.g. numpy.savez(FILE, x=inputs)")
    return arrays


def inputs_key(arrays: dict[str, np.ndarray], path: Path) -> str:
    """The key of the training inputs: a conventional name, or the only array there is."""
    named = next((key for key in INPUT_KEYS if key in arrays), None)
    if named is not None:
        return named
    if len(arrays) == 1:
        return next(iter(arrays))
    raise UserError(f"{path}: cannot tell which array holds the inputs among {sorted(arrays)}; "
                    "name it 'x' (labels 'y', optional test split 'x_test' and 'y_test')")


def image_or_table(array: np.ndarray, where: str) -> np.ndarray:
    """(N, features) or (N, C, H, W) numbers; (N, H, W) becomes (N, 1, H, W)."""
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise UserError(f"{where}: holds {array.dtype} values, not numbers; save a numeric array")
    if array.ndim in (2, 3, 4) and 0 in array.shape:
        what = "no examples" if len(array) == 0 else "examples of no values"
        raise UserError(f"{where}: array of shape {array.shape} holds {what}; save at least one example "
                        "with at least one value")
    if array.ndim == 3:
        return array[:, None]  # (N, 1, H, W): one grey channel
    if array.ndim in (2, 4):
        return array
    raise UserError(f"{where}: array of shape {array.shape} has {array.ndim} dimension(s); expected "
                    "(N, features), (N, H, W) or (N, C, H, W) with one row per example")


def integer_labels(array: np.ndarray, n_examples: int, where: str) -> np.ndarray:
    """(N,) int64 class labels, from integers or integer-valued floats of shape (N,) or (N, 1)."""
    if array.ndim > 1 and all(size == 1 for size in array.shape[1:]):
        array = array.reshape(len(array))
    if array.ndim != 1:
        hint = " (one-hot? save y.argmax(1))" if array.ndim == 2 else ""
        raise UserError(f"{where}: labels of shape {array.shape}; expected one integer per example, shape (N,){hint}")
    if len(array) != n_examples:
        raise UserError(f"{where}: {len(array)} labels but {n_examples} examples; "
                        "the inputs and labels must have one entry per example")
    if not is_integral(array):
        raise UserError(f"{where}: labels must be integer class indices, got {array.dtype} values; "
                        "map class names to 0..L-1 before saving")
    return array.astype(np.int64)


def split_data(arrays: dict[str, np.ndarray], x_key: str, y_key: str | None, path: Path,
               factors_key: str | None = None) -> ArrayData:
    """ArrayData from arrays[x_key] and, when given, labels arrays[y_key] and ground-truth factor
    codes arrays[factors_key] (named by 'factor_names' when the file has it); named after the file and key."""
    name = f"{path}" if len(arrays) == 1 else f"{path}[{x_key}]"
    inputs = image_or_table(arrays[x_key], name)
    labels = None if y_key is None else integer_labels(arrays[y_key], len(inputs), f"{path}[{y_key}]")
    data = from_arrays(inputs, labels, name)
    if factors_key is None:
        return data
    factors = checked_factors(arrays[factors_key], len(inputs), f"{path}[{factors_key}]")
    info = factor_info(factors, arrays.get(FACTOR_NAMES_KEY), f"{path}[{FACTOR_NAMES_KEY}]")
    return data.with_values(data.values, factors=torch.from_numpy(factors), factor_info=info)


def load_numpy(path: Path) -> Splits:
    """Splits from a .npy or .npz file; test is None unless the archive has 'x_test'."""
    arrays = read_arrays(path)
    x_key = inputs_key(arrays, path)
    y_key = next((key for key in LABEL_KEYS if key in arrays), None)
    check_factor_keys(arrays, path)
    train = split_data(arrays, x_key, y_key, path, FACTORS_KEY if FACTORS_KEY in arrays else None)
    if TEST_INPUT_KEY not in arrays:
        for key in (TEST_LABEL_KEY, TEST_FACTORS_KEY):
            if key in arrays:
                raise UserError(f"{path}: has '{key}' but no '{TEST_INPUT_KEY}'; save the test inputs as "
                                f"'{TEST_INPUT_KEY}' or drop '{key}'")
        return Splits(train, None)
    test = split_data(arrays, TEST_INPUT_KEY, TEST_LABEL_KEY if TEST_LABEL_KEY in arrays else None, path,
                      TEST_FACTORS_KEY if TEST_FACTORS_KEY in arrays else None)
    if test.shape != train.shape:
        raise UserError(f"{path}: test examples have shape {test.shape} but training examples {train.shape}; "
                        "both splits must have the same shape per example")
    if test.factors is not None and test.factors.shape[1] != train.factors.shape[1]:
        raise UserError(f"{path}: '{TEST_FACTORS_KEY}' has {test.factors.shape[1]} factors but '{FACTORS_KEY}' "
                        f"{train.factors.shape[1]}; both splits need the same factors")
    return Splits(train, test)


def check_factor_keys(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Factor keys only beside the factors they belong to: 'factors_test' and 'factor_names' need 'factors'."""
    for key in (TEST_FACTORS_KEY, FACTOR_NAMES_KEY):
        if key in arrays and FACTORS_KEY not in arrays:
            raise UserError(f"{path}: has '{key}' but no '{FACTORS_KEY}'; save the training split's factor codes "
                            f"as '{FACTORS_KEY}' (N, K) or drop '{key}'")


@SOURCES.register("npz")
@SOURCES.register("npy")
def load_numpy_source(argument: str, config) -> Splits:
    """--data FILE.npy or FILE.npz (or npy:FILE / npz:FILE); one loader reads both, by content."""
    if not argument:
        raise UserError("--data npy/npz needs a file: --data FILE.npy or --data FILE.npz")
    return load_numpy(Path(argument).expanduser())
