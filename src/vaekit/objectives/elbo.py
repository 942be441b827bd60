"""Objectives: (model, batch) -> a scalar loss and per-example terms in nats, each of shape (B,).

Every term is summed over the event dimensions and reduced to a scalar exactly once, here.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass

import torch
from torch.distributions import Distribution, kl_divergence

from .errors import UserError
from .registry import Registry

OBJECTIVES: Registry = Registry("objective")


@dataclass
class Output:
    """``loss``: the scalar to minimise. ``terms``: name -> (B,) tensor in nats per example."""

    loss: torch.Tensor
    terms: dict[str, torch.Tensor]


def kl_per_example(q: Distribution, p: Distribution, z: torch.Tensor) -> torch.Tensor:
    """KL(q || p) per example (B,): closed form where torch.distributions has one,
    else the one-sample Monte Carlo estimate log q(z) - log p(z) at the given z ~ q."""
    try:
        return kl_divergence(q, p)
    except NotImplementedError:
        return q.log_prob(z) - p.log_prob(z)


def kl_levels(q: Distribution, p: Distribution, z: torch.Tensor) -> dict[str, torch.Tensor]:
    """'kl_LEVEL' -> (B,) one-sample KL of each level of a hierarchical q and p (both giving
    ``log_prob_levels(z)``, name -> (B,) nats, e.g. z1 and z2); they sum to the total KL at z. {} otherwise."""
    if not (hasattr(q, "log_prob_levels") and hasattr(p, "log_prob_levels")):
        return {}
    q_levels, p_levels = q.log_prob_levels(z), p.log_prob_levels(z)
    return {f"kl_{name}": q_levels[name] - p_levels[name] for name in q_levels}


def kl_per_dimension(q: Distribution, p: Distribution) -> torch.Tensor:
    """KL per latent dimension (B, D) for factorised q and p (``Independent`` over one dim)."""
    try:
        return kl_divergence(q.base_dist, p.base_dist).expand(q.batch_shape + q.event_shape)
    except (AttributeError, NotImplementedError):
        raise UserError("free bits (objective.free_bits) need a factorised posterior and prior with a closed-form KL "
                        "per dimension, as a 'vae' with the 'normal' prior has; set objective.free_bits=0 for this "
                        "model") from None


def linear_warmup(target: float, warmup_epochs: int, epoch: int) -> float:
    """target * min(1, epoch / warmup_epochs) for a 0-based epoch: 0 at the start, target from epoch N on."""
    if warmup_epochs <= 0:
        return target
    return target * min(1.0, epoch / warmup_epochs)


@OBJECTIVES.register("elbo")
class ELBO:
    """Negative ELBO with a KL weight: loss = mean_B[-log p(x|z)] + beta * KL, z ~ q(z|x) reparameterised.

    beta != 1 gives a beta-VAE; ``warmup_epochs`` ramps beta from 0; ``free_bits`` (nats) floors the
    batch-mean KL of each latent dimension inside the loss (Kingma et al., 2016). The reported terms
    are always the true per-example values: log_px_z, kl and elbo = log_px_z - kl; a hierarchical
    model adds its KL per level (kl_z1, kl_z2: one-sample, at the same z, summing to kl).
    """

    def __init__(self, beta: float = 1.0, warmup_epochs: int = 0, free_bits: float = 0.0):
        if beta < 0 or warmup_epochs < 0 or free_bits < 0:
            raise UserError("objective.beta, objective.warmup_epochs and objective.free_bits must be >= 0")
        self.beta, self.warmup_epochs, self.free_bits = beta, warmup_epochs, free_bits

    def beta_at(self, epoch: int) -> float:
        return linear_warmup(self.beta, self.warmup_epochs, epoch)

    def __call__(self, model, x: torch.Tensor, beta: float | None = None) -> Output:
        beta = self.beta if beta is None else beta
        q = model.encode(x)
        z = q.rsample()  # (B, D)
        log_px_z = model.decode(z).log_prob(x)  # (B,)
        p = model.prior_distribution()
        kl = kl_per_example(q, p, z)  # (B,)
        if self.free_bits > 0:
            kl_loss = kl_per_dimension(q, p).mean(0).clamp(min=self.free_bits).sum()
        else:
            kl_loss = kl.mean()
        loss = -log_px_z.mean() + beta * kl_loss
        return Output(loss, {"log_px_z": log_px_z, "kl": kl, **kl_levels(q, p, z), "elbo": log_px_z - kl})


@OBJECTIVES.register("iwae")
class IWAE:
    """The importance-weighted bound (Burda et al., 2016); loss = mean_B[-IWAE_k] with

        IWAE_k(x) = logsumexp_s [log p(x|z_s) + log p(z_s) - log q(z_s|x)] - log k,   z_s ~ q(z|x), s = 1..k

    reparameterised. The log-weights are the evaluator's (``evaluate.log_weights_at``), so training
    and the importance-sampled log p(x) compute the same numbers. In expectation
    ELBO = IWAE_1 <= IWAE_k <= IWAE_{k+1} <= log p(x).

    Terms, (B,) nats per example: ``iwae``, the bound; ``log_px_z`` and ``kl``, the means over the k
    draws of log p(x|z_s) and of the one-sample KL log q(z_s|x) - log p(z_s); and ``elbo`` =
    log_px_z - kl, the plain ELBO averaged over the same k draws (what validation and early stopping
    read). There is no KL weight: beta, warm-up and free bits are the ELBO's and are refused here.
    """

    def __init__(self, k: int = 5, beta: float = 1.0, warmup_epochs: int = 0, free_bits: float = 0.0):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise UserError(f"objective.k, the importance samples of objective 'iwae', must be an integer >= 1, "
                            f"got {k!r}")
        if (beta, warmup_epochs, free_bits) != (1.0, 0, 0.0):
            raise UserError(
                "objective 'iwae' has no KL weight, so objective.beta, objective.warmup_epochs and objective.free_bits "
                "do not apply; leave them at their defaults or train with objective 'elbo'"
            )
        self.k = k

    def beta_at(self, epoch: int) -> float:
        return 1.0

    def __call__(self, model, x: torch.Tensor, beta: float | None = None) -> Output:
        from .evaluate import log_weights_at  # imported here: evaluate imports this module

        q = model.encode(x)  # batch (B,), event (D,)
        if not q.has_rsample:
            raise UserError("objective 'iwae' needs a reparameterised posterior (rsample) to train the encoder")
        z = q.rsample((self.k,))  # (k, B, D)
        log_w = log_weights_at(model, x, q, z)  # (k, B)
        kl = q.log_prob(z) - model.prior_distribution().log_prob(z)  # (k, B): one-sample KL per draw
        iwae = log_w.logsumexp(0) - math.log(self.k)  # (B,)
        terms = {"iwae": iwae, "log_px_z": (log_w + kl).mean(0), "kl": kl.mean(0), "elbo": log_w.mean(0)}
        return Output(-iwae.mean(), terms)


@OBJECTIVES.register("reconstruction")
class Reconstruction:
    """Reconstruction only: loss = mean_B[-log p(x | z = encoder point)] (the autoencoder's loss)."""

    def __init__(self, beta: float = 1.0, warmup_epochs: int = 0, free_bits: float = 0.0):
        if (beta, warmup_epochs, free_bits) != (1.0, 0, 0.0):
            raise UserError(
                "objective 'reconstruction' has no KL term, so objective.beta, objective.warmup_epochs and "
                "objective.free_bits do not apply; leave them at their defaults or train model 'vae'"
            )

    @staticmethod
    def check_model(model) -> None:
        """Any model without a learned prior: this loss would leave a prior's parameters untrained."""
        if model.prior is not None and any(True for _ in model.prior.parameters()):
            raise UserError("objective 'reconstruction' would leave this model's learned prior untrained; "
                            "train it with objective 'elbo' or 'iwae'")

    def beta_at(self, epoch: int) -> float:
        return 0.0

    def __call__(self, model, x: torch.Tensor, beta: float | None = None) -> Output:
        z = model.encode(x).rsample()
        log_px_z = model.decode(z).log_prob(x)
        return Output(-log_px_z.mean(), {"log_px_z": log_px_z})


def build_objective(config, model) -> object:
    """The registered objective ``config.name`` ('auto': the model's default) with config's options."""
    name = model.default_objective if config.name == "auto" else config.name
    factory = OBJECTIVES.get(name)
    if hasattr(model, "check_objective"):  # a model that trains with particular objectives only (a VQ-VAE)
        model.check_objective(name)
    if hasattr(factory, "check_model"):  # an objective that says which models it fits, instead of the rule below
        factory.check_model(model)
    elif name != "reconstruction" and model.prior is None:
        raise UserError(f"objective {name!r} needs a prior; a plain autoencoder trains with objective 'reconstruction'")
    return factory(**objective_options(factory, config, name))


def objective_options(factory, config, name: str) -> dict:
    """The ObjectiveConfig fields ``factory`` takes as keyword arguments. A field it does not take
    must keep its default (objective.k=50 with the ELBO would be silently ignored otherwise)."""
    accepted = inspect.signature(factory).parameters
    defaults = type(config)()
    options = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if field.name in accepted:
            options[field.name] = value
        elif field.name != "name" and value != getattr(defaults, field.name):
            raise UserError(f"objective {name!r} does not use objective.{field.name}; leave it at its default "
                            f"({getattr(defaults, field.name)!r}) or choose an objective that does")
    return options
