"""vaekit: variational autoencoders on PyTorch: train, evaluate and use the latent space."""

__version__ = "0.1.0"

from .checkpoint import load_model, save_model  # noqa: E402
from .config import Config, DataConfig, ModelConfig, ObjectiveConfig, TrainConfig, load_config  # noqa: E402
from .errors import UserError  # noqa: E402
from .likelihoods import LIKELIHOODS  # noqa: E402
from .model import MODELS, LatentVariableModel, build_model  # noqa: E402
from .nn import TRUNKS  # noqa: E402
from .objectives import ELBO, OBJECTIVES, Reconstruction, build_objective  # noqa: E402
from .priors import PRIORS  # noqa: E402
from .run import Run, train  # noqa: E402
from .run_open import load  # noqa: E402
from . import vq  # noqa: E402,F401  (registers model 'vqvae' and objective 'vq')
