"""Importance-sampled log-likelihood: vaekit's evaluator against pythae's ``VAE.get_nll``.

Both score the same trained weights (a vaekit model trained here for --epochs epochs at batch 128
on the binarised training set; any system's weights would do, the work does not depend on them)
on the first 1,000 binarised test images with K = 1,000 importance samples, in alternation, each
in a fresh process. Then vaekit alone on all 10,000 test images with K = 5,000, against its
FLOP limit: the encoder once and the decoder K times per image, at the matmul speed this machine
reaches for the decoder's layers (benchmarks/matmul_limit.py). pythae's per-point loop runs the
encoder and the decoder for every one of the K draws (its FLOPs are counted that way).

    python benchmarks/eval_speed.py [--k 1000] [--n 1000] [--full-k 5000] [--device cpu]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import common
import matmul_limit


def trained_weights(model: str, epochs: int, device: str) -> Path:
    """A vaekit model of this architecture trained for ``epochs`` epochs (cached in .cache/)."""
    path = common.CACHE / f"weights-{model}-{epochs}ep.npz"
    if not path.is_file():
        common.run_runner(common.MAIN_PYTHON, "vaekit_vae.py", ["train", "--model", model, "--batch", 128,
                                                                "--epochs", epochs, "--device", device, "--out", path])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="tutorial,mlp512")
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--full-k", type=int, default=5000, help="K for vaekit on the whole test set (0: skip)")
    parser.add_argument("--full-models", default="tutorial")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--skip-pythae", action="store_true")
    parser.add_argument("--name", default="")
    args = parser.parse_args()
    common.use_threads(args.threads)
    import torch

    from vaekit.evaluation.likelihood import BATCH_BUDGET, MEMORY_BUDGET

    device = torch.device(args.device)
    common.prepare_data()
    out = {"machine": common.machine(), "args": vars(args), "comparison": [], "full": []}
    for model in args.models.split(","):
        hidden, latent = common.model_spec(model)
        weights = trained_weights(model, args.epochs, args.device)
        rows = pass_rows(args.n, MEMORY_BUDGET, BATCH_BUDGET)
        limit = matmul_limit.decode_limit(hidden, latent, rows, device)["gflops"]
        systems = ["vaekit"] + ([] if args.skip_pythae else ["pythae"])
        runs = {s: [] for s in systems}
        for r in range(args.rounds):
            for system in systems[r % 2:] + systems[: r % 2]:
                python, script = (common.MAIN_PYTHON, "vaekit_vae.py") if system == "vaekit" else (common.PYTHAE_PYTHON, "pythae_vae.py")
                result = common.run_runner(python, script, ["nll", "--model", model, "--weights", weights, "--k", args.k,
                                                            "--n", args.n, "--device", args.device])
                runs[system].append(result)
                common.log(f"{system} {common.describe(model)} K={args.k} n={args.n}: {result['seconds']:.2f} s, "
                           f"log p(x) {result['log_px_nats']:.3f}")
        limit = max(limit, matmul_limit.decode_limit(hidden, latent, rows, device)["gflops"])
        minimal = args.n * common.eval_flops_per_example(hidden, latent, args.k)
        entry = {"model": model, "k": args.k, "n": args.n, "limit_gflops": limit, "rows_per_pass": rows,
                 "limit_seconds": minimal / limit / 1e9, "runs": runs}
        for system, results in runs.items():
            seconds = min(r["seconds"] for r in results)
            flops = minimal if system == "vaekit" else args.n * common.per_point_flops_per_example(hidden, latent, args.k)
            entry[system] = {"seconds": seconds, "gflops": flops / seconds / 1e9, "share_of_limit": flops / seconds / 1e9 / limit,
                             "log_px_nats": [r["log_px_nats"] for r in results]}
        if "pythae" in entry:
            entry["ratio"] = entry["pythae"]["seconds"] / entry["vaekit"]["seconds"]
        out["comparison"].append(entry)
        print(f"{common.describe(model)}, K = {args.k}, {args.n} test images (limit {limit:.0f} GFLOP/s, "
              f"{entry['limit_seconds']:.2f} s for the minimal FLOPs):")
        for system in systems:
            value = entry[system]
            print(f"  {system:7s} {value['seconds']:7.2f} s  {value['gflops']:6.1f} GFLOP/s of its own work  "
                  f"log p(x) {value['log_px_nats'][0]:.3f} nats")
        if "ratio" in entry:
            print(f"  vaekit is {entry['ratio']:.2f}x faster than pythae's get_nll")
    if args.full_k:
        for model in args.full_models.split(","):
            hidden, latent = common.model_spec(model)
            weights = trained_weights(model, args.epochs, args.device)
            result = common.run_runner(common.MAIN_PYTHON, "vaekit_vae.py", ["nll", "--model", model, "--weights", weights,
                                                                           "--k", args.full_k, "--device", args.device], timeout=7200)
            rows = pass_rows(result["n"], MEMORY_BUDGET, BATCH_BUDGET)
            limit = matmul_limit.decode_limit(hidden, latent, rows, device)["gflops"]
            flops = result["n"] * common.eval_flops_per_example(hidden, latent, args.full_k)
            entry = {"model": model, "k": args.full_k, "n": result["n"], "seconds": result["seconds"],
                     "log_px_nats": result["log_px_nats"], "elbo_nats": result["elbo_nats"], "limit_gflops": limit,
                     "limit_seconds": flops / limit / 1e9, "gflops": flops / result["seconds"] / 1e9,
                     "peak_rss_mib": result["peak_rss_mib"]}
            entry["over_limit"] = entry["seconds"] / entry["limit_seconds"]
            out["full"].append(entry)
            print(f"vaekit {common.describe(model)}, K = {args.full_k}, all {result['n']} test images: {result['seconds']:.1f} s "
                  f"({entry['gflops']:.0f} GFLOP/s); FLOP limit {entry['limit_seconds']:.1f} s: {entry['over_limit']:.2f}x the limit; "
                  f"log p(x) {result['log_px_nats']:.3f} nats, ELBO {result['elbo_nats']:.3f}")
    name = "eval_speed" + (f"-{args.name}" if args.name else "")
    print(f"wrote {common.save_result(name, out).relative_to(common.ROOT)}")


def pass_rows(n: int, memory_budget: int, batch_budget: int) -> int:
    """Rows (draws x examples) per decoder pass of vaekit's evaluator for n images of 784 pixels."""
    batch = max(1, min(n, batch_budget // common.INPUT))
    return batch * max(1, memory_budget // (batch * common.INPUT))


if __name__ == "__main__":
    main()
