"""VQ-VAE: the quantizer (nearest code, straight-through gradients, EMA updates, dead-code restarts),
its statistics, its objective and the bound with a code prior, and the command line end to end."""

import json
import math

import numpy as np
import pytest
import torch
from helpers import read_metrics
from interrupted import train_interrupted
from torch import nn

import vaekit
from vaekit import ModelConfig, ObjectiveConfig, UserError, build_model, build_objective, save_model
from vaekit.cli import main
from vaekit.data.array import ArrayData
from vaekit.data.batch import Batch
from vaekit.evaluation.codebook import codebook_statistics, perplexity
from vaekit.evaluation.likelihood import evaluate, per_example_terms
from vaekit.models.code_prior import fit_code_prior
from vaekit.models.quantizers.codebook import EMA_DECAY, EMA_EPSILON, Codebook
from vaekit.seeding import seeded
from vaekit.training.checkpoint import load_model, load_tensors


def small_vqvae(shape=(1, 8, 8), trunk="conv", **changes):
    torch.manual_seed(0)
    settings = dict(latent_dim=3, hidden=(16,), channels=(4, 6), likelihood="bernoulli", codebook_size=16)
    config = ModelConfig(name="vqvae", trunk=trunk, **{**settings, **changes})
    return build_model(config, shape)


def binary_batch(shape=(1, 8, 8), n=6, seed=0):
    return (torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed)) < 0.5).float()


def test_straight_through_passes_the_reconstruction_gradient_to_the_encoder():
    model = small_vqvae()
    x = binary_batch()
    q = model.encode(x)
    assert torch.equal(q.mean, q.z_q.flatten(1))  # the forward value is exactly the quantized grid
    (-model.decode(q.rsample()).log_prob(x).sum()).backward()  # the reconstruction term alone
    for name, parameter in [*model.encoder.named_parameters(), *model.head.project.named_parameters()]:
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, name
    codebook = model.quantizer.codebook.grad
    assert codebook is None or codebook.abs().max() == 0  # the codebook learns from its own term only


def test_quantization_picks_the_nearest_code():
    quantizer = Codebook(7, 4, restart_after=0).eval()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        quantizer.codebook.copy_(torch.randn(7, 4, generator=generator))
    z = torch.randn(50, 4, generator=generator)
    codes, z_q = quantizer(z)
    brute = ((z[:, None, :] - quantizer.codebook[None]) ** 2).sum(-1).argmin(1)  # (50,)
    assert torch.equal(codes, brute)
    assert torch.equal(z_q, quantizer.codebook[brute])


