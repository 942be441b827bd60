"""Shared by every benchmark script and by every system's runner (numpy and torch only, so the
pythae runner can import it from its own virtual environment).

Data: Fashion-MNIST from the Debian package, grey levels scaled to [0, 1], then binarised once
with a fixed seed (train: seed 1, test: seed 2) so that all three systems see exactly the same
binary images and a Bernoulli likelihood (BCE on the logits or on sigmoid outputs) is the right
model for every one of them. The draw is stored in benchmarks/.cache/fashion-mnist-bin.npz.

Weights: every runner saves its trained weights under vaekit's parameter names (an .npz), so a
single evaluation function (vaekit's evaluator) scores all systems.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results"
FASHION_MNIST = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
DATA_FILE = CACHE / "fashion-mnist-bin.npz"
MAIN_PYTHON = os.environ.get("VAEKIT_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
PYTHAE_PYTHON = os.environ.get("PYTHAE_PYTHON", str(HERE / ".venv-pythae" / "bin" / "python"))

# The two architectures of the comparison: name -> (hidden widths, latent size).
MODELS = {"tutorial": ((400,), 20), "mlp512": ((512, 256), 16)}
INPUT = 784


def model_spec(name: str) -> tuple[tuple[int, ...], int]:
    """(hidden, latent) for a name in MODELS, or 'H1-H2-...-D' such as '784-512-256-16'."""
    if name in MODELS:
        return MODELS[name]
    widths = [int(w) for w in name.split("-")]
    if widths[0] == INPUT:
        widths = widths[1:]
    return tuple(widths[:-1]), widths[-1]


def describe(name: str) -> str:
    hidden, latent = model_spec(name)
    return "-".join(str(w) for w in (INPUT, *hidden, latent))


# ---------------------------------------------------------------------------------------- data

def read_idx(path: Path) -> np.ndarray:
    raw = path.read_bytes()
    raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def find(folder: Path, stem: str) -> Path:
    for name in (f"{stem}-idx3-ubyte.gz", f"{stem}-idx3-ubyte", f"{stem}.idx3-ubyte.gz", f"{stem}.idx3-ubyte"):
        if (folder / name).is_file():
            return folder / name
    raise SystemExit(f"{folder}: no {stem} IDX file; install the Debian package dataset-fashion-mnist")


def prepare_data() -> Path:
    """Binarise Fashion-MNIST once (fixed seeds) into DATA_FILE; returns its path."""
    if DATA_FILE.is_file():
        return DATA_FILE
    import torch

    CACHE.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, stem, seed in (("train", "train-images", 1), ("test", "t10k-images", 2)):
        grey = torch.from_numpy(read_idx(find(FASHION_MNIST, stem)).astype(np.float32) / 255.0)  # [0, 1]
        bits = torch.bernoulli(grey, generator=torch.Generator().manual_seed(seed)).to(torch.uint8)
        out[split] = bits.numpy().reshape(-1, 1, 28, 28)  # (N, 1, 28, 28) uint8 in {0, 1}
        out[f"{split}_grey"] = read_idx(find(FASHION_MNIST, stem)).reshape(-1, 1, 28, 28)  # uint8 0..255
    tmp = DATA_FILE.with_suffix(".tmp.npz")
    np.savez(tmp, **out)
    tmp.replace(DATA_FILE)
    return DATA_FILE


def load_data(split: str) -> np.ndarray:
    """(N, 1, 28, 28) uint8: 'train'/'test' binary {0, 1}; 'train_grey'/'test_grey' levels 0..255."""
    with np.load(prepare_data()) as data:
        return data[split]


# ------------------------------------------------------------------------------------- FLOPs

def linear_layers(hidden, latent) -> list[tuple[int, int, bool]]:
    """(in, out, input_needs_grad) of every Linear in the encoder, head and decoder."""
    enc = [INPUT, *hidden]
    layers = [(a, b, i > 0) for i, (a, b) in enumerate(zip(enc[:-1], enc[1:]))]
    layers.append((enc[-1], 2 * latent, True))  # mean and log-variance
    dec = [latent, *reversed(hidden), INPUT]
    layers += [(a, b, True) for a, b in zip(dec[:-1], dec[1:])]
    return layers


def decoder_layers(hidden, latent) -> list[tuple[int, int]]:
    dec = [latent, *reversed(hidden), INPUT]
    return list(zip(dec[:-1], dec[1:]))


def encoder_layers(hidden, latent) -> list[tuple[int, int]]:
    enc = [INPUT, *hidden]
    return list(zip(enc[:-1], enc[1:])) + [(enc[-1], 2 * latent)]


def train_flops_per_sample(hidden, latent) -> int:
    """Matrix-multiply FLOPs of one training example: forward 2*in*out per layer, backward
    2*in*out for the weight gradient plus 2*in*out for the input gradient (not for the first layer,
    whose input is data)."""
    return sum(2 * a * b * (3 if needs_grad else 2) for a, b, needs_grad in linear_layers(hidden, latent))


def eval_flops_per_example(hidden, latent, k: int) -> int:
    """FLOPs of the importance-sampled log-likelihood of one example with k draws, done the
    minimal way: the encoder once, the decoder k times."""
    return sum(2 * a * b for a, b in encoder_layers(hidden, latent)) + k * sum(
        2 * a * b for a, b in decoder_layers(hidden, latent))


def per_point_flops_per_example(hidden, latent, k: int) -> int:
    """FLOPs of pythae's get_nll per example: encoder and decoder on every one of the k draws."""
    return k * (sum(2 * a * b for a, b in encoder_layers(hidden, latent))
                + sum(2 * a * b for a, b in decoder_layers(hidden, latent)))


