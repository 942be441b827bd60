"""FactorVAE, capacity-annealed beta-VAE and DIP-VAE (beta-TCVAE's estimators are in
test_beta_tcvae.py): each weight changes the loss, the definitions on constructed inputs,
the discriminator's TC estimate against a closed form, bit-identical resume, and the refusals."""

import math

import pytest
import torch
from helpers import cli_error
from interrupted import train_interrupted
from torch.distributions import Independent, Normal

import vaekit
from vaekit import ObjectiveConfig, build_objective
from vaekit.data.batch import Batch
from vaekit.objectives.factorvae import FactorVAE, permute_dims
from vaekit.objectives.protocols import NeedsDataSize
from vaekit.training.checkpoint import load_tensors

SMALL_DISCRIMINATOR = {"discriminator_hidden": 16, "discriminator_layers": 2}


@pytest.fixture
def x():
    return torch.randn(32, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def loss_after(settings: dict, vae, x, steps: int = 0) -> torch.Tensor:
    """The loss of the objective ``settings`` on x after ``steps`` of its own update, all draws seeded."""
    torch.manual_seed(5)
    objective = build_objective(ObjectiveConfig(**settings), vae)
    if isinstance(objective, NeedsDataSize):
        objective.prepare(1000)
    for _ in range(steps):
        objective.step(objective(vae, Batch(x)))
    torch.manual_seed(6)
    return objective(vae, Batch(x)).loss


# (objective, its settings at the defaults, the knob changed, steps of the objective's own update first)
KNOBS = [
    ("beta_tcvae", {}, {"alpha": 3.0}, 0),
    ("beta_tcvae", {}, {"beta": 6.0}, 0),
    ("beta_tcvae", {}, {"gamma": 3.0}, 0),
    ("beta_tcvae", {"beta": 6.0}, {"tc_estimator": "mws"}, 0),  # at unit weights the estimates cancel: the ELBO
    ("factorvae", SMALL_DISCRIMINATOR, {"gamma": 35.0}, 0),
    ("factorvae", SMALL_DISCRIMINATOR, {"discriminator_hidden": 24}, 0),
    ("factorvae", SMALL_DISCRIMINATOR, {"discriminator_layers": 3}, 0),
    ("factorvae", SMALL_DISCRIMINATOR, {"discriminator_lr": 1e-2}, 1),
    ("capacity", {}, {"gamma": 1000.0}, 10),
    ("capacity", {}, {"capacity_max": 5.0}, 10),
    ("capacity", {}, {"capacity_steps": 20}, 10),
    ("dip_vae_i", {}, {"lambda_od": 1.0}, 0),
    ("dip_vae_i", {}, {"lambda_d": 1.0}, 0),
    ("dip_vae_ii", {}, {"lambda_od": 1.0}, 0),
    ("dip_vae_ii", {}, {"lambda_d": 1.0}, 0),
]


@pytest.mark.parametrize("name, base, knob, steps", KNOBS, ids=[f"{k[0]}-{next(iter(k[2]))}" for k in KNOBS])
def test_every_weight_changes_the_loss(vae, x, name, base, knob, steps):
    default = loss_after({"name": name, **base}, vae, x, steps)
    assert torch.equal(default, loss_after({"name": name, **base}, vae, x, steps))  # the comparison is seeded
    assert not torch.allclose(default, loss_after({"name": name, **base, **knob}, vae, x, steps), rtol=1e-9, atol=0)


def test_every_setting_of_the_new_objectives_has_a_knob_test():
    """A new field of ObjectiveConfig taken by one of these objectives needs a row in KNOBS."""
    import inspect

    from vaekit import OBJECTIVES

    for name in ("beta_tcvae", "factorvae", "capacity", "dip_vae_i", "dip_vae_ii"):
        taken = set(inspect.signature(OBJECTIVES.get(name)).parameters)
        tested = {field for objective, _, knob, _ in KNOBS if objective == name for field in knob}
        assert taken == tested, name


def test_capacity_target_rises_linearly_then_stays_and_the_loss_is_gamma_times_the_gap(vae, x):
    objective = build_objective(ObjectiveConfig(name="capacity", gamma=7.0, capacity_max=2.0, capacity_steps=4), vae)
    targets = []
    for _ in range(6):
        targets.append(float(objective.capacity()))
        torch.manual_seed(0)
        output = objective(vae, Batch(x))
        objective.step(output)
    assert targets == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    expected = -output.terms["log_px_z"].mean() + 7.0 * (output.terms["kl"].mean() - 2.0).abs()
    torch.testing.assert_close(output.loss, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(output.terms["capacity"], torch.full((32,), 2.0, dtype=torch.float64))


@pytest.mark.parametrize("name", ["dip_vae_i", "dip_vae_ii"])
def test_dip_penalties_are_the_covariance_of_the_means_or_of_the_aggregate_posterior(vae, x, name):
    objective = build_objective(ObjectiveConfig(name=name, lambda_od=3.0, lambda_d=5.0), vae)
    torch.manual_seed(0)
    output = objective(vae, Batch(x))
    q = vae.encode(x)
    covariance = torch.cov(q.mean.T, correction=0)  # (D, D): the batch covariance of the posterior means
    if name == "dip_vae_ii":  # Cov[z] under q(z) = Cov[mu] + E[diag sigma^2]
        covariance = covariance + torch.diag(q.variance.mean(0))
    off = sum(covariance[i, j] ** 2 for i in range(3) for j in range(3) if i != j)
    diagonal = sum((covariance[i, i] - 1) ** 2 for i in range(3))
    torch.testing.assert_close(output.terms["dip_off_diagonal"][0], off, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(output.terms["dip_diagonal"][0], diagonal, rtol=1e-10, atol=1e-12)
    elbo_loss = -(output.terms["elbo"]).mean()
    torch.testing.assert_close(output.loss, elbo_loss + 3.0 * off + 5.0 * diagonal, rtol=1e-10, atol=1e-10)


def test_permuted_codes_keep_each_column_and_break_the_pairing():
    torch.manual_seed(0)
    z = torch.arange(200.0).view(100, 2)
    shuffled = permute_dims(z)
    for d in range(2):
        assert torch.equal(shuffled[:, d].sort().values, z[:, d])  # each column is a permutation of itself
    assert not torch.equal(shuffled[:, 0].argsort(), shuffled[:, 1].argsort())  # the columns move independently


class CodesModel:
    """A stand-in model whose posterior mean is the input itself: the codes are given directly."""

    def __init__(self):
        self.head = torch.nn.Module()
        self.head.linear = torch.nn.Linear(1, 4)  # latent_dim 2, as the Gaussian head would say

    def encode(self, x, labels=None):
        return Independent(Normal(x, torch.full_like(x, 1e-3)), 1)

    def decode(self, z, labels=None):
        return Independent(Normal(z, torch.ones_like(z)), 1)

    def prior_distribution(self, labels=None):
        return Independent(Normal(torch.zeros(2), torch.ones(2)), 1)


@pytest.mark.slow
@pytest.mark.parametrize("rho", [0.8, 0.0])
def test_the_trained_discriminator_estimates_the_closed_form_tc_of_gaussian_codes(rho):
    """Codes z ~ N(0, [[1, rho], [rho, 1]]) have TC = -log(1 - rho^2) / 2 (0.51 nats at 0.8, 0 at 0);
    after training on them, the discriminator's mean logit difference is close to it."""
    torch.manual_seed(0)
    objective = FactorVAE(gamma=1.0, discriminator_hidden=64, discriminator_layers=2, discriminator_lr=1e-3)
    objective.bind(CodesModel())
    root = torch.linalg.cholesky(torch.tensor([[1.0, rho], [rho, 1.0]]))
    for _ in range(1500):
        objective.step(objective(CodesModel(), Batch(torch.randn(256, 2) @ root.T)))
    with torch.no_grad():
        estimate = float(objective(CodesModel(), Batch(torch.randn(20000, 2) @ root.T)).terms["tc"].mean())
    assert estimate == pytest.approx(-0.5 * math.log(1 - rho**2), abs=0.1)


def test_the_vae_loss_does_not_train_the_discriminator_and_the_step_does(vae, x):
    objective = build_objective(ObjectiveConfig(name="factorvae", gamma=35.0, **SMALL_DISCRIMINATOR), vae)
    before = [p.clone() for p in objective.module.parameters()]
    output = objective(vae, Batch(x))
    output.loss.backward()
    assert all(p.grad is None for p in objective.module.parameters())
    assert vae.head.linear.weight.grad.abs().max() > 0
    objective.step(output)
    assert all(not torch.equal(a, b) for a, b in zip(before, objective.module.parameters()))
    # The logged loss is the discriminator's cross-entropy: log 2 for a discriminator that cannot tell.
    assert float(output.terms["discriminator_loss"].detach().mean()) == pytest.approx(math.log(2), abs=0.05)


@pytest.mark.parametrize("settings", [
    {"name": "factorvae", "gamma": 10.0, **SMALL_DISCRIMINATOR},
    {"name": "capacity", "gamma": 10.0, "capacity_max": 5.0, "capacity_steps": 30},
    {"name": "beta_tcvae", "beta": 6.0},
])
def test_resume_with_the_objectives_own_state_is_bit_identical(tmp_path, small_config, settings):
    config = small_config.replace(objective=settings)
    whole = vaekit.train(config, out=tmp_path / "whole")
    train_interrupted(config, tmp_path / "cut", epochs=2)
    resumed = vaekit.train(resume=tmp_path / "cut")
    expected, _ = load_tensors(whole.dir / "last.safetensors")
    got, _ = load_tensors(resumed.dir / "last.safetensors")
    assert expected.keys() == got.keys()
    own = [name for name in expected if name.startswith("resume.objective.")]
    assert bool(own) == (settings["name"] != "beta_tcvae")  # the discriminator (and its Adam) or the step count
    for name in expected:
        assert torch.equal(expected[name], got[name]), name


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--objective", "beta_tcvae", "--set", "objective.tc_estimator=exact"], r"tc_estimator 'exact' is not one of: mss, mws"),
        (["--objective", "beta_tcvae", "--prior", "mog"], r"'beta_tcvae' splits the KL per latent dimension .* model.prior=normal"),
        (["--objective", "beta_tcvae", "--set", "objective.alpha=-1"], r"objective.alpha must be >= 0"),
        (["--objective", "factorvae", "--model", "ae"], r"'factorvae' needs the diagonal Gaussian posterior"),
        (["--objective", "factorvae", "--set", "objective.discriminator_layers=0"], r"discriminator_layers must be at least 1"),
        (["--objective", "factorvae", "--beta", "4"], r"objective: unknown key 'beta' \(= 4.0\) for objective 'factorvae'; known keys: name, gamma, "),
        (["--objective", "capacity", "--set", "objective.capacity_steps=0"], r"capacity_steps must be at least 1"),
        (["--objective", "dip_vae_ii", "--set", "objective.lambda_d=-2"], r"objective.lambda_d must be >= 0"),
        (["--objective", "dip_vae_i", "--model", "hvae"], r"'dip_vae_i' needs the diagonal Gaussian posterior"),
        (["--objective", "elbo", "--set", "objective.gamma=35"], r"objective: unknown key 'gamma' \(= 35\) for objective 'elbo'; known keys: name, beta, warmup_epochs, free_bits$"),
        (["--set", "train.steps_per_epoch=-1"], r"train.steps_per_epoch must be >= 0"),
    ],
)
def test_bad_settings_exit_2_with_one_line(arguments, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli_error(["train", "--epochs", "1", "--set", "model.hidden=[8]", *arguments], capsys, message)
