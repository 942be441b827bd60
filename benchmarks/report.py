"""Write BENCHMARKS.md from benchmarks/results/*.json (and benchmarks/notes.md, included as it is).

    python benchmarks/report.py
"""

from __future__ import annotations

import common
from common import describe, fmt, table

ELBO_TOLERANCE = 1.5  # nats: "equal test ELBO" within this (runs differ by their seeds)


def machine_line(result: dict) -> str:
    m = result["machine"]
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ""
    load = ", ".join(f"{x:.1f}" for x in m["load_average"])
    return (f"{m['cpu']}, {m['cores']} cores, torch {m['torch']} with {m['torch_threads']} threads{gpu}; "
            f"at {m['time']}, load average (1, 5, 15 min) {load}")


def training_section(result: dict, device: str) -> list[str]:
    out = [f"Measured on: {machine_line(result)}. {result['args']['epochs']} epochs per run, "
           f"{result['args']['rounds']} rounds in alternation.", ""]
    for row in result["rows"]:
        out.append(f"**{describe(row['model'])}, batch {row['batch']}** (matmul limit {row['limit_gflops']:.0f} GFLOP/s, "
                   f"{row['flops_per_sample'] / 1e6:.2f} MFLOP per training example)")
        out.append("")
        rows = []
        for system, v in row["systems"].items():
            rows.append([system, fmt(v["samples_per_s"], 3), f"{v['share_of_limit']:.0%}", f"{v['test_elbo_nats']:.2f}",
                         f"{v['train_seconds']:.1f}", f"{v['first_epoch_seconds']:.1f}"]
                        + ([f"{v['peak_cuda_mib']:.0f}"] if "peak_cuda_mib" in v else []))
        header = ["system", "samples/s", "of matmul limit", "test ELBO (nats)", "time to train (s)", "first epoch (s)"
                  ] + (["peak GPU memory (MiB)"] if device != "cpu" else [])
        out += [table(header, rows), ""]
        ratios = [f"vaekit / {peer}: **{row[f'vs_{peer}']:.2f}x**" for peer in ("tutorial", "pythae") if f"vs_{peer}" in row]
        if ratios:
            out += ["; ".join(ratios) + ".", ""]
    return out


def limit_section(result: dict) -> list[str]:
    limits = result["limits"]
    out = [f"Peak of a 2048 x 2048 x 2048 fp32 matmul: **{limits['peak_square_gflops']:.0f} GFLOP/s**.", ""]
    rows = []
    for row in result["rows"]:
        vaekit = row["systems"].get("vaekit")
        lim = limits["train"][row["model"]][str(row["batch"])]
        rows.append([describe(row["model"]), row["batch"], f"{row['flops_per_sample'] / 1e6:.2f}", f"{lim['gflops']:.0f}",
                     fmt(lim["samples_per_s"], 3), fmt(vaekit["samples_per_s"], 3) if vaekit else "n/a",
                     f"{vaekit['samples_per_s'] * row['flops_per_sample'] / 1e9:.0f}" if vaekit else "n/a",
                     f"**{vaekit['share_of_limit']:.0%}**" if vaekit else "n/a"])
    out.append(table(["model", "batch", "MFLOP/example", "limit (GFLOP/s)", "limit (examples/s)", "vaekit (examples/s)",
                      "vaekit (GFLOP/s)", "share"], rows))
    out.append("")
    rows = [[describe(name), value["rows"], f"{value['gflops']:.0f}"] for name, value in limits["decode"].items()]
    out += ["Decoding (the evaluator's work), forward matmuls only:", "",
            table(["model", "rows per pass", "limit (GFLOP/s)"], rows), ""]
    return out


