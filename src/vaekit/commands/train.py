"""vaekit train: train a model and write its run folder."""

from __future__ import annotations

from ..config import Config
from ..data import SOURCES
from ..models import LIKELIHOODS, MODELS, PRIORS
from ..nn import TRUNKS
from ..objectives import OBJECTIVES
from ..rundir import Figures, RunDir
from ._shared import listed
from .registry import COMMANDS

SHOWN_FIGURES = (Figures.CURVES, Figures.RECONSTRUCTIONS, Figures.SAMPLES)  # listed after training
DATA_FLAGS = {"data": "source", "image_size": "image_size", "label_column": "label_column"}  # flag -> data.KEY


@COMMANDS.register("train")
class Train:
    help = "train a model and write its run folder"
    description = "Train a model. Settings come from the defaults, then --config, then --set, then flags."

    @staticmethod
    def arguments(p) -> None:
        defaults = Config()  # the defaults shown in the help are the config's own, so they cannot drift
        p.add_argument("--data", help=f"a registered source as NAME or NAME:ARGUMENT ({listed(SOURCES, 'digits')}; e.g. "
                                       "fashion-mnist[:DIR], mnist:DIR, idx:DIR), or a path: FILE.npy, FILE.npz, FILE.csv, "
                                       "an IDX folder or an image folder")
        p.add_argument("--config", help="YAML config file (sections model, objective, data, train)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override one setting, e.g. --set model.latent_dim=32 --set objective.beta=4 (repeatable)")
        p.add_argument("--model", help=f"registered model: {listed(MODELS, 'vae')} (hvae: the two-level hierarchical VAE; "
                                        "conv_hvae: its convolutional form, with --trunk conv)")
        p.add_argument("--latent-dim", type=int, help=f"width of the latent code z (default {defaults.model.latent_dim})")
        p.add_argument("--likelihood", help="auto (default: discretized_logistic for 8-bit colour images, bernoulli for "
                                             "other data in [0, 1], else gaussian) or a registered "
                                             f"likelihood: {listed(LIKELIHOODS)}")
        p.add_argument("--trunk", help=f"registered trunk: {listed(TRUNKS, 'mlp')} (mlp: any shape; conv: images)")
        p.add_argument("--prior", help=f"registered prior p(z): {listed(PRIORS, 'normal')}; "
                                        "--set model.prior.components=K sets the K of a mixture prior")
        p.add_argument("--conditional", action="store_true", default=None,
                       help="condition encoder and decoder on the class label (vae, ae; data with labels); "
                            "--prior conditional adds a learned prior per class")
        p.add_argument("--objective", help="auto (default: the model's own, elbo for a VAE) or a registered objective: "
                                            f"{listed(OBJECTIVES)}; iwae takes --set objective.k=K")
        p.add_argument("--beta", type=float,
                       help=f"KL weight, a beta-VAE when != 1 (default {defaults.objective.beta:g})")
        p.add_argument("--epochs", type=int, help=f"passes over the training data (default {defaults.train.epochs}); "
                                                   "with --resume, the total to reach")
        p.add_argument("--batch-size", type=int, help=f"examples per step (default {defaults.train.batch_size})")
        p.add_argument("--lr", type=float, help=f"Adam learning rate (default {defaults.train.lr:g})")
        p.add_argument("--seed", type=int, help=f"seed of the weights, the shuffles and the noise "
                                                f"(default {defaults.train.seed})")
        p.add_argument("--device", help=f"auto, cpu or cuda (default {defaults.train.device})")
        p.add_argument("--image-size", help="HxW to resize a folder of images to")
        p.add_argument("--label-column", help="CSV column that holds labels")
        p.add_argument("--out", help="run folder to create (default runs/MODEL-DATA-TIME)")
        p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint; with "
                                                           "--epochs M, continue a run (finished or not) to M epochs, "
                                                           "with --lr or --set train.lr=... / train.lr_schedule=... a "
                                                           "new learning rate or schedule from there on (recorded in "
                                                           "run.json's history)")
        p.add_argument("--devices", type=int, metavar="N",
                       help="train on N processes of this machine (data-parallel, one per GPU on CUDA, gloo on CPU), "
                            "launched through torch.distributed.run; for several machines start 'torchrun ... -m vaekit "
                            "train' on each (see the README)")

    @staticmethod
    def run(args) -> int:
        from ..runs.train import FLAG_FIELDS

        if args.devices is not None:
            from ..training.launch import launch_devices

            return launch_devices(args.devices, args.device, getattr(args, "argv", None))
        if args.resume:  # runs.train.check_resume and resume_changes refuse any other setting, naming it
            config = train_config(args) if config_given(args) else None
            flags = {name: getattr(args, name) for name in FLAG_FIELDS}
            return train_and_report(config, args, flags, assignments=args.set)
        return train_and_report(train_config(args), args, {})


def config_given(args) -> bool:
    """Whether the command line set anything of the config other than through FLAG_FIELDS."""
    return bool(args.config or any(getattr(args, flag) is not None for flag in DATA_FLAGS))


def train_and_report(config, args, flags: dict, assignments: list[str] = ()) -> int:
    """Train with a progress display and print the run folder's files; under torchrun on global rank 0 only."""
    from ..progress import TrainProgress
    from ..runs.train import train
    from ..training import distributed

    global_rank_0 = not distributed.launched() or distributed.environment()[0] == 0  # the one process that prints
    try:
        with TrainProgress(enabled=global_rank_0) as progress:
            run = train(config, out=args.out, resume=args.resume, on_step=progress.on_step,
                        on_epoch=progress.on_epoch, assignments=assignments, **flags)
    finally:
        distributed.leave()
    if global_rank_0:
        report_run(run)
    return 0


def train_config(args):
    """Defaults, then --config, then one layer of --set and the flags (a flag wins over a --set of the same key)."""
    from ..config import Config, load_config
    from ..runs.train import FLAG_FIELDS, apply_flags

    config = load_config(args.config) if args.config else Config()
    data = {key: getattr(args, flag) for flag, key in DATA_FLAGS.items() if getattr(args, flag) is not None}
    config = config.replace(data=data)
    return apply_flags(config, args.set, **{name: getattr(args, name) for name in FLAG_FIELDS})


def report_run(run) -> None:
    last = run.state.history[-1] if run.state.history else {}
    print(f"run folder: {run.dir}")
    if "val_elbo" in last:
        print(f"best validation ELBO: {run.state.best_val_score:.3f} nats per example (epoch {run.state.best_epoch})")
    folder = RunDir(run.dir)
    for path in (folder.weights, folder.config_file, folder.metrics, *map(folder.figure, SHOWN_FIGURES),
                 folder.evaluation, folder.report):
        if path.exists():
            print(f"  {path}")
