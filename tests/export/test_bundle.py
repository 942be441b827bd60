"""vaekit.export: every exportable family, in both formats, gives PyTorch's outputs at batch sizes 1 and 37
(fp32, within 1e-5); a part that does not export is refused, naming it, and nothing is written."""

import json

import numpy as np
import pytest
import torch
from export_helpers import FAMILIES, SHAPE, SLOW_FAMILIES, saved_run
from helpers import DATA, cli_error

import vaekit
from vaekit.errors import UserError
from vaekit.export.formats import FORMATS
from vaekit.export.manifest import MANIFEST
from vaekit.models.heads import PointMass
from vaekit.models.likelihoods import Bernoulli, BernoulliEvents
from vaekit.models.registry import LIKELIHOODS
from vaekit.models.vq import QuantizedPosterior

BATCHES = (1, 37)


def inputs_for(model, batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(x, z, labels): inputs in [0, 1), the latents the decoder takes for them, labels for a conditional model."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, *model.data_shape, generator=generator)
    labels = torch.randint(model.classes, (batch,), generator=generator) if model.classes else None
    with torch.no_grad():
        z = model.encode(x, labels).mean
    return x, z, labels


@torch.no_grad()
def pytorch_outputs(model, part: str, main: torch.Tensor, labels) -> dict[str, torch.Tensor]:
    """What the model itself gives, named as the manifest names the exported outputs."""
    if part == "encoder":
        q = model.encode(main, labels)
        if isinstance(q, QuantizedPosterior):
            return {"codes": q.codes, "quantized": q.mean}
        return {"mean": q.mean} if isinstance(q, PointMass) else {"mean": q.mean, "log_var": q.variance.log()}
    decoded = model.decoder_output(main, labels)
    return {**model.likelihood.parameter_maps(decoded), "mean": model.decode(main, labels).mean}


def assert_parity(run, out, fmt: str) -> None:
    model = vaekit.load(run)
    entries = json.loads((out / MANIFEST).read_text())["files"]
    for batch in BATCHES:
        x, z, labels = inputs_for(model, batch, seed=batch)
        for part, main in (("encoder", x), ("decoder", z)):
            entry = entries[part]
            feeds = (main,) if labels is None else (main, labels)
            names = ["x" if part == "encoder" else "z"] + ([] if labels is None else ["labels"])
            assert [spec["name"] for spec in entry["inputs"]] == names
            got = FORMATS.get(fmt)().run(out / entry["file"], feeds)
            want = pytorch_outputs(model, part, main, labels)
            assert [o["name"] for o in entry["outputs"]] == list(want)
            for spec, value, (name, expected) in zip(entry["outputs"], got, want.items()):
                assert value.shape == tuple(expected.shape) and spec["shape"] == ["batch", *expected.shape[1:]], name
                assert spec["dtype"] == str(value.dtype) == str(expected.dtype).removeprefix("torch."), name
                np.testing.assert_allclose(value, expected.numpy(), rtol=1e-5, atol=1e-5,
                                           err_msg=f"{part} {name} at batch {batch}")


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_gives_pytorchs_outputs_at_batch_sizes_1_and_37(family_runs, family, fmt, tmp_path):
    out = vaekit.export(family_runs[family], tmp_path / "exported", fmt)
    assert out == tmp_path / "exported"
    assert_parity(family_runs[family], out, fmt)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("family", list(SLOW_FAMILIES))
def test_the_discretised_logistic_exports_too(family, fmt, tmp_path):
    run = saved_run(tmp_path / "run", *SLOW_FAMILIES[family])
    assert_parity(run, vaekit.export(run, tmp_path / "exported", fmt), fmt)


def test_one_part_alone_and_an_opset(family_runs, tmp_path):
    out = vaekit.export(family_runs["mlp_vae"], tmp_path / "exported", "onnx", parts="decoder", opset=13)
    assert sorted(path.name for path in out.iterdir()) == ["decoder.onnx", MANIFEST]
    manifest = json.loads((out / MANIFEST).read_text())
    assert list(manifest["files"]) == ["decoder"] and manifest["opset"] == 13
    import onnx

    assert onnx.load(out / "decoder.onnx").opset_import[0].version == 13


class NumpyMeanEvents(BernoulliEvents):
    """Bernoulli events whose mean adds a number computed in NumPy: to a tracer, a constant of its example."""

    @property
    def mean(self) -> torch.Tensor:
        probs = self.base_dist.probs
        return probs + torch.tensor(probs.detach().numpy().mean())


class NumpyMeanBernoulli(Bernoulli):
    def forward(self, decoded):
        return NumpyMeanEvents(self.distribution(decoded), len(self.data_shape), validate_args=False)


@pytest.fixture
def untraceable(tmp_path):
    LIKELIHOODS.register("toy_numpy_mean")(NumpyMeanBernoulli)
    model = {"latent_dim": 2, "trunk": {"hidden": [8]}, "likelihood": "toy_numpy_mean"}
    yield saved_run(tmp_path / "run", model, SHAPE)
    LIKELIHOODS.unregister("toy_numpy_mean")


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_a_part_that_does_not_trace_is_refused_by_name_and_nothing_is_written(untraceable, fmt, tmp_path):
    out = tmp_path / "new" / "exported"  # its parent too is made for it, and removed again
    refusal = (r"^the decoder \(model vae: trunk mlp, likelihood toy_numpy_mean\) does not export to "
               rf"{fmt}: its output mean differs from PyTorch's by [0-9.e-]+ on a fresh batch")
    with pytest.raises(UserError, match=refusal):
        vaekit.export(untraceable, out, fmt)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]  # no --out, no parent, no staging folder left


def test_the_export_leaves_the_random_state_alone(family_runs, tmp_path):
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    vaekit.export(family_runs["vqvae"], tmp_path / "exported", "torchscript")
    assert torch.equal(torch.rand(3), expected)


def test_a_run_saved_by_vaekit_0_1_exports_with_its_config_migrated(tmp_path):
    run = DATA / "run_v0_1_0"  # 0.1's flat config (model.trunk a name)
    out = vaekit.export(run, tmp_path / "exported", "torchscript", parts="encoder")
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["model"]["name"] == "vae" and manifest["likelihood"]["name"] == "bernoulli"
    x = torch.rand(4, *vaekit.load(run).data_shape, generator=torch.Generator().manual_seed(0))
    mean, _ = FORMATS.get("torchscript")().run(out / "encoder.pt", (x,))
    np.testing.assert_allclose(mean, vaekit.load(run).encode(x).mean.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_the_command_line_refuses_it_with_exit_2_and_one_line(untraceable, capsys, tmp_path):
    out = tmp_path / "exported"
    cli_error(["export", str(untraceable), "--out", str(out), "--format", "torchscript"], capsys,
              r"^vaekit export: error: the decoder \(model vae: trunk mlp, likelihood toy_numpy_mean\) does not export")
    assert not out.exists()
