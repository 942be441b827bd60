"""vaekit: variational autoencoders on PyTorch: train, evaluate and use the latent space.

The package face: the names a user reaches for first. The parts live in subpackages named after the
composition (``models``, ``objectives``, ``nn``, ``data``, ``training``, ``evaluation``, ``latent``,
``figures``, ``runs``, ``commands``); the README's "Architecture" section maps them.
"""

from ._version import __version__
from .config import Config, DataConfig, ModelConfig, ObjectiveConfig, TrainConfig, load_config
from .errors import UserError
from .export import export
from .models import LIKELIHOODS, MODELS, PRIORS, LatentVariableModel, build_model
from .nn import TRUNKS
from .objectives import ELBO, IWAE, OBJECTIVES, Reconstruction, build_objective
from .runs.ood import ood
from .runs.open import load
from .runs.train import Run, train
from .studies import sweep
from .training.checkpoint import save_model

__all__ = ["ELBO", "IWAE", "LIKELIHOODS", "MODELS", "OBJECTIVES", "PRIORS", "TRUNKS", "Config", "DataConfig",
           "LatentVariableModel", "ModelConfig", "ObjectiveConfig", "Reconstruction", "Run", "TrainConfig",
           "UserError", "__version__", "build_model", "build_objective", "load", "load_config", "save_model",
           "export", "ood", "sweep", "train"]


def __getattr__(name: str):
    """``vaekit.load_model``, deprecated since 0.2: ``vaekit.load`` (a run folder or a checkpoint file) is the
    one public load; ``vaekit.training.checkpoint.load_model`` also returns the config and metadata."""
    if name == "load_model":
        import warnings

        from .training.checkpoint import load_model

        warnings.warn("vaekit.load_model is deprecated: use vaekit.load(PATH) for the model, or "
                      "vaekit.training.checkpoint.load_model(PATH) for (model, config, metadata)",
                      DeprecationWarning, stacklevel=2)
        return load_model
    raise AttributeError(f"module 'vaekit' has no attribute {name!r}")
