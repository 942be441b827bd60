"""vaekit interpolate: decode the latent path between two inputs, linear and spherical."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..latent import PATHS
from ..rundir import Figures, RunDir
from ..config.ranges import INDEX, STEPS
from ._shared import announce, example_at, number_option, open_run_of, out_option, output_paths, run_dir_arguments
from .registry import COMMANDS


@COMMANDS.register("interpolate")
class Interpolate:
    help = "decode the latent path between two inputs (linear and slerp), one row per method"
    description = (
        "Encode two inputs (their posterior means are the endpoints), walk between them in latent space and "
        "decode --steps points, t = 0 .. 1. The inputs are examples of the evaluation split (--from I --to J) "
        "or files (--from-file, --to-file). Writes a PNG with one row per method and an .npz with 't' "
        "(steps,), 'endpoints' (2, *shape), and per method 'z_METHOD' (steps, latent_dim) and "
        "'decoded_METHOD' (steps, *shape). A conditional run encodes each example with its own label and moves "
        "the label along with z; --label C instead keeps z at the --from example's posterior mean and moves "
        "the label from the example's own to C (style transfer between classes)."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        number_option(p, "--from", dest="index_a", allowed=INDEX, default=0, metavar="I",
                      help="index of the first input in the evaluation split")
        number_option(p, "--to", dest="index_b", allowed=INDEX, default=1, metavar="J",
                      help="index of the second input in the evaluation split")
        p.add_argument("--from-file", metavar="FILE", help="first input from a file instead of --from: "
                       "FILE.npy (one example: uint8 levels are divided by 255; for a model of a table, one row in the "
                       "table's units, standardised as in training) or FILE.png (levels / 255)")
        p.add_argument("--to-file", metavar="FILE", help="second input from a file instead of --to (as --from-file)")
        number_option(p, "--steps", allowed=STEPS, default=10,
                      help=f"decoded points along each path, endpoints included, from 2 to {STEPS.high}")
        p.add_argument("--method", choices=[*PATHS.names(), "both"], default="both",
                       help=f"a registered path ({', '.join(PATHS.names())}; slerp is spherical) or both: every "
                            "registered path, one row each (default both)")
        p.add_argument("--label", metavar="C", help="a conditional run: morph the label of the --from example to class C "
                       "(name or index) at fixed z, instead of interpolating between two examples")
        out_option(p, Figures.INTERPOLATION)

    @staticmethod
    def run(args) -> int:
        from ..figures.latent_outputs import interpolation_outputs
        from ._shared import check_writable

        check_writable(args.run_dir, args.out, Figures.INTERPOLATION)  # before any work

        evaluated = open_run_of(args)
        if args.label is not None:
            return morph(evaluated, args)
        x_a = endpoint(evaluated, args.run_dir, args.index_a, args.from_file, "--from")
        x_b = endpoint(evaluated, args.run_dir, args.index_b, args.to_file, "--to")
        methods = PATHS.names() if args.method == "both" else [args.method]
        png, _ = output_paths(args.run_dir, args.out, RunDir.FIGURES.INTERPOLATION)
        title = f"from {describe(args.index_a, args.from_file)} to {describe(args.index_b, args.to_file)}, {args.steps} steps"
        labels = endpoint_labels(evaluated, args)
        for path in interpolation_outputs(evaluated.model, x_a, x_b, args.steps, methods, png, title, labels):
            announce(path)
        return 0


def endpoint_labels(evaluated, args):
    """The two examples' labels (2,) for a conditional model, else None; files carry no label."""
    if not evaluated.model.classes:
        return None
    if args.from_file or args.to_file:
        raise UserError("a conditional run needs the label of each input: give them by index (--from I --to J), "
                        "not as files")
    from ..figures.latent_outputs import example_labels

    return example_labels(evaluated, [args.index_a, args.index_b])


def morph(evaluated, args) -> int:
    """--label C: the --from example decoded at its fixed z while the label moves to C."""
    import torch

    from ..figures.latent import row_grid
    from ..figures.latent_outputs import example_labels, save_arrays
    from ..latent import morph_label
    from ..runs.open import resolve_label

    if args.from_file:
        raise UserError("--label morphs an example of the evaluation split: give it by index (--from I)")
    to_label = resolve_label(args.run_dir, evaluated.model, args.label)
    x = example_at(evaluated, args.index_a, "--from")
    own = int(example_labels(evaluated, slice(args.index_a, args.index_a + 1))[0])
    labels, decoded = morph_label(evaluated.model, x, own, to_label, args.steps)
    png, npz = output_paths(args.run_dir, args.out, RunDir.FIGURES.INTERPOLATION)
    row_grid([decoded], [f"{own} to {args.label}"], png, f"example {args.index_a} at fixed z, label {own} to {args.label}")
    announce(png)
    announce(save_arrays(npz, {"t": torch.linspace(0, 1, args.steps), "labels": labels, "decoded": decoded, "example": x}))
    return 0


def describe(index: int, file: str | None) -> str:
    return Path(file).name if file else f"example {index}"


def endpoint(evaluated, run_dir: str, index: int, file: str | None, flag: str):
    """One model input (*shape), on the CPU: from a file when given, else example ``index`` of the evaluation split."""
    if file is not None:
        from ..runs.open import input_from_file

        return input_from_file(run_dir, file, evaluated.model.data_shape)
    return example_at(evaluated, index, flag)
