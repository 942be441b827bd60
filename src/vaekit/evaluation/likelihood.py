"""Evaluation: the ELBO and the importance-sampled log-likelihood of a trained model.

    log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K,   z_k ~ q(z|x)

(Burda et al., 2016). In expectation this is a lower bound on log p(x) that tightens as K grows;
K = 1 gives the ELBO. All numbers are nats per example; for images also bits per dimension.
Seeded work runs inside ``torch.random.fork_rng``, so the caller's random state is untouched.
"""

from __future__ import annotations

import math
import time

import torch
from torch.distributions import Distribution

from ..config.section import Section
from ..data.array import ArrayData
from ..errors import UserError
from ..data.batch import Batch, split_batches
from ..models.conditional import model_labels
from ..models.protocols import WideOutput
from ..models.registry import LIKELIHOODS
from ..nn.collective import object_from_first, rank, sum_over_ranks, world_size
from ..nn.modes import eval_mode
from ..objectives import build_objective, log_weights_at
from ..seeding import seeded
from .metrics import Metric, register_metric

# Elements of decoded parameters per pass of draws, chunk * B * prod(data_shape): 2^22 float32 =
# 16 MiB, so that a pass's activations stay in a CPU's last-level cache and below glibc's mmap
# threshold (passes of 2^26 elements ran at half the speed: see BENCHMARKS.md; the command line
# also keeps freed blocks in the heap: ``vaekit.cli.keep_freed_memory``). Hidden activations
# of a trunk can be a few times larger; this sets the order of magnitude.
MEMORY_BUDGET = 2**22
# Elements of inputs per batch of examples, B * prod(data_shape): 2^20 (1,337 images of 28 x 28),
# so that each pass decodes a few draws for many examples at once.
BATCH_BUDGET = 2**20
MIN_BATCH = 16  # examples per batch however many decoded values each input element has


def log_likelihood(model, x: torch.Tensor, k: int, chunk: int | None = None, seed: int = 0,
                   labels: torch.Tensor | None = None) -> torch.Tensor:
    """Importance-sampled log p(x) (B,) float64, nats, from k draws per example.

    The k draws are decoded ``chunk`` at a time (default: as many as fit ``MEMORY_BUDGET``) and
    combined with a running float64 logsumexp. Draw s is the s-th ``q.sample()`` after seeding, so
    at a fixed seed the estimate does not depend on ``chunk``; it does depend on which examples
    share the batch x. Runs without gradients, in the model's current mode. ``labels`` (B,): the
    examples' labels, for a conditional model.
    """
    check_k(k)
    with torch.no_grad(), seeded(seed, x.device):
        return running_log_likelihood(model, x, k, chunk, labels)


def running_log_likelihood(model, x: torch.Tensor, k: int, chunk: int | None = None,
                           labels: torch.Tensor | None = None, q: Distribution | None = None) -> torch.Tensor:
    """``log_likelihood`` without seeding: draws from the current random state. (B,) float64.
    ``q``: the proposal q(z|x) (batch shape (B,)) when it is not the model's encoder's (likelihood regret
    re-optimises the encoder per example)."""
    chunk = max(1, min(k, chunk or default_chunk(x.shape, memory_factor(model))))
    q = model.encode(x, labels) if q is None else q  # once per batch: the encoder does not depend on the draws
    total = torch.full(x.shape[:1], -math.inf, dtype=torch.float64, device=x.device)  # (B,)
    for start in range(0, k, chunk):
        z = draw(q, min(chunk, k - start))  # (n, B, D)
        log_w = log_weights_at(model, x, q, z, labels).double()  # (n, B); float64 before summing K terms
        total = torch.logaddexp(total, log_w.logsumexp(0))
    return total - math.log(k)


def draw(q: Distribution, n: int) -> torch.Tensor:
    """(n, B, D): n draws from q, one ``q.sample()`` each, so that draw s is the same whichever
    chunk it falls in (one sample((n,)) call lays out the random stream differently for each n)."""
    return torch.stack([q.sample() for _ in range(n)])


