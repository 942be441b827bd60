"""The denoising autoencoder of DARLA (Higgins et al., 2017): a deterministic autoencoder trained to
restore inputs occluded by a random rectangle (the objective 'denoising'); its encoder's features
are what the beta-VAE_DAE objective ('beta_vae_dae') measures reconstructions in."""

from __future__ import annotations

from ..config.section import part
from ..nn.registry import Trunk
from .heads import PointHead
from .model import LatentVariableModel, _compose, check_model_options
from .registry import MODELS, LikelihoodPart


@MODELS.register("dae", objective="denoising")
def build_dae(data_shape: tuple[int, ...], *, latent_dim: int = 16, trunk: Trunk = part("mlp"),
              likelihood: LikelihoodPart = part("auto")) -> LatentVariableModel:
    """Point-mass 'posterior' (the features J(x), (B, latent_dim)), no prior; trained by 'denoising'."""
    check_model_options(latent_dim)
    return _compose(data_shape, latent_dim, trunk, likelihood, False, 0, PointHead, None, "denoising")
