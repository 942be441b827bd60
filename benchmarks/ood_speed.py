"""Likelihood regret, batched against the reference code's per-example loop, on one trained run.

    OMP_NUM_THREADS=1 python benchmarks/ood_speed.py RUN_DIR [--steps 100] [--k 100]

Every variant scores the first test examples with the paper's settings (100 Adam steps, lr 2e-4, k draws
for each log p(x)): per-example copies of the posterior head ('head', vaekit's default) or of the whole
encoder ('encoder', the paper's), either many examples at once ('batched': as many copies as
``regret.PARAMETER_BUDGET`` holds) or one at a time ('loop': batch 1, as the reference compute_LR.py).
Each variant runs twice, interleaved; the better of the two counts. Prints wall-clock and CPU seconds per
example (on a shared machine the CPU seconds are the fair measure: the wall clock counts the other jobs too)
and each variant's CPU time over the batched head's, and writes benchmarks/results/ood_speed.json
(BENCHMARKS.md section 10, by benchmarks/report.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import common
import torch

VARIANTS = {"head batched": ("head", None, 256), "head loop": ("head", 1, 6),
            "encoder batched": ("encoder", None, 7), "encoder loop": ("encoder", 1, 2)}  # (layers, batch, examples)
ROUNDS = 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--name", default="ood_speed", help="the results file's name (k = 1: 'ood_speed_k1', the "
                        "optimisation alone, without the two importance-sampled log p(x) every variant shares)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from vaekit.evaluation.ood.regret import default_batch, regret_scores
    from vaekit.runs.open import open_run

    evaluated = open_run(args.run_dir, "cpu")
    model = evaluated.model
    wall, cpu = {}, {}
    for _ in range(ROUNDS):
        for name, (layers, batch, examples) in VARIANTS.items():
            x = evaluated.data.inputs(slice(0, examples))
            started, started_cpu = time.perf_counter(), time.process_time()
            regret_scores(model, x, args.k, steps=args.steps, batch=batch, layers=layers)
            wall[name] = min(wall.get(name, float("inf")), (time.perf_counter() - started) / examples)
            cpu[name] = min(cpu.get(name, float("inf")), (time.process_time() - started_cpu) / examples)
            print(name, wall[name], cpu[name], flush=True)
    base = cpu["head batched"]
    result = {"machine": common.machine(), "s_per_example": wall, "cpu_s_per_example": cpu,
              "over_head_batched": {n: s / base for n, s in cpu.items()},
              "batch": {layers: default_batch(model, layers) for layers in ("head", "encoder")},
              "examples": {n: v[2] for n, v in VARIANTS.items()}, "steps": args.steps, "k": args.k,
              "threads": torch.get_num_threads()}
    print(json.dumps(result, indent=1))
    common.save_result(args.name, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
