"""Exporting a trained model for use without vaekit: its encoder and decoder as ONNX or TorchScript files
with a manifest of names, shapes and preprocessing (``export``; the command ``vaekit export``).

``graphs``: the encoder and decoder as functions of plain tensors; ``formats``: the registered file
formats (``FORMATS``); ``manifest``: the folder's names and manifest.json; ``bundle``: ``export`` itself.
"""

from .bundle import export
from .formats import FORMATS

__all__ = ["FORMATS", "export"]
