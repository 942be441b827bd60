"""The contract every registered model x likelihood x trunk (x objective) must meet. Names come
from the registries, so a new registration is covered without touching this file (a model that
declines a trunk or shape with a UserError, such as conv_hvae on flat data, is no case there):
finite loss, per-example terms of shape (B,), a gradient on every parameter, importance weights of
shape (k, B), and a save/load round trip that reproduces the outputs bit for bit.

The data for a likelihood is chosen by the likelihood's own ``in_support`` (the widest kind of data it
accepts), and a trunk not in ``SHAPES`` is tried on every shape; no part is named here to pick its data."""

import inspect

import pytest
import torch

from vaekit import (
    LIKELIHOODS,
    MODELS,
    OBJECTIVES,
    TRUNKS,
    Config,
    ModelConfig,
    ObjectiveConfig,
    UserError,
    build_model,
    build_objective,
    save_model,
)
from vaekit.data.batch import Batch
from vaekit.objectives.importance import log_weights
from vaekit.objectives.protocols import NeedsDataSize, StepsAfterModel
from vaekit.training import resume
from vaekit.training.checkpoint import load_model
from vaekit.training.trainer import TrainState, make_optimizer, make_schedule

ALL_SHAPES = [(64,), (5,), (1, 8, 8), (1, 37, 53), (3, 20, 30)]  # odd image sizes test a decoder's padding
# The shapes each known trunk is tried on, to keep the cases few; a trunk registered later is tried on
# ALL_SHAPES (declining those it cannot take with a UserError), so it needs no entry here.
SHAPES_OF = {"mlp": [(64,), (5,), (1, 8, 8)], "conv": [(1, 8, 8), (1, 37, 53), (3, 20, 30)],
             # the papers' fixed networks: their contract is tests/nn/test_dsprites_trunks.py (here they
             # would add a thousand cases of the same composition)
             "dlib_conv": [], "chen_mlp": []}
TRUNK_NAMES = [name for name in SHAPES_OF if name in TRUNKS.names()] + [
    name for name in TRUNKS.names() if name not in SHAPES_OF]
SHAPES = [(trunk, shape) for trunk in TRUNK_NAMES for shape in SHAPES_OF.get(trunk, ALL_SHAPES)]
BATCH = 4


def binary(generator, uniform, shape):
    return (uniform < 0.5).float()


def unit_interval(generator, uniform, shape):
    return uniform


def eight_bit_levels(generator, uniform, shape):  # v / 255, v = 0..255
    return torch.randint(0, 256, (BATCH, *shape), generator=generator).float() / 255


def real_numbers(generator, uniform, shape):
    return 3 * torch.randn(BATCH, *shape, generator=generator)


DATA_KINDS = [real_numbers, unit_interval, eight_bit_levels, binary]  # widest first: each lies in the ones before