def eval_section(result: dict) -> list[str]:
    out = [f"Measured on: {machine_line(result)}.", ""]
    rows = []
    for e in result["comparison"]:
        for system in ("vaekit", "pythae"):
            if system in e:
                v = e[system]
                rows.append([describe(e["model"]), system, f"{v['seconds']:.2f}", f"{v['gflops']:.0f}",
                             f"{v['log_px_nats'][0]:.3f}", f"{e['limit_seconds']:.2f}"])
        if "ratio" in e:
            rows.append([describe(e["model"]), "**pythae / vaekit**", f"**{e['ratio']:.2f}x**", "", "", ""])
    k, n = result["args"]["k"], result["args"]["n"]
    out += [f"K = {k} importance samples on the first {n:,} test images (the same weights for both):", "",
            table(["model", "system", "seconds", "GFLOP/s of its own work", "log p(x) (nats)", "FLOP limit of the minimal work (s)"],
                  rows), ""]
    for f in result["full"]:
        out += [f"vaekit, {describe(f['model'])}, K = {f['k']:,} on all {f['n']:,} test images: **{f['seconds']:.1f} s** "
                f"({f['gflops']:.0f} GFLOP/s) against a FLOP limit of {f['limit_seconds']:.1f} s "
                f"(decoder matmuls at {f['limit_gflops']:.0f} GFLOP/s): **{f['over_limit']:.2f}x the limit**; "
                f"log p(x) = {f['log_px_nats']:.2f} nats, ELBO = {f['elbo_nats']:.2f} nats, peak RSS {f['peak_rss_mib']:.0f} MiB.", ""]
    return out


def memory_section(result: dict) -> list[str]:
    rows = []
    for row in result["rows"]:
        cells = [describe(row["model"]), row["batch"]]
        for system in ("vaekit", "tutorial", "pythae"):
            v = row["systems"].get(system)
            cells.append(f"{v['peak_rss_mib']:.0f} ({v['rss_before_mib']:.0f})" if v else "n/a")
        rows.append(cells)
    return [table(["model", "batch", "vaekit", "tutorial", "pythae"], rows), ""]


def scaling_section(result: dict) -> list[str]:
    out = [f"Measured on: {machine_line(result)}.", ""]
    titles = {"batch": "Batch size (784-512-256-16)", "width": "Hidden width (one hidden layer, z = 16, batch 128)",
              "latent": "Latent size (784-512-256-z, batch 128)"}
    for sweep, points in result["train"].items():
        rows = [[p["batch"] if sweep == "batch" else (p["hidden"][0] if sweep == "width" else p["latent"]),
                 fmt(p["samples_per_s"], 3), f"{p['gflops']:.0f}", f"{p['limit_gflops']:.0f}", f"{p['share_of_limit']:.0%}"]
                for p in points]
        out += [f"{titles[sweep]}:", "", table([sweep, "samples/s", "GFLOP/s", "limit (GFLOP/s)", "share"], rows), ""]
    rows = [[e["k"], f"{e['seconds']:.2f}", f"{e['gflops']:.0f}"] for e in result["eval"]]
    out += [f"Evaluation time against K (784-400-20, {result['eval'][0]['n']:,} test images):", "",
            table(["K", "seconds", "GFLOP/s"], rows), ""]
    return out


def explore_section(result: dict) -> list[str]:
    """The explorer's latency (benchmarks/explore_latency.py), with its two targets."""
    args = result["args"]
    command = "python benchmarks/explore_latency.py" + (f" --run {args['run']}" if args["run"] else "") + \
        f" --decodes {args['decodes']} --moves {args['moves']}"
    out = [f"`{command}` (run folder {result['run']}). Measured on: {machine_line(result)}. {result['model']} on "
           f"{result['data']} ({result['examples']} examples on the map). Decodes are of distinct random z, so no "
           "answer comes from the cache; slider moves are one at a time, each timed from just before the slider's "
           "input event to the task after the animation frame that paints the new picture.", ""]
    rows = []
    for key, what, target in [("decode_ms", "server-side decode (Explorer.decode: checks, one decode, packing)", 20.0),
                              ("http_ms", "HTTP round trip of POST /api/decode from a Python client", None),
                              ("paint_ms", "slider-to-paint in headless Chromium (input event to painted frame)", 100.0)]:
        figures = result.get(key)
        if not figures:
            rows.append([what, "not measured", "", "", result.get("paint_skipped", "")])
            continue
        verdict = "" if target is None else f"< {target:g} ms: " + ("**met**" if figures["p95"] < target else "**not met**")
        rows.append([what, f"{figures['p50']:.2f}", f"{figures['p95']:.2f}", f"{figures['n']}", verdict])
    out += [table(["latency (ms)", "p50", "p95", "n", "target (p95)"], rows), ""]
    return out


