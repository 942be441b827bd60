"""vaekit reconstruct: inputs above their reconstructions."""

from __future__ import annotations

from ..rundir import Figures, RunDir
from ._shared import (check_room, inputs_count, inputs_count_option, numbers_per_example, open_run_of, out_option,
                      run_dir_arguments, write_outputs)
from .registry import COMMANDS


@COMMANDS.register("reconstruct")
class Reconstruct:
    help = "reconstruct test inputs and save inputs above reconstructions"

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        inputs_count_option(p, 32)
        out_option(p, Figures.RECONSTRUCTIONS, beside="; also FILE.npz with the arrays 'inputs' and 'reconstructions' "
                   "(n, *shape); for tables also FILE.csv in data units")

    @staticmethod
    def run(args) -> int:
        from ..figures.grids import comparison_grid
        from ..figures.latent_outputs import example_labels
        from ..latent import reconstruct_inputs
        from ._shared import check_writable

        check_writable(args.run_dir, args.out, Figures.RECONSTRUCTIONS)  # before any work

        evaluated = open_run_of(args)
        n = inputs_count(evaluated, args.n)
        out = RunDir(args.run_dir).output(args.out, Figures.RECONSTRUCTIONS)
        check_room("--n", n, 2 * numbers_per_example(evaluated.model.data_shape), out)  # inputs and reconstructions
        x = evaluated.data.inputs(slice(0, n))
        labels = example_labels(evaluated, slice(0, n))  # a conditional model: their labels
        x_hat = reconstruct_inputs(evaluated.model, x, labels)
        picture = lambda path: comparison_grid(x.cpu(), x_hat.cpu(), path, "inputs and reconstructions")  # noqa: E731
        write_outputs(args.run_dir, x_hat, out, picture, {"inputs": x, "reconstructions": x_hat})
        return 0
