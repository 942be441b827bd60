"""vaekit export: a run's encoder and decoder as ONNX or TorchScript files, with manifest.json."""

from __future__ import annotations

from ..rundir import Figures, RunDir
from .registry import COMMANDS


@COMMANDS.register("export")
class Export:
    help = "export the encoder and decoder to ONNX or TorchScript files with a manifest, checked against PyTorch"
    description = (
        "Write the run's encoder (inputs in the model's units -> the posterior's parameters: mean and log_var; "
        "codes and quantized for a VQ-VAE) and decoder (latents -> the likelihood's parameters and its mean) "
        "to DIR as PART.onnx or PART.pt, with a dynamic batch dimension, a label input for a conditional model, "
        "and DIR/manifest.json: every file's input and output names, shapes and dtypes, the likelihood, the "
        "preprocessing a caller must apply (scaling, binarisation), vaekit's version and the opset. Each file "
        "is run again on a fresh batch and must match PyTorch; a part that does not export is refused (exit 2). "
        "ONNX needs pip install \"vaekit[export]\" (onnx, onnxruntime)."
    )

    @staticmethod
    def arguments(p) -> None:
        from ..export.formats import DEFAULT_OPSET, FORMATS, OPSET
        from ..export.manifest import PARTS
        from ._shared import listed, number_option, out_option

        p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'vaekit train'")
        p.add_argument("--format", default="onnx", help=listed(FORMATS, "onnx"))
        out_option(p, f"{Figures.EXPORTED}/FORMAT", "a new or empty folder for the files and manifest.json", beside="")
        p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated: {', '.join(PARTS)}")
        number_option(p, "--opset", allowed=OPSET, default=None,
                      help=f"ONNX opset (default {DEFAULT_OPSET}; onnx only)")

    @staticmethod
    def run(args) -> int:
        from ..export import export
        from ..export.manifest import MANIFEST
        from ._shared import announce

        default = f"{Figures.EXPORTED}/{args.format}"
        out = export(args.run_dir, RunDir(args.run_dir).output(args.out, default), args.format, args.parts, args.opset)
        for path in sorted(out.iterdir()):
            if path.name != MANIFEST:
                announce(path)
        announce(out / MANIFEST)
        return 0