def distributed_section(result: dict | None) -> list[str]:
    """Data-parallel training: DDP at world size 1 against the plain trainer, 2 gloo processes against 1."""
    gpu = ["On GPUs (nccl, one process per GPU, `train.precision=bf16`, CUDA graphs through "
           "`torch.compile(mode=\"reduce-overhead\")`): not measured, no GPU was available to the session that "
           "produced these results; `benchmarks/distributed.py --device cuda --name cuda` measures it.", ""]
    if result is None:
        return ["Not run yet: `python benchmarks/distributed.py`.", ""] + gpu
    args = result["args"]
    out = [f"Measured on: {machine_line(result)}. {args['train_size']} binarised Fashion-MNIST training images, "
           f"784-512-256-16, global batch 128, {args['epochs']} epochs per run, {args['rounds']} rounds in "
           "alternation, compile off; samples/s from the fastest epoch after the first.", ""]
    rows = []
    for name, label in (("plain", "`vaekit train` (plain trainer)"), ("ddp-1", "torchrun, 1 process (DDP, gloo)"),
                        ("gloo-2", "torchrun, 2 processes (DDP, gloo)")):
        elbos = ", ".join(f"{x:.2f}" for x in result["train_elbo_last"][name])
        rates = ", ".join(f"{r['best_rate']:.0f}" for r in result["runs"] if r["system"] == name)
        rows.append([label, f"{result['best_rate'][name]:.0f}", rates, elbos])
    out += [table(["system", "samples/s (best)", "samples/s per round", "training ELBO, last epoch (nats; per round)"],
                  rows), ""]
    out += [f"DDP at world size 1 runs at {result['ddp1_over_plain']:.2f}x the plain trainer's speed; 2 gloo processes "
            f"at {result['gloo2_over_ddp1']:.2f}x one. On this 2-core CPU the two processes share the cores that one "
            "process already uses, so the second row pair is a correctness demonstration (the same global batches, "
            "the same learning), not a speed-up; data-parallel training pays off with one process per GPU or per "
            "machine.", "",
            "The rounds differ by up to 15 % on this shared 2-core machine, so the world-size-1 figure says \"within the "
            "noise\", not \"faster\". The last-epoch ELBOs differ by a fraction of a nat because the plain trainer draws "
            "its own batch order while torchrun's runs take the (seed, epoch) order of every world size, and each process "
            "draws its own noise; in a test mode with the noise drawn for the global batch, 2 processes with b each end "
            "with the parameters of 1 process with 2b (tests/training/test_distributed.py, also for free bits, VQ with EMA, "
            "beta-TCVAE and FactorVAE).", ""]
    return out + gpu


def sweep_section(result: dict | None) -> list[str]:
    """Studies: 8 small runs with one local worker, two, and on a local Ray instance."""
    if result is None:
        return ["Not run yet: `python benchmarks/sweep_speed.py`.", ""]
    labels = {"local-1": "`--workers 1` (this process, all cores' threads)",
              "local-2": "`--workers 2` (two processes, cores / 2 threads each)",
              "ray-2": "`--engine ray --workers 2` (a local Ray instance of 2 CPUs, its start included)"}
    rows = [[labels[name], f"{min(times):.1f}", ", ".join(f"{t:.1f}" for t in times),
             "; ".join(", ".join(f"{x:.1f}" for x in load) for load in result["load"][name])]
            for name, times in result["seconds"].items()]
    out = [f"Measured on: {machine_line(result)}. {result['points']} runs (MLP VAE 64-128-64-8 on digits, grid "
           f"objective.beta [1, 2, 4, 8] x seeds [0, 1], {result['epochs']} epochs of batch 64, no report, no "
           f"evaluation), each system a fresh `vaekit sweep` process, {result['rounds']} round(s) in alternation.", "",
           table(["system", "wall s (best)", "wall s per round", "load average after each round (1, 5, 15 min)"], rows),
           ""]
    if "speedup_workers_2" in result:
        out += [f"`--workers 2` against one worker: {result['speedup_workers_2']:.2f}x (goal >= 1.6x)."]
    if "ray_overhead_per_task_s" in result:
        out += [f"Ray's overhead against the local pool: {result['ray_overhead_per_task_s']:.2f} s per task "
                "((ray - local-2) / runs, its instance's start included)."]
    return out + ["", "The ratio needs a quiet machine: on a machine shared with other jobs the workers get whatever "
                  "share of the two cores the load leaves them (see the load beside each figure). A ratio above 2x says "
                  "that one process with two threads lost more to the load than two processes with one thread each "
                  "(its threads wait for each other at every operation while other jobs hold the cores); on a quiet "
                  "machine two workers on two cores are at most 2x one. Command: `nice -n 15 .venv/bin/python "
                  f"benchmarks/sweep_speed.py --epochs {result['epochs']}`.", ""]


