"""train.precision: bfloat16 autocast runs the trunks in bfloat16 while every probability term stays float32."""

import pytest
import torch

import vaekit
from vaekit.config import ModelConfig
from vaekit.data.batch import Batch
from vaekit.errors import UserError
from vaekit.models.model import build_model
from vaekit.objectives import ELBO


def model_and_data():
    torch.manual_seed(0)
    model = build_model(ModelConfig(hidden=(16,), latent_dim=4, likelihood="bernoulli"), (12,))
    x = (torch.rand(8, 12) < 0.5).float()
    return model, x


def test_under_bf16_autocast_the_trunks_run_in_bf16_and_the_probabilities_in_float32():
    model, x = model_and_data()
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert model.encoder(x).dtype == torch.bfloat16  # the trunk does run in bfloat16
        q = model.encode(x)
        z = q.rsample()
        log_px_z = model.decode(z).log_prob(x)
        output = ELBO()(model, Batch(x))
    assert q.mean.dtype == q.stddev.dtype == z.dtype == log_px_z.dtype == torch.float32
    for name, value in output.terms.items():
        assert value.dtype == torch.float32, name
    torch.manual_seed(1)
    model.encode(x).rsample()  # the same draws as above, in float32
    exact = ELBO()(model, Batch(x))
    # bfloat16 trunks (8 bits of mantissa) move the numbers by about 1 %, no more
    torch.testing.assert_close(output.terms["elbo"], exact.terms["elbo"], rtol=0.05, atol=0.2)


def test_fp32_leaves_every_value_as_it_was():
    model, x = model_and_data()
    q = model.encode(x)
    assert torch.equal(q.mean, model.head(model.encoder(x)).mean)
    assert torch.equal(model.decode(q.mean).log_prob(x), model.likelihood(model.decoder(q.mean)).log_prob(x))


def test_an_unknown_precision_is_refused_before_a_run_folder_exists(tmp_path, small_config):
    with pytest.raises(UserError, match="train.precision 'fp16' is not one of: fp32, bf16"):
        vaekit.train(small_config.replace(train={"precision": "fp16"}), out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_bf16_run_on_cuda_trains_with_float32_probabilities(tmp_path, small_config):
    run = vaekit.train(small_config.replace(train={"precision": "bf16", "device": "cuda", "epochs": 2}), out=tmp_path / "run")
    assert all(torch.isfinite(torch.tensor(row["train_elbo"])) for row in run.state.history)
    assert run.state.history[-1]["train_elbo"] > run.state.history[0]["train_elbo"] - 5