def test_ema_update_matches_the_closed_form_and_moves_codes_toward_their_assigned_means():
    quantizer = Codebook(3, 2, ema=True, restart_after=0)
    codebook = torch.tensor([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    count = torch.tensor([1.0, 1.0, 1e-4])  # code 2 almost never seen: there the smoothing shows
    quantizer.codebook.copy_(codebook)
    quantizer.ema_count.copy_(count)
    quantizer.ema_sum.copy_(codebook * count[:, None])
    z = torch.tensor([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0], [6.0, 5.0], [5.0, 7.0]])  # codes 0, 0, 1, 1, 1
    codes, _ = quantizer(z)
    assert codes.tolist() == [0, 0, 1, 1, 1]
    n_k = torch.tensor([2.0, 3.0, 0.0])
    sums = torch.stack([z[:2].sum(0), z[2:].sum(0), torch.zeros(2)])
    ema_sum = EMA_DECAY * codebook * count[:, None] + (1 - EMA_DECAY) * sums
    count = EMA_DECAY * count + (1 - EMA_DECAY) * n_k
    n = count.sum()
    expected = ema_sum / ((count + EMA_EPSILON) / (n + 3 * EMA_EPSILON) * n)[:, None]
    torch.testing.assert_close(quantizer.codebook, expected)
    for k, members in [(0, z[:2]), (1, z[2:])]:
        mean = members.mean(0)
        assert (quantizer.codebook[k] - mean).norm() < (codebook[k] - mean).norm()
    quantizer.eval()  # evaluation changes nothing
    before = quantizer.codebook.clone()
    quantizer(z)
    assert torch.equal(quantizer.codebook, before)


def test_with_an_ema_codebook_the_codebook_is_a_buffer_and_its_loss_term_is_dropped():
    model = small_vqvae(codebook_ema=True)
    assert "head.quantizer.book.codebook" not in dict(model.named_parameters())
    assert "head.quantizer.book.codebook" in model.state_dict()
    output = build_objective(ObjectiveConfig(), model)(model, Batch(binary_batch()))
    assert "vq_codebook" not in output.terms and "vq_commitment" in output.terms
    output.loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, name


def test_a_dead_code_is_restarted_at_an_encoder_output_and_used_in_the_next_batch():
    quantizer = Codebook(3, 2, restart_after=3)
    with torch.no_grad():
        quantizer.codebook.copy_(torch.tensor([[100.0, 100.0], [1.0, 0.0], [-1.0, 0.0]]))  # code 0: far away
    z = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    for _ in range(3):
        codes, _ = quantizer(z)
        assert 0 not in codes.tolist()
    assert quantizer.unused_steps.tolist()[0] == 3
    with seeded(0, "cpu"):
        quantizer(z)  # the restart happens here: code 0 moves to one of the batch's encoder outputs
    revived = quantizer.codebook[0].detach()
    assert (z == revived).all(1).any()
    assert quantizer.codebook[1:].tolist() == [[1.0, 0.0], [-1.0, 0.0]]  # live codes are left alone
    assert 0 in quantizer.eval()(z)[0].tolist()  # and it is chosen in the next batch


def test_dead_code_restarts_are_reproducible_from_the_torch_generator():
    def restarted() -> torch.Tensor:
        quantizer = Codebook(4, 2, restart_after=1)
        with torch.no_grad():
            quantizer.codebook.copy_(torch.tensor([[50.0, 50.0], [60.0, 60.0], [1.0, 0.0], [-1.0, 0.0]]))
        z = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
        with seeded(3, "cpu"):
            quantizer(z)
            quantizer(z)
        return quantizer.codebook.detach().clone()

    assert torch.equal(restarted(), restarted())


def test_perplexity_is_the_exponential_of_the_entropy_of_the_code_histogram():
    assert perplexity(torch.tensor([5, 0, 0])) == pytest.approx(1.0)
    assert perplexity(torch.tensor([3, 3, 3, 3])) == pytest.approx(4.0)
    p = np.array([0.25, 0.25, 0.5])
    assert perplexity(torch.tensor([2, 2, 0, 4])) == pytest.approx(math.exp(-(p * np.log(p)).sum()))


def test_epoch_statistics_report_usage_and_perplexity_of_the_codes_chosen_over_the_data():
    model = small_vqvae(shape=(2,), trunk="mlp", code_positions=1, codebook_size=4, latent_dim=2, codebook_restart=0)
    model.encoder, model.head.project = nn.Identity(), nn.Unflatten(1, (1, 2))  # z_e = x, one position
    with torch.no_grad():
        model.quantizer.codebook.copy_(torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]]))
    x = torch.tensor([[0.1, 0.0], [0.0, 0.2], [9.0, 0.0], [10.0, 1.0], [9.0, 9.0], [10.0, 9.5], [11, 10], [10, 11]])
    statistics = codebook_statistics(model, ArrayData(x, None, "constructed"))  # codes 0, 0, 1, 1, 3, 3, 3, 3
    assert statistics["codebook_usage"] == pytest.approx(3 / 4)
    assert statistics["codebook_perplexity"] == pytest.approx(perplexity(torch.tensor([2, 2, 0, 4])))
    assert statistics["codebook_dead"] == 1