def targets(train: dict | None, evals: dict | None, memory: dict | None, gpu_train: dict | None,
            gpu_eval: dict | None) -> list[str]:
    rows = []

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("**met**" if ok else "**not met**")

    for row in (train or {}).get("rows", []):
        systems = row["systems"]
        if row["batch"] == 128 and "vaekit" in systems:
            v = systems["vaekit"]
            for peer, goal in (("tutorial", 1.8), ("pythae", 1.6)):
                if peer in systems:
                    gap = abs(v["test_elbo_nats"] - systems[peer]["test_elbo_nats"])
                    ratio = row[f"vs_{peer}"]
                    rows.append([f"training, {describe(row['model'])}, batch 128: >= {goal}x {peer}, equal test ELBO",
                                 f"{ratio:.2f}x; ELBO {v['test_elbo_nats']:.2f} vs {systems[peer]['test_elbo_nats']:.2f}",
                                 verdict(ratio >= goal and gap <= ELBO_TOLERANCE)])
        if "vaekit" in systems and row["batch"] in (128, 1024):
            goal = 0.6 if row["batch"] == 128 else 0.8
            share = systems["vaekit"]["share_of_limit"]
            rows.append([f"share of the matmul limit, {describe(row['model'])}, batch {row['batch']}: >= {goal:.0%}",
                         f"{share:.0%}", verdict(share >= goal)])
    for row in (memory or {}).get("rows", []):
        systems = row["systems"]
        if "vaekit" in systems and "pythae" in systems:
            a, b = systems["vaekit"]["peak_rss_mib"], systems["pythae"]["peak_rss_mib"]
            rows.append([f"peak training memory below pythae's, {describe(row['model'])}, batch {row['batch']}",
                         f"{a:.0f} vs {b:.0f} MiB", verdict(a < b)])
    for e in (evals or {}).get("comparison", []):
        if "ratio" in e:
            rows.append([f"evaluation, {describe(e['model'])}: >= 2.5x pythae's get_nll at K = {e['k']} (CPU)",
                         f"{e['ratio']:.2f}x", verdict(e["ratio"] >= 2.5)])
    for f in (evals or {}).get("full", []):
        rows.append([f"evaluation, {describe(f['model'])}: K = {f['k']:,} on the full test set within 1.5x of its FLOP limit",
                     f"{f['over_limit']:.2f}x", verdict(f["over_limit"] <= 1.5)])
    if gpu_train:
        for row in gpu_train["rows"]:
            if "vs_pythae" in row:
                rows.append([f"GPU training, {describe(row['model'])}, batch {row['batch']}: >= 10x pythae",
                             f"{row['vs_pythae']:.2f}x", verdict(row["vs_pythae"] >= 10)])
    else:
        rows.append(["GPU training: >= 10x pythae", "no GPU in this run", verdict(None)])
    if gpu_eval:
        for e in gpu_eval["comparison"]:
            if "ratio" in e:
                rows.append([f"GPU evaluation, {describe(e['model'])}: >= 20x pythae's get_nll", f"{e['ratio']:.2f}x",
                             verdict(e["ratio"] >= 20)])
    else:
        rows.append(["GPU evaluation: >= 20x pythae's get_nll", "no GPU in this run", verdict(None)])
    return [table(["target", "measured", "verdict"], rows), "",
            f"\"Equal test ELBO\": within {ELBO_TOLERANCE} nats (the runs differ by their random seeds).", ""]


