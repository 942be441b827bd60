"""Small sweep files for the studies' tests: MLP VAEs on digits, an epoch or two, small widths."""

import yaml

BASE = {"model": {"latent_dim": 2, "trunk": {"hidden": [16]}},
        "train": {"epochs": 2, "batch_size": 128, "report": False, "device": "cpu"}}


def sweep_file(folder, name="sweep.yaml", epochs=2, **values):
    """A sweep file with the small BASE trained ``epochs`` epochs (``values`` add grid, seeds, evaluate, ...);
    returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    base = {**BASE, "train": {**BASE["train"], "epochs": epochs}}
    path.write_text(yaml.safe_dump({"base": base, **values}, sort_keys=False))
    return path
