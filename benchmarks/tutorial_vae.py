"""The tutorial-style VAE loop most users copy (PyTorch's examples/vae/main.py, generalised to any
hidden widths): a per-sample Dataset and a DataLoader (shuffle), sigmoid outputs with
F.binary_cross_entropy summed over pixels and the batch, the closed-form KL, Adam (lr 1e-3, the
default for-loop implementation), and ``train_loss += loss.item()`` every step.

    python benchmarks/tutorial_vae.py --model tutorial --batch 128 --epochs 10 --out w.npz

Prints one ``RESULT {json}`` line: epoch end times, samples/s, peak resident memory; the trained
weights go to --out under vaekit's parameter names so the common evaluator can score them.
"""

from __future__ import annotations

import time

import common
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset


class Images(Dataset):
    """One example at a time, converted to a float tensor as torchvision's ToTensor would."""

    def __init__(self, images: np.ndarray):
        self.images = images  # (N, 1, 28, 28) uint8 in {0, 1}

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return torch.from_numpy(self.images[i]).float(), 0


class VAE(nn.Module):
    def __init__(self, hidden, latent):
        super().__init__()
        widths = [784, *hidden]
        self.enc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.fc_mu = nn.Linear(widths[-1], latent)
        self.fc_logvar = nn.Linear(widths[-1], latent)
        back = [latent, *reversed(hidden)]
        self.dec = nn.ModuleList(nn.Linear(a, b) for a, b in zip(back[:-1], back[1:]))
        self.fc_out = nn.Linear(back[-1], 784)

    def encode(self, x):
        h = x
        for layer in self.enc:
            h = F.relu(layer(h))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h = z
        for layer in self.dec:
            h = F.relu(layer(h))
        return torch.sigmoid(self.fc_out(h))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar

    def vaekit_weights(self) -> dict[str, np.ndarray]:
        """The same weights under vaekit's MLP VAE names (head = [mean; log-variance] rows)."""
        out = {}
        for i, layer in enumerate(self.enc):
            out[f"encoder.layers.{2 * i}.weight"], out[f"encoder.layers.{2 * i}.bias"] = layer.weight, layer.bias
        out["head.linear.weight"] = torch.cat([self.fc_mu.weight, self.fc_logvar.weight])
        out["head.linear.bias"] = torch.cat([self.fc_mu.bias, self.fc_logvar.bias])
        for i, layer in enumerate(self.dec):
            out[f"decoder.layers.{2 * i}.weight"], out[f"decoder.layers.{2 * i}.bias"] = layer.weight, layer.bias
        out["decoder.out.weight"], out["decoder.out.bias"] = self.fc_out.weight, self.fc_out.bias
        return {name: value.detach().cpu().numpy() for name, value in out.items()}


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main() -> None:
    parser = common.runner_parser(__doc__, modes=False)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    hidden, latent = common.model_spec(args.model)
    train = common.load_data("train")[: args.train_size]
    loader = DataLoader(Images(train), batch_size=args.batch, shuffle=True)
    model = VAE(hidden, latent).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rss_before = common.current_rss_mib()
    ends, losses = [], []
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        train_loss = 0.0
        for data, _ in loader:
            data = data.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        ends.append(time.perf_counter())
        losses.append(train_loss / len(train))
    peak = common.peak_rss_mib()
    steady, overall = common.steady_rate(ends, start, len(train))
    if args.out:
        np.savez(args.out, **model.vaekit_weights())
    result = {
        "system": "tutorial", "model": args.model, "batch": args.batch, "epochs": args.epochs,
        "device": args.device, "epoch_ends": [t - start for t in ends], "samples_per_s": steady,
        "samples_per_s_all_epochs": overall, "train_seconds": ends[-1] - start, "train_loss": losses,
        "rss_before_mib": rss_before, "peak_rss_mib": peak, "threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        result["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    common.emit(result)


if __name__ == "__main__":
    main()
