"""vaekit denoise: reconstruct corrupted inputs, shown beside the clean ones."""

from __future__ import annotations

from ..rundir import Figures
from ..config.ranges import NOISE
from ._shared import (announce, inputs_count, inputs_count_option, number_option, open_run_of, out_option, output_paths,
                      run_dir_arguments, seed_option)
from .registry import COMMANDS


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
        inputs_count_option(p, 8)
        number_option(p, "--noise", allowed=NOISE, default=0.1,
                      help="flip probability for binary data (0 to 1), else the Gaussian standard deviation in input "
                           f"units (0 to {NOISE.high:g})")
        seed_option(p, "the noise")
        out_option(p, Figures.DENOISED)

    @staticmethod
    def run(args) -> int:
        from ..figures.latent_outputs import denoising_outputs
        from ._shared import check_writable

        check_writable(args.run_dir, args.out, Figures.DENOISED)  # before any work

        evaluated = open_run_of(args)
        png, _ = output_paths(args.run_dir, args.out, Figures.DENOISED)
        for path in denoising_outputs(evaluated, inputs_count(evaluated, args.n), args.noise, args.seed, png):
            announce(path)
        return 0