def test_the_vq_loss_is_the_mean_of_its_per_example_terms():
    model = small_vqvae(commitment=0.5)
    output = build_objective(ObjectiveConfig(), model)(model, Batch(binary_batch()))
    terms = output.terms
    assert set(terms) == {"log_px_z", "vq_codebook", "vq_commitment"}  # no ELBO without a code prior
    torch.testing.assert_close(terms["vq_commitment"], 0.5 * terms["vq_codebook"])  # same distance, weighted
    torch.testing.assert_close(output.loss, (-terms["log_px_z"] + terms["vq_codebook"] + terms["vq_commitment"]).mean())


def test_the_vq_objective_and_the_vq_model_decline_other_pairings():
    vae = build_model(ModelConfig(latent_dim=2, hidden=(8,), likelihood="gaussian"), (5,))
    with pytest.raises(UserError, match="vqvae"):
        build_objective(ObjectiveConfig(name="vq"), vae)
    for name in ("elbo", "reconstruction"):
        with pytest.raises(UserError, match="'vq'"):
            build_objective(ObjectiveConfig(name=name), small_vqvae())
    with pytest.raises(UserError, match=r"objective: unknown key 'beta' \(= 2.0\) for objective 'vq'; known keys: name$"):
        build_objective(ObjectiveConfig(beta=2.0), small_vqvae())


def test_without_a_code_prior_sampling_and_importance_sampling_are_refused_clearly():
    model = small_vqvae()
    with pytest.raises(UserError, match="fit-code-prior"):
        model.sample(2)
    data = ArrayData(binary_batch(), None, "constructed")
    with pytest.raises(UserError, match="fit-code-prior"):
        evaluate(model, data, k=2)
    assert "elbo_nats" not in evaluate(model, data) and "log_px_z_nats" in evaluate(model, data)


@pytest.fixture(scope="module")
def fitted():
    """A small conv VQ-VAE with a code prior fitted to the codes of random binary images."""
    model = small_vqvae().eval()
    data = ArrayData(binary_batch(n=40), None, "constructed")
    numbers = fit_code_prior(model, data, data, epochs=2, batch_size=16)
    return model, data, numbers


def test_with_a_code_prior_the_bound_is_log_px_z_plus_log_p_codes_and_importance_sampling_equals_it(fitted):
    model, data, numbers = fitted
    assert numbers["train_code_nll_nats"] == pytest.approx(numbers["val_code_nll_nats"])  # the same data here
    terms = per_example_terms(model, data, k=3)
    x = data.inputs()
    log_p_codes = model.prior.log_prob_codes(model.codes(x)).double()
    torch.testing.assert_close(terms["kl"], -log_p_codes)
    torch.testing.assert_close(terms["elbo"], terms["log_px_z"] + log_p_codes)
    torch.testing.assert_close(terms["log_px"], terms["elbo"])  # one code grid per x: every draw is the same
    results = evaluate(model, data)
    assert results["negative_elbo_bits_per_dim"] == pytest.approx(-results["elbo_nats"] / (64 * math.log(2)))


def test_a_fitted_code_prior_survives_save_and_load_and_weights_without_one_drop_it(fitted, tmp_path):
    model, data, _ = fitted
    config = vaekit.Config(model=ModelConfig(name="vqvae", trunk="conv", latent_dim=3, hidden=(16,), channels=(4, 6),
                                             likelihood="bernoulli", codebook_size=16))
    save_model(tmp_path / "m.safetensors", model, config)
    loaded, _, _ = load_model(tmp_path / "m.safetensors")
    codes = model.codes(data.inputs())
    assert torch.equal(loaded.prior.log_prob_codes(codes), model.prior.log_prob_codes(codes))
    assert torch.equal(loaded.prior.codebook, model.quantizer.codebook)  # the prior's frozen copy
    with seeded(0, "cpu"):
        expected = model.sample(3)
    with seeded(0, "cpu"):
        assert torch.equal(loaded.sample(3), expected)
    bare = {key: value for key, value in model.state_dict().items() if not key.startswith("prior.")}
    loaded.load_state_dict(bare)
    assert loaded.prior is None


