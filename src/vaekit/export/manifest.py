"""The export folder's names and its manifest.json: what a caller without vaekit needs to use the files.

    DIR/
      manifest.json    the files' inputs and outputs (names, shapes with the batch dimension named, dtypes),
                       the likelihood, the preprocessing of the inputs, the model's sizes, versions, opset
      encoder.onnx     x [, labels] -> the posterior's parameters     (encoder.pt for TorchScript)
      decoder.onnx     z [, labels] -> the likelihood's parameters and its mean

The preprocessing is read from the run's stored data transform, which training applied to every
batch: x = (raw - shift) * scale (scalars for images, one per column for tables; 8-bit images are
raw levels 0..255 with scale 1/255), then, when the run binarised its data, a Bernoulli draw per value.
"""

from __future__ import annotations

from ..models.model import LatentVariableModel
from ..models.vq import VQVAE

MANIFEST = "manifest.json"
PARTS = ("encoder", "decoder")  # each part's file is PART + the format's suffix (``file_name``)


def file_name(part: str, suffix: str) -> str:
    return f"{part}{suffix}"


def is_eight_bit(shift: list[float], scale: list[float]) -> bool:
    """Whether the run's inputs are 8-bit levels v = 0..255 seen as v / 255 (as ``holds_8_bit_levels`` decides)."""
    return len(shift) == 1 and shift[0] == 0.0 and abs(scale[0] * 255 - 1) < 1e-6


def binarization(mode: str) -> dict:
    """How the run binarised its inputs (the resolved data.binarize), for a caller to do the same."""
    if mode not in ("dynamic", "static"):
        return {"mode": "none", "rule": "none: the model takes x as it is"}
    return {
        "mode": mode,
        "rule": "bernoulli: after scaling, each value x in [0, 1] becomes 1 with probability x, else 0 "
                + ("(training drew afresh for every batch; evaluation drew once with a fixed seed)" if mode == "dynamic"
                   else "(drawn once with a fixed seed for every split)"),
        "threshold": 0.5,
        "threshold_rule": "for a deterministic input: 1 where x >= threshold, else 0 (each value's likelier draw; "
                          "not what training saw)",
    }


def preprocessing(data: dict, support: str) -> dict:
    """The steps from a caller's raw values to the encoder's input x, from the run's data metadata."""
    shift, scale, columns = data["shift"], data["scale"], data.get("columns")
    eight_bit = is_eight_bit(shift, scale)
    return {
        "formula": "x = (raw - shift) * scale" + (", per column" if columns else ""),
        "shift": shift,
        "scale": scale,
        "columns": columns,
        "eight_bit": eight_bit,
        "raw_values": "8-bit levels 0..255 (x = v / 255)" if eight_bit else
                      ("table rows in the columns' own units" if columns else "as the run's data held them"),
        "binarize": binarization(data.get("binarize", "none")),
        "value_range": support,  # the likelihood's support: the values x must take after these steps
        "data": data.get("name"),
    }


def likelihood_section(config: dict, model: LatentVariableModel) -> dict:
    likelihood = dict(config["model"]["likelihood"])
    name = likelihood.pop("name")
    return {"name": name, "options": likelihood, "support": model.likelihood.support,
            "mean": "E[x | z] per element in the model's input units x (raw = x / scale + shift)"}


def model_section(config: dict, model: LatentVariableModel, data: dict) -> dict:
    """The model's name and sizes; the classes of a conditional model; the code grid of a VQ-VAE."""
    section = {"name": config["model"].get("name", "vae"), "data_shape": list(model.data_shape),
               "classes": model.classes}
    if model.classes:
        section["labels"] = {"dtype": "int64", "names": data.get("classes"), "seen": data.get("labels_seen"),
                             "rule": "class indices 0..classes-1, one per example"}
    if isinstance(model, VQVAE):
        quantizer = model.quantizer
        section["codes"] = {"positions": model.positions, "stages": quantizer.stages, "codebook_size": quantizer.size,
                            "layout": "codes (B, positions * stages), position-major; "
                                      "quantized (B, positions * latent_dim)"}
    return section


def manifest(fmt: str, opset: int | None, config: dict, model: LatentVariableModel, data: dict, files: dict,
             versions: dict) -> dict:
    """manifest.json's content; ``files``: part -> {'file', 'inputs', 'outputs', 'check'}."""
    return {
        "format": fmt,
        "opset": opset,
        **versions,
        "batch_dimension": "batch: any size (dimension 0 of every input and output)",
        "model": model_section(config, model, data),
        "likelihood": likelihood_section(config, model),
        "preprocessing": preprocessing(data, model.likelihood.support),
        "files": files,
    }
