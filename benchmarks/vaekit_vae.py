"""vaekit, trained the way a user trains it (``vaekit.train``), and its evaluator.

    train: python benchmarks/vaekit_vae.py train --model tutorial --batch 128 --epochs 10 --out w.npz
    nll:   python benchmarks/vaekit_vae.py nll --model tutorial --weights w.npz --k 1000 --n 1000

train: ``--binarize static`` (default) trains on the same binarised images as the peers (given as
a bool array, so vaekit uses them as they are: data.binarize resolves to none); ``--binarize
dynamic`` gives vaekit the grey levels and its default dynamic binarisation (each batch resampled).
Model: ``model=vae``, ``likelihood=bernoulli`` (BCE on the logits), the hidden widths and latent
size of --model, Adam lr 1e-3, no validation split, no report. Epoch times come from the
``on_epoch`` hook, so they include vaekit's per-epoch checkpoint writes.

nll: vaekit's evaluator (``vaekit.evaluation.likelihood.evaluate``, what ``vaekit eval --k`` runs) on the first
--n binarised test images, with weights saved under vaekit's names by any system.

Prints one ``RESULT {json}`` line.
"""

from __future__ import annotations

import tempfile
import time

import common
import numpy as np
import torch


def model_from_weights(name: str, path: str, device: str = "cpu"):
    """A vaekit MLP VAE (Bernoulli likelihood) with the weights of an .npz under vaekit's names."""
    import vaekit

    hidden, latent = common.model_spec(name)
    model = vaekit.build_model(vaekit.ModelConfig(hidden=hidden, latent_dim=latent, likelihood="bernoulli"), (1, 28, 28))
    weights = {key: torch.from_numpy(value) for key, value in np.load(path).items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or [key for key in missing if not key.startswith("prior.")]:
        raise SystemExit(f"{path}: weights do not fit {name}: missing {missing}, unexpected {unexpected}")
    return model.to(device).eval()


def test_data(n: int | None = None):
    from vaekit.data.array import ArrayData

    bits = torch.from_numpy(common.load_data("test")[:n])  # (n, 1, 28, 28) uint8 {0, 1}
    return ArrayData(bits, None, "fashion-mnist test (binarised, seed 2)")


def train(args) -> None:
    import vaekit
    from vaekit.training.checkpoint import load_tensors

    hidden, latent = common.model_spec(args.model)
    if args.binarize == "static":
        data = common.load_data("train")[: args.train_size].astype(bool)  # bool: vaekit keeps {0, 1} with unit scale
    else:
        data = common.load_data("train_grey")[: args.train_size]  # uint8 levels: scale 1/255, dynamic binarisation
    config = vaekit.Config().replace(
        model={"name": "vae", "hidden": list(hidden), "latent_dim": latent, "likelihood": "bernoulli"},
        data={"validation": "none", "binarize": "none" if args.binarize == "static" else "dynamic"},
        train={"epochs": args.epochs, "batch_size": args.batch, "lr": 1e-3, "seed": args.seed,
               "device": args.device, "report": False},
    )
    ends: list[float] = []
    peak: list[float] = []

    def on_epoch(state):
        if args.device != "cpu":
            torch.cuda.synchronize()
        ends.append(time.perf_counter())
        peak.append(common.peak_rss_mib())

    rss_before = common.current_rss_mib()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run = vaekit.train(config, data=data, out=f"{out}/run", on_epoch=on_epoch)
        tensors, _ = load_tensors(run.dir / "last.safetensors")
    if args.out:
        keep = ("encoder.", "head.", "decoder.")
        np.savez(args.out, **{k: v.cpu().numpy() for k, v in tensors.items() if k.startswith(keep)})
    steady, overall = common.steady_rate(ends, start, len(data))
    history = run.state.history
    result = {
        "system": "vaekit" if args.binarize == "static" else "vaekit-dynamic", "model": args.model,
        "batch": args.batch, "epochs": args.epochs, "device": args.device,
        "epoch_ends": [t - start for t in ends], "samples_per_s": steady, "samples_per_s_all_epochs": overall,
        "train_seconds": ends[-1] - start, "epoch_seconds_in_trainer": [row["seconds"] for row in history],
        "train_elbo": [row.get("train_elbo") for row in history],
        "rss_before_mib": rss_before, "peak_rss_mib": peak[-1], "threads": torch.get_num_threads(),
    }
    if args.device != "cpu":
        result["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    common.emit(result)


def nll(args) -> None:
    from vaekit.evaluation.likelihood import evaluate

    model = model_from_weights(args.model, args.weights, args.device)
    data = test_data(args.n)
    evaluate(model, test_data(64), k=min(args.k, 16))  # warm-up (and any one-time compilation)
    if args.device != "cpu":
        torch.cuda.synchronize()
    started = time.perf_counter()
    result = evaluate(model, data, k=args.k, seed=args.seed)
    if args.device != "cpu":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    common.emit({"system": "vaekit", "model": args.model, "k": args.k, "n": len(data), "device": args.device,
                 "seconds": seconds, "log_px_nats": result["log_px_nats"], "elbo_nats": result["elbo_nats"],
                 "peak_rss_mib": common.peak_rss_mib(), "threads": torch.get_num_threads()})


def main() -> None:
    parser = common.runner_parser(__doc__, modes=True)
    parser.add_argument("--binarize", choices=["static", "dynamic"], default="static")
    parser.add_argument("--weights", default="")
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--n", type=int, default=None)
    args = parser.parse_args()
    from vaekit.cli import keep_freed_memory

    keep_freed_memory()  # as the command line does at start-up: freed buffers stay in the heap
    (train if args.mode == "train" else nll)(args)


if __name__ == "__main__":
    main()
