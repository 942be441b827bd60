"""The explorer's latency for the Fashion-MNIST MLP VAE: server-side decode and slider-to-paint.

Server-side decode: ``Explorer.decode`` (what the server runs for POST /api/decode: checking the
parameters, decoding one z, packing the answer) timed in process for --decodes distinct random z, so
the cache never answers; also the whole HTTP round trip from a Python client, for context.
Slider-to-paint: the page in headless Chromium (selenium; tests/browser.py), each of --moves slider
moves timed with performance.now() from just before the slider's input event until the task after
the animation frame that paints the new picture; moves are one at a time (each waits for its paint).

    python benchmarks/explore_latency.py [--run RUN_DIR] [--epochs 1] [--decodes 500] [--moves 200]

Without --run it trains the default MLP VAE (784-512-256-16, Bernoulli, dynamically binarised) on
Fashion-MNIST for --epochs epochs into benchmarks/.cache/explore-fm-vae (latency does not depend on
how well it is trained). Writes results/explore_latency.json.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path

import common
import numpy as np

TARGETS = {"decode_ms": 20.0, "paint_ms": 100.0}  # p95 targets


def percentiles(samples: list[float]) -> dict:
    values = np.array(samples)
    return {"n": len(values), "p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95)),
            "max": float(values.max())}


def trained_run(epochs: int) -> Path:
    import vaekit

    out = common.CACHE / "explore-fm-vae"
    if not (out / "model.safetensors").is_file():
        common.log(f"training the Fashion-MNIST MLP VAE for {epochs} epoch(s) into {out}")
        config = vaekit.Config().replace(train={"epochs": epochs, "report": False, "device": "cpu"})
        vaekit.train(config, data=f"fashion-mnist:{common.FASHION_MNIST}", out=out)
    return out


def decode_times(explorer, n: int, generator: random.Random) -> list[float]:
    dims = explorer.driven.shape[1]
    times = []
    for _ in range(n):
        z = [generator.uniform(-3, 3) for _ in range(dims)]
        start = time.perf_counter()
        explorer.decode({"z": z})
        times.append(1000 * (time.perf_counter() - start))
    return times


def round_trip_times(client, dims: int, n: int, generator: random.Random) -> list[float]:
    times = []
    for _ in range(n):
        z = [generator.uniform(-3, 3) for _ in range(dims)]
        start = time.perf_counter()
        client.ok("POST", "/api/decode", {"z": z})
        times.append(1000 * (time.perf_counter() - start))
    return times


MOVE = """
const [dim, value, done] = arguments;
const slider = document.getElementById(`slider-${dim}`);
const start = performance.now();
explorer.state.watchers = [(painted) => {
  if (painted.z && painted.z[dim] === parseFloat(slider.value)) { explorer.state.watchers = []; done(painted.t - start); }
}];
slider.value = value;
slider.dispatchEvent(new Event("input"));
"""


def paint_times(url: str, moves: int, generator: random.Random) -> list[float]:
    from browser import chrome, close, console_errors, wait_for

    driver = chrome()
    try:
        driver.set_script_timeout(30)
        driver.get(url)
        wait_for(driver, "document.body.dataset.ready === 'true' && explorer.idle()", timeout=120)
        latent = driver.execute_script("return explorer.state.meta.latent")
        times = []
        for k in range(moves + 5):  # the first 5 warm the page up and are not counted
            dim = latent["order"][k % 4]
            value = generator.uniform(latent["low"][dim], latent["high"][dim])
            elapsed = driver.execute_async_script(MOVE, dim, value)
            if k >= 5:
                times.append(elapsed)
        errors = console_errors(driver)
        if errors:
            raise RuntimeError(f"the page logged errors: {errors}")
        return times
    finally:
        close(driver)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", default="", help="a trained run folder (default: train one, see above)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--decodes", type=int, default=500)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    common.use_threads(args.threads)
    sys.path.insert(0, str(common.ROOT / "tests"))  # the browser helper the page tests use
    from explorer_helpers import Client

    from vaekit.latent.explorer import Explorer, ExplorerServer
    from vaekit.runs.open import load_units, open_run

    run = Path(args.run) if args.run else trained_run(args.epochs)
    evaluated = open_run(run, "cpu")
    explorer = Explorer(evaluated.model, evaluated.data, evaluated.split, load_units(run), run.name, evaluated.config.model.name)
    generator = random.Random(args.seed)
    decode_times(explorer, 20, generator)  # warm-up
    where = run.resolve()
    where = where.relative_to(common.ROOT) if where.is_relative_to(common.ROOT) else where
    result = {"machine": common.machine(), "args": vars(args), "run": str(where), "data": evaluated.data.name,
              "examples": len(evaluated.data), "model": model_summary(evaluated.config.model),
              "decode_ms": percentiles(decode_times(explorer, args.decodes, generator))}
    server = ExplorerServer(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dims = explorer.driven.shape[1]
        result["http_ms"] = percentiles(round_trip_times(Client(server.url), dims, args.decodes, generator))
        try:
            result["paint_ms"] = percentiles(paint_times(server.url, args.moves, generator))
        except Exception as exc:  # noqa: BLE001 - no browser here: the server-side figures still stand
            result["paint_ms"] = None
            result["paint_skipped"] = f"{type(exc).__name__}: {exc}"
    finally:
        server.shutdown()
        server.server_close()
    path = common.save_result("explore_latency", result)
    for key in ("decode_ms", "http_ms", "paint_ms"):
        figures = result[key]
        if figures:
            print(f"{key}: p50 {figures['p50']:.2f}  p95 {figures['p95']:.2f}  max {figures['max']:.2f}  (n = {figures['n']})")
    print(f"wrote {path}")


def model_summary(model) -> str:
    """'NAME [hidden widths] latent D' of a config's model section (the trunk's widths; [] for a trunk without)."""
    return f"{model.name} {list(model.trunk.get('hidden', ()))} latent {model.latent_dim}"


if __name__ == "__main__":
    main()

