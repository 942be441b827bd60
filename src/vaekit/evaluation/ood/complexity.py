"""Input complexity (Serrà et al., 2020, "Input complexity and out-of-distribution detection with
likelihood-based generative models"): the likelihood corrected by what a general-purpose lossless
compressor makes of the input,

    S(x) = -log2 p(x) - L(x),      L(x) = the length of x's PNG file in bits,

a likelihood ratio against a universal model (the compressor). Simple inputs (flat backgrounds, digits)
compress well and get high likelihood from any model; S cancels that. Serrà et al. use PNG (and JPEG2000,
FLIF) at the highest compression; here PNG via Pillow, compress_level 9 (lossless, deterministic).
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from ...errors import UserError
from .registry import OodMethod, register_method
from .scoring import ScoredSet, Scorer, bits

PNG_LEVEL = 9  # zlib's highest compression, as Serrà et al. (and Xiao et al.'s code: cv2 IMWRITE_PNG_COMPRESSION 9)


def levels(x: torch.Tensor, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """(N, *shape) values in [low, high] -> uint8 levels 0..255 (8-bit data exactly: v / 255 -> v)."""
    scaled = (x.detach().double().cpu() - low) / (high - low) * 255
    return scaled.round().clamp(0, 255).to(torch.uint8).numpy()


def png_bits(values: np.ndarray) -> np.ndarray:
    """(N,) float64: the PNG length in bits of each example of uint8 ``values`` (N, C, H, W) with C in
    {1, 3}, or (N, F) (a 1 x F grey image)."""
    lengths = np.empty(len(values))
    for i, example in enumerate(values):
        lengths[i] = 8 * len(png_bytes(example))
    return lengths


def png_bytes(example: np.ndarray) -> bytes:
    """One example's PNG file: (1, H, W) grey, (3, H, W) colour, (F,) a 1 x F grey strip."""
    if example.ndim == 1:
        picture = Image.fromarray(example[None, :], mode="L")
    elif example.ndim == 3 and example.shape[0] in (1, 3):
        picture = Image.fromarray(example[0] if example.shape[0] == 1 else example.transpose(1, 2, 0))
    else:
        raise UserError(f"input complexity compresses images (1 or 3 channels) or flat rows; got examples of shape "
                        f"{tuple(example.shape)}")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=PNG_LEVEL)
    return buffer.getvalue()


def check_unit_interval(x: torch.Tensor, method: str) -> None:
    if float(x.min()) < 0 or float(x.max()) > 1:
        raise UserError(f"{method} compresses inputs in [0, 1] (images, 8-bit or binary); these range over "
                        f"[{float(x.min()):.4g}, {float(x.max()):.4g}]")


def complexity_bits(scored: ScoredSet) -> np.ndarray:
    """L(x) (N,) bits, computed once per set."""
    if "png_bits" not in scored.cache:
        check_unit_interval(scored.x, "input_complexity")
        scored.cache["png_bits"] = png_bits(levels(scored.x))
    return scored.cache["png_bits"]


def input_complexity(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """S(x) = -log2 p(x) - L(x) (N,), bits: Serrà et al.'s score with the PNG compressor."""
    return bits(scorer.nll(scored)) - complexity_bits(scored)


def residual_complexity(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """L(x - x_hat) (N,), bits: the PNG length of the reconstruction residual (x_hat: the mean of p(x|z) at
    the posterior mean or an autoencoder's code), mapped from [-1, 1] to 8-bit levels. What the model leaves
    unexplained, measured by a real compressor; for models without p(x) (autoencoders)."""
    check_unit_interval(scored.x, "residual_complexity")
    residual = scored.x - reconstructed(scorer.model, scored.x)
    return png_bits(levels(residual, -1.0, 1.0))


@torch.no_grad()
def reconstructed(model, x: torch.Tensor, batch: int = 1024) -> torch.Tensor:
    """The model's reconstructions (N, *shape), ``batch`` examples per pass."""
    return torch.cat([model.reconstruct(x[i : i + batch]) for i in range(0, len(x), batch)])


register_method(OodMethod("input_complexity", "-log2 p(x) - L_PNG(x), bits", input_complexity,
                          reference="Serrà et al. 2020"))
register_method(OodMethod("residual_complexity", "L_PNG(x - x_hat), bits", residual_complexity, needs=""))
