"""How separable upside-down Fashion-MNIST is at all: a small CNN trained *with* labelled flipped images
(an oracle no out-of-distribution detector has) tells flipped from upright test images. Its AUROC bounds
what a per-example detector can be asked for on that set (REPRODUCTION.md, "What the study shows").

    python benchmarks/ood_ceiling.py [--epochs 3]

Training: the 60,000 training images, a random half flipped upside down (label 1), Adam lr 1e-3, batch
128, one thread. Test: all 10,000 test images upright and flipped; AUROC overall and per class (an image
and its own flipped copy are both in the test set, so an image symmetric under the flip scores 0.5).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from sklearn.metrics import roc_auc_score


def network() -> torch.nn.Module:
    """Two conv-pool blocks and a dense layer: (B, 1, 28, 28) -> a logit (B, 1)."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 49, 128), nn.ReLU(), nn.Linear(128, 1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    from vaekit import DataConfig
    from vaekit.data import load_data

    fashion = load_data("fashion-mnist", DataConfig())
    train = fashion.train.values.float() / 255
    test = fashion.test.values.float() / 255
    rng = np.random.default_rng(0)
    flipped = torch.from_numpy(rng.permutation(len(train)) < len(train) // 2)
    x = torch.where(flipped[:, None, None, None], train.flip(-2), train)
    y = flipped.float()
    x_test, y_test = torch.cat([test, test.flip(-2)]), np.r_[np.zeros(len(test)), np.ones(len(test))]
    classes = np.r_[fashion.test.labels.numpy(), fashion.test.labels.numpy()]
    net, loss = network(), torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    for epoch in range(args.epochs):
        net.train()
        for rows in torch.randperm(len(x)).split(128):
            optimizer.zero_grad()
            loss(net(x[rows]).squeeze(1), y[rows]).backward()
            optimizer.step()
        net.eval()
        with torch.no_grad():
            scores = torch.cat([net(part).squeeze(1) for part in x_test.split(1000)]).numpy()
        per_class = {c: round(roc_auc_score(y_test[classes == c], scores[classes == c]), 3) for c in range(10)}
        print(f"epoch {epoch + 1}: AUROC {roc_auc_score(y_test, scores):.4f}; per class {per_class}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
