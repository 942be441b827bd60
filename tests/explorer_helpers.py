"""Shared by the explorer's tests: tiny trained runs, a served explorer, and JSON over HTTP."""

from __future__ import annotations

import csv
import http.client
import json
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import torch

import vaekit
from vaekit.latent.explorer import Explorer, ExplorerServer, unpacked
from vaekit.runs.open import load_units, open_run


def train_run(out: Path, data: str = "digits", epochs: int = 1, data_settings: dict | None = None, **model) -> Path:
    """A tiny run (MLP 16 wide unless ``model`` says otherwise) trained on ``data``; no report."""
    settings = {"latent_dim": 3, **model, "trunk": {"hidden": [16]} if model.get("trunk") != "conv" else "conv"}
    config = vaekit.Config().replace(model=settings, data=data_settings or {},
                                     train={"epochs": epochs, "batch_size": 64, "device": "cpu", "report": False})
    vaekit.train(config, data=data, out=out)
    return out


RUNS = {  # kind -> (data maker or name, data settings, model settings): the runs the explorer's tests share
    "vae": ("digits", {}, {}),
    "ae": ("digits", {}, {"name": "ae"}),
    "hvae": ("digits", {}, {"name": "hvae", "latent_dim": 2}),
    "vqvae": ("digits", {}, {"name": "vqvae", "trunk": "conv", "channels": [4, 8], "codebook_size": 8, "latent_dim": 2,
              "code_prior_epochs": 0}),  # no code prior until a test fits one
    "table": ("people.csv", {"label_column": "kind"}, {}),
    "signal": ("waves.npy", {}, {}),
}
_trained: dict[str, Path] = {}


def trained(tmp_path_factory, kind: str) -> Path:
    """The run folder of ``kind`` (see RUNS), trained once per test session."""
    if kind not in _trained:
        data, data_settings, model = RUNS[kind]
        folder = tmp_path_factory.mktemp(f"explore-{kind}")
        if data == "people.csv":
            data = str(write_table(folder / data))
        elif data == "waves.npy":
            data = str(write_signals(folder / data))
        _trained[kind] = train_run(folder / "run", data, data_settings=data_settings, **model)
    return _trained[kind]


def write_table(path: Path, rows: int = 120) -> Path:
    """A CSV of people: height (cm), weight (kg) and age (years), with a label column."""
    rng = np.random.default_rng(0)
    height = rng.normal(170, 10, rows)
    weight = 0.9 * (height - 100) + rng.normal(0, 5, rows)
    age = rng.uniform(20, 70, rows)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["height_cm", "weight_kg", "age_years", "kind"])
        for h, w, a in zip(height, weight, age):
            writer.writerow([f"{h:.2f}", f"{w:.2f}", f"{a:.1f}", "tall" if h > 170 else "short"])
    return path


def write_signals(path: Path, n: int = 200, length: int = 32) -> Path:
    """(n, length) float32 sine waves of random phase and amplitude, as FILE.npy (1-D signals)."""
    rng = np.random.default_rng(1)
    t = np.linspace(0, 2 * np.pi, length)
    waves = rng.uniform(0.5, 1.5, (n, 1)) * np.sin(t + rng.uniform(0, 2 * np.pi, (n, 1)))
    np.save(path, waves.astype(np.float32))
    return path


class Client:
    """GET and POST JSON to a served explorer, answers as (status, parsed JSON)."""

    def __init__(self, url: str):
        self.url = url
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            kind = response.getheader("Content-Type", "")
            return response.status, json.loads(data) if kind.startswith("application/json") else data
        finally:
            connection.close()

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, body) -> tuple[int, dict]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.request("POST", path, raw, {"Content-Type": "application/json"})

    def ok(self, method: str, path: str, body=None) -> dict:
        status, answer = self.get(path) if method == "GET" else self.post(path, body)
        assert status == 200, answer
        return answer


def array(message: dict) -> torch.Tensor:
    """A packed array of an answer as a float32 tensor."""
    return torch.from_numpy(unpacked(message).copy())


@contextmanager
def served(run_dir: Path, **options):
    """(explorer, client) for the run's evaluation split, served on a free loopback port."""
    opened = open_run(run_dir, "cpu")
    explorer = Explorer(opened.model, opened.data, opened.split, load_units(run_dir), run_dir.name,
                        opened.config.model.name, **options)
    server = ExplorerServer(explorer, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield explorer, Client(server.url)
    finally:
        server.shutdown()
        server.server_close()