DISENTANGLEMENT_LIMIT_S = 120.0  # the target: the full default metric set for one model on dSprites


def disentanglement_section(result: dict) -> list[str]:
    """Seconds per part of ``disentanglement_metrics`` on dSprites, for each model and sample-count set."""
    parts = ["encode_train_test", "mutual_information", "sap", "dci", "explicitness", "beta_vae", "factor_vae"]
    rows = []
    for row in result["rows"]:
        seconds = row["seconds"]
        cpu = row.get("cpu_seconds", {})
        idle_bound = min(seconds["total"], cpu.get("total", seconds["total"]))  # what an idle machine needs at most
        if row.get("jobs", 1) > 1:  # DCI's worker processes: their CPU seconds are not in this process's
            idle_bound = seconds["total"]
        verdict = "met" if idle_bound <= DISENTANGLEMENT_LIMIT_S else "not met"
        rows.append([row["trunk"], row["sizes"], str(row.get("jobs", 1)), f"{row['encoded_examples']:,}",
                     f"{fmt(seconds['total'])} ({fmt(cpu.get('total', float('nan')))})"]
                    + [f"{fmt(seconds.get(part, float('nan')))} ({fmt(cpu.get(part, float('nan')))})" for part in parts]
                    + [verdict])
    return [f"Measured on: {machine_line(result)}. `python benchmarks/disentanglement_speed.py` (dSprites read from the",
            f"cache in {result['load_seconds']:.1f} s, not counted). Seconds; `default`: disentanglement_lib's sample counts,",
            "`fast`: `--fast`. Wall-clock seconds, in brackets the process's CPU seconds (on a shared machine the wall",
            "clock counts the other jobs too; an idle machine needs at most the CPU seconds). Models with seeded weights:",
            "the cost depends on the data and the counts, not on training.", "",
            table(["encoder", "counts", "DCI processes", "distinct images encoded", "total s", "encode train/test", "MI (MIG, modularity)",
                   "SAP", "DCI", "explicitness", "BetaVAE", "FactorVAE", f"<= {DISENTANGLEMENT_LIMIT_S:.0f} s (CPU seconds; wall clock with DCI processes)"],
                  rows), "",
            "Where the time goes (default counts): DCI fits one scikit-learn GradientBoostingClassifier per factor with "
            "disentanglement_lib's settings, 100 stages of one depth-3 tree per class, so 100 x (3 + 6 + 40 + 32 + 32) = "
            "11,300 trees on 10,000 points; at about 30 ms per tree on this CPU that is some 340 CPU s, and handing the "
            "factors to one process per core (largest first) still leaves the two 32-value factors, 64 of the 113 tree "
            "columns, on one core. The BetaVAE and FactorVAE scores draw about 2.9 million examples, which touch 98 % "
            "of dSprites' 737,280 images; each distinct image is encoded once, and encoding them with the "
            "4096-1200-1200-10 MLP is 9.2 TFLOP, at least 51 s at this CPU's fp32 matmul peak (181 GFLOP/s, section 2). "
            "So on 2 cores the 2-minute target is out of reach with disentanglement_lib's exact classifier: its trees "
            "alone need some 340 CPU s, more than the 240 CPU s two cores give in 2 minutes, before any image is "
            "encoded; the default row's wall clock is the two 32-value factors' 6,400 trees on one core (about 192 s) "
            "plus the encoding. `--fast` (2,000 / 1,000 points, 1,000 / 500 votes) is the quick look.", ""]


