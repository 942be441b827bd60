"""vaekit sample: decode draws of the prior."""

from __future__ import annotations

from pathlib import Path

from .common import write_outputs
from .registry import COMMANDS


@COMMANDS.register("sample")
class Sample:
    help = "decode samples of the prior to a PNG grid"

    @staticmethod
    def arguments(p) -> None:
        p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'vaekit train'")
        p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
        p.add_argument("--temperature", type=float, default=1.0, help="scale of the prior's standard deviation (default 1)")
        p.add_argument("--seed", type=int, default=0, help="seed of the prior draws (default 0)")
        p.add_argument("--out", default=None,
                       help="PNG file (default RUN_DIR/samples.png); also FILE.npz with the arrays 'samples' "
                            "(n, *shape), the decoded means, and 'z' (n, latent_dim), the prior draws; "
                            "for tables also FILE.csv in data units")

    @staticmethod
    def run(args) -> int:
        from ..figures.grids import image_grid
        from ..latent import sample_latents
        from ..runs.open import load
        from ..seeding import seeded

        model = load(args.run_dir, "cpu")
        with seeded(args.seed, "cpu"):
            z, samples = sample_latents(model, args.n, args.temperature)  # the draws of model.sample
        out = Path(args.out or Path(args.run_dir) / "samples.png")
        title = f"{args.n} samples, temperature {args.temperature:g}"
        picture = lambda path: image_grid(samples, path, 8, title)  # noqa: E731
        write_outputs(args.run_dir, samples, out, picture, {"samples": samples, "z": z})
        return 0
