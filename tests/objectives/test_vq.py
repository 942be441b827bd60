"""The VQ objective (objectives/vq.py): the loss is the mean of its per-example terms, an EMA codebook
drops the codebook term, and the objective and the model decline other pairings."""

import pytest
import torch
from helpers import binary_batch, small_vqvae

from vaekit import ModelConfig, ObjectiveConfig, UserError, build_model, build_objective
from vaekit.data.batch import Batch


def test_with_an_ema_codebook_the_codebook_is_a_buffer_and_its_loss_term_is_dropped():
    model = small_vqvae(codebook_ema=True)
    assert "head.quantizer.book.codebook" not in dict(model.named_parameters())
    assert "head.quantizer.book.codebook" in model.state_dict()
    output = build_objective(ObjectiveConfig(), model)(model, Batch(binary_batch()))
    assert "vq_codebook" not in output.terms and "vq_commitment" in output.terms
    output.loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, name


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
