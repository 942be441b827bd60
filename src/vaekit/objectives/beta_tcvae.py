"""beta-TCVAE (Chen et al., 2018): the KL split into index-code mutual information, total
correlation and dimension-wise KL, each with its own weight.

For z ~ q(z|x) and the aggregate posterior q(z) = (1/N) sum_n q(z|x_n) over the N training examples,

    log q(z|x) - log p(z) = [log q(z|x) - log q(z)]                      index-code MI
                          + [log q(z) - sum_d log q(z_d)]                 total correlation (TC)
                          + [sum_d log q(z_d) - sum_d log p(z_d)]         dimension-wise KL

exactly, at the same z, whatever estimates of log q(z) and log q(z_d) are used. Those come from the
minibatch: with z_i drawn from x_i, the (B, B, D) table log q(z_id | x_jd) and weights w_ij,

    log q(z_i) ~= logsumexp_j [log w_ij + sum_d log q(z_id | x_jd)],
    log q(z_id) ~= logsumexp_j [log w_ij + log q(z_id | x_jd)].

MWS, minibatch weighted sampling (the paper's eq. S4): w_ij = 1 / (N M) with M = B, the log(N M)
constant. Its weights sum to 1/N over a row, so it reads log q(z) low by up to log N (by log N in
the limit of broad posteriors, by log M when each posterior is far from the others): the reported
TC and dimension-wise KL carry that offset (D - 1 and D times), the gradient much less.

MSS, minibatch stratified sampling (the paper's appendix): with M = B - 1, w_ii = 1/N for the
example's own posterior (the diagonal), w_ij = (N - M) / (N M) for one other example (here the next
one, j = i + 1 mod B), w_ij = 1 / M for the rest. Each row sums to 1 and the estimates converge to
the true ones as the batch grows. (A widely copied reference puts the 1/N weights on column 0
instead of the diagonal, so every example but the first is weighted as if it were another's.)
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Normal

from ..errors import UserError
from ..nn.collective import gather_batch, share_offset, world_size
from .checks import check_weights, require_factorised_prior
from ..data.batch import Batch
from .registry import OBJECTIVES
from .terms import Output

ESTIMATORS = ("mss", "mws")


def pairwise_log_density(z: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """(B, B, D): [i, j, d] = log q(z_id | x_j), nats, for z, loc, scale (B, D) of a diagonal Gaussian q."""
    return Normal(loc.unsqueeze(0), scale.unsqueeze(0), validate_args=False).log_prob(z.unsqueeze(1))


def mss_log_weights(batch: int, data_size: int, like: torch.Tensor) -> torch.Tensor:
    """(B, B) log w of minibatch stratified sampling (module docstring): log(1/N) on the diagonal,
    log((N - M) / (N M)) at (i, i + 1 mod B), log(1/M) elsewhere, M = B - 1. A batch of one sees no
    other example, so its only weight is 1 (log q(z) is then log q(z|x))."""
    if batch == 1:
        return torch.zeros(1, 1, dtype=like.dtype, device=like.device)
    n, m = data_size, batch - 1
    weights = torch.full((batch, batch), 1 / m, dtype=like.dtype, device=like.device)
    rows = torch.arange(batch, device=like.device)
    weights[rows, (rows + 1) % batch] = (n - m) / (n * m)
    weights[rows, rows] = 1 / n
    return weights.log()


def aggregate_log_densities(
    z: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor, data_size: int, estimator: str = "mss", offset: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(log q(z_i), sum_d log q(z_id)), each (b,) nats, estimated from the batch itself: loc, scale
    (B, D) the posteriors N(loc_j, scale_j^2) of the batch's B examples of a training set of
    ``data_size``; z (b, D) drawn from those of rows offset .. offset + b - 1 (all of them, b = B,
    in one process; this rank's share under data parallelism)."""
    pairs = pairwise_log_density(z, loc, scale)  # (b, B, D)
    batch = loc.shape[0]
    if estimator == "mws":
        log_nm = math.log(data_size * batch)
        return pairs.sum(2).logsumexp(1) - log_nm, (pairs.logsumexp(1) - log_nm).sum(1)
    log_w = mss_log_weights(batch, data_size, z)[offset:offset + len(z)]  # (b, B)
    return (log_w + pairs.sum(2)).logsumexp(1), (log_w.unsqueeze(2) + pairs).logsumexp(1).sum(1)