# ----------------------------------------------------------------------------------- process

def peak_rss_mib() -> float:
    """The process's peak resident set size so far, MiB.

    Linux's VmHWM: the peak of this process's own memory since it started its program. ru_maxrss
    is not that: after fork and exec it starts at the parent's resident size at the fork, so a
    runner started by a large driver process would report the driver's memory as its own floor."""
    with contextlib.suppress(OSError):
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux; bytes on macOS


def current_rss_mib() -> float:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def emit(result: dict) -> None:
    """The runner's result: one JSON line on stdout, prefixed so the driver finds it among logs."""
    print("RESULT " + json.dumps(result), flush=True)


def run_runner(python: str, script: str, args: list[str], timeout: float = 3600, env: dict | None = None) -> dict:
    """Run a runner in a fresh process, with ``env`` added to the environment; returns its RESULT
    dict (raises with its output on failure)."""
    command = [python, str(HERE / script), *map(str, args)]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, **(env or {})})
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result["process_seconds"] = time.perf_counter() - started
    return result


def steady_rate(epoch_ends: list[float], start: float, n: int) -> tuple[float, float]:
    """(samples/s over epochs 2..E, samples/s over all epochs) from epoch end times."""
    total = len(epoch_ends) * n / (epoch_ends[-1] - start)
    if len(epoch_ends) < 2:
        return total, total
    return (len(epoch_ends) - 1) * n / (epoch_ends[-1] - epoch_ends[0]), total


def runner_parser(doc: str, modes: bool) -> argparse.ArgumentParser:
    """The arguments every training runner takes (vaekit, tutorial, pythae), so that the drivers call
    them alike; ``modes`` adds the positional train/nll choice of the runners that also score."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    if modes:
        parser.add_argument("mode", choices=["train", "nll"])
    parser.add_argument("--model", default="tutorial")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-size", type=int, default=None, help="first N training images (smoke tests)")
    parser.add_argument("--out", default="")
    return parser


def use_threads(threads: int) -> None:
    """Run torch here, and every process started from here, with ``threads`` threads (0: torch's default)."""
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)  # for the runner processes
        import torch

        torch.set_num_threads(threads)


def machine() -> dict:
    """What the figures were measured on."""
    import torch

    info = {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def save_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    return path


def load_result(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def fmt(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:,.{digits}g}" if abs(x) < 10 ** digits else f"{x:,.0f}"


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)
