"""vaekit.latent.encode on a small trained run: posterior means, not samples; the draws of model.sample."""

import torch

import vaekit.latent.encode
from vaekit import ModelConfig, build_model
from vaekit.latent import decode_mean, encode_data, reconstruct_inputs, sample_latents
from vaekit.seeding import seeded


def test_encode_gives_the_posterior_mean_not_a_sample(opened):
    first = encode_data(opened.model, opened.data, batch_size=50)  # several batches
    second = encode_data(opened.model, opened.data, batch_size=50)
    n = len(opened.data)
    assert first["mean"].shape == first["log_var"].shape == (n, 4)
    assert torch.equal(first["mean"], second["mean"])  # no sampling: identical
    q = opened.model.encode(opened.data.inputs())
    torch.testing.assert_close(first["mean"], q.mean, rtol=0, atol=1e-6)  # batches may round differently
    assert not torch.allclose(q.rsample(), q.mean, atol=1e-3)  # a draw would differ by far more
    torch.testing.assert_close(first["log_var"], q.variance.log(), rtol=1e-5, atol=1e-5)
    assert torch.equal(first["labels"], opened.data.labels)


def test_encode_of_an_autoencoder_has_log_var_minus_infinity(opened):
    with seeded(0, "cpu"):
        model = build_model(ModelConfig(name="ae", hidden=(8,), latent_dim=3, likelihood="bernoulli"), (1, 8, 8))
    encoded = encode_data(model, opened.data)
    assert encoded["mean"].shape == (len(opened.data), 3)
    assert torch.isneginf(encoded["log_var"]).all()
    assert torch.isfinite(encoded["mean"]).all()


def test_sample_latents_are_the_draws_of_model_sample(opened):
    with seeded(3, "cpu"):
        expected = opened.model.sample(5, temperature=0.5)
    with seeded(3, "cpu"):
        z, samples = sample_latents(opened.model, 5, temperature=0.5)
    assert z.shape == (5, 4)
    assert torch.equal(samples, expected)
    torch.testing.assert_close(samples, decode_mean(opened.model, z))


def test_many_samples_decode_in_chunks_with_the_draws_and_means_of_one_pass(opened, monkeypatch):
    with seeded(3, "cpu"):
        z, whole = sample_latents(opened.model, 23, 0.8)
    monkeypatch.setattr(vaekit.latent.encode, "DECODE_BATCH", 5)  # 23 draws: chunks of 5, 5, 5, 5, 3
    with seeded(3, "cpu"):
        z_chunked, chunked = sample_latents(opened.model, 23, 0.8)
    assert torch.equal(z, z_chunked) and chunked.shape == (23, 1, 8, 8)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-6)


def test_reconstructions_in_batches_equal_one_pass(opened):
    x = opened.data.inputs(slice(0, 30))
    torch.testing.assert_close(reconstruct_inputs(opened.model, x, batch_size=7), opened.model.reconstruct(x),
                               rtol=0, atol=1e-6)
