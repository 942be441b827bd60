"""vaekit denoise: reconstruct corrupted inputs, shown beside the clean ones."""

from __future__ import annotations

from . import COMMANDS
from .common import open_run_of, output_paths, run_dir_arguments, write_arrays


@COMMANDS.register("denoise")
class Denoise:
    help = "reconstruct noisy inputs: rows clean / noisy / reconstruction"
    description = (
        "Corrupt the first --n inputs of the evaluation split and reconstruct them. Binary data (Bernoulli "
        "likelihood): each pixel flips with probability --noise. Other data: Gaussian noise of standard "
        "deviation --noise, clipped to [0, 1] when the inputs lie in [0, 1] (images), so that the noisy "
        "inputs stay in the likelihood's support. Writes a PNG and an .npz with 'clean', 'noisy' and "
        "'reconstruction' (n, *shape) and 'noise'."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        p.add_argument("--n", type=int, default=8, help="number of inputs, the first of the evaluation split (default 8)")
        p.add_argument("--noise", type=float, default=0.1,
                       help="flip probability for binary data, else the Gaussian standard deviation in input units (default 0.1)")
        p.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
        p.add_argument("--out", default=None, help="PNG file (default RUN_DIR/denoised.png); the .npz goes beside it")

    @staticmethod
    def run(args) -> int:
        from ..latent import denoise
        from ..latent_figures import row_grid

        opened = open_run_of(args)
        result = denoise(opened.model, opened.data.inputs(slice(0, args.n)), args.noise, args.seed)
        png, npz = output_paths(args.run_dir, args.out, "denoised.png")
        rows = [result["clean"], result["noisy"], result["reconstruction"]]
        row_grid(rows, ["clean", "noisy", "reconstruction"], png, f"denoising, noise {args.noise:g}")
        print(f"written: {png}")
        write_arrays(npz, {**result, "noise": args.noise})
        return 0
