"""beta-VAE_DAE: the beta-VAE whose reconstruction is measured in a frozen DAE's feature space."""

import pytest
import torch

from vaekit import Config, UserError, build_model, build_objective, save_model
from vaekit.data.batch import Batch

SHAPE = (1, 8, 8)


def saved_run(folder, name="dae", shape=SHAPE):
    """A run folder holding a (randomly initialised) model ``name`` as its best weights."""
    config = Config().replace(model={"name": name, "latent_dim": 5, "trunk": {"hidden": [16]}, "likelihood": {"name": "bernoulli"}})
    torch.manual_seed(7)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(folder / "model.safetensors", build_model(config.model, shape), config)
    return folder


def objective_for(run, beta=4.0, shape=SHAPE):
    config = Config().replace(model={"latent_dim": 3, "trunk": {"hidden": [16]}, "likelihood": {"name": "bernoulli"}},
                              objective={"name": "beta_vae_dae", "beta": beta, "dae_run": str(run)})
    torch.manual_seed(0)
    model = build_model(config.model, shape)
    return model, build_objective(config.objective, model)


def test_the_loss_is_the_squared_feature_distance_plus_beta_kl(tmp_path):
    model, objective = objective_for(saved_run(tmp_path / "dae"))
    x = (torch.rand(6, *SHAPE, generator=torch.Generator().manual_seed(2)) < 0.5).float()
    torch.manual_seed(5)
    output = objective(model, Batch(x))
    torch.manual_seed(5)
    q = model.encode(x)
    z = q.rsample()
    x_hat = model.decode(z).mean
    dae = objective.dae
    distance = (dae.encode(x_hat).mean - dae.encode(x).mean).pow(2).sum(-1)
    kl = torch.distributions.kl_divergence(q, model.prior_distribution())
    assert torch.allclose(output.terms["dae_distance"], distance)
    assert torch.allclose(output.loss, distance.mean() + 4.0 * kl.mean())
    assert torch.allclose(output.terms["elbo"], output.terms["log_px_z"] - output.terms["kl"])
    output.loss.backward()
    assert all(p.grad is None for p in dae.parameters())  # the DAE stays frozen
    assert model.head.linear.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("setup, fragment", [
    (lambda tmp: "", "needs objective.dae_run=RUN"),
    (lambda tmp: tmp / "missing", "no model.safetensors there"),
    (lambda tmp: saved_run(tmp / "vae", name="vae"), "trained model 'vae', not 'dae'"),
])
def test_bad_dae_runs_are_refused_naming_the_option(tmp_path, setup, fragment):
    run = setup(tmp_path)
    with pytest.raises(UserError, match=fragment):
        objective_for(run)


def test_a_dae_of_another_data_shape_is_refused(tmp_path):
    with pytest.raises(UserError, match=r"the DAE takes data of shape \(1, 8, 8\), this model \(1, 6, 6\)"):
        objective_for(saved_run(tmp_path / "dae"), shape=(1, 6, 6))
