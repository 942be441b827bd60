"""The exported encoder's speed: ONNX Runtime against PyTorch eager, one thread each, in one process.

Latency: one example per call (batch 1), --calls calls, p50 and p95 in microseconds. Throughput: batches
of 256, examples per second over --batches calls. The two runtimes alternate round by round (--rounds),
so a change in the machine's load touches both alike; the figures are the medians over rounds, and the
ratio is ONNX Runtime's speed over PyTorch's (> 1: ONNX Runtime is faster). PyTorch runs what the
exported file runs (``vaekit.export.graphs.Graph``: encode, then mean and log_var) under no_grad.

    python benchmarks/export_speed.py [--models mlp512,conv] [--calls 2000] [--batches 100] [--rounds 5]

Models: the Fashion-MNIST shapes (1 x 28 x 28, Bernoulli) with random weights (speed does not depend
on training): mlp512 = 784-512-256-16, conv = channels 32, 64, latent 16. Writes results/export_speed.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import common
import numpy as np

MODELS = {
    "mlp512": {"latent_dim": 16, "trunk": {"name": "mlp", "hidden": [512, 256]}, "likelihood": "bernoulli"},
    "conv": {"latent_dim": 16, "trunk": {"name": "conv", "channels": [32, 64]}, "likelihood": "bernoulli"},
}
SHAPE = (1, 28, 28)


def exported(name: str, folder: Path):
    """(PyTorch encoder graph, ONNX Runtime session) of the model ``name`` saved as a run and exported."""
    import onnxruntime
    import torch

    import vaekit
    from vaekit.export.graphs import Graph
    from vaekit.rundir import RunDir

    config = vaekit.Config().replace(model=MODELS[name])
    torch.manual_seed(0)
    model = vaekit.build_model(config.model, SHAPE)
    data = {"name": "random", "shape": list(SHAPE), "shift": [0.0], "scale": [1.0], "columns": None, "binarize": "none"}
    RunDir(folder / name).save_model(model, config, {"data": data})
    out = vaekit.export(folder / name, folder / f"{name}-onnx", "onnx")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(out / "encoder.onnx"), options, providers=["CPUExecutionProvider"])
    return Graph(vaekit.load(folder / name), "encoder").eval(), session


def timed(call, inputs: list) -> list[float]:
    """Seconds of each call of ``call`` on each input, after two warm-up calls."""
    call(inputs[0]), call(inputs[0])
    times = []
    for x in inputs:
        start = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - start)
    return times


def measure(graph, session, calls: int, batches: int, rounds: int) -> dict:
    import torch

    generator = np.random.default_rng(0)
    singles = [(generator.random((1, *SHAPE)) < 0.5).astype(np.float32) for _ in range(calls)]
    large = [(generator.random((256, *SHAPE)) < 0.5).astype(np.float32) for _ in range(batches)]
    runtimes = {
        "pytorch": lambda x: graph(torch.from_numpy(x)),
        "onnxruntime": lambda x: session.run(None, {"x": x}),
    }
    rows = {name: {"p50_us": [], "p95_us": [], "throughput": []} for name in runtimes}
    with torch.no_grad():
        for _ in range(rounds):
            for name, call in runtimes.items():
                latency = np.array(timed(call, singles)) * 1e6
                rows[name]["p50_us"].append(float(np.percentile(latency, 50)))
                rows[name]["p95_us"].append(float(np.percentile(latency, 95)))
                rows[name]["throughput"].append(256 * batches / sum(timed(call, large)))
    return {name: {key: statistics.median(values) for key, values in row.items()} for name, row in rows.items()}


def table(result: dict) -> str:
    """The Markdown table of the figures, ratios beside them."""
    rows = []
    for name, figures in result["models"].items():
        torch_row, ort_row = figures["pytorch"], figures["onnxruntime"]
        rows.append([name, f"{torch_row['p50_us']:.0f} / {torch_row['p95_us']:.0f}",
                     f"{ort_row['p50_us']:.0f} / {ort_row['p95_us']:.0f}", f"{torch_row['p50_us'] / ort_row['p50_us']:.2f}",
                     common.fmt(torch_row["throughput"]), common.fmt(ort_row["throughput"]),
                     f"{ort_row['throughput'] / torch_row['throughput']:.2f}"])
    header = ["encoder", "batch 1, PyTorch p50 / p95 (us)", "batch 1, ONNX Runtime p50 / p95 (us)", "latency ratio (p50)",
              "batch 256, PyTorch (examples/s)", "batch 256, ONNX Runtime (examples/s)", "throughput ratio"]
    return common.table(header, rows)


def section(result: dict, machine_line) -> list[str]:
    """BENCHMARKS.md's section: the command, the machine and its load, the table (``machine_line``: report.py's)."""
    args = result["args"]
    load = ", ".join(f"{x:.1f}" for x in result["machine_after"]["load_average"])
    command = (f"python benchmarks/export_speed.py --models {args['models']} --calls {args['calls']} "
               f"--batches {args['batches']} --rounds {args['rounds']}")
    return [f"`{command}`. Measured on: {machine_line(result)} (after the run: {load}). One thread each",
            "(torch.set_num_threads(1); ONNX Runtime's intra- and inter-op threads 1), in one process, the two",
            "runtimes alternating round by round; medians over the rounds. Models of the Fashion-MNIST shape",
            "(1 x 28 x 28) with random weights: mlp512 = 784-512-256-16, conv = channels 32, 64, latent 16. PyTorch",
            "runs what the exported file runs (encode, then mean and log_var) under no_grad; ratios are ONNX Runtime's",
            "speed over PyTorch's (> 1: ONNX Runtime faster).", "", table(result), "",
            "On a machine this loaded (the load average counts every process of the 2-core machine) single figures",
            "move by tens of per cent between runs, PyTorch's p95 most (a descheduled call); the alternation keeps",
            "the ratios comparable within a run. A short run (`--calls 200 --batches 10 --rounds 1`) at load 9 gave",
            "latency ratios 2.5 (mlp512) and 4.2 (conv) and throughput ratios 1.0 and 4.0: ONNX Runtime's lead at",
            "batch 1 is the per-call overhead of eager PyTorch (the mlp512 encoder's arithmetic is about 1.1 MFLOP, some 10 us),",
            "which matters less at batch 256, where the MLP is matmul-bound in both.", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="mlp512,conv")
    parser.add_argument("--calls", type=int, default=2000, help="batch-1 calls per round")
    parser.add_argument("--batches", type=int, default=100, help="batch-256 calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    common.use_threads(1)
    result = {"machine": common.machine(), "args": vars(args), "models": {}}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models.split(","):
            common.log(f"exporting and timing {name}")
            graph, session = exported(name, Path(folder))
            result["models"][name] = measure(graph, session, args.calls, args.batches, args.rounds)
    result["machine_after"] = common.machine()
    common.save_result("export_speed", result)
    print(table(result))


if __name__ == "__main__":
    main()