def ood_section(speeds: list[dict], study: dict | None) -> list[str]:
    """Likelihood regret batched against the per-example loop, and the study's seconds per method."""
    lines = []
    for speed in speeds:
        ratios = speed["over_head_batched"]
        rows = [[name, str(speed["examples"][name]), fmt(speed["s_per_example"][name]),
                 fmt(speed["cpu_s_per_example"][name]), f"{ratios[name]:.1f}x"] for name in speed["s_per_example"]]
        lines += [f"Measured on: {machine_line(speed)}. `python benchmarks/ood_speed.py RUN` on the study's model "
                  f"(REPRODUCTION.md), {speed['steps']} Adam steps and k = {speed['k']} per log p(x), one thread. "
                  "Each variant's seconds per example (the better of two interleaved rounds), wall clock and the "
                  "process's CPU seconds (the fair measure on a shared machine), and its CPU time over the batched "
                  "head copies (vaekit's default); 'loop' is one example at a time, as the reference code; "
                  "'encoder' copies the whole encoder per example, as the paper.", "",
                  table(["variant", "examples", "wall s per example", "CPU s per example", "CPU time over head batched"],
                        rows), "",
                  ("The 100 Adam steps alone (k = 1): " if speed["k"] == 1 else
                   f"With two k = {speed['k']} estimates of log p(x) per example, which both variants draw in batches "
                   "of the k samples (so batching examples cannot speed them further): ") +
                  f"against the reference code's procedure (the whole encoder, one example at a time) vaekit's default "
                  f"takes {ratios['encoder loop']:.0f}x less CPU time per example; with the same copies, batching alone "
                  f"gives {ratios['head loop']:.1f}x (head) and {ratios['encoder loop'] / ratios['encoder batched']:.1f}x "
                  "(whole encoder: the copies' parameters and Adam's moments, 4 x 550k floats per example, are memory-bound "
                  "on a CPU, where a loop reuses one copy from the cache).", ""]
    if study:
        rows = [[method, fmt(seconds)] for method, seconds in study["seconds"].items()]
        lines += [f"The study's wall time per method (`python benchmarks/ood_study.py score`, {study['examples'][0]} "
                  f"examples per set, {len(study['examples'])} sets, k = {study['k']}; {machine_line(study)}); a "
                  "method's seconds include the shared terms (log p(x), a combination's components) it computed "
                  "first, so later methods reuse them:", "", table(["method", "seconds"], rows), ""]
    return lines


