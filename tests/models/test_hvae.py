"""The two-level hierarchical VAE: its KL terms (per example, nats, summing to the ELBO gap), the
joint densities behind them, importance sampling, the model interface, conv_hvae's refusals, and
the command line."""

import math

import pytest
import torch
from helpers import read_metrics
from torch.distributions import Independent, Normal, kl_divergence

from vaekit import Config, ModelConfig, UserError, build_model
from vaekit.cli import main
from vaekit.data.batch import Batch
from vaekit.evaluation.likelihood import log_likelihood
from vaekit.objectives import ELBO
from vaekit.objectives.importance import log_weights
from vaekit.seeding import seeded

D = 3


@pytest.fixture
def hvae():
    torch.manual_seed(0)
    config = ModelConfig(name="hvae", latent_dim=D, hidden=(32,), likelihood="bernoulli")
    return build_model(config, (20,)).double()


@pytest.fixture
def x():
    return (torch.rand(16, 20, generator=torch.Generator().manual_seed(1)) < 0.3).double()


def test_kl_terms_are_per_example_and_sum_to_the_elbo_gap(hvae, x):
    with seeded(0, "cpu"):
        terms = ELBO()(hvae, Batch(x)).terms
    assert {"log_px_z", "kl", "kl_z1", "kl_z2", "elbo"} <= set(terms)
    assert all(term.shape == (len(x),) for term in terms.values())
    gap = terms["log_px_z"] - terms["elbo"]
    torch.testing.assert_close(gap, terms["kl"], rtol=0, atol=1e-10)
    torch.testing.assert_close(terms["kl_z1"] + terms["kl_z2"], terms["kl"], rtol=0, atol=1e-10)


def test_kl_terms_are_the_log_density_ratios_at_the_drawn_z(hvae, x):
    """Recomputed by hand from the same draw: kl_z2 = log q(z2|x) - log N(z2; 0, I) and
    kl_z1 = log q(z1|x, z2) - log p(z1|z2), each summed over the D dimensions (nats)."""
    with seeded(4, "cpu"):
        terms = ELBO()(hvae, Batch(x)).terms
    with seeded(4, "cpu"):
        q = hvae.encode(x)
        z = q.rsample()  # the objective's draw: the same random stream
    z1, z2 = z.chunk(2, dim=-1)
    gaussian = lambda d, v: Normal(d.base_dist.loc, d.base_dist.scale).log_prob(v).sum(-1)  # noqa: E731
    kl_z2 = gaussian(q.top, z2) - Normal(0.0, 1.0).log_prob(z2).sum(-1)
    kl_z1 = gaussian(q.conditional(z2), z1) - gaussian(hvae.prior.z1(z2), z1)
    torch.testing.assert_close(terms["kl_z2"], kl_z2.detach())
    torch.testing.assert_close(terms["kl_z1"], kl_z1.detach())


def test_top_level_kl_averages_to_its_closed_form(hvae, x):
    """Per example and in nats, not per dimension: the mean of kl_z2 over many draws of one example
    is KL(q(z2|x) || N(0, I)), summed over the dimensions."""
    repeated = x[:1].expand(4000, -1)
    with seeded(0, "cpu"), torch.no_grad():
        kl_z2 = ELBO()(hvae, Batch(repeated)).terms["kl_z2"]
        q_top = hvae.encode(x[:1]).top
        exact = kl_divergence(q_top, Independent(Normal(torch.zeros(D).double(), 1.0), 1))
    assert abs(float(kl_z2.mean() - exact[0])) < 4 * float(kl_z2.std()) / math.sqrt(len(kl_z2))


def test_importance_sampling_tightens_the_elbo(hvae, x):
    assert log_weights(hvae, x, 5).shape == (5, len(x))
    with seeded(0, "cpu"), torch.no_grad():
        elbo = torch.stack([ELBO()(hvae, Batch(x)).terms["elbo"] for _ in range(50)]).mean(0)
    assert (log_likelihood(hvae, x, k=500) > elbo).all()


def test_interface_speaks_about_the_pair_z1_z2(hvae, x):
    q = hvae.encode(x)
    assert q.mean.shape == q.variance.shape == (len(x), 2 * D)
    assert (q.variance > 0).all()
    torch.testing.assert_close(q.mean[:, D:], q.top.mean)  # the embedding ends with the mean of q(z2|x)
    assert hvae.reconstruct(x).shape == x.shape
    assert hvae.sample(4, 0.5, torch.Generator().manual_seed(0)).shape == (4, 20)


def test_conv_hvae_takes_images_and_the_conv_trunk_only():
    images = ModelConfig(name="conv_hvae", trunk="conv", latent_dim=2, channels=(4,), hidden=(8,), likelihood="bernoulli")
    assert build_model(images, (1, 9, 7)).decode(torch.zeros(5, 4)).mean.shape == (5, 1, 9, 7)
    with pytest.raises(UserError, match="needs images"):
        build_model(images, (30,))
    assert build_model(ModelConfig(name="conv_hvae", likelihood="bernoulli"), (1, 8, 8)).encoder  # its default trunk: conv
    mlp = Config().replace(model={"name": "conv_hvae", "likelihood": "bernoulli"})  # keeps the lower layer's trunk mlp
    with pytest.raises(UserError, match="model.trunk.name=conv"):
        build_model(mlp.model, (1, 8, 8))


def test_command_line_trains_the_hierarchy(tmp_path):
    out = tmp_path / "hvae"
    assert main(["train", "--data", "digits", "--model", "hvae", "--epochs", "3", "--batch-size", "64",
                 "--latent-dim", "4", "--set", "model.hidden=[64]", "--set", "model.gated=true", "--out", str(out)]) == 0
    rows = read_metrics(out)
    for row in rows:  # the per-level KLs, nats per example, add up to the total in every epoch's means
        assert float(row["val_kl_z1"]) + float(row["val_kl_z2"]) == pytest.approx(float(row["val_kl"]), abs=1e-6)
    assert float(rows[-1]["train_elbo"]) > float(rows[0]["train_elbo"]) + 1
    assert float(rows[-1]["val_elbo"]) > float(rows[0]["val_elbo"])
    for name in ("report.html", "eval.json", "samples.png", "report/traversal.png"):  # the report works for it
        assert (out / name).stat().st_size > 0, name
