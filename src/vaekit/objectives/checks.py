"""What the disentangling objectives ask of a model: a diagonal Gaussian posterior, and for the
total-correlation decomposition a prior that factorises over the latent dimensions."""

from __future__ import annotations

from torch.distributions import Independent

from ..errors import UserError
from ..models.heads import GaussianHead


def require_gaussian_posterior(model, name: str) -> None:
    """A UserError unless q(z|x) is the diagonal Gaussian of a 'vae' (not an autoencoder, a two-level
    or a VQ model): these objectives read the posterior's means and variances per dimension."""
    if model.prior is None or not isinstance(model.head, GaussianHead):
        raise UserError(f"objective {name!r} needs the diagonal Gaussian posterior and a prior of model 'vae'")


def require_factorised_prior(model, name: str) -> None:
    """A UserError unless p(z) is a product over the latent dimensions (the 'normal' prior): the
    dimension-wise KL compares each marginal q(z_d) with its own p(z_d)."""
    require_gaussian_posterior(model, name)
    p = model.prior_distribution()
    if not (isinstance(p, Independent) and p.reinterpreted_batch_ndims == 1 and len(p.base_dist.batch_shape) == 1):
        raise UserError(f"objective {name!r} splits the KL per latent dimension and needs a prior that factorises "
                        "over them; set model.prior.name=normal")


def latent_dim(model) -> int:
    """D of z for a model with the Gaussian head (its one linear layer gives mu and log sigma^2)."""
    return model.head.linear.out_features // 2


def check_weights(name: str, **weights: float) -> None:
    """A UserError naming the first weight that is negative (objective.FIELD must be >= 0)."""
    for field, value in weights.items():
        if value < 0:
            raise UserError(f"objective {name!r}: objective.{field} must be >= 0, got {value!r}")
