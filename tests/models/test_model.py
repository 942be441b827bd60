"""The reparameterisation: gradients reach the posterior's mean and log-variance through the sample."""

import torch

from vaekit import ELBO, ModelConfig, Reconstruction, build_model
from vaekit.data.batch import Batch


def small_model(name: str = "vae"):
    torch.manual_seed(0)
    return build_model(ModelConfig(name=name, latent_dim=3, hidden=(16,), likelihood="gaussian"), (5,))


def head_output_with_grad(model):
    """Capture the head's linear output (B, 2D) = [mu, log var] and keep its gradient."""
    captured = {}

    def keep(module, inputs, output):
        output.retain_grad()
        captured["out"] = output

    model.head.linear.register_forward_hook(keep)
    return captured


def test_sample_gradient_is_one_for_mu_and_half_noise_for_log_var():
    """z = mu + exp(log_var / 2) * eps: dz/dmu = 1, dz/dlog_var = (z - mu) / 2, elementwise."""
    model = small_model()
    captured = head_output_with_grad(model)
    q = model.encode(torch.randn(8, 5))
    z = q.rsample()  # (B, D)
    z.sum().backward()
    grad_mu, grad_log_var = captured["out"].grad.chunk(2, dim=-1)
    torch.testing.assert_close(grad_mu, torch.ones_like(grad_mu))
    torch.testing.assert_close(grad_log_var, 0.5 * (z - q.mean).detach())


def test_reconstruction_alone_trains_both_mean_and_variance_rows():
    """beta = 0: the loss is log p(x|z) only, which sees mu and sigma only through the sample z."""
    model = small_model()
    ELBO(beta=0.0)(model, Batch(torch.randn(8, 5))).loss.backward()
    grad = model.head.linear.weight.grad  # rows [0, D): mu; rows [D, 2D): log var
    assert grad[:3].abs().sum(1).min() > 0  # every latent's mean row
    assert grad[3:].abs().sum(1).min() > 0  # every latent's log-variance row


def test_sample_without_reparameterisation_gives_no_gradient():
    """The contrast that makes the test above meaningful: sample() must cut the graph."""
    model = small_model()
    q = model.encode(torch.randn(8, 5))
    assert not q.sample().requires_grad
    assert q.rsample().requires_grad


def test_autoencoder_point_gradient_reaches_its_head():
    model = small_model("ae")
    Reconstruction()(model, Batch(torch.randn(8, 5))).loss.backward()
    assert model.head.linear.weight.grad.abs().sum(1).min() > 0
