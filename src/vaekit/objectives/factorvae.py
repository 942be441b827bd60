"""FactorVAE (Kim and Mnih, 2018): the ELBO plus gamma times the total correlation of q(z),
estimated by a discriminator with the density-ratio trick.

A discriminator D tells codes z ~ q(z) (encoded training examples) from codes of the product of
marginals prod_d q(z_d) (the batch with each dimension shuffled independently). Trained by its own
cross-entropy, its logit difference estimates the log density ratio:

    TC(z) = log q(z) - log prod_d q(z_d) ~= logit_q(z) - logit_prod(z).

The discriminator is the objective's own module with its own Adam (lr 1e-4, betas (0.5, 0.9) as in
the paper); the trainer steps it after each step of the model (``step``) and keeps both in the
resume state. As in disentanglement_lib, the shuffled codes come from the same batch.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from ..errors import UserError
from ..nn.collective import average_gradients, broadcast_from_first, gather_batch, share_offset
from .checks import check_weights, latent_dim, require_gaussian_posterior
from ..data.batch import Batch
from .registry import OBJECTIVES
from .terms import Output, reconstruction_and_kl

ADAM_BETAS = (0.5, 0.9)  # the paper's discriminator optimiser
LEAKY_SLOPE = 0.2


class Discriminator(nn.Module):
    """z (B, D) -> logits (B, 2): column 0 'drawn from q(z)', column 1 'from the product of marginals'."""

    def __init__(self, latent_dim: int, hidden: int, layers: int):
        super().__init__()
        widths = [latent_dim] + [hidden] * layers
        blocks: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            blocks += [nn.Linear(width_in, width_out), nn.LeakyReLU(LEAKY_SLOPE)]
        self.net = nn.Sequential(*blocks, nn.Linear(widths[-1], 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def permute_dims(z: torch.Tensor) -> torch.Tensor:
    """(B, D): each column of z shuffled by its own random permutation of the batch, a draw from the
    product of the batch's marginals.

    Under data parallelism z is this rank's share (b, D) and the result its rows of the shuffled
    global batch: the columns are permuted across all ranks' codes, by rank 0's draw."""
    codes = gather_batch(z.detach())  # (global B, D)
    order = broadcast_from_first(torch.rand(codes.shape, device=z.device).argsort(0))  # one permutation per column
    start = share_offset(len(z))
    return codes.gather(0, order)[start:start + len(z)]


@OBJECTIVES.register("factorvae")
class FactorVAE:
    """loss = mean_B[-log p(x|z) + KL(q(z|x) || p(z)) + gamma * TC(z)], TC from the discriminator
    (module docstring; the paper uses gamma = 35 on dSprites, its sweep 10 to 100).

    Terms, (B,) nats per example: log_px_z, kl, elbo = log_px_z - kl; tc, the discriminator's
    estimate at each example's z; discriminator_loss, its cross-entropy on the example's code and
    on the shuffled code in its row (half each), which ``step`` minimises.
    """

    compilable = False  # the discriminator's own update runs between steps

    def __init__(self, *, gamma: float = 1.0, discriminator_hidden: int = 1000, discriminator_layers: int = 6,
                 discriminator_lr: float = 1e-4):
        check_weights("factorvae", gamma=gamma, discriminator_lr=discriminator_lr)
        for field, value in (("discriminator_hidden", discriminator_hidden),
                             ("discriminator_layers", discriminator_layers)):
            if value < 1:
                raise UserError(f"objective 'factorvae': objective.{field} must be at least 1, got {value}")
        self.gamma, self.hidden, self.layers, self.lr = gamma, discriminator_hidden, discriminator_layers, discriminator_lr
        self.module: Discriminator | None = None
        self.optimizer: torch.optim.Adam | None = None

    @staticmethod
    def check_model(model) -> None:
        require_gaussian_posterior(model, "factorvae")

    def bind(self, model) -> None:
        """Build the discriminator (from the global RNG) beside the model's weights, and its optimiser."""
        weight = model.head.linear.weight
        self.module = Discriminator(latent_dim(model), self.hidden, self.layers).to(weight.device, weight.dtype)
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=self.lr, betas=ADAM_BETAS)

    def beta_at(self, epoch: int) -> float:
        return 1.0

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output:
        _, _, z, log_px_z, kl = reconstruction_and_kl(model, batch)  # z (B, D); log_px_z, kl (B,)
        # The VAE's gradient passes through D to z but must not train D: D's weights enter detached.
        frozen = {name: value.detach() for name, value in self.module.named_parameters()}
        logits = functional_call(self.module, frozen, (z,))  # (B, 2)
        tc = logits[:, 0] - logits[:, 1]
        codes = z.detach()
        real, shuffled = self.module(codes), self.module(permute_dims(codes))  # (B, 2) each
        ones = torch.ones(len(codes), dtype=torch.long, device=codes.device)
        discriminator_loss = 0.5 * (F.cross_entropy(real, 0 * ones, reduction="none")
                                    + F.cross_entropy(shuffled, ones, reduction="none"))
        loss = -log_px_z.mean() + kl.mean() + self.gamma * tc.mean()
        terms = {"log_px_z": log_px_z, "kl": kl, "elbo": log_px_z - kl, "tc": tc,
                 "discriminator_loss": discriminator_loss}
        return Output(loss, terms)

    def step(self, output: Output) -> None:
        """One Adam step of the discriminator on the step's ``discriminator_loss`` (after the model's step)."""
        self.optimizer.zero_grad(set_to_none=True)
        output.terms["discriminator_loss"].mean().backward()
        average_gradients(self.module.parameters())  # under data parallelism: the global batch's gradient
        self.optimizer.step()
