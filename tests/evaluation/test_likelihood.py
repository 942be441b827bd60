"""The importance-sampled log-likelihood and ``evaluate``, against the linear-Gaussian oracle:
exactness with the exact posterior, ELBO <= IWAE_5 <= IWAE_50 <= log p(x), independence from
the chunk size, agreement with a slow per-point loop, and no trace left on the global RNG."""

import math

import oracles
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from vaekit import ModelConfig, UserError, build_model
from vaekit.data.array import ArrayData
from vaekit.evaluation.likelihood import MEMORY_BUDGET, default_chunk, evaluate, log_likelihood
from vaekit.objectives.importance import log_weights


def test_exact_posterior_gives_the_exact_log_likelihood(oracle, oracle_x):
    estimate = log_likelihood(oracles.build_model(oracle), oracle_x, k=1000)
    assert estimate.dtype == torch.float64 and estimate.shape == (len(oracle_x),)
    # Every log-weight equals log p(x), so this is exact up to rounding: far inside 0.05 nats.
    assert (estimate - oracle.log_px(oracle_x)).abs().max() < 1e-8


def test_nearly_exact_posterior_converges_at_large_k(oracle, oracle_x):
    """A slightly wrong posterior: K = 1000 brings the batch mean within 0.05 nats of log p(x)."""
    model = oracles.build_model(oracle, mean_shift=0.05, log_var_shift=0.2)
    error = (log_likelihood(model, oracle_x, k=1000) - oracle.log_px(oracle_x)).mean()
    assert abs(float(error)) < 0.05
    # ... while the ELBO does not: the test is not passing because any estimator would.
    q = model.encode(oracle_x)
    with torch.no_grad():
        elbo = oracle.expected_log_px_z(q, oracle_x) - kl_divergence(q, model.prior_distribution())
    assert float((oracle.log_px(oracle_x) - elbo).mean()) > 0.2


def test_bounds_tighten_with_k(oracle, oracle_x):
    """ELBO < IWAE_5 < IWAE_50 < log p(x) for an approximate posterior, each step by more than
    three standard errors of the seed-to-seed Monte Carlo noise of the batch means."""
    model, seeds = oracles.approximate_model(oracle), 10
    with torch.no_grad():
        q = model.encode(oracle_x)
        elbo = (oracle.expected_log_px_z(q, oracle_x) - kl_divergence(q, model.prior_distribution())).mean()  # exact
    iwae = {k: torch.stack([log_likelihood(model, oracle_x, k, seed=s).mean() for s in range(seeds)]) for k in (5, 50)}
    error = {k: runs.std() / math.sqrt(seeds) for k, runs in iwae.items()}
    iwae5, iwae50, log_px = iwae[5].mean(), iwae[50].mean(), oracle.log_px(oracle_x).mean()
    assert iwae5 - elbo > 3 * error[5]
    assert iwae50 - iwae5 > 3 * (error[5] + error[50])
    assert log_px - iwae50 > 3 * error[50]


def test_one_sample_estimate_is_unbiased_for_the_elbo(oracle, oracle_x):
    """K = 1: logsumexp of one weight minus log 1 is the plain ELBO estimate."""
    model, seeds = oracles.approximate_model(oracle), 20
    runs = torch.stack([log_likelihood(model, oracle_x, 1, seed=s).mean() for s in range(seeds)])
    with torch.no_grad():
        q = model.encode(oracle_x)
        elbo = (oracle.expected_log_px_z(q, oracle_x) - kl_divergence(q, model.prior_distribution())).mean()
    assert abs(float(runs.mean() - elbo)) < 4 * float(runs.std()) / math.sqrt(seeds)


@pytest.mark.parametrize("chunk", [1, 3, 10, None])
def test_the_estimate_does_not_depend_on_the_chunk_size(oracle, oracle_x, chunk):
    model = oracles.approximate_model(oracle)
    reference = log_likelihood(model, oracle_x, k=37, chunk=37, seed=5)
    torch.testing.assert_close(log_likelihood(model, oracle_x, k=37, chunk=chunk, seed=5), reference, rtol=1e-12, atol=1e-12)