def default_chunk(x_shape: torch.Size, factor: int = 1) -> int:
    """Draws per pass for a batch of shape (B, *data_shape), so chunk * numel(x) * factor <= MEMORY_BUDGET."""
    return max(1, MEMORY_BUDGET // max(1, math.prod(x_shape) * factor))


def default_batch_size(data_shape: tuple[int, ...], examples: int, factor: int = 1) -> int:
    """Examples per batch: BATCH_BUDGET elements of inputs (a few draws per pass of MEMORY_BUDGET), divided
    by ``factor`` (``memory_factor``), but at least MIN_BATCH examples."""
    if factor > 1:
        return max(1, min(examples, max(MIN_BATCH, BATCH_BUDGET // (math.prod(data_shape) * factor))))
    return max(1, min(examples, BATCH_BUDGET // math.prod(data_shape)))


def memory_factor(model) -> int:
    """Decoded values per input element (a likelihood's ``memory_factor``: 256 for a 256-way
    categorical), so that a pass's decoded parameters, not only its inputs, fit the budgets."""
    likelihood = model.likelihood
    return int(likelihood.memory_factor) if isinstance(likelihood, WideOutput) else 1


def evaluate(
    model, data: ArrayData, k: int = 0, batch_size: int | None = None, seed: int = 0, chunk: int | None = None,
    sharded: bool = False,
) -> dict:
    """Mean per-example numbers over ``data`` as a flat dict of plain floats and ints.

    ``data``: an ``ArrayData``, or anything with its reading interface (len, shape, is_image, name,
    inputs(slice)), such as the streaming path's ``StreamedData``. Batches are checked against the
    likelihood's support (UserError naming the data) and cast to the model's device and dtype.

    Always: examples, k, seed, seconds, and the model's default objective terms in nats per example
    (a VAE: elbo_nats, log_px_z_nats, kl_nats; an autoencoder: log_px_z_nats only).
    k > 0 (models with a prior only): log_px_nats, the importance-sampled log p(x) with k draws,
    and nll_nats = -log_px_nats. Images (C, H, W) also get negative_elbo_bits_per_dim and
    nll_bits_per_dim: nats / (C * H * W * ln 2). One seeded random stream serves the whole pass,
    so the result is reproducible for a fixed (seed, batch_size).

    ``sharded`` (every process of a torch.distributed group calls it): the batches are shared out
    with one stream per batch (``sharded_mean_terms``), and ``processes`` says how many took part.
    """
    started = time.perf_counter()
    means = (sharded_mean_terms if sharded else mean_terms)(model, data, k, batch_size, seed, chunk)
    result = report(means, data, k, seed, time.perf_counter() - started)
    if sharded:
        result["processes"] = world_size()
    return result


def mean_terms(
    model, data: ArrayData, k: int = 0, batch_size: int | None = None, seed: int = 0, chunk: int | None = None
) -> dict[str, float]:
    """Per-example means (nats) of the objective's terms and, when k > 0, of log p(x) ('log_px').

    The means of ``per_example_terms`` (same arguments, so the same random stream)."""
    terms = per_example_terms(model, data, k, batch_size, seed, chunk)
    return {name: float(values.sum()) / len(values) for name, values in terms.items()}


def per_example_terms(
    model, data: ArrayData, k: int = 0, batch_size: int | None = None, seed: int = 0, chunk: int | None = None
) -> dict[str, torch.Tensor]:
    """name -> (N,) float64 CPU tensor, nats, one value per example of ``data`` in data order.

    Names: the model's default objective terms (a VAE: elbo, log_px_z, kl; an autoencoder:
    log_px_z) and, when k > 0, log_px, the importance-sampled log p(x) with k draws. One seeded
    random stream serves the whole pass, so the values are reproducible for a fixed
    (seed, batch_size); an example's value depends on which examples share its batch.
    """
    batch_size = check_request(model, data, k, batch_size)
    objective = build_objective(Section(name="auto"), model)
    parameter = next(model.parameters())
    likelihood = likelihood_name(model.likelihood)
    parts: dict[str, list[torch.Tensor]] = {}
    with torch.no_grad(), seeded(seed, parameter.device), eval_mode(model):
        for batch in split_batches(data, batch_size, parameter, model_labels(model, data)):
            for name, value in batch_terms(model, objective, batch, k, chunk, likelihood, data.name).items():
                parts.setdefault(name, []).append(value)  # stays on the device until the end
    return {name: torch.cat(values).cpu() for name, values in parts.items()}  # one transfer per term


def batch_terms(model, objective, batch: Batch, k: int, chunk: int | None, likelihood: str, name: str) -> dict:
    """name -> (B,) float64 nats of one batch (x (B, *shape)), drawing from the current random state."""
    # Checked per batch, as read: a Bernoulli model scored on grey levels would otherwise
    # return a meaningless number without complaint; streamed data is decoded only once.
    model.likelihood.check_support(batch.x, likelihood, name)
    terms = dict(objective(model, batch).terms)  # name -> (B,) nats
    if k > 0:
        terms["log_px"] = running_log_likelihood(model, batch.x, k, chunk, batch.labels)
    return {term: value.double() for term, value in terms.items()}


def batch_seed(seed: int, index: int) -> int:
    """The seed of batch ``index`` of a sharded evaluation: one stream per (seed, batch)."""
    return (seed * 1_000_003 + index) % (2**63)


def sharded_mean_terms(
    model, data: ArrayData, k: int = 0, batch_size: int | None = None, seed: int = 0, chunk: int | None = None
) -> dict[str, float]:
    """``mean_terms`` shared out among the processes of a torch.distributed group: batch i (data
    order) goes to rank i mod W and draws from its own stream, seeded with (seed, i), so every
    example is scored once, by one rank, and the means do not depend on the number of processes
    (one process gives the same numbers, up to the order of float64 sums). Per-term sums and the
    example count are summed over the ranks in one collective. Outside a group: W = 1.

    The streams differ from ``mean_terms``' single stream, so the two agree in distribution, not
    draw for draw."""
    batch_size = check_request(model, data, k, batch_size)
    objective = build_objective(Section(name="auto"), model)
    parameter = next(model.parameters())
    likelihood = likelihood_name(model.likelihood)
    sums: dict[str, torch.Tensor] = {}
    count = torch.zeros((), dtype=torch.float64, device=parameter.device)
    labels = model_labels(model, data)
    with torch.no_grad(), eval_mode(model):
        for index, start in enumerate(range(0, len(data), batch_size)):
            if index % world_size() != rank():
                continue
            x = data.inputs(slice(start, start + batch_size)).to(device=parameter.device, dtype=parameter.dtype)
            batch = Batch(x, None if labels is None else labels[start : start + batch_size].to(x.device))
            with seeded(batch_seed(seed, index), parameter.device):
                terms = batch_terms(model, objective, batch, k, chunk, likelihood, data.name)
            for name, value in terms.items():
                sums[name] = sums.get(name, 0) + value.sum()
            count += len(x)
    names = object_from_first(list(sums))  # rank 0 always scores batch 0; a rank may have none
    local = torch.stack([count] + [sums.get(name, torch.zeros_like(count)) for name in names])
    total = sum_over_ranks(local)
    if int(total[0]) != len(data):
        raise RuntimeError(f"sharded evaluation scored {int(total[0])} of {len(data)} examples")
    return {name: float(value) / len(data) for name, value in zip(names, total[1:].tolist())}


def check_request(model, data: ArrayData, k: int, batch_size: int | None) -> int:
    """Raise a UserError for an evaluation that cannot run; returns the batch size to use."""
    check_k(k, allow_zero=True)
    if k > 0 and model.prior is None:
        raise UserError(
            "importance-sampled log p(x) needs a prior, and this model has none (a plain autoencoder, or a VQ-VAE "
            "before 'vaekit fit-code-prior'); evaluate it with k=0"
        )
    if len(data) == 0:
        raise UserError(f"{data.name}: no examples to evaluate")
    if batch_size is not None and batch_size < 1:
        raise UserError(f"batch_size must be at least 1, got {batch_size}")
    return batch_size or default_batch_size(data.shape, len(data), memory_factor(model))


def report(means: dict[str, float], data: ArrayData, k: int, seed: int, seconds: float) -> dict:
    """The flat result dict: names carry their units."""
    result: dict = {f"{name}_nats": value for name, value in means.items()}
    if "log_px" in means:
        result["nll_nats"] = -means["log_px"]
    if data.is_image:
        dims_ln2 = math.prod(data.shape) * math.log(2)  # nats per example -> bits per dimension
        if "elbo" in means:
            result["negative_elbo_bits_per_dim"] = -means["elbo"] / dims_ln2
        if "log_px" in means:
            result["nll_bits_per_dim"] = -means["log_px"] / dims_ln2
    result.update(k=int(k), seed=int(seed), examples=len(data), seconds=seconds)
    return result


def likelihood_name(likelihood) -> str:
    """The registered name of a likelihood module (its class name if it is not registered)."""
    names = [name for name in LIKELIHOODS.names() if LIKELIHOODS.get(name) is type(likelihood)]
    return names[0] if names else type(likelihood).__name__


def check_k(k: int, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if isinstance(k, bool) or not isinstance(k, int) or k < low:
        raise UserError(f"k, the number of importance samples, must be an integer >= {low}, got {k!r}")


# --- registered metrics (keys of ``report``; the units are in the names) ---------------------------

register_metric(Metric("elbo_nats", "ELBO, nats per example", "likelihood", unit="nats", order="higher_is_better",
                       headline=True))
register_metric(Metric("log_px_z_nats", "reconstruction log p(x|z), nats per example", "likelihood", unit="nats",
                       order="higher_is_better"))
register_metric(Metric("kl_nats", "KL(q(z|x) || p(z)), nats per example", "likelihood", unit="nats"))
register_metric(Metric("kl_z1_nats", "KL of the lower level z1, nats per example", "likelihood", unit="nats"))  # hvae
register_metric(Metric("kl_z2_nats", "KL of the top level z2, nats per example", "likelihood", unit="nats"))
register_metric(Metric("vq_commitment_nats", "VQ commitment term (squared latent units)", "likelihood",
                       table=False))  # a VQ-VAE's objective terms, as evaluation's objective returns them
register_metric(Metric("vq_codebook_nats", "VQ codebook term (squared latent units)", "likelihood", table=False))
register_metric(Metric("log_px_nats", "importance-sampled log p(x), nats per example", "likelihood", unit="nats",
                       order="higher_is_better"))
register_metric(Metric("nll_nats", "NLL, nats per example", "likelihood", unit="nats", order="lower_is_better",
                       headline=True))
register_metric(Metric("negative_elbo_bits_per_dim", "negative ELBO, bits per dimension", "likelihood",
                       unit="bits/dim", order="lower_is_better"))
register_metric(Metric("nll_bits_per_dim", "NLL, bits per dimension", "likelihood", unit="bits/dim",
                       order="lower_is_better", headline=True))
