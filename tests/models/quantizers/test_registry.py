"""The quantizers of a VQ-VAE: gradient estimators (straight-through and the rotation trick against
its closed form), FSQ's grid, residual stages, k-means initialisation, restarts with moving
averages, and the options a quantizer refuses."""

import math

import pytest
import torch

import vaekit
from vaekit import ModelConfig, build_model
from vaekit.cli import main
from vaekit.config.migration import MOVED
from vaekit.data.batch import Batch
from vaekit.models.code_prior import CodePrior
from vaekit.models.quantizers import build_quantizer
from vaekit.models.quantizers.base import rotation, straight_through
from vaekit.models.quantizers.codebook import Codebook
from vaekit.seeding import seeded
from vaekit.training.checkpoint import load_model, load_tensors


def quantizer(**options):
    torch.manual_seed(0)
    size = {} if options.get("quantizer") == "fsq" else {"codebook_size": 8}  # fsq has no codebook to size
    model = ModelConfig(name="vqvae", latent_dim=4, **size, **options)
    return build_quantizer(model.quantizer, model.latent_dim)


def explicit_rotation(e: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """lambda R (d, d) of Fifty et al. (2024) for one pair of vectors, built as a matrix."""
    e_hat, q_hat = e / e.norm(), q / q.norm()
    r = (e_hat + q_hat) / (e_hat + q_hat).norm()
    rotation_matrix = torch.eye(len(e), dtype=e.dtype) - 2 * torch.outer(r, r) + 2 * torch.outer(q_hat, e_hat)
    return q.norm() / e.norm() * rotation_matrix


@pytest.mark.parametrize("estimator", [straight_through, rotation])
def test_both_estimators_give_the_code_exactly_and_pass_a_gradient_to_the_input(estimator):
    generator = torch.Generator().manual_seed(0)
    z_e = torch.randn(20, 5, generator=generator, requires_grad=True)
    z_q = torch.randn(20, 5, generator=generator)
    value = estimator(z_e, z_q)
    assert torch.equal(value, z_q)
    value.pow(2).sum().backward()
    assert z_e.grad.abs().min() > 0


def test_the_rotation_trick_gradient_matches_its_closed_form_and_differs_from_straight_through():
    e, q = torch.tensor([[1.0, 0.0]], requires_grad=True), torch.tensor([[0.0, 2.0]])
    g = torch.tensor([[1.0, 0.0]])  # the gradient arriving at the quantized output
    (rotation(e, q) * g).sum().backward()
    # e points along x, q along y with twice the length: R turns by +90 degrees, lambda = 2, so the
    # gradient is lambda R^T g = 2 (0, -1), where straight-through would pass g = (1, 0) unchanged.
    torch.testing.assert_close(e.grad, torch.tensor([[0.0, -2.0]]))
    generator = torch.Generator().manual_seed(1)
    e = torch.randn(6, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    q, g = torch.randn(6, 5, generator=generator, dtype=torch.float64), torch.randn(6, 5, generator=generator, dtype=torch.float64)
    (rotation(e, q) * g).sum().backward()
    for i in range(6):
        matrix = explicit_rotation(e[i].detach(), q[i])
        torch.testing.assert_close(matrix @ (e[i].detach() / e[i].norm()), q[i] / e[i].norm())  # e's direction -> q's
        torch.testing.assert_close(e.grad[i], matrix.T @ g[i])
    assert not torch.allclose(e.grad, g)


@pytest.mark.parametrize("gradient", ["straight_through", "rotation"])
def test_a_vqvae_with_either_gradient_gives_the_codes_and_trains_its_encoder(gradient):
    torch.manual_seed(0)
    config = ModelConfig(name="vqvae", trunk="conv", latent_dim=3, channels=(4, 6), likelihood="bernoulli",
                         codebook_size=16, gradient=gradient)
    model = build_model(config, (1, 8, 8))
    x = (torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    q = model.encode(x)
    assert torch.equal(q.mean.view(6, -1, 3), model.quantizer.codebook[q.codes])
    (-model.decode(q.rsample()).log_prob(x).sum()).backward()
    for name, parameter in [*model.encoder.named_parameters(), *model.head.project.named_parameters()]:
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, name


def test_fsq_outputs_lie_on_the_grid_cover_every_code_and_round_trip_through_their_indices():
    levels = (3, 4, 5, 2)
    fsq = quantizer(quantizer="fsq", fsq_levels=levels)  # latent_dim 4 = len(levels): no projections
    z = 3 * torch.randn(20_000, 4, generator=torch.Generator().manual_seed(0))
    out = fsq.quantize(z)
    steps = torch.tensor(levels) // 2
    integers = out.value * steps  # each coordinate an integer in the level's range
    assert torch.equal(integers, integers.round())
    low, high = -(torch.tensor(levels) // 2), (torch.tensor(levels) - 1) // 2
    assert ((integers >= low) & (integers <= high)).all()
    assert out.codes.unique().numel() == math.prod(levels) == fsq.size  # every grid point is reached
    assert torch.equal(fsq.grid(out.codes[:, 0]), out.value)  # index -> the same output
    table = fsq.code_vectors()[0]  # (K, 4): the grid in index order
    assert table.unique(dim=0).shape[0] == fsq.size
    assert out.inputs is None  # no codebook: no codebook or commitment term


def test_fsq_indices_of_the_grid_points_are_their_positions():
    fsq = quantizer(quantizer="fsq", fsq_levels=(3, 5))
    codes = torch.arange(fsq.size)
    points = fsq.grid(codes)  # (15, 2)
    digits = (points * torch.tensor([1, 2])).round().long() + torch.tensor([1, 2])  # back to 0..L-1
    assert torch.equal(digits[:, 0] + 3 * digits[:, 1], codes)


def test_residual_quantization_error_does_not_grow_with_more_stages():
    z = torch.randn(400, 4, generator=torch.Generator().manual_seed(0))
    residual = quantizer(quantizer="residual", codebooks=4, codebook_init="kmeans")
    with seeded(0, "cpu"):
        residual.train().quantize(z)  # each stage's codebook: k-means of what the stages before left
    residual.eval()
    errors = [float((residual.quantize(z, stages=s).value - z).pow(2).sum()) for s in range(1, 5)]
    assert all(later <= earlier for earlier, later in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.5 * errors[0]
    out = residual.quantize(z)
    assert out.codes.shape == (400, 4) and out.inputs.shape == (400, 4, 4)
    prior = CodePrior(residual.code_vectors(), positions=1)  # the prior decodes the 4 code maps to the same vectors
    torch.testing.assert_close(prior.vectors(out.codes), out.value)


def test_a_narrower_codebook_decodes_through_its_projection_as_the_code_prior_sees_it():
    narrow = quantizer(codebook_dim=2, codebooks=3, quantizer="residual").eval()
    z = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    out = narrow.quantize(z)
    assert out.inputs.shape == (50, 3, 2) and out.value.shape == (50, 4)
    torch.testing.assert_close(CodePrior(narrow.code_vectors(), positions=1).vectors(out.codes), out.value)


def test_kmeans_initialisation_puts_the_codes_at_the_cluster_centres():
    centres = torch.tensor([[5.0, 5.0], [-5.0, 5.0], [5.0, -5.0], [-5.0, -5.0]])
    points = centres.repeat_interleave(50, 0) + 0.1 * torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    book = Codebook(4, 2, restart_after=0, init="kmeans")
    with seeded(0, "cpu"):
        book(points)
    assert bool(book.initialised)
    means = points.view(4, 50, 2).mean(1)
    distances = torch.cdist(means, book.codebook.detach())  # (4 clusters, 4 codes)
    assert distances.min(1).values.max() < 1e-5  # every cluster mean is a code
    assert distances.argmin(1).unique().numel() == 4  # one code each
    before = book.codebook.detach().clone()
    book(points + 1)  # once only: later batches leave the initialisation alone
    assert torch.equal(book.codebook.detach(), before)


def test_a_cosine_codebook_chooses_by_angle_and_gives_unit_codes():
    """Code 0 is nearer in Euclidean distance, code 1 points the same way as the input: the cosine
    codebook takes code 1 and returns it at unit length; the Euclidean one takes code 0."""
    codebook = torch.tensor([[0.9, 0.5], [3.0, 0.0]])
    z = torch.tensor([[1.0, 0.0]])
    cosine, euclidean = Codebook(2, 2, restart_after=0, cosine=True), Codebook(2, 2, restart_after=0)
    for book in (cosine, euclidean):
        book.codebook.data.copy_(codebook)
        book.eval()
    codes, z_q = cosine(cosine.prepare(z))
    assert codes.tolist() == [1]
    torch.testing.assert_close(z_q, torch.tensor([[1.0, 0.0]]))
    assert euclidean(euclidean.prepare(z))[0].tolist() == [0]
    torch.testing.assert_close(cosine.vectors().norm(dim=1), torch.ones(2))


def test_a_restarted_dead_code_restarts_its_moving_averages():
    book = Codebook(3, 2, ema=True, restart_after=2)
    codebook = torch.tensor([[100.0, 100.0], [1.0, 0.0], [-1.0, 0.0]])  # code 0: far from every input
    book.codebook.copy_(codebook)
    book.ema_sum.copy_(codebook * 7.0)
    book.ema_count.fill_(7.0)
    z = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    with seeded(0, "cpu"):
        book(z), book(z)  # code 0 unused for two batches
        assert book.ema_count[0] == pytest.approx(7.0 * 0.99**2)  # decayed, never reset so far
        live = book.ema_count[1:].clone()
        book.restart_dead(z)  # what the next training batch does first
    revived = book.codebook[0]
    assert (z == revived).all(1).any()  # moved to an input
    assert book.ema_count[0] == 1.0 and torch.equal(book.ema_sum[0], revived)  # its averages: that input, seen once
    assert torch.equal(book.ema_count[1:], live) and book.unused_steps[0] == 0  # live codes keep theirs


@pytest.mark.parametrize("setting, message", [
    ("model.fsq_levels=[1,4]", "model.quantizer.levels must be one or more levels, each at least 2; got [1, 4]"),
    ("model.quantizer.levels=[1,4]", "model.quantizer.levels must be one or more levels, each at least 2"),
    ("model.codebooks=0", "model.quantizer.codebooks must be at least 1, got 0"),
    ("model.codebook_init=random", "model.quantizer.init: 'random' is not one of: uniform, kmeans"),
    ("model.quantizer.gradient=sideways", "model.quantizer.gradient: 'sideways' is not one of: straight_through, rotation"),
    ("model.quantizer=lattice", "model.quantizer.name: unknown quantizer 'lattice'; known: fsq, nearest, residual"),
    ("model.quantizer.codebook_size=many", "model.quantizer.codebook_size must be int, got 'many' (str)"),
])
def test_bad_quantizer_options_are_one_line_errors(tmp_path, capsys, setting, message):
    extra = ["--set", "model.quantizer.name=fsq"] if "levels" in setting else []
    extra += ["--set", "model.quantizer.name=residual"] if "codebooks" in setting else []
    assert main(["train", "--model", "vqvae", "--epochs", "1", "--set", setting, *extra, "--out", str(tmp_path / "r")]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1


@pytest.mark.parametrize("quantizer, setting", [
    ("nearest", "model.fsq_levels=[8,8]"),
    ("nearest", "model.codebooks=3"),
    ("fsq", "model.gradient=rotation"),
    ("fsq", "model.codebook_size=64"),
    ("fsq", "model.commitment=0.5"),
])
def test_an_option_the_chosen_quantizer_does_not_use_is_refused(tmp_path, capsys, quantizer, setting):
    assert main(["train", "--model", "vqvae", "--epochs", "1", "--set", f"model.quantizer={quantizer}",
                 "--set", setting, "--out", str(tmp_path / "r")]) == 2
    error = capsys.readouterr().err.strip()
    key = MOVED[setting.split("=")[0].split(".")[1]][1]  # the flat key's name in the quantizer section
    assert f"model.quantizer: unknown key {key!r}" in error and f"for quantizer {quantizer!r}; known keys: name, " in error
    assert len(error.splitlines()) == 1


def test_an_interrupted_code_prior_fit_resumes_to_the_same_prior(tmp_path, small_config):
    config = small_config.replace(model={"name": "vqvae", "codebook_size": 16, "code_prior_epochs": 3,
                                         "code_prior_hidden": 16}, train={"epochs": 1})
    whole = vaekit.train(config, out=tmp_path / "whole")

    class Interrupt(Exception):
        pass

    def stop(state):
        if getattr(state, "name", None) == "code_prior" and state.epoch == 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        vaekit.train(config, out=tmp_path / "cut", on_epoch=stop)
    assert load_tensors(tmp_path / "cut" / "code_prior.safetensors")[1]["epoch"] == 1
    vaekit.train(resume=tmp_path / "cut")
    expected, metadata = load_tensors(whole.dir / "model.safetensors")
    got, _ = load_tensors(tmp_path / "cut" / "model.safetensors")
    assert any(name.startswith("prior.") for name in expected) and expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name
    assert len(metadata["code_prior"]["history"]) == 3


QUANTIZER_CASES = {  # every registered quantizer, with the options that change its parts
    "nearest": [{}, {"codebook_dim": 2, "codebook_cosine": True, "gradient": "rotation"}],
    "residual": [{"codebooks": 3}, {"codebooks": 2, "codebook_dim": 2, "codebook_ema": True}],
    "fsq": [{"fsq_levels": (3, 4)}],
}


def quantizer_cases():
    from vaekit.models.quantizers import QUANTIZERS

    assert sorted(QUANTIZER_CASES) == QUANTIZERS.names()  # a new quantizer adds its cases here
    return [(name, options) for name, cases in QUANTIZER_CASES.items() for options in cases]


@pytest.mark.parametrize("name, options", quantizer_cases())
def test_every_quantizer_trains_its_parameters_round_trips_and_decodes_its_codes_as_the_prior_does(name, options, tmp_path):
    size = {} if name == "fsq" else {"codebook_size": 8}
    config = vaekit.Config(model=ModelConfig(name="vqvae", trunk="conv", latent_dim=3, channels=(4, 6), likelihood="bernoulli",
                                             quantizer=name, code_prior_hidden=8, **size, **options))
    torch.manual_seed(0)
    model = build_model(config.model, (1, 8, 8))
    with torch.no_grad():  # encoder outputs away from 0, where FSQ rounds every vector to the origin (no gradient to W_out)
        model.head.project.conv.weight.mul_(20)
    x = (torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    output = vaekit.build_objective(vaekit.ObjectiveConfig(), model)(model, Batch(x))
    assert torch.isfinite(output.loss) and all(term.shape == (6,) for term in output.terms.values())
    assert ("vq_commitment" in output.terms) == (name != "fsq")
    output.loss.backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, parameter_name
    model.eval()
    model.prior = model.new_prior()
    q = model.encode(x)
    torch.testing.assert_close(model.prior.vectors(q.codes), q.mean)  # a sampled grid decodes like an encoded one
    save_path = tmp_path / "m.safetensors"
    vaekit.save_model(save_path, model, config)
    loaded, _, _ = load_model(save_path)
    assert torch.equal(loaded.encode(x).mean, q.mean) and torch.equal(loaded.codes(x), model.codes(x))
