"""beta-VAE_DAE (Higgins et al., 2017, DARLA): the beta-VAE with its reconstruction term measured in
the feature space of a denoising autoencoder J trained beforehand (``--model dae``) and kept frozen:

    loss = mean_B[ ||J(x_hat) - J(x)||^2 + beta * KL(q(z|x) || p(z)) ],   x_hat = mean of p(x | z), z ~ q(z|x),

J(x) the DAE's code (B, F), the squared distance summed over its F features. Terms also report the
VAE's own log p(x|z) and ELBO, so validation and the tables read as for any VAE.
"""

from __future__ import annotations

import torch

from ..data.batch import Batch
from ..errors import UserError
from ..models.saved import load_saved
from ..rundir import RunDir
from .checks import check_weights, require_gaussian_posterior
from .registry import OBJECTIVES
from .terms import Output, reconstruction_and_kl


def load_dae(run: str):
    """The frozen DAE of the run folder ``run`` (a UserError unless it holds a model 'dae')."""
    path = RunDir(run).weights
    if not path.is_file():
        raise UserError(f"objective.dae_run={run}: no {path.name} there; train one first with vaekit train --model dae")
    dae, config, _ = load_saved(path)
    if config.model.name != "dae":
        raise UserError(f"objective.dae_run={run}: that run trained model {config.model.name!r}, not 'dae'")
    return dae.requires_grad_(False)


@OBJECTIVES.register("beta_vae_dae")
class BetaVAEDAE:
    """See the module docstring. Options: ``beta`` (the KL weight), ``dae_run`` (the DAE's run folder).
    Terms, (B,) per example: dae_distance (squared feature distance), kl, log_px_z and elbo (nats)."""

    compilable = False  # the frozen DAE is not part of the traced model

    def __init__(self, *, beta: float = 1.0, dae_run: str = ""):
        check_weights("beta_vae_dae", beta=beta)
        if not dae_run:
            raise UserError("objective 'beta_vae_dae' needs objective.dae_run=RUN, a run trained with --model dae")
        self.beta, self.dae_run = beta, dae_run
        self.dae = load_dae(dae_run)

    @staticmethod
    def check_model(model) -> None:
        require_gaussian_posterior(model, "beta_vae_dae")

    def bind(self, model) -> None:
        """Put the DAE beside the model; its data shape must be the model's."""
        if tuple(self.dae.data_shape) != tuple(model.data_shape):
            raise UserError(f"objective.dae_run={self.dae_run}: the DAE takes data of shape {self.dae.data_shape}, "
                            f"this model {model.data_shape}")
        self.dae.to(next(model.parameters()).device)

    def beta_at(self, epoch: int) -> float:
        return self.beta

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """J(x) (B, F): the DAE's code, in eval mode."""
        return self.dae.encode(x).mean

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output:
        q, p, z, log_px_z, kl = reconstruction_and_kl(model, batch)  # z (B, D); log_px_z, kl (B,)
        x_hat = model.decode(z, batch.labels).mean  # (B, *data_shape)
        with torch.no_grad():
            target = self.features(batch.x)  # (B, F)
        distance = (self.features(x_hat) - target).pow(2).sum(-1)  # (B,)
        weight = self.beta if beta is None else beta
        loss = distance.mean() + weight * kl.mean()
        return Output(loss, {"dae_distance": distance, "kl": kl, "log_px_z": log_px_z, "elbo": log_px_z - kl})
