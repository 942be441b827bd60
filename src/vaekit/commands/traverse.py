"""vaekit traverse: sweep one latent coordinate at a time and decode, one row per dimension."""

from __future__ import annotations

from ..rundir import Figures
from ..config.ranges import COUNT, INDEX, SPAN, STEPS
from ._shared import announce, example_at, number_option, open_run_of, out_option, output_paths, run_dir_arguments
from .registry import COMMANDS


@COMMANDS.register("traverse")
class Traverse:
    help = "sweep each latent dimension around an input's posterior mean and decode, rows ordered by KL"
    description = (
        "Encode one input of the evaluation split (--index); for each latent dimension (or the --top K with "
        "the largest mean KL over the evaluation split) set that coordinate to --steps values from -span to "
        "+span, keep the others at the posterior mean, and decode. One row per dimension, largest KL first, "
        "labelled with the dimension and its KL in nats. Writes a PNG and an .npz with 'dims' (K,), 'kl' (K,) "
        "nats, 'values' (steps,), 'z' (K, steps, latent_dim) and 'decoded' (K, steps, *shape). A plain "
        "autoencoder has no prior, hence no KL: its rows are in dimension order."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        number_option(p, "--index", allowed=INDEX, default=0, help="the input whose posterior mean is the centre")
        number_option(p, "--top", allowed=COUNT, default=None, metavar="K",
                      help="only the K dimensions with the largest mean KL (default: every dimension)")
        number_option(p, "--span", allowed=SPAN, default=3.0,
                      help=f"the swept coordinate goes from -span to +span, in units of z; above 0, at most "
                           f"{SPAN.high:g}")
        number_option(p, "--steps", allowed=STEPS, default=9,
                      help=f"decoded values per dimension, from 2 to {STEPS.high}")
        out_option(p, Figures.TRAVERSAL)

    @staticmethod
    def run(args) -> int:
        from ..figures.latent_outputs import example_labels, traversal_outputs
        from ._shared import check_writable

        check_writable(args.run_dir, args.out, Figures.TRAVERSAL)  # before any work

        evaluated = open_run_of(args)
        x = example_at(evaluated, args.index, "--index")
        png, _ = output_paths(args.run_dir, args.out, Figures.TRAVERSAL)
        title = f"example {args.index}: each row sweeps one z from {-args.span:g} to {args.span:g}"
        label = example_labels(evaluated, slice(args.index, args.index + 1))  # a conditional model: the example's own
        for path in traversal_outputs(evaluated, x, args.top, args.span, args.steps, png, title, label):
            announce(path)
        return 0
