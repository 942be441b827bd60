"""The fp32 matrix-multiply limit of this machine at the layer sizes of the benchmark models.

For a training step at batch B, every Linear(a -> b) does three matrix multiplies: the forward
X (B x a) @ W^T, the input gradient dY (B x b) @ W (skipped for the first layer, whose input is
data) and the weight gradient dY^T (b x B) @ X. Each is timed alone with torch (the layouts
nn.Linear uses, operands hot in cache, best of several repeats); the limit of the step is its
FLOP count over the sum of those times: what the step would reach if it did nothing but its
matrix multiplies at the speed torch gets for each of them alone. Decoding (evaluation) is the
forward matmuls of the decoder at the number of rows per pass. A large square matmul gives the
machine's peak for reference.

    python benchmarks/matmul_limit.py [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import common
import torch


def _time(fn, device, min_seconds: float = 0.05, repeats: int = 5) -> float:
    """Best mean seconds per call of fn over ``repeats`` runs of at least ``min_seconds``."""
    for _ in range(3):
        fn()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    calls, best = 1, float("inf")
    while True:  # calls per run so that a run lasts min_seconds
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            break
        calls *= 2
    best = elapsed / calls
    for _ in range(repeats - 1):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        best = min(best, (time.perf_counter() - started) / calls)
    return best


def linear_seconds(rows: int, a: int, b: int, needs_input_grad: bool, device, dtype=torch.float32) -> tuple[float, float]:
    """(forward seconds, backward seconds) of the matmuls of Linear(a -> b) on ``rows`` rows."""
    x = torch.randn(rows, a, device=device, dtype=dtype)
    w = torch.randn(b, a, device=device, dtype=dtype)
    bias = torch.randn(b, device=device, dtype=dtype)
    dy = torch.randn(rows, b, device=device, dtype=dtype)
    forward = _time(lambda: torch.addmm(bias, x, w.t()), device)
    backward = _time(lambda: dy.t().mm(x), device)  # weight gradient (b x a)
    if needs_input_grad:
        backward += _time(lambda: dy.mm(w), device)  # input gradient (rows x a)
    return forward, backward


def train_limit(hidden, latent, batch: int, device) -> dict:
    """The matmul limit of one training step at ``batch``: FLOPs per sample and GFLOP/s."""
    seconds = 0.0
    for a, b, needs_grad in common.linear_layers(hidden, latent):
        forward, backward = linear_seconds(batch, a, b, needs_grad, device)
        seconds += forward + backward
    flops = common.train_flops_per_sample(hidden, latent)
    return {"flops_per_sample": flops, "gflops": flops * batch / seconds / 1e9,
            "samples_per_s": batch / seconds, "batch": batch}


def decode_limit(hidden, latent, rows: int, device) -> dict:
    """The matmul limit of decoding ``rows`` latents (forward only): GFLOP/s."""
    seconds = sum(linear_seconds(rows, a, b, False, device)[0] for a, b in common.decoder_layers(hidden, latent))
    flops = sum(2 * a * b for a, b in common.decoder_layers(hidden, latent))
    return {"flops_per_row": flops, "gflops": flops * rows / seconds / 1e9, "rows": rows}


def peak_gflops(device, size: int = 2048) -> float:
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    return 2 * size**3 / _time(lambda: a.mm(b), device) / 1e9


def measure(models, batches, decode_rows, device) -> dict:
    out = {"peak_square_gflops": peak_gflops(device), "train": {}, "decode": {}}
    for name in models:
        hidden, latent = common.model_spec(name)
        out["train"][name] = {str(b): train_limit(hidden, latent, b, device) for b in batches}
        out["decode"][name] = decode_limit(hidden, latent, decode_rows, device)
    return out


def best_of(*measurements: dict) -> dict:
    """Element-wise best of repeated measurements (the limit is what the machine can do)."""
    out = measurements[0]
    for other in measurements[1:]:
        out["peak_square_gflops"] = max(out["peak_square_gflops"], other["peak_square_gflops"])
        for name, per_batch in other["train"].items():
            for batch, value in per_batch.items():
                if value["gflops"] > out["train"][name][batch]["gflops"]:
                    out["train"][name][batch] = value
        for name, value in other["decode"].items():
            if value["gflops"] > out["decode"][name]["gflops"]:
                out["decode"][name] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default="tutorial,mlp512")
    parser.add_argument("--batches", default="128,1024")
    parser.add_argument("--decode-rows", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    models = args.models.split(",")
    result = measure(models, [int(b) for b in args.batches.split(",")], args.decode_rows, device)
    print(f"fp32 matmul, {device}, {torch.get_num_threads()} threads; peak (2048^3): "
          f"{result['peak_square_gflops']:.0f} GFLOP/s")
    for name in models:
        for batch, value in result["train"][name].items():
            print(f"  train {common.describe(name)} batch {batch}: {value['flops_per_sample'] / 1e6:.2f} MFLOP/sample, "
                  f"limit {value['gflops']:.0f} GFLOP/s = {value['samples_per_s']:,.0f} samples/s")
        value = result["decode"][name]
        print(f"  decode {common.describe(name)} ({value['rows']} rows): limit {value['gflops']:.0f} GFLOP/s")


if __name__ == "__main__":
    main()
