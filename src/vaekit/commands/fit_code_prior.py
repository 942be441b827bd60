"""vaekit fit-code-prior: fit the autoregressive prior over a trained VQ-VAE's codes (``vaekit.models.code_prior``)
and store it in RUN_DIR/model.safetensors with the model, so that 'sample', 'eval' and 'score' use it."""

from __future__ import annotations

from pathlib import Path

from .common import open_run_of, run_dir_arguments
from .registry import COMMANDS

# Metadata that save_model writes itself; the rest (the data transform, ...) is carried over.
OWN_METADATA = ("config", "data_shape", "vaekit", "torch")


@COMMANDS.register("fit-code-prior")
class FitCodePrior:
    help = "fit the prior over a VQ-VAE's codes again (training fits one unless model.code_prior.epochs=0)"
    description = (
        "Training a VQ-VAE ends by fitting its code prior (model.code_prior.epochs); this command fits a new one, "
        "for a run trained with model.code_prior.epochs=0 or with other epochs, batch size or learning rate. "
        "Encode the run's training split with the trained (frozen) VQ-VAE, fit an autoregressive prior "
        "over the code grids by maximum likelihood (a GRU over the grid in raster order, sized by "
        "model.code_prior_hidden and model.code_prior_layers), and store it in RUN_DIR/model.safetensors "
        "beside the model's weights; a prior fitted before is replaced. Prints -log p(codes) of the "
        "training and evaluation splits (nats per example) and writes RUN_DIR/samples.png. Afterwards "
        "'vaekit eval' reports the bound log p(x) >= log p(x|z_q) + log p(codes) as elbo_nats and bits/dim."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        p.add_argument("--epochs", type=int, default=20, help="passes over the training codes (default 20)")
        p.add_argument("--batch-size", type=int, default=128, help="code grids per step (default 128)")
        p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 0.001)")
        p.add_argument("--seed", type=int, default=0, help="seed of the prior's initialisation, shuffling and samples (default 0)")

    @staticmethod
    def run(args) -> int:
        from ..config import Config
        from ..models.code_prior import fit_code_prior
        from ..runs.evaluate import probe_training_data
        from ..training.checkpoint import read_metadata, save_model

        opened = open_run_of(args)
        # The training split as the evaluation split sees it (binarised once under dynamic binarisation);
        # data given with --data and no test split: all of it.
        train = opened.data if opened.train is None else probe_training_data(opened)
        test = None if opened.train is None else opened.data
        numbers = fit_code_prior(opened.model, train, test, args.epochs, args.batch_size, args.lr, args.seed)
        path = Path(args.run_dir) / "model.safetensors"
        metadata = read_metadata(path)
        extra = {key: value for key, value in metadata.items() if key not in OWN_METADATA}
        config = Config.from_dict(metadata["config"], f"{path} (stored config)")  # as stored, not as opened
        save_model(path, opened.model, config, {**extra, "code_prior": numbers})
        print(f"code prior: -log p(codes) {numbers['train_code_nll_nats']:.3f} nats per example on the training split"
              + (f", {numbers['test_code_nll_nats']:.3f} on the {opened.split} split" if test is not None else ""))
        print(f"written: {path} (the model with its code prior)")
        print(f"written: {write_samples(opened.model, Path(args.run_dir) / 'samples.png', args.seed)}")
        return 0


def write_samples(model, path: Path, seed: int, n: int = 64) -> Path:
    """n decoded draws of the new prior, as the training run's samples.png."""
    from ..figures.grids import image_grid
    from ..seeding import seeded

    device = next(model.parameters()).device
    with seeded(seed, device):
        return image_grid(model.sample(n).cpu(), path, 8, "samples of the code prior")
