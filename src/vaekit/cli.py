"""The ``vaekit`` command line. User errors print one line and exit with 2, without a traceback."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .errors import UserError

EXIT_USER_ERROR = 2


def _train_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model and write its run folder",
                       description="Train a model. Settings come from the defaults, then --config, then --set, then flags.")
    p.add_argument("--data", help="digits (default), fashion-mnist[:DIR], mnist:DIR, idx:DIR, FILE.npy, FILE.npz, FILE.csv or an image folder")
    p.add_argument("--config", help="YAML config file (sections model, objective, data, train)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting, e.g. --set model.latent_dim=32 --set objective.beta=4 (repeatable)")
    p.add_argument("--model", help="registered model: vae, ae")
    p.add_argument("--latent-dim", type=int)
    p.add_argument("--likelihood", help="auto (default: bernoulli for data in [0, 1], else gaussian), bernoulli, continuous_bernoulli, gaussian, gaussian_learned")
    p.add_argument("--trunk", help="mlp (any shape) or conv (images)")
    p.add_argument("--beta", type=float, help="KL weight (beta-VAE when != 1)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="auto, cpu or cuda")
    p.add_argument("--image-size", help="HxW to resize a folder of images to")
    p.add_argument("--label-column", help="CSV column that holds labels")
    p.add_argument("--out", help="run folder to create (default runs/MODEL-DATA-TIME)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    p.set_defaults(handler=_cmd_train)


def _run_dir_parser(sub, name: str, help_text: str, handler):
    p = sub.add_parser(name, help=help_text, description=help_text)
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'vaekit train'")
    p.add_argument("--data", help="data to use instead of the run's own (same shape); default: the run's test split")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.set_defaults(handler=handler)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vaekit", description="Variational autoencoders: train, evaluate, sample.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _train_parser(sub)
    p = _run_dir_parser(sub, "eval", "evaluate a trained run on its test split and write RUN_DIR/eval.json", _cmd_eval)
    p.add_argument("--k", type=int, default=0, help="importance samples for log p(x) (0: ELBO only; 5000 for papers)")
    p.add_argument("--seed", type=int, default=0, help="seed of the evaluation's samples")
    p = _run_dir_parser(sub, "sample", "decode samples of the prior to a PNG grid", _cmd_sample)
    p.add_argument("--n", type=int, default=64, help="number of samples")
    p.add_argument("--temperature", type=float, default=1.0, help="scale of the prior's standard deviation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="PNG file (default RUN_DIR/samples.png); for tables also FILE.csv in data units")
    p = _run_dir_parser(sub, "reconstruct", "reconstruct test inputs and save inputs above reconstructions", _cmd_reconstruct)
    p.add_argument("--n", type=int, default=32, help="number of inputs")
    p.add_argument("--out", default=None, help="PNG file (default RUN_DIR/reconstructions.png); for tables also FILE.csv in data units")
    return parser


def _version() -> str:
    from . import __version__

    return f"vaekit {__version__}"


def _show_library_messages() -> None:
    """The library reports choices (e.g. the streaming path) through the 'vaekit' logger."""
    logger = logging.getLogger("vaekit")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("vaekit: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _show_library_messages()
    try:
        return args.handler(args) or 0
    except UserError as exc:
        print(f"vaekit {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"vaekit {args.command}: interrupted; a run continues with --resume RUN_DIR", file=sys.stderr)
        return 130


def _train_config(args):
    from .config import Config, load_config
    from .run import apply_flags

    config = load_config(args.config) if args.config else Config()
    config = config.override(args.set)
    data = {k: v for k, v in [("source", args.data), ("image_size", args.image_size), ("label_column", args.label_column)] if v is not None}
    config = config.replace(data=data)
    flags = {name: getattr(args, name) for name in ("model", "latent_dim", "likelihood", "trunk", "beta", "epochs", "batch_size", "lr", "seed", "device")}
    return apply_flags(config, **flags)


def _cmd_train(args) -> int:
    from .progress import TrainProgress
    from .run import train

    if args.resume:
        given = [flag for flag in ("config", "data", "model", "latent_dim", "likelihood", "trunk", "beta", "epochs",
                                   "batch_size", "lr", "seed", "device", "image_size", "label_column", "out") if getattr(args, flag) is not None]
        if given or args.set:
            raise UserError(f"--resume uses the run's stored config; drop {', '.join('--' + g.replace('_', '-') for g in given) or '--set'}")
        config = None
    else:
        config = _train_config(args)
    with TrainProgress() as progress:
        run = train(config, out=args.out, resume=args.resume, on_step=progress.on_step, on_epoch=progress.on_epoch)
    _report_run(run)
    return 0


def _report_run(run) -> None:
    last = run.state.history[-1] if run.state.history else {}
    print(f"run folder: {run.dir}")
    if "val_elbo" in last:
        print(f"best validation ELBO: {run.state.best_val_elbo:.3f} nats per example (epoch {run.state.best_epoch})")
    for name in ("model.safetensors", "config.yaml", "metrics.csv", "curves.png", "reconstructions.png", "samples.png"):
        if (run.dir / name).exists():
            print(f"  {run.dir / name}")


def _load_run(args):
    from .run import open_run

    return open_run(args.run_dir, args.device, args.data)


def _cmd_eval(args) -> int:
    from .evaluate import evaluate
    from .io import atomic_write_json

    opened = _load_run(args)
    results = evaluate(opened.model, opened.data, k=args.k, seed=args.seed)
    results.update(opened.describe())
    atomic_write_json(Path(args.run_dir) / "eval.json", results)
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value:.4f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    print(f"written: {Path(args.run_dir) / 'eval.json'}")
    return 0


def _write_outputs(run_dir: str, x, out: Path, picture) -> None:
    """``picture(path)`` draws the PNG; table rows are also written as CSV in the data's units."""
    from .run import load_units
    from .tables_out import write_rows

    units = load_units(run_dir)
    if out.suffix.lower() != ".csv":
        picture(out)
        print(f"written: {out}")
    if units.columns is not None:
        table = out.with_suffix(".csv")
        write_rows(table, units(x.cpu()), units.columns)
        print(f"written: {table} (rows in the data's original units)")


def _cmd_sample(args) -> int:
    from .figures import image_grid
    from .run import load
    from .seeding import seeded

    model = load(args.run_dir, "cpu")
    with seeded(args.seed, "cpu"):
        samples = model.sample(args.n, args.temperature)
    out = Path(args.out or Path(args.run_dir) / "samples.png")
    title = f"{args.n} samples, temperature {args.temperature:g}"
    _write_outputs(args.run_dir, samples, out, lambda path: image_grid(samples, path, 8, title))
    return 0


def _cmd_reconstruct(args) -> int:
    from .figures import comparison_grid

    opened = _load_run(args)
    x = opened.data.inputs(slice(0, args.n))
    x_hat = opened.model.reconstruct(x)
    out = Path(args.out or Path(args.run_dir) / "reconstructions.png")
    picture = lambda path: comparison_grid(x.cpu(), x_hat.cpu(), path, "inputs and reconstructions")  # noqa: E731
    _write_outputs(args.run_dir, x_hat, out, picture)
    return 0


if __name__ == "__main__":
    sys.exit(main())