def data_in_support(likelihood, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """(BATCH, *shape) inputs of the widest kind in DATA_KINDS that the likelihood part (a registered
    Likelihood module) accepts by its own ``in_support``: real numbers for the gaussians, [0, 1] for the
    continuous Bernoulli, 8-bit levels for the discrete likelihoods, binary for the Bernoulli. A likelihood
    that accepts none of them fails here, naming its support, rather than being tested on nonsense."""
    for kind in DATA_KINDS:
        generator = torch.Generator().manual_seed(seed)
        uniform = torch.rand(BATCH, *shape, generator=generator)
        x = kind(generator, uniform, shape)
        if bool(likelihood.in_support(x)):
            return x
    raise AssertionError(f"no data kind in DATA_KINDS lies in the support of {type(likelihood).__name__} "
                         f"({likelihood.support}): add one")


@pytest.fixture(params=LIKELIHOODS.names())
def likelihood(request):
    return request.param


def small_config(model_name: str, trunk: str, likelihood: str) -> Config:
    """Small widths keep the hundreds of cases fast."""
    return Config(model=ModelConfig(
        name=model_name, trunk=trunk, latent_dim=3, hidden=(8,), channels=(4, 6), likelihood=likelihood, sigma=0.7))


def accepted_cases() -> list[tuple[str, str, tuple[int, ...]]]:
    """(model, trunk, shape) combinations the model builds for: the contract covers exactly these.
    A combination a model declines with a UserError (a convolutional model on flat data) is no case."""
    cases = []
    for model_name in MODELS.names():
        for trunk, shape in SHAPES:
            try:
                build_model(small_config(model_name, trunk, "gaussian").model, shape)
            except UserError:
                continue
            cases.append((model_name, trunk, shape))
    return cases


CASES = accepted_cases()


def case_id(case) -> str:
    return "-".join([*case[:-1], "x".join(map(str, case[-1]))])


def make_case(model_name: str, likelihood: str, trunk: str, shape: tuple[int, ...]):
    """(config, model, x) for one combination."""
    config = small_config(model_name, trunk, likelihood)
    torch.manual_seed(0)
    model = build_model(config.model, shape)
    x = data_in_support(model.likelihood, shape)
    model.likelihood.check_support(x, likelihood, "conformance data")  # guards the data helper itself
    return config, model, x


def accepted_pairs() -> list[tuple[str, str]]:
    """(model, objective) pairs whose objective accepts the model: the contract covers exactly these.
    A pair an objective declines with a UserError (e.g. the ELBO on a model without a prior) is no case."""
    pairs = []
    for model_name, trunk, shape in {case[0]: case for case in CASES}.values():  # one accepted case per model
        model = build_model(small_config(model_name, trunk, "gaussian").model, shape)
        for objective_name in OBJECTIVES.names():
            try:
                build_objective(ObjectiveConfig(name=objective_name), model)
            except UserError:
                continue
            pairs.append((model_name, objective_name))
    return pairs


PAIRS = accepted_pairs()


def test_every_model_has_cases_and_trains_with_its_own_default_objective():
    for model_name in MODELS.names():
        model_name, trunk, shape = next(case for case in CASES if case[0] == model_name)  # a model with no case fails
        model = build_model(small_config(model_name, trunk, "gaussian").model, shape)
        assert (model_name, model.default_objective) in PAIRS


@pytest.fixture(params=CASES, ids=case_id)
def case(request, likelihood):
    return make_case(request.param[0], likelihood, *request.param[1:])


SMALL_OBJECTIVE = {"discriminator_hidden": 8, "discriminator_layers": 2}  # small widths, as in small_config


def objective_config(name: str) -> ObjectiveConfig:
    """The objective's defaults, with the small widths of SMALL_OBJECTIVE where it has those settings."""
    accepted = inspect.signature(OBJECTIVES.get(name)).parameters
    return ObjectiveConfig(name=name, **{key: value for key, value in SMALL_OBJECTIVE.items() if key in accepted})


OBJECTIVE_CASES = [(model, objective, trunk, shape) for model, objective in PAIRS
                   for name, trunk, shape in CASES if name == model]


@pytest.fixture(params=OBJECTIVE_CASES, ids=case_id)
def case_and_objective(request, likelihood):
    """((config, model, x), objective) for each accepted model/objective pair, on each accepted shape."""
    model_name, objective_name, trunk, shape = request.param
    case = make_case(model_name, likelihood, trunk, shape)
    objective = build_objective(objective_config(objective_name), case[1])
    if isinstance(objective, NeedsDataSize):
        objective.prepare(100)  # the training set size, as the trainer gives it
    return case, objective


def test_loss_is_finite_and_terms_are_per_example(case_and_objective):
    (_, model, x), objective = case_and_objective
    output = objective(model, Batch(x))
    assert output.loss.shape == () and torch.isfinite(output.loss)
    assert "log_px_z" in output.terms
    for name, term in output.terms.items():
        assert term.shape == (BATCH,), name
        assert torch.isfinite(term).all(), name


def test_every_parameter_gets_a_gradient(case_and_objective):
    (_, model, x), objective = case_and_objective
    objective(model, Batch(x)).loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, f"{name} gets no gradient"
        assert torch.isfinite(parameter.grad).all(), f"{name} has a non-finite gradient"
        assert parameter.grad.abs().max() > 0, f"{name}'s gradient is zero everywhere"


def test_an_objectives_own_state_steps_and_round_trips_through_the_resume_state(case_and_objective):
    """An objective with a step and its own module (FactorVAE's discriminator, a step count): the step
    changes that state, and the resume state restores it into a fresh objective exactly."""
    (_, model, x), objective = case_and_objective
    if not isinstance(objective, StepsAfterModel):
        return
    before = {name: value.clone() for name, value in resume.objective_tensors(objective).items()}
    output = objective(model, Batch(x))
    output.loss.backward()
    objective.step(output)
    optimizer = make_optimizer(model, 1e-3, torch.device("cpu"))
    tensors, metadata = resume.pack(optimizer, make_schedule(optimizer, "constant", 1), TrainState(),
                                    torch.device("cpu"), objective)
    after = resume.objective_tensors(objective)
    assert after and any(not torch.equal(before[name], after[name]) for name in before)
    name = {OBJECTIVES.get(name): name for name in OBJECTIVES.names()}[type(objective)]
    fresh = build_objective(objective_config(name), model)
    resume.load_objective(fresh, tensors, metadata)
    restored = resume.objective_tensors(fresh)
    assert restored.keys() == after.keys()
    assert all(torch.equal(restored[name], after[name]) for name in after)


def test_importance_weights_have_shape_k_by_batch(case):
    """decode with leading dims (k, B) works for every trunk and likelihood."""
    _, model, x = case
    if model.prior is None:  # nothing to weigh against: the error must say so
        with pytest.raises(UserError, match="prior"):
            log_weights(model, x, 3)
        return
    with torch.no_grad():
        weights = log_weights(model, x, 3)
    assert weights.shape == (3, BATCH)
    assert torch.isfinite(weights).all()


def test_save_load_round_trip_is_exact(case, tmp_path):
    config, model, x = case
    with torch.no_grad():  # move every parameter off its initial value, so defaults cannot pass
        for parameter in model.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
    save_model(tmp_path / "model.safetensors", model, config)
    loaded, loaded_config, _ = load_model(tmp_path / "model.safetensors")
    assert loaded_config == config
    model.eval()
    with torch.no_grad():
        q, q_loaded = model.encode(x), loaded.encode(x)
        assert torch.equal(q.mean, q_loaded.mean)
        assert torch.equal(q.variance, q_loaded.variance)
        z = q.mean
        p, p_loaded = model.decode(z), loaded.decode(z)
        assert torch.equal(p.mean, p_loaded.mean)
        assert torch.equal(p.log_prob(x), p_loaded.log_prob(x))  # covers likelihood parameters (learned sigma)
        if model.prior is not None:
            assert torch.equal(model.prior_distribution().log_prob(z), loaded.prior_distribution().log_prob(z))
