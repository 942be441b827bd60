"""``export``: a run's encoder and decoder written to ONNX or TorchScript files with their manifest.

Everything is checked before any work (the run, the format, the parts, the opset, the destination,
the format's packages), and the files are written into a hidden folder beside --out that becomes --out
only when every part has exported and passed its check: a refused part leaves nothing behind.

Each file is checked as soon as it is written: traced at one batch size, it runs (ONNX Runtime, or
TorchScript) on a fresh batch of another size and must give PyTorch's outputs, so a graph that kept
a value of its tracing example (a batch size, a branch taken on the data) is refused, naming the part.
"""

from __future__ import annotations

import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ..config import Config
from ..errors import UserError
from ..files import atomic_write_json
from ..rundir import RunDir, versions
from ..runs.open import load
from .formats import Format, check_opset, export_format
from .graphs import CHECK_BATCH, TRACE_BATCH, Graph, signature
from .manifest import MANIFEST, PARTS, file_name, manifest

TOLERANCE = 1e-4  # of the check after writing: |exported - PyTorch| <= TOLERANCE * (1 + |PyTorch|)


def export(run_dir: str | Path, out: str | Path, format: str = "onnx", parts=PARTS, opset: int | None = None) -> Path:
    """Write the encoder and/or decoder of the trained run ``run_dir`` (its best weights) to ``out``, a new
    or empty folder, in ``format`` ('onnx' or 'torchscript'), with ``out/manifest.json``; returns ``out``.
    ``parts``: 'encoder', 'decoder' or both (a list, or one comma-separated string); ``opset``: ONNX's
    (default 17). A UserError, before anything is written, for a bad argument or a part that does not export."""
    fmt, parts = export_format(format), check_parts(parts)
    opset = check_opset(fmt, opset)
    run = RunDir.check(run_dir)
    out = check_destination(out)
    fmt.check_available()
    model = load(run.path, "cpu")
    stored = run.metadata()
    config = Config.from_dict(stored["config"], f"{run.weights} (stored config)").to_dict()  # migrated if older
    with staged(out) as staging:
        files = {part: write_part(Graph(model, part), fmt, format, staging, opset, config) for part in parts}
        atomic_write_json(staging / MANIFEST, manifest(format, opset, config, model, stored["data"], files, versions()))
    return out


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A hidden folder beside ``out`` to write into; it becomes ``out`` (new, or empty as checked) when the
    body succeeds. On failure it is removed, and so are the folders above ``out`` that were made for it."""
    made = [folder for folder in out.parents if not folder.exists()]  # deepest first
    staging = out.parent / f".{out.name}.{secrets.token_hex(6)}.tmp"
    staging.mkdir(parents=True)
    try:
        yield staging
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in made:
            folder.rmdir()
        raise


def check_parts(parts) -> list[str]:
    """The parts to export, in the order of ``PARTS``; a UserError naming --parts for an unknown or no part."""
    names = [name.strip() for name in (parts.split(",") if isinstance(parts, str) else parts)]
    unknown = [name for name in names if name not in PARTS]
    if unknown or not names:
        raise UserError(f"--parts {','.join(names)!r}: a comma-separated list of {', '.join(PARTS)}")
    return [part for part in PARTS if part in names]


def check_destination(out: str | Path) -> Path:
    """``out`` as a Path; a UserError when it exists and is anything but an empty folder (nothing is replaced)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        what = "a folder that is not empty" if out.is_dir() else "a file"
        raise UserError(f"--out {out}: {what} is there already; choose a new or empty folder")
    return out


def describe(graph: Graph, config: dict) -> str:
    """The parts of the model a graph runs, for a refusal:
    'the decoder (model vae: trunk mlp, likelihood bernoulli)'."""
    model = config["model"]
    trunk = model.get("trunk", {}).get("name", "mlp")
    if graph.part == "decoder":
        own = f"likelihood {model['likelihood']['name']}"
    elif "quantizer" in model:
        own = f"quantizer {model['quantizer'].get('name', 'nearest')}"
    else:
        own = f"posterior head {type(graph.model.head).__name__}"
    return f"the {graph.part} (model {model.get('name', 'vae')}: trunk {trunk}, {own})"


def write_part(graph: Graph, fmt: Format, format: str, folder: Path, opset: int | None, config: dict) -> dict:
    """Write ``graph`` to FOLDER/PART.SUFFIX and check it; its manifest entry (file, inputs, outputs, check)."""
    path = folder / file_name(graph.part, fmt.suffix)
    fresh = graph.example(CHECK_BATCH, seed=1)
    try:
        fmt.write(graph, graph.example(TRACE_BATCH), path, opset)
        exported = fmt.run(path, fresh)
    except Exception as error:  # any failure to trace, convert or run is this part's: refused with the reason
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"{describe(graph, config)} does not export to {format}: {reason[:300]}") from error
    differences = check_outputs(graph, exported, graph.reference(fresh), describe(graph, config), format)
    return {"file": path.name, **signature(graph),
            "check": {"batch": CHECK_BATCH, "max_abs_difference": differences}}


def check_outputs(graph: Graph, exported: list[np.ndarray], reference: list[torch.Tensor], part: str,
                  format: str) -> dict[str, float]:
    """{output: max |exported - PyTorch|}; a UserError naming ``part`` when an output's shape or values differ."""
    differences = {}
    for name, got, want in zip(graph.output_names, exported, reference):
        want = want.cpu().numpy()
        if got.shape != want.shape:
            raise UserError(f"{part} does not export to {format}: its output {name} has shape {got.shape} on a batch "
                            f"of {CHECK_BATCH}, not {want.shape} (the traced graph kept its example's shape)")
        difference = float(np.abs(got.astype(np.float64) - want).max()) if got.size else 0.0
        if not np.allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE):
            raise UserError(f"{part} does not export to {format}: its output {name} differs from PyTorch's by "
                            f"{difference:.3g} on a fresh batch (the traced graph kept a value of its example)")
        differences[name] = difference
    return differences
