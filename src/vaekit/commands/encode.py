"""vaekit encode: the posterior of every example of the evaluation split, to an .npz."""

from __future__ import annotations

from ..rundir import Figures, RunDir
from ._shared import batch_size_option, open_run_of, out_option, run_dir_arguments, write_arrays
from .registry import COMMANDS


@COMMANDS.register("encode")
class Encode:
    help = "encode the evaluation split and write the posterior means (the embeddings) to an .npz"
    description = (
        "Encode every example of the run's test split (its validation split when the data have no test "
        "split), or of --data, and write FILE.npz with 'mean' (N, latent_dim), the posterior means to use "
        "as embeddings; 'log_var' (N, latent_dim), the log-variances of q(z|x) (-inf for a plain "
        "autoencoder, whose posterior is a point); and 'labels' (N,) when the data have labels."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        batch_size_option(p, 1024, "examples per encoder pass")
        out_option(p, Figures.ENCODED, "the .npz file to write", beside="")

    @staticmethod
    def run(args) -> int:
        from ..latent import encode_data
        from ._shared import check_writable

        check_writable(args.run_dir, args.out, Figures.ENCODED)  # before any work

        evaluated = open_run_of(args)
        encoded = encode_data(evaluated.model, evaluated.data, args.batch_size)
        write_arrays(RunDir(args.run_dir).output(args.out, Figures.ENCODED), encoded)
        return 0
