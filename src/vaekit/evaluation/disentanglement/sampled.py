"""The metrics that sample from the data: the BetaVAE score and the FactorVAE score.

Both draw batches whose rows share one factor's value (``vaekit.data.factors.FactorSampler``) and
need the representation of each drawn example. ``Representation`` gives it: the posterior mean of
a model (or any ``encode`` function), computed once per distinct example and kept, so the
millions of draws of the default settings (BetaVAE: 2 x 64 x 15,000) cost one encoder pass per
example drawn; the mean is deterministic, so the numbers are those of encoding every draw.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import torch

from ...data.array import ArrayData
from ...data.factors import FactorSampler
from ...errors import UserError
from ...latent.encode import ENCODE_BATCH, first_parameter
from ...nn.modes import eval_mode
from ..metrics import Metric, register_metric
from .predictive import logistic_regression
from .sample import FactorSample

BATCH_SIZE = 64
NUM_TRAIN, NUM_EVAL, NUM_VARIANCE_ESTIMATE = 10000, 5000, 10000
PRUNE_THRESHOLD = 0.05  # FactorVAE score: dimensions whose global standard deviation is below this are left out


class Representation:
    """Codes (n, D) float64 of rows of ``data``, encoded once each and kept.

    encoder: a model (its posterior mean, in eval mode, on the model's device) or a function taking
    model inputs (B, *shape) float32 on the CPU and returning (B, D) codes.
    """

    def __init__(self, encoder, data: ArrayData, batch_size: int = ENCODE_BATCH):
        self.data, self.batch_size = data, batch_size
        self.model = encoder if isinstance(encoder, torch.nn.Module) else None  # for metrics that need q(z|x)
        self.encode = model_encoder(encoder) if self.model is not None else encoder
        self.codes: np.ndarray | None = None  # (N, D) float32, filled as rows are drawn
        self.done = np.zeros(len(data), dtype=bool)

    @property
    def encoded(self) -> int:
        """How many distinct examples were encoded so far."""
        return int(self.done.sum())

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """(n, D) float64 codes of the rows (n,)."""
        rows = np.asarray(rows)
        missing = np.unique(rows[~self.done[rows]])
        for start in range(0, len(missing), self.batch_size):
            chosen = missing[start:start + self.batch_size]
            codes = np.asarray(self.encode(self.data.inputs(torch.from_numpy(chosen)).cpu()), dtype=np.float32)
            if self.codes is None:
                self.codes = np.zeros((len(self.data), codes.shape[1]), np.float32)
            self.codes[chosen] = codes
            self.done[chosen] = True
        return self.codes[rows].astype(np.float64)


def model_encoder(model) -> Callable[[torch.Tensor], np.ndarray]:
    """inputs (B, *shape) -> (B, D) posterior means as a NumPy array (the representation)."""
    parameter = first_parameter(model)

    @torch.no_grad()
    def encode(x: torch.Tensor) -> np.ndarray:
        with eval_mode(model):
            return model.encode(x.to(device=parameter.device, dtype=parameter.dtype)).mean.float().cpu().numpy()

    return encode


def as_representation(encoder, data: ArrayData) -> Representation:
    """``encoder`` itself when it is a ``Representation`` of ``data`` (codes shared between metrics), else one."""
    if isinstance(encoder, Representation):
        if encoder.data is not data:
            raise UserError("the Representation was made for other data; pass the data it encodes")
        return encoder
    return Representation(encoder, data)


def factor_sampler(data: ArrayData) -> FactorSampler:
    """The sampler of a data set with ground-truth factors; a UserError for data without them."""
    if getattr(data, "factors", None) is None or data.factor_info is None:
        raise UserError(f"{data.name}: these data have no ground-truth factors; use --data dsprites or an .npz "
                        "with 'factors' (N, K) integer codes beside 'x'")
    return FactorSampler(data.factors.numpy(), data.factor_info, data.name)


def check_sizes(**sizes: int) -> None:
    for name, size in sizes.items():
        if size < 2:
            raise UserError(f"{name} must be at least 2, got {size}")


def beta_vae_points(represent, sampler: FactorSampler, n: int, batch_size: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(features (n, D), labels (n,)): for each point a random factor k, batch_size pairs sharing
    k's value, the feature the mean over pairs of |z1 - z2| (the BetaVAE score's training sample)."""
    labels = rng.integers(sampler.num_factors, size=n)
    pairs = [sampler.sample_pairs(int(k), batch_size, rng) for k in labels]
    first = np.concatenate([p[0] for p in pairs])
    second = np.concatenate([p[1] for p in pairs])
    represent(np.concatenate([first, second]))  # one encoder pass over every distinct row drawn
    difference = np.abs(represent(first) - represent(second))  # (n * batch_size, D)
    return difference.reshape(n, batch_size, -1).mean(1), labels


def beta_vae_score(encoder, data: ArrayData, seed: int = 0, batch_size: int = BATCH_SIZE,
                   num_train: int = NUM_TRAIN, num_eval: int = NUM_EVAL) -> dict:
    """The BetaVAE score (Higgins et al., 2017) as disentanglement_lib's ``beta_vae_sklearn``.

    ``num_train`` (default 10,000) training and ``num_eval`` (default 5,000) evaluation points, each
    from ``batch_size`` (default 64) pairs of examples sharing one random factor's value; a logistic
    regression (``logistic_regression``, seeded) predicts the factor from the mean absolute code
    difference. encoder: a model (its posterior mean), a function inputs (B, *shape) -> codes (B, D),
    or a ``Representation`` shared with other metrics; data: an ``ArrayData`` with factors. Draws from
    numpy's generator seeded with ``seed``. Returns {'train_accuracy', 'eval_accuracy'}: the score is
    eval_accuracy.
    """
    check_sizes(batch_size=batch_size, num_train=num_train, num_eval=num_eval)
    represent, sampler = as_representation(encoder, data), factor_sampler(data)
    rng = np.random.default_rng(seed)
    train_x, train_y = beta_vae_points(represent, sampler, num_train, batch_size, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings: the library never prints
        model = logistic_regression(seed).fit(train_x, train_y)
    eval_x, eval_y = beta_vae_points(represent, sampler, num_eval, batch_size, rng)
    return {"train_accuracy": float(model.score(train_x, train_y)), "eval_accuracy": float(model.score(eval_x, eval_y))}


def factor_vae_votes(represent, sampler: FactorSampler, n: int, batch_size: int, rng, variances: np.ndarray,
                     active: np.ndarray) -> np.ndarray:
    """(K, D) int64 votes: for each of n points a random factor k, batch_size examples sharing its
    value; the vote goes to the active dimension with the least variance relative to its global variance."""
    labels = rng.integers(sampler.num_factors, size=n)
    batches = np.stack([sampler.sample_sharing(int(k), batch_size, rng) for k in labels])  # (n, batch_size)
    codes = represent(batches.reshape(-1)).reshape(n, batch_size, -1)  # (n, batch_size, D)
    relative = codes.var(1, ddof=1)[:, active] / variances[active]  # (n, active dims)
    chosen = np.flatnonzero(active)[relative.argmin(1)]  # (n,) dimension index
    votes = np.zeros((sampler.num_factors, len(variances)), np.int64)
    np.add.at(votes, (labels, chosen), 1)
    return votes


def factor_vae_score(encoder, data: ArrayData, seed: int = 0, batch_size: int = BATCH_SIZE,
                     num_train: int = NUM_TRAIN, num_eval: int = NUM_EVAL,
                     num_variance_estimate: int = NUM_VARIANCE_ESTIMATE, prune_threshold: float = PRUNE_THRESHOLD) -> dict:
    """The FactorVAE score (Kim and Mnih, 2018) as disentanglement_lib's ``factor_vae_score``.

    Global variances (ddof 1) of each code dimension from ``num_variance_estimate`` (default 10,000)
    random examples; dimensions with standard deviation below ``prune_threshold`` (0.05) are left out.
    Each of ``num_train`` (10,000) / ``num_eval`` (5,000) votes fixes one random factor across a batch
    of ``batch_size`` (64) examples and votes for the dimension with the least variance divided by
    its global variance; the majority-vote classifier maps each dimension to the factor it got most
    training votes for. Returns {'train_accuracy', 'eval_accuracy' (the score), 'num_active_dims'}
    (the count of kept dimensions; disentanglement_lib reports D there); all 0 when none is kept.
    encoder and data as for ``beta_vae_score``.
    """
    check_sizes(batch_size=batch_size, num_train=num_train, num_eval=num_eval,
                num_variance_estimate=num_variance_estimate)
    represent, sampler = as_representation(encoder, data), factor_sampler(data)
    rng = np.random.default_rng(seed)
    variances = represent(sampler.sample(num_variance_estimate, rng)).var(0, ddof=1)  # (D,)
    active = np.sqrt(variances) >= prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    train_votes = factor_vae_votes(represent, sampler, num_train, batch_size, rng, variances, active)
    classifier = train_votes.argmax(0)  # (D,): the factor each dimension stands for
    dims = np.arange(len(variances))
    eval_votes = factor_vae_votes(represent, sampler, num_eval, batch_size, rng, variances, active)
    return {"train_accuracy": float(train_votes[classifier, dims].sum() / train_votes.sum()),
            "eval_accuracy": float(eval_votes[classifier, dims].sum() / eval_votes.sum()),
            "num_active_dims": int(active.sum())}


# --- registered: computed by the suite, drawing their own batches through its Representation -------


def beta_vae_of(sample: FactorSample) -> dict:
    scores = beta_vae_score(sample.represent, sample.data, sample.seed, **sample.settings["beta_vae"])
    return {"beta_vae_score": scores["eval_accuracy"], "beta_vae_train_accuracy": scores["train_accuracy"]}


def factor_vae_of(sample: FactorSample) -> dict:
    scores = factor_vae_score(sample.represent, sample.data, sample.seed, **sample.settings["factor_vae"])
    return {"factor_vae_score": scores["eval_accuracy"], "factor_vae_train_accuracy": scores["train_accuracy"],
            "factor_vae_active_dims": scores["num_active_dims"]}


BETTER = "higher_is_better"
register_metric(Metric("beta_vae_score", "BetaVAE score", "disentanglement", order=BETTER, compute=beta_vae_of,
                       step="beta_vae"))
register_metric(Metric("beta_vae_train_accuracy", "BetaVAE score (train)", "disentanglement", order=BETTER,
                       table=False))
register_metric(Metric("factor_vae_score", "FactorVAE score", "disentanglement", order=BETTER, compute=factor_vae_of,
                       step="factor_vae"))
register_metric(Metric("factor_vae_train_accuracy", "FactorVAE score (train)", "disentanglement", order=BETTER,
                       table=False))
register_metric(Metric("factor_vae_active_dims", "FactorVAE active dimensions", "disentanglement", table=False))
