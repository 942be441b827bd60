"""The file formats a model exports to, registered by name (``FORMATS``): each writes a traced graph
(``vaekit.export.graphs.Graph``) to a file and runs such a file again, for the check that follows
every export and for the parity tests.

onnx: ``torch.onnx.export`` with the TorchScript-based exporter (``dynamo=False``): the torch.export-based
one needs the onnxscript package, which the export extra does not install; the batch dimension is
dynamic. Files run with ONNX Runtime (the extra ``vaekit[export]``). torchscript: ``torch.jit.trace``
(no Python needed to run it, only libtorch); the outputs are a tuple in the manifest's order.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from ..config.ranges import Range
from ..errors import UserError
from ..registry import Registry
from .graphs import BATCH, Graph

FORMATS: Registry = Registry("export format")
DEFAULT_OPSET = 17
OPSET = Range(int, low=11, high=20)  # Round (FSQ) needs 11; 20 is the TorchScript-based exporter's highest in torch 2.x
EXTRA = 'pip install "vaekit[export]"'


class Format(Protocol):
    """``suffix`` of its files; ``opset``: whether it takes an ONNX opset."""

    suffix: str
    opset: bool

    def check_available(self) -> None: ...

    def write(self, graph: Graph, inputs: tuple[torch.Tensor, ...], path: Path, opset: int | None) -> None: ...

    def run(self, path: Path, inputs: tuple[torch.Tensor, ...]) -> list[np.ndarray]: ...


@FORMATS.register("onnx")
class Onnx:
    suffix, opset = ".onnx", True

    def check_available(self) -> None:
        """A UserError naming the extra when onnx or onnxruntime is missing (the export is checked with both)."""
        for package in ("onnx", "onnxruntime"):
            try:
                __import__(package)
            except ImportError:
                raise UserError(f"--format onnx needs the package {package}: {EXTRA}") from None

    def write(self, graph: Graph, inputs: tuple[torch.Tensor, ...], path: Path, opset: int | None) -> None:
        names = graph.input_names + graph.output_names
        with warnings.catch_warnings():  # the exporter's deprecation and tracer warnings: the check below decides
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, inputs, str(path), dynamo=False, input_names=graph.input_names,
                              output_names=graph.output_names, dynamic_axes={name: {0: BATCH} for name in names},
                              opset_version=opset or DEFAULT_OPSET)

    def run(self, path: Path, inputs: tuple[torch.Tensor, ...]) -> list[np.ndarray]:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 4  # fatal only: a failure is raised (and reported by the caller), not printed
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        names = [node.name for node in session.get_inputs()]
        return session.run(None, {name: value.cpu().numpy() for name, value in zip(names, inputs)})


@FORMATS.register("torchscript")
class TorchScript:
    suffix, opset = ".pt", False

    def check_available(self) -> None:
        """Nothing to check: TorchScript is part of PyTorch."""

    def write(self, graph: Graph, inputs: tuple[torch.Tensor, ...], path: Path, opset: int | None) -> None:
        with warnings.catch_warnings(), torch.no_grad():  # torch.jit's deprecation and tracer warnings
            warnings.simplefilter("ignore")
            torch.jit.save(torch.jit.trace(graph, inputs, check_trace=False), str(path))

    def run(self, path: Path, inputs: tuple[torch.Tensor, ...]) -> list[np.ndarray]:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            outputs = torch.jit.load(str(path), map_location="cpu")(*(value.cpu() for value in inputs))
        return [value.numpy() for value in outputs]


def export_format(name: str) -> Format:
    """The registered format ``name``; a UserError naming --format and the known ones otherwise."""
    if name not in FORMATS:
        raise UserError(f"--format {name!r}: not a format vaekit exports to; one of {', '.join(FORMATS.names())}")
    return FORMATS.get(name)()


def check_opset(fmt: Format, opset: int | None) -> int | None:
    """The opset to write (the default for ONNX, None for a format without one); a UserError for an opset
    outside ``OPSET`` or given to a format that has none."""
    if not fmt.opset:
        if opset is not None:
            raise UserError(f"--opset {opset}: only --format onnx takes an opset")
        return None
    return OPSET.check("--opset", DEFAULT_OPSET if opset is None else opset)
