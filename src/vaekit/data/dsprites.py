"""dSprites, drawn here: 737,280 binary 64x64 images of a square, an ellipse or a heart.

The factor space is dSprites' (Matthey et al., 2017): shape (square, ellipse, heart), scale (6
values evenly spaced in [0.5, 1]), orientation (40 values evenly spaced in [0, 2*pi], so the first
and last draw the same picture, as in the original), position x and y (32 values each in [0, 1]).
Image i holds the i-th combination, row-major over (shape, scale, orientation, x, y).

The original file's renderer was never published, so the drawing is ours: each of the 720
(shape, scale, orientation) sprites is drawn once on a 32x32 canvas, a pixel on when at least half
of its 4x4 sub-pixel samples fall inside the shape; position code (x, y) places the canvas at
column x, row y of the 64x64 image, so one step of a position code is one pixel and the sprite's
centre moves from pixel 16 to 47. Rendering the whole set takes seconds; it is cached bit-packed
with a checksum (``vaekit.data.cache``). ``--data dsprites:PATH`` reads the original
``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` instead (its constant colour factor dropped).

Appearance (for zero-shot transfer, as DARLA's shifted domains): ``--data
dsprites:intensity=0.6,background=0.2`` draws the same factor space with the sprite at grey level
``intensity`` on a ``background`` level (defaults 1 and 0, the original's white on black). The
images stay the binary drawing; the levels are the data's affine map to model inputs (no copy).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from .array import ArrayData, Splits
from .cache import cached_images
from .factors import FactorInfo, checked_factors, is_full_factorial
from .numpy_files import read_arrays
from .registry import SOURCES

NAMES = ("shape", "scale", "orientation", "x", "y")
SIZES = (3, 6, 40, 32, 32)
VALUES = (
    (1.0, 2.0, 3.0),  # the original's shape values: square, ellipse, heart
    tuple(np.linspace(0.5, 1.0, 6).tolist()),
    tuple(np.linspace(0.0, 2 * math.pi, 40).tolist()),
    tuple(np.linspace(0.0, 1.0, 32).tolist()),
    tuple(np.linspace(0.0, 1.0, 32).tolist()),
)
INFO = FactorInfo(NAMES, SIZES, VALUES, full_factorial=True)
SIZE, CANVAS, SUBSAMPLE = 64, 32, 4  # image side, sprite canvas side, sub-pixel samples per pixel side
CACHE_NAME, CACHE_VERSION = "dsprites-64", "vaekit-dsprites-1"
SQUARE_HALF_SIDE, ELLIPSE_AXES, HEART_UNIT = 10.0, (12.0, 6.0), 9.0  # pixels at scale 1; all fit the canvas
ORIGINAL_KEYS = ("imgs", "latents_classes")
APPEARANCE = {"intensity": 1.0, "background": 0.0}  # the sprite's and the background's grey level, in [0, 1]


def inside(shape: int, u: np.ndarray, v: np.ndarray, scale: float) -> np.ndarray:
    """Whether the points (u, v) (pixels from the sprite's centre, v downwards, in the sprite's own
    unrotated frame) lie inside shape 0 (square), 1 (ellipse) or 2 (heart) at ``scale``."""
    if shape == 0:
        return np.maximum(np.abs(u), np.abs(v)) <= SQUARE_HALF_SIDE * scale
    if shape == 1:
        a, b = ELLIPSE_AXES
        return (u / (a * scale)) ** 2 + (v / (b * scale)) ** 2 <= 1
    # the heart curve (x^2 + y^2 - 1)^3 = x^2 y^3, y upwards, shifted so its box is centred
    x, y = u / (HEART_UNIT * scale), -v / (HEART_UNIT * scale) + 0.12
    return (x**2 + y**2 - 1) ** 3 - x**2 * y**3 <= 0


def sprite_bank() -> np.ndarray:
    """(3, 6, 40, 32, 32) uint8 {0, 1}: every (shape, scale, orientation) on its canvas, centred."""
    n = CANVAS * SUBSAMPLE
    offsets = (np.arange(n) + 0.5) / SUBSAMPLE - CANVAS / 2  # sub-pixel centres, pixels from the canvas centre
    v, u = np.meshgrid(offsets, offsets, indexing="ij")  # (n, n): rows down, columns right
    bank = np.zeros((*SIZES[:3], CANVAS, CANVAS), np.uint8)
    for orientation, angle in enumerate(VALUES[2]):
        cos, sin = math.cos(angle), math.sin(angle)
        own_u, own_v = cos * u + sin * v, -sin * u + cos * v  # rotate the sample points by -angle
        for shape in range(SIZES[0]):
            for scale_code, scale in enumerate(VALUES[1]):
                hits = inside(shape, own_u, own_v, scale).reshape(CANVAS, SUBSAMPLE, CANVAS, SUBSAMPLE)
                bank[shape, scale_code, orientation] = hits.mean((1, 3)) >= 0.5
    return bank


def render(codes: np.ndarray, bank: np.ndarray | None = None) -> np.ndarray:
    """(n, 64, 64) uint8 {0, 1}: the images of factor codes (n, 5)."""
    bank = sprite_bank() if bank is None else bank
    sprites = bank[codes[:, 0], codes[:, 1], codes[:, 2]]  # (n, 32, 32)
    rows = codes[:, 4, None] + np.arange(CANVAS)  # (n, 32): y places the canvas vertically
    columns = codes[:, 3, None] + np.arange(CANVAS)  # (n, 32): x horizontally
    images = np.zeros((len(codes), SIZE, SIZE), np.uint8)
    images[np.arange(len(codes))[:, None, None], rows[:, :, None], columns[:, None, :]] = sprites
    return images


def render_all() -> np.ndarray:
    """(737280, 64, 64) uint8 {0, 1}, image i the i-th combination of codes (row-major)."""
    bank = sprite_bank().reshape(-1, CANVAS, CANVAS)  # (720, 32, 32)
    # two passes of whole-row copies (element-wise placement of 737,280 sprites is 10x slower):
    rows = np.zeros((len(bank), SIZES[3], CANVAS, SIZE), np.uint8)  # (720, x, 32, 64): canvas rows shifted by x
    for x in range(SIZES[3]):
        rows[:, x, :, x:x + CANVAS] = bank
    images = np.zeros((len(bank), SIZES[3], SIZES[4], SIZE, SIZE), np.uint8)  # (720, x, y, 64, 64)
    for y in range(SIZES[4]):
        images[:, :, y, y:y + CANVAS, :] = rows
    return images.reshape(-1, SIZE, SIZE)


def all_codes() -> np.ndarray:
    """(737280, 5) int64: the codes of every image, row-major."""
    return np.stack(np.unravel_index(np.arange(int(np.prod(SIZES))), SIZES), 1).astype(np.int64)


def factor_data(images: np.ndarray, codes: np.ndarray, name: str, intensity: float = 1.0,
                background: float = 0.0) -> ArrayData:
    """ArrayData of (N, 64, 64) {0, 1} images, held as uint8 (N, 1, 64, 64); model inputs are
    ``background`` where a pixel is 0 and ``intensity`` where it is 1 (input = (v - shift) * scale)."""
    values = torch.from_numpy(images).unsqueeze(1)  # no copy: uint8 stays uint8 (converted per batch)
    scale = intensity - background
    shift = -background / scale if background else 0.0
    return ArrayData(values, None, name, shift=torch.tensor(shift), scale=torch.tensor(scale),
                     factors=torch.from_numpy(codes), factor_info=INFO)


def appearance(argument: str) -> dict[str, float]:
    """{'intensity', 'background'} from 'KEY=VALUE,...' (a UserError naming a bad key or value)."""
    values = dict(APPEARANCE)
    for item in argument.split(","):
        key, _, text = item.partition("=")
        if key.strip() not in APPEARANCE:
            raise UserError(f"--data dsprites:{argument}: unknown appearance {key.strip()!r}; known: "
                            f"{', '.join(APPEARANCE)} (grey levels in [0, 1]), or a PATH to the original file")
        try:
            values[key.strip()] = float(text)
        except ValueError:
            raise UserError(f"--data dsprites:{argument}: {key.strip()} must be a number in [0, 1], got {text!r}") from None
    if not all(0 <= v <= 1 for v in values.values()) or values["intensity"] == values["background"]:
        raise UserError(f"--data dsprites:{argument}: intensity and background must be grey levels in [0, 1] that "
                        f"differ, got {values}")
    return values


def load_original(path: Path) -> ArrayData:
    """The original dSprites file: 'imgs' (N, 64, 64) and 'latents_classes' (N, 6), colour dropped."""
    arrays = read_arrays(path, ORIGINAL_KEYS)  # the file's 'metadata' is a pickle: never read
    missing = [key for key in ORIGINAL_KEYS if key not in arrays]
    if missing:
        raise UserError(f"{path}: no {missing} array(s); expected the original dSprites file "
                        "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz with 'imgs' and 'latents_classes'")
    images, classes = arrays["imgs"], arrays["latents_classes"]
    if images.shape[1:] != (SIZE, SIZE) or classes.ndim != 2 or classes.shape[1] != 6:
        raise UserError(f"{path}: 'imgs' {images.shape} and 'latents_classes' {classes.shape}; expected "
                        "(N, 64, 64) and (N, 6) as in the original dSprites file")
    codes = checked_factors(classes[:, 1:], len(images), f"{path}[latents_classes]")
    if not is_full_factorial(codes, SIZES):
        raise UserError(f"{path}: 'latents_classes' do not enumerate dSprites' {int(np.prod(SIZES))} combinations "
                        "in row-major order; pass the original file unchanged")
    return factor_data(images.astype(np.uint8, copy=False), codes, f"dsprites:{path}")


@SOURCES.register("dsprites")
def load_dsprites_source(argument: str, config) -> Splits:
    """--data dsprites (ours, rendered once and cached), dsprites:intensity=I,background=B (ours with
    those grey levels) or dsprites:PATH (the original file)."""
    looks = appearance(argument) if "=" in argument else APPEARANCE
    if argument and "=" not in argument:
        return Splits(load_original(Path(argument).expanduser()), None)
    images = cached_images(CACHE_NAME, CACHE_VERSION, (SIZE, SIZE), render_all)
    name = f"dsprites:{argument}" if argument else "dsprites"
    return Splits(factor_data(images, all_codes(), name, **looks), None)
