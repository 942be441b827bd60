"""How vaekit's cost grows: training samples/s against batch size, hidden width and latent size,
each beside the matmul limit at that size; evaluation time against K.

Training runs vaekit's own trainer (``vaekit.training.trainer.Trainer`` over ``ResidentBatches``, the
path ``vaekit.train`` takes, with the forward pass compiled as in a long run) on the first
--examples binarised training images: one warm-up epoch, then the fastest of --epochs epochs.
The base model is 784-512-256-16 at batch 128; each sweep changes one of them (the width sweep
uses one hidden layer). Evaluation: ``vaekit.evaluation.likelihood.evaluate`` on --eval-n test images of the
784-400-20 model for each K.

    python benchmarks/scaling.py [--device cpu] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import common


def train_rate(hidden, latent, batch, examples, epochs, device, compile_forward=True) -> float:
    import torch

    from vaekit.config import ModelConfig, ObjectiveConfig, TrainConfig
    from vaekit.data.array import ArrayData
    from vaekit.models.model import build_model
    from vaekit.objectives import build_objective
    from vaekit.training.batches import ResidentBatches
    from vaekit.training.trainer import Trainer, make_optimizer, make_schedule

    torch.manual_seed(0)
    data = ArrayData(torch.from_numpy(common.load_data("train")[:examples]), None, "fashion-mnist").to(device)
    model = build_model(ModelConfig(hidden=tuple(hidden), latent_dim=latent, likelihood="bernoulli"), (1, 28, 28)).to(device)
    objective = build_objective(ObjectiveConfig(), model)
    optimizer = make_optimizer(model, 1e-3, device)
    trainer = Trainer(model, objective, TrainConfig(epochs=epochs + 1), optimizer, make_schedule(optimizer, "constant", 1),
                      compile=compile_forward)
    batches = ResidentBatches(data, batch)
    trainer.prepare_compile(batches)
    trainer.train_epoch(batches, None)  # warm-up (and compilation)
    best = float("inf")
    for _ in range(epochs):
        started = time.perf_counter()
        trainer.train_epoch(batches, None)  # reads its sums back at the end: synchronised
        best = min(best, time.perf_counter() - started)
    return len(data) / best


def eval_seconds(k: int, n: int, device) -> float:
    import torch

    from vaekit.config import ModelConfig
    from vaekit.data.array import ArrayData
    from vaekit.evaluation.likelihood import evaluate
    from vaekit.models.model import build_model

    torch.manual_seed(0)
    hidden, latent = common.MODELS["tutorial"]
    model = build_model(ModelConfig(hidden=hidden, latent_dim=latent, likelihood="bernoulli"), (1, 28, 28)).to(device)
    data = ArrayData(torch.from_numpy(common.load_data("test")[:n]), None, "fashion-mnist test")
    evaluate(model, ArrayData(data.values[:64], None, "warm-up"), k=min(k, 16))
    return evaluate(model, data, k=k)["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--examples", type=int, default=20480)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batches", default="32,64,128,256,512,1024,2048")
    parser.add_argument("--widths", default="128,256,512,1024,2048")
    parser.add_argument("--latents", default="2,8,16,32,64,128")
    parser.add_argument("--ks", default="1,10,100,1000")
    parser.add_argument("--eval-n", type=int, default=1000)
    parser.add_argument("--name", default="")
    args = parser.parse_args()
    common.use_threads(args.threads)
    from vaekit.cli import keep_freed_memory

    keep_freed_memory()  # as the command line does at start-up: freed buffers stay in the heap
    import matmul_limit
    import torch

    device = torch.device(args.device)
    common.prepare_data()
    sweeps = {
        "batch": [((512, 256), 16, int(b)) for b in args.batches.split(",")],
        "width": [((int(w),), 16, 128) for w in args.widths.split(",")],
        "latent": [((512, 256), int(d), 128) for d in args.latents.split(",")],
    }
    out = {"machine": common.machine(), "args": vars(args), "train": {}, "eval": []}
    for sweep, points in sweeps.items():
        out["train"][sweep] = []
        for hidden, latent, batch in points:
            rate = train_rate(hidden, latent, batch, args.examples, args.epochs, device)
            limit = matmul_limit.train_limit(hidden, latent, batch, device)
            flops = common.train_flops_per_sample(hidden, latent)
            point = {"hidden": list(hidden), "latent": latent, "batch": batch, "samples_per_s": rate,
                     "gflops": rate * flops / 1e9, "limit_gflops": limit["gflops"],
                     "share_of_limit": rate * flops / 1e9 / limit["gflops"]}
            out["train"][sweep].append(point)
            print(f"{sweep:6s} {'-'.join(map(str, (784, *hidden, latent))):>18s} batch {batch:5d}: {rate:9,.0f} samples/s "
                  f"{point['gflops']:6.1f} GFLOP/s = {point['share_of_limit']:4.0%} of {limit['gflops']:.0f}", flush=True)
    hidden, latent = common.MODELS["tutorial"]
    for k in [int(k) for k in args.ks.split(",")]:
        seconds = eval_seconds(k, args.eval_n, device)
        flops = args.eval_n * common.eval_flops_per_example(hidden, latent, k)
        out["eval"].append({"k": k, "n": args.eval_n, "seconds": seconds, "gflops": flops / seconds / 1e9})
        print(f"eval 784-400-20 K={k:5d} on {args.eval_n} images: {seconds:7.2f} s, {flops / seconds / 1e9:6.1f} GFLOP/s", flush=True)
    name = "scaling" + (f"-{args.name}" if args.name else "")
    print(f"wrote {common.save_result(name, out).relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
