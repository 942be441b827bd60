"""pythae 0.1.2 with its own TrainingPipeline, run from benchmarks/.venv-pythae.

The encoder and decoder are the same MLPs as the other systems (pythae's BaseEncoder/BaseDecoder
with the given hidden widths; the decoder ends in a sigmoid, as pythae's 'bce' loss expects);
pythae's VAE computes BCE summed over pixels plus the closed-form KL, averaged over the batch,
and its BaseTrainer runs Adam (lr 1e-3) over a DataLoader of its BaseDataset.

    train: python benchmarks/pythae_vae.py train --model tutorial --batch 128 --epochs 10 --out w.npz
    nll:   python benchmarks/pythae_vae.py nll --model tutorial --weights w.npz --k 1000 --n 1000

Prints one ``RESULT {json}`` line. ``nll`` loads weights saved under vaekit's names and times
pythae's own ``VAE.get_nll`` (importance sampling, one test point at a time).
"""

from __future__ import annotations

import logging
import tempfile
import time

import common
import numpy as np
import torch
from torch import nn


def build(hidden, latent):
    from pythae.models import VAE, VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            widths = [784, *hidden]
            layers = []
            for a, b in zip(widths[:-1], widths[1:]):
                layers += [nn.Linear(a, b), nn.ReLU()]
            self.layers = nn.Sequential(*layers)
            self.embedding = nn.Linear(widths[-1], latent)
            self.log_var = nn.Linear(widths[-1], latent)

        def forward(self, x):
            h = self.layers(x.reshape(x.shape[0], -1))
            return ModelOutput(embedding=self.embedding(h), log_covariance=self.log_var(h))

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            widths = [latent, *reversed(hidden)]
            layers = []
            for a, b in zip(widths[:-1], widths[1:]):
                layers += [nn.Linear(a, b), nn.ReLU()]
            self.layers = nn.Sequential(*layers)
            self.out = nn.Linear(widths[-1], 784)

        def forward(self, z):
            return ModelOutput(reconstruction=torch.sigmoid(self.out(self.layers(z))).reshape(-1, 1, 28, 28))

    config = VAEConfig(input_dim=(1, 28, 28), latent_dim=latent, reconstruction_loss="bce")
    return VAE(config, encoder=Encoder(), decoder=Decoder())


def vaekit_weights(model) -> dict[str, np.ndarray]:
    enc, dec = model.encoder, model.decoder
    out = {}
    for i, layer in enumerate(enc.layers):
        if isinstance(layer, nn.Linear):
            out[f"encoder.layers.{i}.weight"], out[f"encoder.layers.{i}.bias"] = layer.weight, layer.bias
    out["head.linear.weight"] = torch.cat([enc.embedding.weight, enc.log_var.weight])
    out["head.linear.bias"] = torch.cat([enc.embedding.bias, enc.log_var.bias])
    for i, layer in enumerate(dec.layers):
        if isinstance(layer, nn.Linear):
            out[f"decoder.layers.{i}.weight"], out[f"decoder.layers.{i}.bias"] = layer.weight, layer.bias
    out["decoder.out.weight"], out["decoder.out.bias"] = dec.out.weight, dec.out.bias
    return {name: value.detach().cpu().numpy() for name, value in out.items()}


def load_vaekit_weights(model, path: str, latent: int) -> None:
    weights = {name: torch.from_numpy(value) for name, value in np.load(path).items()}
    enc, dec = model.encoder, model.decoder
    with torch.no_grad():
        for name, value in weights.items():
            part, *rest = name.split(".")
            if part == "head":
                enc.embedding.get_parameter(rest[-1]).copy_(value[:latent])
                enc.log_var.get_parameter(rest[-1]).copy_(value[latent:])
            elif part == "encoder":
                enc.get_parameter(".".join(rest)).copy_(value)
            elif part == "decoder":
                dec.get_parameter(".".join(rest)).copy_(value)


def train(args) -> None:
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig
    from pythae.trainers.training_callbacks import TrainingCallback

    logging.getLogger("pythae").setLevel(logging.WARNING)
    hidden, latent = common.model_spec(args.model)
    torch.manual_seed(args.seed)
    train_data = common.load_data("train")[: args.train_size].astype(np.float32)  # (N, 1, 28, 28) in {0, 1}
    model = build(hidden, latent)
    ends: list[float] = []

    class Clock(TrainingCallback):
        def on_train_begin(self, training_config, **kwargs):
            nonlocal start
            start = time.perf_counter()

        def on_epoch_end(self, training_config, **kwargs):
            ends.append(time.perf_counter())

    start = time.perf_counter()
    rss_before = common.current_rss_mib()
    with tempfile.TemporaryDirectory() as out_dir:
        config = BaseTrainerConfig(
            output_dir=out_dir, num_epochs=args.epochs, learning_rate=1e-3,
            per_device_train_batch_size=args.batch, per_device_eval_batch_size=args.batch,
            no_cuda=args.device == "cpu", seed=args.seed,
        )
        pipeline = TrainingPipeline(model=model, training_config=config)
        pipeline(train_data=train_data, eval_data=None, callbacks=[Clock()])
        peak = common.peak_rss_mib()
    steady, overall = common.steady_rate(ends, start, len(train_data))
    if args.out:
        np.savez(args.out, **vaekit_weights(model))  # the last weights, as the other systems
    result = {
        "system": "pythae", "model": args.model, "batch": args.batch, "epochs": args.epochs,
        "device": args.device, "epoch_ends": [t - start for t in ends], "samples_per_s": steady,
        "samples_per_s_all_epochs": overall, "train_seconds": ends[-1] - start,
        "rss_before_mib": rss_before, "peak_rss_mib": peak, "threads": torch.get_num_threads(),
    }
    if args.device != "cpu":
        result["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    common.emit(result)


def nll(args) -> None:
    hidden, latent = common.model_spec(args.model)
    device = torch.device(args.device)
    model = build(hidden, latent)
    load_vaekit_weights(model, args.weights, latent)
    model = model.to(device).eval()
    test = torch.from_numpy(common.load_data("test")[: args.n].astype(np.float32)).to(device)
    torch.manual_seed(args.seed)
    with torch.no_grad():
        model.get_nll(test[:2], n_samples=min(args.k, 100), batch_size=100)  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        log_px = model.get_nll(test, n_samples=args.k, batch_size=100)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
    common.emit({"system": "pythae", "model": args.model, "k": args.k, "n": args.n, "device": args.device,
                 "seconds": seconds, "log_px_nats": float(log_px), "threads": torch.get_num_threads()})


def main() -> None:
    parser = common.runner_parser(__doc__, modes=True)
    parser.add_argument("--weights", default="")
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    (train if args.mode == "train" else nll)(args)


if __name__ == "__main__":
    main()