def test_command_line_trains_a_conv_vqvae_with_its_code_prior_and_samples_with_no_other_step(tmp_path, capsys):
    run = tmp_path / "vq"
    assert main(["train", "--data", "digits", "--model", "vqvae", "--trunk", "conv", "--latent-dim", "4",
                 "--epochs", "4", "--batch-size", "32", "--set", "model.channels=[8,16]",
                 "--set", "model.codebook_size=32", "--set", "model.code_prior_epochs=3", "--out", str(run)]) == 0
    assert "code prior: epoch 3/3" in capsys.readouterr().out  # the prior's progress shows
    rows = read_metrics(run)
    assert float(rows[-1]["val_log_px_z"]) > float(rows[0]["val_log_px_z"]) + 2
    for row in rows:
        assert 0 < float(row["codebook_usage"]) <= 1 and 1 <= float(row["codebook_perplexity"]) <= 32
        assert int(row["codebook_dead"]) == round(32 * (1 - float(row["codebook_usage"])))
    results = json.loads((run / "eval.json").read_text())
    assert results["elbo_nats"] == pytest.approx(results["log_px_z_nats"] - results["kl_nats"])  # the prior is there
    assert results["negative_elbo_bits_per_dim"] == pytest.approx(-results["elbo_nats"] / (64 * math.log(2)))
    assert results["kl_nats"] < 4 * math.log(32) - 2  # the learned prior beats the uniform one (2x2 grid, 32 codes)
    assert sum(results["code_counts"][0]) == 4 * results["examples"]  # one code per position of every example
    assert (run / "report" / "code_use.png").stat().st_size > 0 and "Code use" in (run / "report.html").read_text()
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "s.png")]) == 0  # no other step
    assert (tmp_path / "s.png").stat().st_size > 0
    assert np.load(tmp_path / "s.npz")["samples"].shape == (5, 1, 8, 8)
    assert main(["fit-code-prior", str(run), "--epochs", "2"]) == 0  # a prior can still be fitted again
    assert main(["eval", str(run)]) == 0
    assert json.loads((run / "eval.json").read_text())["kl_nats"] < 4 * math.log(32)


def test_without_a_code_prior_epoch_sampling_says_how_to_fit_one(tmp_path, capsys):
    run = tmp_path / "vq"
    assert main(["train", "--data", "digits", "--model", "vqvae", "--epochs", "1", "--set", "model.hidden=[16]",
                 "--set", "model.code_prior_epochs=0", "--set", "train.report=false", "--out", str(run)]) == 0
    assert not (run / "code_prior.safetensors").exists()
    capsys.readouterr()
    assert main(["sample", str(run)]) == 2
    error = capsys.readouterr().err
    assert "fit-code-prior" in error and len(error.strip().splitlines()) == 1


def test_resume_of_a_vqvae_with_ema_and_restarts_is_bit_identical(tmp_path, small_config):
    """The quantizer's buffers (EMA averages, unused counts) are in the checkpoint, and restarts draw
    from the torch generator, which the checkpoint restores."""
    config = small_config.replace(model={"name": "vqvae", "codebook_size": 64, "codebook_ema": True,
                                         "codebook_restart": 5}, train={"epochs": 3})
    whole = vaekit.train(config, out=tmp_path / "whole")

    train_interrupted(config, tmp_path / "cut", epochs=1)
    resumed = vaekit.train(resume=tmp_path / "cut")
    expected, _ = load_tensors(whole.dir / "last.safetensors")
    got, _ = load_tensors(resumed.dir / "last.safetensors")
    assert "head.quantizer.book.ema_sum" in expected and expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name