@OBJECTIVES.register("beta_tcvae")
class BetaTCVAE:
    """loss = mean_B[-log p(x|z) + alpha * MI + beta * TC + gamma * dimension-wise KL], z ~ q(z|x)
    reparameterised (module docstring); alpha = beta = gamma = 1 is the ELBO. The paper's choice for
    disentangling: alpha = gamma = 1, beta = 6.

    ``estimator``: 'mss' or 'mws' (module docstring). The training set size N comes from the
    trainer (``prepare``) before the first step, never from the batch.

    Terms, (B,) nats per example: log_px_z; mi, tc, dimension_kl (the three estimates) and kl,
    their sum, which is exactly the one-sample KL log q(z|x) - log p(z) at the drawn z; elbo =
    log_px_z - kl.
    """

    compilable = False  # not known to trace cleanly (the global-batch gather): runs eagerly

    def __init__(self, *, alpha: float = 1.0, beta: float = 1.0, gamma: float = 1.0, tc_estimator: str = "mss"):
        check_weights("beta_tcvae", alpha=alpha, beta=beta, gamma=gamma)
        if tc_estimator not in ESTIMATORS:
            raise UserError(f"objective.tc_estimator {tc_estimator!r} is not one of: {', '.join(ESTIMATORS)}")
        self.alpha, self.beta, self.gamma, self.estimator = alpha, beta, gamma, tc_estimator
        self.data_size: int | None = None

    @staticmethod
    def check_model(model) -> None:
        require_factorised_prior(model, "beta_tcvae")

    def prepare(self, examples: int) -> None:
        """The number of training examples N, which the estimators of q(z) need."""
        self.data_size = examples

    def beta_at(self, epoch: int) -> float:
        return self.beta

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output:
        beta = self.beta if beta is None else beta
        x, labels = batch.x, batch.labels
        n = self.check_data_size(x.shape[0])
        q = model.encode(x, labels)
        z = q.rsample()  # (B, D)
        log_px_z = model.decode(z, labels).log_prob(x)  # (B,)
        normal = q.base_dist
        # Under data parallelism the estimate uses the global batch, as one process does.
        loc, scale = gather_batch(normal.loc), gather_batch(normal.scale)  # (global B, D)
        log_qz, log_qz_product = aggregate_log_densities(z, loc, scale, n, self.estimator, share_offset(len(z)))
        mi = q.log_prob(z) - log_qz
        tc = log_qz - log_qz_product
        dimension_kl = log_qz_product - model.prior_distribution(labels).base_dist.log_prob(z).sum(1)
        loss = -log_px_z.mean() + self.alpha * mi.mean() + beta * tc.mean() + self.gamma * dimension_kl.mean()
        kl = mi + tc + dimension_kl
        terms = {"log_px_z": log_px_z, "kl": kl, "mi": mi, "tc": tc, "dimension_kl": dimension_kl,
                 "elbo": log_px_z - kl}
        return Output(loss, terms)

    def check_data_size(self, batch: int) -> int:
        batch *= world_size()  # the global batch
        if self.data_size is None:
            raise UserError("objective 'beta_tcvae' needs the training set size N; the trainer gives it before "
                            "the first step (call objective.prepare(N) to use the objective on its own)")
        if self.estimator == "mss" and self.data_size < batch:
            raise UserError(f"objective 'beta_tcvae' (tc_estimator 'mss') needs a training set at least as large "
                            f"as the batch, got {self.data_size} examples and a batch of {batch}")
        return self.data_size
