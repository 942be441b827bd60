"""Run folders of small models with random (perturbed) weights, one per exportable family, for the export
tests (tests/export/, tests/commands/test_export.py): parity needs no training, only a model that the
loader opens as it opens a trained one."""

from pathlib import Path

from helpers import perturbed_model

from vaekit import Config
from vaekit.rundir import RunDir

SHAPE, COLOUR = (1, 8, 8), (3, 4, 4)
MLP, CONV = {"hidden": [16]}, {"name": "conv", "channels": [4, 6]}

# family -> (model options, data shape); every registered model and likelihood is among them
FAMILIES = {
    "mlp_vae": ({"latent_dim": 3, "trunk": MLP, "likelihood": "bernoulli"}, SHAPE),
    "conv_vae": ({"latent_dim": 3, "trunk": CONV, "likelihood": "continuous_bernoulli"}, SHAPE),
    "gaussian_mog": ({"latent_dim": 2, "trunk": MLP, "likelihood": "gaussian_learned", "prior": {"name": "mog"}}, (5,)),
    "categorical": ({"latent_dim": 3, "trunk": {"name": "conv", "channels": [4]}, "likelihood": "categorical256"}, COLOUR),
    "hvae": ({"name": "hvae", "latent_dim": 2, "trunk": MLP, "likelihood": "bernoulli", "width": 8}, SHAPE),
    "conv_hvae": ({"name": "conv_hvae", "latent_dim": 2, "trunk": CONV, "likelihood": "gaussian", "width": 8}, SHAPE),
    "conditional": ({"latent_dim": 3, "trunk": CONV, "likelihood": "bernoulli", "conditional": True, "classes": 4,
                     "prior": {"name": "conditional"}}, SHAPE),
    "ae": ({"name": "ae", "latent_dim": 3, "trunk": MLP, "likelihood": "bernoulli"}, SHAPE),
    "vqvae": ({"name": "vqvae", "latent_dim": 3, "trunk": CONV, "likelihood": "bernoulli",
               "quantizer": {"codebook_size": 16}}, SHAPE),
    "residual_vq": ({"name": "vqvae", "latent_dim": 3, "trunk": MLP, "likelihood": "bernoulli", "code_positions": 2,
                     "quantizer": {"name": "residual", "codebooks": 2, "codebook_size": 8, "cosine": True}}, SHAPE),
    "fsq": ({"name": "vqvae", "latent_dim": 3, "trunk": MLP, "likelihood": "bernoulli", "code_positions": 2,
             "quantizer": {"name": "fsq", "levels": [5, 4]}}, SHAPE),
}
# slow: the discretised logistic's mean sums 255 bins, a graph that takes ~10 s to export
SLOW_FAMILIES = {
    "logistic_coupled": ({"latent_dim": 3, "trunk": {"name": "conv", "channels": [4]},
                          "likelihood": {"name": "discretized_logistic", "mixtures": 2, "channel_coupling": True}}, COLOUR),
}
DATA = {"name": "test data", "shift": [0.0], "scale": [1 / 255], "columns": None, "binarize": "none"}


def saved_run(folder: Path, model: dict, shape: tuple, **data) -> Path:
    """A run folder (model.safetensors only) of the model ``model`` builds for ``shape``, its weights
    perturbed (``helpers.perturbed_model``); ``data`` replaces entries of the stored data transform."""
    config = Config().replace(model=model)
    RunDir(folder).save_model(perturbed_model(config.model, shape), config, {"data": {**DATA, "shape": list(shape), **data}})
    return folder

