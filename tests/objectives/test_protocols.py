"""Objectives' optional hooks are typed protocols: an objective with none of them trains, each
registered objective declares whether it compiles, and one declaring compilable = False is run eagerly."""

import pytest
import torch

from vaekit import ModelConfig, build_model
from vaekit.config import TrainConfig
from vaekit.data.array import ArrayData
from vaekit.objectives import OBJECTIVES, Output
from vaekit.objectives.protocols import (
    BindsModel,
    Compilable,
    NeedsDataSize,
    Objective,
    StepsAfterModel,
    is_compilable,
)
from vaekit.training import trainer as trainer_module
from vaekit.training.batches import training_batches
from vaekit.training.trainer import Trainer, make_optimizer, make_schedule, should_compile


class BareObjective:
    """A negative one-sample ELBO with nothing but the required interface: no hooks, no compilable."""

    def __call__(self, model, batch, beta=None):
        q = model.encode(batch.x, batch.labels)
        z = q.rsample()
        log_px_z = model.decode(z, batch.labels).log_prob(batch.x)
        kl = q.log_prob(z) - model.prior_distribution(batch.labels).log_prob(z)
        return Output(-(log_px_z - kl).mean(), {"elbo": log_px_z - kl})

    def beta_at(self, epoch):
        return 1.0


class EagerObjective(BareObjective):
    compilable = False


class TracedObjective(BareObjective):
    compilable = True


def small_run(objective, epochs=3):
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=2, hidden=(16,), likelihood="bernoulli"), (6,))
    values = (torch.rand(64, 6, generator=torch.Generator().manual_seed(1)) < 0.3).to(torch.uint8)
    data = ArrayData(values, None, "bits")
    optimizer = make_optimizer(model, 1e-2, torch.device("cpu"))
    trainer = Trainer(model, objective, TrainConfig(epochs=epochs, batch_size=16), optimizer,
                      make_schedule(optimizer, "constant", epochs))
    return trainer, trainer.fit(training_batches(data, 16, torch.device("cpu")), data)


def test_an_objective_without_optional_hooks_trains():
    objective = BareObjective()
    assert isinstance(objective, Objective)
    assert not any(isinstance(objective, hook) for hook in (Compilable, NeedsDataSize, BindsModel, StepsAfterModel))
    _, state = small_run(objective)
    elbos = [row["train_elbo"] for row in state.history]
    assert len(elbos) == 3 and elbos[-1] > elbos[0]  # the loss went down


def test_compiling_follows_the_objectives_own_declaration(monkeypatch):
    monkeypatch.delenv("VAEKIT_COMPILE", raising=False)
    monkeypatch.setattr(trainer_module, "compiler_available", lambda device: True)
    cpu, long_run = torch.device("cpu"), 10**9
    assert should_compile(TracedObjective(), cpu, long_run)
    assert not should_compile(EagerObjective(), cpu, long_run)
    assert not should_compile(BareObjective(), cpu, long_run)  # undeclared: eager
    assert not should_compile(TracedObjective(), cpu, 10)  # too short to repay the compile


def test_an_objective_declaring_compilable_false_is_not_compiled(monkeypatch):
    monkeypatch.delenv("VAEKIT_COMPILE", raising=False)
    monkeypatch.setattr(trainer_module, "COMPILE_MIN_EXAMPLES", 0)
    monkeypatch.setattr(trainer_module, "compiler_available", lambda device: True)
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda *a, **k: compiled.append(a) or a[0])
    trainer, _ = small_run(EagerObjective(), epochs=1)
    assert trainer.compile is False and trainer.compiled is None and not compiled
    trainer, _ = small_run(TracedObjective(), epochs=1)  # the same run, declared compilable: compiled
    assert trainer.compile is True and len(compiled) == 1


def test_the_trainer_does_not_know_concrete_objectives():
    known = {value.__module__ for value in vars(trainer_module).values() if isinstance(value, type)}
    objectives = {module for module in known if module.startswith("vaekit.objectives.")}
    assert objectives <= {"vaekit.objectives.terms", "vaekit.objectives.protocols"}  # Output and the protocols only


@pytest.mark.parametrize("name", OBJECTIVES.names())
def test_every_registered_objective_is_an_objective_and_declares_whether_it_compiles(name):
    factory = OBJECTIVES.get(name)
    assert isinstance(factory.compilable, bool), f"objective {name!r} does not declare compilable"
    assert isinstance(factory, Compilable)  # the class attribute answers for every instance
    assert is_compilable(factory) == factory.compilable
    assert callable(getattr(factory, "beta_at"))


def test_the_elbo_and_iwae_compile_and_the_objectives_with_side_effects_do_not():
    compiles = {name: OBJECTIVES.get(name).compilable for name in OBJECTIVES.names()}
    assert compiles["elbo"] and compiles["iwae"]
    assert not compiles["factorvae"] and not compiles["capacity"] and not compiles["vq"]
