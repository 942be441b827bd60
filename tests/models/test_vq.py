"""The VQ-VAE model: straight-through gradients to the encoder, the bound with a code prior, saving and
loading it, the command line end to end, and bit-identical resume."""

import json
import math

import numpy as np
import pytest
import torch
from helpers import binary_batch, read_metrics, small_vqvae
from interrupted import train_interrupted

import vaekit
from vaekit import ModelConfig, UserError, save_model
from vaekit.cli import main
from vaekit.data.array import ArrayData
from vaekit.evaluation.codebook import codebook_statistics
from vaekit.evaluation.likelihood import evaluate, per_example_terms
from vaekit.models.code_prior import fit_code_prior
from vaekit.seeding import seeded
from vaekit.training.checkpoint import load_model, load_tensors


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


def test_a_short_run_with_the_default_quantizer_uses_most_of_its_codebook(tmp_path):
    """`vaekit train --data digits --model vqvae --epochs 3`: 33 batches of 128 images, 8 code vectors of 16
    dimensions per image, 512 codes. Under 0.2's defaults (commitment 0.25, restarts after 100 unused batches)
    it used 2 % of them and its 16 samples were near copies (REPRODUCTION.md, VQ-VAE codebook use)."""
    config = vaekit.Config().replace(model={"name": "vqvae", "code_prior": {"epochs": 0}},
                                     train={"epochs": 3, "device": "cpu", "report": False})
    run = vaekit.train(config, data="digits", out=tmp_path / "run")
    assert run.model.quantizer.size == 512 and len(read_metrics(run.dir)) == 3
    assert float(read_metrics(run.dir)[-1]["codebook_usage"]) > 0.5  # the validation split: 180 x 8 vectors
    assert codebook_statistics(run.model, run.data.test)["codebook_usage"] > 0.5  # 359 x 8 vectors