def main() -> None:
    train, evals, scaling, memory = (common.load_result(n) for n in ("train_speed", "eval_speed", "scaling", "memory"))
    explore = common.load_result("explore_latency")
    gpu_train, gpu_eval, gpu_scaling = (common.load_result(n) for n in ("train_speed-cuda", "eval_speed-cuda", "scaling-cuda"))
    notes = common.HERE / "notes.md"
    lines = [
        "# Benchmarks: vaekit beside pythae and the tutorial loop",
        "",
        "Every figure below comes from `bash benchmarks/run.sh` (CPU; `--device cuda` on a GPU), which sets up the",
        "peer's virtual environment, runs each part and writes this file from `benchmarks/results/*.json`",
        "(`python benchmarks/report.py` rewrites it from the stored results). Each part is also a command that prints",
        "its own figures:",
        "",
        "| part | command |",
        "|---|---|",
        "| fp32 matmul limit at the layer sizes | `.venv/bin/python benchmarks/matmul_limit.py` |",
        "| 1, 2: training speed, share of the limit, test ELBO | `.venv/bin/python benchmarks/train_speed.py` |",
        "| 3: importance-sampled log-likelihood | `.venv/bin/python benchmarks/eval_speed.py` |",
        "| 4: peak memory of training | `.venv/bin/python benchmarks/memory.py` |",
        "| 5: how cost grows | `.venv/bin/python benchmarks/scaling.py` |",
        "| 6: the same on a GPU | `bash benchmarks/run.sh --device cuda` |",
        "| 7: the explorer's decode and slider-to-paint latency | `.venv/bin/python benchmarks/explore_latency.py` |",
        "| 8: disentanglement metrics on dSprites | `.venv/bin/python benchmarks/disentanglement_speed.py` |",
        "| 9: data-parallel training | `.venv/bin/python benchmarks/distributed.py` |",
        "| 10: studies (`vaekit sweep`): workers and Ray | `.venv/bin/python benchmarks/sweep_speed.py` |",
        "| 11: the exported encoder, ONNX Runtime against PyTorch eager | `.venv/bin/python benchmarks/export_speed.py` |",
        "| 12: the dSprites recipes' training step (notes in `benchmarks/results/dsprites_step.md`) | "
        "`.venv/bin/python benchmarks/disentanglement_seeds.py run --out DIR --steps 200 --tiny` |",
        "| 13: likelihood regret batched and looped; the OOD study's seconds | `.venv/bin/python benchmarks/ood_speed.py RUN`, `benchmarks/ood_study.py table` |",
        "",
        "## What runs, and how each system is set up",
        "",
        "- **Data**: Fashion-MNIST from the Debian package (`/usr/share/datasets/fashion-mnist`), grey levels scaled",
        "  to [0, 1] and binarised **once** with a fixed seed (training set seed 1, test set seed 2;",
        "  `benchmarks/common.py`). All three systems train on the same 60,000 binary images, so a Bernoulli",
        "  likelihood (binary cross-entropy) is exact for each of them; the test ELBO is on the same 10,000 binary test images.",
        "- **Architecture** (identical in all three): 784-400-20 (the tutorial's) and 784-512-256-16: ReLU MLP encoder,",
        "  a linear layer to the mean and log-variance of a diagonal Gaussian q(z|x), a mirrored ReLU MLP decoder to",
        "  784 logits; standard normal prior; one reparameterised sample per example; closed-form KL.",
        "- **Optimisation** (identical): Adam, learning rate 1e-3, the batch size of the row, the same number of",
        "  epochs, shuffled every epoch. Each system runs in its own fresh process, and the systems alternate round by round.",
        "- **vaekit**: `vaekit.train` with `model=vae`, `likelihood=bernoulli` (BCE on the logits), `data.validation=none`,",
        "  `train.report=false`; the data are passed as a bool array, so vaekit keeps them as uint8 and uses them as they",
        "  are (`data.binarize` resolves to none). Its trainer: the data set as one tensor, batches by index, fused Adam,",
        "  no host reads per step; `vaekit` rows compile the forward pass (`VAEKIT_COMPILE=1`: what vaekit does by itself",
        "  for runs of 1M examples or more), `vaekit-eager` rows do not. Epoch times come from the `on_epoch` hook and so",
        "  include vaekit's per-epoch checkpoint writes. `vaekit-dynamic`: vaekit's default for grey levels instead, each",
        "  batch binarised afresh from the grey levels (a different training set in effect; shown for its cost).",
        "- **tutorial**: `benchmarks/tutorial_vae.py`, PyTorch's examples/vae loop generalised to any widths: a per-sample",
        "  `Dataset` and a shuffling `DataLoader`, sigmoid outputs with `F.binary_cross_entropy(..., reduction='sum')`",
        "  plus the KL, summed over the batch, `torch.optim.Adam` (default implementation), `loss.item()` every step.",
        "- **pythae** 0.1.2 from PyPI in its own venv (`benchmarks/.venv-pythae`: torch 2.13.0 first, then pythae; it",
        "  installs without conflicts, versions in `benchmarks/results/pythae-env.txt`): its `VAE` with custom",
        "  `BaseEncoder`/`BaseDecoder` of the same layers (sigmoid output, `reconstruction_loss='bce'`) trained by its own",
        "  `TrainingPipeline` (`BaseTrainer`: DataLoader over its `BaseDataset`, Adam, no eval set). Epoch times come from a",
        "  pythae training callback. Its evaluation is its own `VAE.get_nll`.",
        "- **Common evaluation**: every system saves its last weights under vaekit's parameter names; vaekit's evaluator",
        "  (`vaekit.evaluation.likelihood.evaluate`, seed 0) gives the test ELBO of each, so one function scores all three.",
        "- **samples/s** of a run is its fastest epoch after the first (the first holds start-up and compilation; on a",
        "  shared machine the fastest epoch is the one least disturbed); of a system, the best of its rounds. *Time to",
        "  train* is the whole run, first epoch included. **Peak RSS** (`benchmarks/memory.py`, each system in a fresh",
        "  process, 2 epochs) is the process's own high-water mark, Linux's VmHWM, at the end of its last epoch (in",
        "  brackets: the resident size just before training began, after imports and loading the data). Not `ru_maxrss`:",
        "  after fork and exec it starts at the parent's resident size, so a runner would report its driver's memory.",
        "- **FLOPs** count matrix multiplies only: forward 2·in·out per layer and example, backward twice that (the input",
        "  gradient of the first layer is not needed). The **matmul limit** (`benchmarks/matmul_limit.py`) times each of",
        "  a step's matmuls alone with torch, at its exact shape and layout, hot in cache, and divides the step's FLOPs by",
        "  the sum of those times; it is measured in the same script, before and after the runs (the better is kept).",
        "",
    ]
    if train:
        lines += ["## 1. Training speed and quality (CPU)", ""] + training_section(train, "cpu")
        lines += ["## 2. Share of the fp32 matmul limit (CPU)", ""] + limit_section(train)
    else:
        lines += ["## 1-2. Training (CPU)", "", "Not run yet: `python benchmarks/train_speed.py`.", ""]
    if evals:
        lines += ["## 3. Importance-sampled log-likelihood (CPU)", ""] + eval_section(evals)
    if memory:
        lines += ["## 4. Peak resident memory of training (MiB; CPU)", "",
                  f"Measured on: {machine_line(memory)}. {memory['args']['epochs']} epochs per run.", ""]
        lines += memory_section(memory)
    if scaling:
        lines += ["## 5. How cost grows (vaekit, CPU)", ""] + scaling_section(scaling)
    lines += ["## 6. GPU", ""]
    if gpu_train or gpu_eval or gpu_scaling:
        if gpu_train:
            lines += ["### Training", ""] + training_section(gpu_train, "cuda") + limit_section(gpu_train)
        if gpu_eval:
            lines += ["### Log-likelihood", ""] + eval_section(gpu_eval)
        if gpu_scaling:
            lines += ["### Scaling", ""] + scaling_section(gpu_scaling)
    else:
        lines += ["Not measured: no GPU was available to the session that produced these results. The scripts take",
                  "`--device cuda` (`bash benchmarks/run.sh --device cuda` writes `results/*-cuda.json`, and this file",
                  "then gets the GPU tables, with the GPU's name, from them).", ""]
    if explore:
        lines += ["## 7. The latent-space explorer's latency (CPU)", ""] + explore_section(explore)
    disentanglement = common.load_result("disentanglement_speed")
    if disentanglement:
        lines += ["## 8. Disentanglement metrics on dSprites (CPU)", ""] + disentanglement_section(disentanglement)
    lines += ["## 9. Data-parallel training (torch.distributed)", ""] + distributed_section(common.load_result("distributed"))
    lines += ["## 10. Studies: `vaekit sweep` on local workers and Ray (CPU)", ""] + sweep_section(
        common.load_result("sweep_speed"))
    exported = common.load_result("export_speed")
    if exported:
        import export_speed

        lines += ["## 11. The exported encoder: ONNX Runtime against PyTorch eager (CPU)", ""] + export_speed.section(
            exported, machine_line)
    dsprites_step = common.RESULTS / "dsprites_step.md"  # measured by hand from the seed study's log
    if dsprites_step.exists():
        lines += ["## 12. The dSprites recipes' training step (CPU; the GPU budget)", "",
                  dsprites_step.read_text().strip(), ""]
    speeds = [r for r in (common.load_result("ood_speed"), common.load_result("ood_speed_k1")) if r]
    study = common.load_result("ood_study")
    if speeds or study:
        lines += ["## 13. Out-of-distribution detection (CPU)", ""] + ood_section(speeds, study)
    lines += ["## Targets", ""] + targets(train, evals, memory, gpu_train, gpu_eval)
    if notes.is_file():
        lines += [notes.read_text().rstrip(), ""]
    path = common.ROOT / "BENCHMARKS.md"
    path.write_text("\n".join(lines))
    print(f"wrote {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
