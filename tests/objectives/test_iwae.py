"""The IWAE objective: its bound against the linear-Gaussian oracle (IWAE_1 <= IWAE_5 <= IWAE_50 <=
log p(x)), its terms on the same draws, its gradients, how it is configured, and the command line."""

import math

import oracles
import pytest
import torch
from helpers import read_metrics

from vaekit import Config, ModelConfig, ObjectiveConfig, UserError, build_model, build_objective
from vaekit.cli import main
from vaekit.data.batch import Batch
from vaekit.objectives import ELBO, IWAE
from vaekit.seeding import seeded


def iwae_runs(model, x, k: int, seeds: int) -> torch.Tensor:
    """(seeds,) batch means of the IWAE_k term, one per seed."""
    with torch.no_grad():
        runs = []
        for seed in range(seeds):
            with seeded(seed, "cpu"):
                runs.append(IWAE(k=k)(model, Batch(x)).terms["iwae"].mean())
    return torch.stack(runs)


def test_bound_increases_with_k_up_to_the_exact_log_likelihood(oracle, oracle_x):
    """Means over seeds: IWAE_1 < IWAE_5 < IWAE_50 < log p(x), each gap beyond 3 standard errors."""
    model, seeds = oracles.approximate_model(oracle), 12
    runs = {k: iwae_runs(model, oracle_x, k, seeds) for k in (1, 5, 50)}
    mean = {k: r.mean() for k, r in runs.items()}
    error = {k: r.std() / math.sqrt(seeds) for k, r in runs.items()}
    assert mean[5] - mean[1] > 3 * (error[1] + error[5])
    assert mean[50] - mean[5] > 3 * (error[5] + error[50])
    assert oracle.log_px(oracle_x).mean() - mean[50] > 3 * error[50]


def test_one_sample_bound_is_the_elbo(oracle, oracle_x):
    """k = 1: the IWAE term is the ELBO term, and both average to the exact ELBO of the oracle."""
    model = oracles.approximate_model(oracle)
    with seeded(0, "cpu"), torch.no_grad():
        terms = IWAE(k=1)(model, Batch(oracle_x)).terms
    torch.testing.assert_close(terms["iwae"], terms["elbo"], rtol=0, atol=1e-12)
    q = model.encode(oracle_x)
    with torch.no_grad():
        exact = oracle.expected_log_px_z(q, oracle_x) - torch.distributions.kl_divergence(q, model.prior_distribution())
    assert abs(float(terms["elbo"].mean() - exact.mean())) < 0.5  # one draw per example, 64 examples


def test_bound_is_above_the_elbo_of_the_same_draws(oracle, oracle_x):
    """log mean exp(w) >= mean w for every example (Jensen), strictly for an imperfect posterior;
    the reported elbo is log_px_z - kl, averaged over the same k draws."""
    model = oracles.approximate_model(oracle)
    with seeded(3, "cpu"), torch.no_grad():
        terms = IWAE(k=5)(model, Batch(oracle_x)).terms
    assert set(terms) >= {"iwae", "elbo", "log_px_z", "kl"}
    assert all(term.shape == (len(oracle_x),) for term in terms.values())
    assert (terms["iwae"] > terms["elbo"]).all()
    torch.testing.assert_close(terms["elbo"], terms["log_px_z"] - terms["kl"], rtol=0, atol=1e-9)


def test_exact_posterior_makes_every_k_exact(oracle, oracle_x):
    """With q = p(z|x) every log-weight is log p(x): the bound is exact whatever k."""
    with seeded(0, "cpu"), torch.no_grad():
        terms = IWAE(k=7)(oracles.build_model(oracle), Batch(oracle_x)).terms
    torch.testing.assert_close(terms["iwae"], oracle.log_px(oracle_x), rtol=0, atol=1e-8)


def test_loss_gradients_reach_the_encoder():
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=3, hidden=(16,), likelihood="bernoulli"), (12,))
    x = (torch.rand(8, 12, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    build_objective(ObjectiveConfig(name="iwae", k=5), model)(model, Batch(x)).loss.backward()
    for name, parameter in model.named_parameters():
        if name.startswith(("encoder.", "head.")):
            assert parameter.grad is not None and parameter.grad.abs().max() > 0, name
    mu_rows, log_var_rows = model.head.linear.weight.grad.chunk(2)  # both halves of the reparameterisation
    assert mu_rows.abs().sum() > 0 and log_var_rows.abs().sum() > 0


def test_built_from_the_config():
    model = build_model(ModelConfig(latent_dim=2, hidden=(4,), likelihood="gaussian"), (3,))
    config = Config().override(["objective.name=iwae", "objective.k=7"])
    objective = build_objective(config.objective, model)
    assert isinstance(objective, IWAE) and objective.k == 7
    assert build_objective(ObjectiveConfig(name="iwae"), model).k == 5  # the documented default


@pytest.mark.parametrize("objective, message", [
    (ObjectiveConfig(name="iwae", k=0), "objective.k"),
    (ObjectiveConfig(name="iwae", beta=2.0), "KL weight"),
    (ObjectiveConfig(name="iwae", warmup_epochs=10), "KL weight"),
    (ObjectiveConfig(name="elbo", k=50), "unknown key .k. .* for objective .elbo.; known keys: name, beta"),
    (ObjectiveConfig(name="auto", k=50), "unknown key .k. .* for objective .elbo."),
])
def test_refuses_settings_that_would_be_ignored(objective, message):
    model = build_model(ModelConfig(latent_dim=2, hidden=(4,), likelihood="gaussian"), (3,))
    with pytest.raises(UserError, match=message):
        build_objective(objective, model)
    assert isinstance(build_objective(ObjectiveConfig(name="elbo"), model), ELBO)


def test_command_line_trains_with_iwae(tmp_path):
    out = tmp_path / "iwae"
    assert main(["train", "--data", "digits", "--objective", "iwae", "--set", "objective.k=5", "--epochs", "3",
                 "--batch-size", "64", "--latent-dim", "4", "--set", "model.hidden=[64]", "--set", "train.report=false",
                 "--out", str(out)]) == 0
    rows = read_metrics(out)
    assert "objective.k" not in rows[0] and (out / "config.yaml").read_text().count("k: 5") == 1
    for row in rows:  # the bound of each epoch is above the ELBO of the same draws
        assert float(row["train_iwae"]) > float(row["train_elbo"])
    assert float(rows[-1]["train_iwae"]) > float(rows[0]["train_iwae"]) + 1
    assert float(rows[-1]["val_elbo"]) > float(rows[0]["val_elbo"])
