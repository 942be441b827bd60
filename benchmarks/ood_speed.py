"""Likelihood regret, batched against the reference code's per-example loop, on one trained run.

    OMP_NUM_THREADS=1 python benchmarks/ood_speed.py RUN_DIR [--examples 120] [--loop 12] [--steps 100] [--k 100]

Both score test examples with the same settings (the paper's: 100 Adam steps, lr 2e-4, k draws for each
log p(x)); the loop runs one example at a time (batch 1, as compute_LR.py does), the batched form as many
encoder copies at once as ``regret.PARAMETER_BUDGET`` holds. Prints seconds per example and the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--examples", type=int, default=120)
    parser.add_argument("--loop", type=int, default=12, help="examples for the per-example loop")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--k", type=int, default=100)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from vaekit.evaluation.ood.regret import default_batch, regret_scores
    from vaekit.runs.open import open_run

    evaluated = open_run(args.run_dir, "cpu")
    model, x = evaluated.model, evaluated.data.inputs(slice(0, args.examples))
    started = time.perf_counter()
    regret_scores(model, x, args.k, steps=args.steps)
    batched = (time.perf_counter() - started) / len(x)
    started = time.perf_counter()
    regret_scores(model, x[: args.loop], args.k, steps=args.steps, batch=1)
    loop = (time.perf_counter() - started) / args.loop
    print(json.dumps({"batch": default_batch(model), "batched_s_per_example": batched, "loop_s_per_example": loop,
                      "speedup": loop / batched, "examples": len(x), "loop_examples": args.loop,
                      "steps": args.steps, "k": args.k, "threads": torch.get_num_threads()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
