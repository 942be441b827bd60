"""The disentangling objectives as registered (beta-TCVAE, FactorVAE, capacity, DIP-VAE): every weight
changes the loss and every setting has such a test, resume with the objective's own state is
bit-identical, and bad settings exit 2 with one line."""

import pytest
import torch
from helpers import SMALL_DISCRIMINATOR, cli_error
from interrupted import train_interrupted

import vaekit
from vaekit import ObjectiveConfig, build_objective
from vaekit.data.batch import Batch
from vaekit.objectives.protocols import NeedsDataSize
from vaekit.training.checkpoint import load_tensors

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
        (["--objective", "beta_tcvae", "--prior", "mog"], r"'beta_tcvae' splits the KL per latent dimension .* model.prior.name=normal"),
        (["--objective", "beta_tcvae", "--set", "objective.alpha=-1"], r"objective.alpha must be >= 0"),
        (["--objective", "factorvae", "--model", "ae"], r"'factorvae' needs the diagonal Gaussian posterior"),
        (["--objective", "factorvae", "--set", "objective.discriminator_layers=0"], r"discriminator_layers must be at least 1"),
        (["--objective", "factorvae", "--beta", "4"], r"objective: unknown key 'beta' \(= 4.0\) for objective 'factorvae'; known keys: name, gamma, "),
        (["--objective", "capacity", "--set", "objective.capacity_steps=0"], r"capacity_steps must be at least 1"),
        (["--objective", "dip_vae_ii", "--set", "objective.lambda_d=-2"], r"objective.lambda_d must be >= 0"),
        (["--objective", "dip_vae_i", "--model", "hvae"], r"'dip_vae_i' needs the diagonal Gaussian posterior"),
        (["--objective", "elbo", "--set", "objective.gamma=35"], r"objective: unknown key 'gamma' \(= 35\) for objective 'elbo'; known keys: name, beta, warmup_epochs, free_bits$"),
        (["--set", "train.steps_per_epoch=-1"], r"train.steps_per_epoch must be at least 0"),
    ],
)
def test_bad_settings_exit_2_with_one_line(arguments, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli_error(["train", "--epochs", "1", "--set", "model.hidden=[8]", *arguments], capsys, message)
