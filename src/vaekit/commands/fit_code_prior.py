"""vaekit fit-code-prior: fit the autoregressive prior over a trained VQ-VAE's codes (``vaekit.models.code_prior``)
and store it in RUN_DIR/model.safetensors with the model, so that 'sample', 'eval' and 'score' use it."""

from __future__ import annotations

from pathlib import Path

from ..config.ranges import COUNT, LEARNING_RATE
from ._shared import batch_size_option, number_option, run_dir_arguments, seed_option
from .registry import COMMANDS


@COMMANDS.register("fit-code-prior")
class FitCodePrior:
    help = "fit the prior over a VQ-VAE's codes again (training fits one unless model.code_prior.epochs=0)"
    description = (
        "Training a VQ-VAE ends by fitting its code prior (model.code_prior.epochs); this command fits a new one, "
        "for a run trained with model.code_prior.epochs=0 or with other epochs, batch size or learning rate. "
        "Encode the run's training split with the trained (frozen) VQ-VAE, fit an autoregressive prior "
        "over the code grids by maximum likelihood (a GRU over the grid in raster order, sized by "
        "model.code_prior.hidden and model.code_prior.layers), and store it in RUN_DIR/model.safetensors "
        "beside the model's weights; a prior fitted before is replaced. Prints -log p(codes) of the "
        "training and evaluation splits (nats per example) and writes RUN_DIR/samples.png. Afterwards "
        "'vaekit eval' reports the bound log p(x) >= log p(x|z_q) + log p(codes) as elbo_nats and bits/dim."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        number_option(p, "--epochs", allowed=COUNT, default=20, help="passes over the training codes")
        batch_size_option(p, 128, "code grids per step")
        number_option(p, "--lr", allowed=LEARNING_RATE, default=1e-3, help="Adam learning rate, above 0")
        seed_option(p, "the prior's initialisation, shuffling and samples")

    @staticmethod
    def run(args) -> int:
        from ..rundir import RunDir
        from ..runs.stages import refit_code_prior
        from ._shared import check_writable

        check_writable(args.run_dir, None, RunDir.WEIGHTS, also=(RunDir.FIGURES.SAMPLES,))  # before any work

        refit = refit_code_prior(args.run_dir, args.device, args.data, args.epochs, args.batch_size, args.lr, args.seed)
        numbers, run = refit.numbers, RunDir(args.run_dir)
        print(f"code prior: -log p(codes) {numbers['train_code_nll_nats']:.3f} nats per example on the training split"
              + (f", {numbers['val_code_nll_nats']:.3f} on the {refit.held_out} split" if refit.held_out else ""))
        print(f"written: {run.weights} (the model with its code prior)")
        print(f"written: {write_samples(refit.evaluated.model, run.figure(run.FIGURES.SAMPLES), args.seed)}")
        return 0


def write_samples(model, path: Path, seed: int, n: int = 64) -> Path:
    """n decoded draws of the new prior, as the training run's samples.png."""
    from ..figures.grids import image_grid
    from ..seeding import seeded

    device = next(model.parameters()).device
    with seeded(seed, device):
        return image_grid(model.sample(n).cpu(), path, 8, "samples of the code prior")
