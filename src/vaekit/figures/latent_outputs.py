"""Figures of the latent space written to files: each function writes a PNG and the .npz of the
arrays behind it, and returns the paths it wrote. The commands print these paths; the run report
embeds the PNGs. Nothing here prints.

Arrays hold model inputs and outputs as the model sees them (binarised, scaled or standardised),
not the data's original units.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..files import atomic_path
from ..latent import (
    Traversal,
    denoise,
    dimension_kl,
    encode_data,
    interpolate,
    latent_map,
    manifold_grid,
    sample_latents,
    traverse,
)
from ..models.conditional import model_labels
from .latent import latent_scatter, manifold_figure, row_grid


def save_arrays(path: str | Path, arrays: dict) -> Path:
    """Tensors or arrays to one .npz (atomic write), each under its key."""
    plain = {name: value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
             for name, value in arrays.items()}
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, **plain)  # a file handle: np.savez would append '.npz' to a path
    return Path(path)


def interpolation_outputs(model, x_a, x_b, steps: int, methods: list[str], png: Path, title: str,
                          labels=None) -> list[Path]:
    """One row per method ('linear', 'slerp') from x_a to x_b (each (*shape)); the .npz holds 't' (steps,),
    'endpoints' (2, *shape), 'z_METHOD' (steps, D) and 'decoded_METHOD' (steps, *shape). ``labels`` (2,):
    the endpoints' labels, for a conditional model (also in the .npz as 'labels')."""
    arrays = {"t": torch.linspace(0, 1, steps), "endpoints": torch.stack([x_a, x_b])}
    if labels is not None:
        arrays["labels"] = torch.as_tensor(labels)
    for method in methods:
        arrays[f"z_{method}"], arrays[f"decoded_{method}"] = interpolate(model, x_a, x_b, steps, method, labels)
    row_grid([arrays[f"decoded_{m}"] for m in methods], methods, png, title)
    return [png, save_arrays(png.with_suffix(".npz"), arrays)]


def traversal_outputs(evaluated, x, top: int | None, span: float, steps: int, png: Path, title: str,
                      label=None) -> list[Path]:
    """Rows by mean KL over the evaluation split (dimension order for a model without a prior). A
    model whose KL does not split over dimensions (a mixture prior, a hierarchy) has no KL per
    dimension: its rows are in dimension order too, and ``top`` keeps the first ones."""
    kl = dimension_kl(evaluated.model, evaluated.data)
    ranked = kl is not None or evaluated.model.prior is None  # an autoencoder keeps its error for a top
    result = traverse(evaluated.model, x, kl, top if ranked else None, span, steps, label)
    if not ranked and top is not None:
        result = Traversal(result.dims[:top], result.kl[:top], result.values, result.z[:top], result.decoded[:top])
    labels = [f"z{d}" + ("" if kl is None else f": KL {k:.2f} nats") for d, k in zip(result.dims.tolist(), result.kl.tolist())]
    row_grid(list(result.decoded), labels, png, title)
    return [png, save_arrays(png.with_suffix(".npz"), vars(result))]


def latent_map_outputs(evaluated, png: Path, method: str = "auto", max_points: int = 2000, seed: int = 0,
                       grid: int = 15) -> list[Path]:
    """The 2-D map of the posterior means coloured by label; for latent_dim = 2 with a prior, also the
    decoded manifold over the prior's quantiles (PNG_manifold.png)."""
    encoded = encode_data(evaluated.model, evaluated.data)
    placed = latent_map(encoded["mean"], method, max_points, seed)
    labels = encoded["labels"][placed.index] if "labels" in encoded else None
    title = f"posterior means of {evaluated.data.name} ({evaluated.split}), {placed.method}, {len(placed.index)} points"
    latent_scatter(placed.coords, labels, png, title, placed.axes)
    written = [png]
    arrays = {"coords": placed.coords, "index": placed.index, **({} if labels is None else {"labels": labels})}
    if encoded["mean"].shape[1] == 2 and evaluated.model.prior is not None and not evaluated.model.classes:
        arrays["manifold_z"], arrays["manifold_decoded"] = manifold_grid(evaluated.model, grid)
        manifold = png.with_name(f"{png.stem}_manifold.png")
        manifold_figure(arrays["manifold_decoded"], manifold, f"decoded over the prior's quantiles, {grid} per axis")
        written.append(manifold)
    return written + [save_arrays(png.with_suffix(".npz"), arrays)]


def denoising_outputs(evaluated, n: int, noise: float, seed: int, png: Path) -> list[Path]:
    """Rows clean / noisy / reconstruction for the first n examples of the evaluation split."""
    result = denoise(evaluated.model, evaluated.data.inputs(slice(0, n)), noise, seed, example_labels(evaluated, slice(0, n)))
    rows = [result["clean"], result["noisy"], result["reconstruction"]]
    row_grid(rows, ["clean", "noisy", "reconstruction"], png, f"denoising, noise {noise:g}")
    return [png, save_arrays(png.with_suffix(".npz"), {**result, "noise": noise})]


def class_sample_outputs(model, per_class: int, temperature: float, png: Path, title: str,
                         names: list[str] | None = None, pixels: bool = False) -> list[Path]:
    """One row per class of a conditional model: ``per_class`` samples drawn for that class (decoded
    means, or with ``pixels`` one draw of every sub-pixel). The .npz holds 'samples' (L, per_class, *shape),
    'z' (L, per_class, D) and 'labels' (L,). Draws from the caller's random state (seed it)."""
    if not model.classes:
        raise UserError("samples per class need a conditional model (train with --conditional)")
    labels = torch.arange(model.classes)
    drawn = [sample_latents(model, per_class, temperature, label=int(c), pixels=pixels) for c in labels]
    z, samples = torch.stack([d[0] for d in drawn]), torch.stack([d[1] for d in drawn])
    row_names = [names[c] if names and c < len(names) else f"class {c}" for c in labels.tolist()]
    row_grid(list(samples), row_names, png, title)
    return [png, save_arrays(png.with_suffix(".npz"), {"samples": samples, "z": z, "labels": labels})]


def example_labels(evaluated, index):
    """The labels of the evaluation examples at ``index`` for a conditional model, else None."""
    labels = model_labels(evaluated.model, evaluated.data)
    return None if labels is None else labels[index]
