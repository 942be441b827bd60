"""vaekit sample: decode draws of the prior."""

from __future__ import annotations

from pathlib import Path

from ..rundir import Figures, RunDir
from ..config.ranges import COUNT, TEMPERATURE
from ._shared import check_room, number_option, numbers_per_example, out_option, seed_option, write_outputs
from .registry import COMMANDS


GRID_SAMPLES, ROW_SAMPLES = 64, 8  # --n when not given: a grid of 8 x 8, or one row of 8 per class
SHOWN = 1024  # samples drawn in the PNG at most (all of them go to the .npz)


@COMMANDS.register("sample")
class Sample:
    help = "decode samples of the prior to a PNG grid"

    @staticmethod
    def arguments(p) -> None:
        p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'vaekit train'")
        number_option(p, "--n", allowed=COUNT, default=None,
                      help=f"number of samples (default {GRID_SAMPLES}, a grid; with --label all, per class: "
                            f"default {ROW_SAMPLES}, a row each)")
        number_option(p, "--temperature", allowed=TEMPERATURE, default=1.0,
                      help=f"scale of the prior's standard deviation, from 0 to {TEMPERATURE.high:g}")
        seed_option(p, "the prior draws")
        p.add_argument("--label", metavar="C",
                       help="a conditional run: draw for class C (its name or index), or 'all' for one row per class "
                            "(default: the classes in turn)")
        p.add_argument("--sample-pixels", action="store_true",
                       help="draw every sub-pixel from p(x|z) instead of showing its mean (e.g. for 8-bit likelihoods)")
        out_option(p, Figures.SAMPLES, beside="; also FILE.npz with the arrays 'samples' "
                   "(n, *shape), the decoded means, and 'z' (n, latent_dim), the prior draws; "
                   "for tables also FILE.csv in data units")

    @staticmethod
    def run(args) -> int:
        from ..figures.grids import image_grid
        from ..latent import sample_latents
        from ..runs.open import load, resolve_label
        from ..seeding import seeded
        from ._shared import check_writable

        check_writable(args.run_dir, args.out, Figures.SAMPLES)  # before any work

        model = load(args.run_dir, "cpu")
        out = RunDir(args.run_dir).output(args.out, Figures.SAMPLES)
        if args.label == "all":
            return per_class(model, args, out)
        label = None if args.label is None else resolve_label(args.run_dir, model, args.label)
        n = GRID_SAMPLES if args.n is None else args.n
        check_room("--n", n, numbers_per_example(model.data_shape), out)  # decoded; z is far smaller
        with seeded(args.seed, "cpu"):
            z, samples = sample_latents(model, n, args.temperature, label, args.sample_pixels)  # model.sample's draws
        title = (f"{n} samples" if n <= SHOWN else f"the first {SHOWN} of {n} samples") + \
            f", temperature {args.temperature:g}" + ("" if label is None else f", label {args.label}")
        picture = lambda path: image_grid(samples[:SHOWN], path, 8, title)  # noqa: E731
        write_outputs(args.run_dir, samples, out, picture, {"samples": samples, "z": z})
        return 0


def per_class(model, args, out: Path) -> int:
    """--label all: one row per class of a conditional model."""
    from ..errors import UserError
    from ..figures.latent_outputs import class_sample_outputs
    from ..runs.open import class_names
    from ..seeding import seeded
    from ._shared import announce, check_room, numbers_per_example

    if not model.classes:
        raise UserError("--label all: this run's model is not conditional; train with --conditional to sample per class")
    n = ROW_SAMPLES if args.n is None else args.n
    check_room("--n", n * model.classes, numbers_per_example(model.data_shape), out)  # decoded; z is far smaller
    with seeded(args.seed, "cpu"):
        paths = class_sample_outputs(model, n, args.temperature, out, f"{n} samples per class, temperature "
                                     f"{args.temperature:g}", class_names(args.run_dir), args.sample_pixels)
    for path in paths:
        announce(path)
    return 0
