"""vaekit: variational autoencoders on PyTorch: train, evaluate and use the latent space.

The package face: the names a user reaches for first. The parts live in subpackages named after the
composition (``models``, ``objectives``, ``nn``, ``data``, ``training``, ``evaluation``, ``latent``,
``figures``, ``runs``, ``commands``); the README's "Architecture" section maps them.
"""

from ._version import __version__
from .config import Config, DataConfig, ModelConfig, ObjectiveConfig, TrainConfig, load_config
from .errors import UserError
from .models import LIKELIHOODS, MODELS, PRIORS, LatentVariableModel, build_model
from .nn import TRUNKS
from .objectives import ELBO, IWAE, OBJECTIVES, Reconstruction, build_objective
from .runs.open import load
from .runs.train import Run, train
from .training.checkpoint import load_model, save_model

__all__ = ["ELBO", "IWAE", "LIKELIHOODS", "MODELS", "OBJECTIVES", "PRIORS", "TRUNKS", "Config", "DataConfig",
           "LatentVariableModel", "ModelConfig", "ObjectiveConfig", "Reconstruction", "Run", "TrainConfig",
           "UserError", "__version__", "build_model", "build_objective", "load", "load_config", "load_model",
           "save_model", "train"]
