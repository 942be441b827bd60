"""Peak resident memory of training: vaekit, the tutorial loop and pythae on the same jobs.

Each system trains each model at each batch size for a few epochs in a fresh process, and reports
its own peak (VmHWM: see ``common.peak_rss_mib``) and its resident size just before training
began (after imports and loading the data). Memory does not depend on how busy the machine is, so
this part may run beside other work; the speed parts may not.

    python benchmarks/memory.py [--epochs 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import common
from train_speed import SYSTEMS


def measure(system: str, model: str, batch: int, args, work: Path) -> dict:
    python, script, extra, env = SYSTEMS[system]
    argv = [*extra, "--model", model, "--batch", batch, "--epochs", args.epochs, "--device", args.device,
            "--out", work / f"{system}-{model}-{batch}.npz"]
    result = common.run_runner(python, script, argv, env=env)
    print(f"{system:8} {model:8} batch {batch:5}: peak {result['peak_rss_mib']:6.0f} MiB "
          f"(before training {result['rss_before_mib']:.0f} MiB)", flush=True)
    return {key: result[key] for key in ("peak_rss_mib", "rss_before_mib")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="tutorial,mlp512")
    parser.add_argument("--batches", default="128,1024")
    parser.add_argument("--systems", default="vaekit,tutorial,pythae")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--name", default="", help="results/memory[-NAME].json")
    args = parser.parse_args()
    common.prepare_data()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for model in args.models.split(","):
            for batch in map(int, args.batches.split(",")):
                systems = {s: measure(s, model, batch, args, Path(work)) for s in args.systems.split(",")}
                rows.append({"model": model, "batch": batch, "systems": systems})
    name = "memory" + (f"-{args.name}" if args.name else "")
    print(f"wrote {common.save_result(name, {'machine': common.machine(), 'args': vars(args), 'rows': rows})}")


if __name__ == "__main__":
    main()