def test_chunk_size_does_not_change_a_float32_network():
    """The same with a nonlinear float32 model: only the rounding of batched matmuls may differ."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=4, hidden=(32,), likelihood="bernoulli"), (20,))
    x = (torch.rand(16, 20, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    one = log_likelihood(model, x, k=50, chunk=1, seed=2)
    torch.testing.assert_close(log_likelihood(model, x, k=50, chunk=7, seed=2), one, rtol=1e-6, atol=1e-5)
    assert not torch.allclose(log_likelihood(model, x, k=50, seed=3), one)  # and the seed does matter


def reference_log_likelihood(oracle, model, x, k, seed):
    """A slow per-point loop with closed-form densities and scalar logsumexp, on the same draws:
    draw s is the s-th q.sample() of the batch posterior after seeding (the documented protocol)."""
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        q_batch = model.encode(x)
        draws = [q_batch.sample() for _ in range(k)]  # k x (B, D)
    values = []
    for i in range(len(x)):
        q = model.encode(x[i : i + 1])  # this point alone
        mean, std = q.mean[0].detach(), q.stddev[0].detach()
        log_w = []
        for z in (draw[i] for draw in draws):
            log_px_z = Normal(oracle.W @ z + oracle.b, oracle.sigma).log_prob(x[i]).sum()
            log_pz = Normal(0.0, 1.0).log_prob(z).sum()
            log_qz = Normal(mean, std).log_prob(z).sum()
            log_w.append(float(log_px_z + log_pz - log_qz))
        top = max(log_w)
        values.append(top + math.log(sum(math.exp(w - top) for w in log_w)) - math.log(k))
    return torch.tensor(values, dtype=torch.float64)


def test_batched_estimator_equals_a_per_point_loop(oracle, oracle_x):
    model, points, k = oracles.approximate_model(oracle), 12, 25
    batch = oracle_x[:points]
    expected = reference_log_likelihood(oracle, model, batch, k, seed=7)
    torch.testing.assert_close(log_likelihood(model, batch, k, chunk=4, seed=7), expected, rtol=1e-10, atol=1e-10)


def test_global_rng_state_is_untouched(oracle, oracle_x):
    model = oracles.approximate_model(oracle)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = log_likelihood(model, oracle_x, k=20, seed=0)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(456)  # a different global state gives the same estimate: it is seeded by `seed` alone
    torch.testing.assert_close(log_likelihood(model, oracle_x, k=20, seed=0), first, rtol=0, atol=0)
    data = ArrayData(oracle_x.float(), None, "oracle samples")
    before = torch.get_rng_state()
    evaluate(model, data, k=5, batch_size=10)
    assert torch.equal(torch.get_rng_state(), before)


def test_log_weights_keep_gradients_for_training(oracle, oracle_x):
    """An IWAE objective will train through log_weights: gradients reach mu and log var rows."""
    model = oracles.approximate_model(oracle)
    torch.manual_seed(0)
    weights = log_weights(model, oracle_x, 5)
    assert weights.shape == (5, len(oracle_x))
    weights.logsumexp(0).mean().backward()
    grad = model.head.linear.weight.grad
    D = oracle.latent_dim
    assert grad[:D].abs().sum() > 0 and grad[D:].abs().sum() > 0


def test_default_chunk_respects_the_memory_budget():
    for shape in [(10_000, 784), (128, 1, 28, 28), (1, 3, 64, 64), (100_000, 784)]:
        chunk = default_chunk(torch.Size(shape))
        assert chunk >= 1
        assert chunk == 1 or chunk * math.prod(shape) <= MEMORY_BUDGET


def test_evaluate_reports_consistent_units_for_images():
    torch.manual_seed(0)
    shape = (1, 8, 8)
    model = build_model(ModelConfig(trunk="mlp", hidden=(16,), latent_dim=3, likelihood="bernoulli"), shape)
    values = (torch.rand(30, *shape, generator=torch.Generator().manual_seed(1)) < 0.4).to(torch.uint8)
    data = ArrayData(values, None, "binary test images")
    result = evaluate(model, data, k=20, batch_size=7, seed=0)
    dims_ln2 = math.prod(shape) * math.log(2)
    assert result["nll_nats"] == -result["log_px_nats"]
    assert result["nll_bits_per_dim"] == pytest.approx(result["nll_nats"] / dims_ln2, rel=1e-12)
    assert result["negative_elbo_bits_per_dim"] == pytest.approx(-result["elbo_nats"] / dims_ln2, rel=1e-12)
    assert result["elbo_nats"] == pytest.approx(result["log_px_z_nats"] - result["kl_nats"], rel=1e-6)  # float32 terms
    assert (result["examples"], result["k"], result["seed"]) == (30, 20, 0)
    assert all(type(value) in (float, int) for value in result.values())
    again = evaluate(model, data, k=20, batch_size=7, seed=0)
    assert {key: v for key, v in again.items() if key != "seconds"} == {
        key: v for key, v in result.items() if key != "seconds"
    }


def test_evaluate_matches_the_oracle_across_uneven_batches(oracle, oracle_x):
    """30 examples in batches of 7 (the last has 2): the means must weight every example once."""
    model = oracles.build_model(oracle)
    model.train()
    modes = []  # the head's mode at each call: dropout or batch norm would act on it
    model.head.register_forward_pre_hook(lambda module, inputs: modes.append(module.training))
    data = ArrayData(oracle_x[:30].float(), None, "oracle samples")
    inputs = data.inputs().double()  # what evaluate sees: float32 values, cast to the model's float64
    result = evaluate(model, data, k=10, batch_size=7, seed=0)
    assert result["log_px_nats"] == pytest.approx(float(oracle.log_px(inputs).mean()), abs=1e-9)
    q = oracle.exact_posterior(inputs)
    assert result["kl_nats"] == pytest.approx(float(kl_divergence(q, model.prior_distribution()).mean()), abs=1e-9)
    assert "nll_bits_per_dim" not in result  # not an image
    assert modes and not any(modes)  # evaluated in eval mode ...
    assert model.training  # ... and the caller's mode restored


def test_autoencoder_reports_reconstruction_only_and_refuses_k():
    torch.manual_seed(0)
    model = build_model(ModelConfig(name="ae", latent_dim=2, hidden=(8,), likelihood="gaussian"), (5,))
    data = ArrayData(torch.randn(9, 5), None, "table")
    result = evaluate(model, data, batch_size=4)
    x = data.inputs()
    squared = 0.5 * ((x - model.reconstruct(x)) ** 2).sum(1) + 2.5 * math.log(2 * math.pi)
    assert result["log_px_z_nats"] == pytest.approx(-float(squared.mean()), rel=1e-6)
    assert not {"elbo_nats", "kl_nats", "log_px_nats"} & set(result)
    with pytest.raises(UserError, match="prior"):
        evaluate(model, data, k=10)


def test_evaluate_refuses_data_outside_the_likelihood_support():
    model = build_model(ModelConfig(latent_dim=2, hidden=(8,), likelihood="bernoulli"), (5,))
    grey = ArrayData(torch.rand(6, 5), None, "grey levels.npy")
    with pytest.raises(UserError, match="grey levels.npy"):
        evaluate(model, grey)


@pytest.mark.parametrize("k", [0, -3, 2.5, True])
def test_log_likelihood_refuses_a_bad_k(oracle, oracle_x, k):
    with pytest.raises(UserError, match="k"):
        log_likelihood(oracles.build_model(oracle), oracle_x, k)
