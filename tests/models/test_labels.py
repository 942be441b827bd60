"""Labels are arguments: a conditional model's outputs depend only on the labels passed with each
call, so two passes over data paused and resumed in any order give what each gives alone (the old
design set the labels on the model around each yielded batch, so an interleaved pass saw the
other's labels)."""

from pathlib import Path

import torch
from helpers import perturbed_model

from vaekit import ModelConfig, ObjectiveConfig, build_objective
from vaekit.data.array import ArrayData
from vaekit.data.batch import split_batches
from vaekit.models import conditional
from vaekit.models import model as model_module
from vaekit.training.batches import training_batches

SHAPE = (1, 4, 3)


def conditional_vae(prior="conditional"):
    config = ModelConfig(conditional=True, classes=3, latent_dim=2, hidden=(8,), prior=prior, likelihood="bernoulli")
    return perturbed_model(config, SHAPE)


def twin_data(n=12):
    """The same inputs twice: once with labels 0, 1, 2, ... and once with every label 2."""
    values = (torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(1)) < 0.5).to(torch.uint8)
    return ArrayData(values, torch.arange(n) % 3, "cycling"), ArrayData(values, torch.full((n,), 2), "twos")


def answers(model, batch) -> torch.Tensor:
    """(B, 2 D + 1): posterior means, the decoded mean's sum and the prior's log-density at the means."""
    with torch.no_grad():
        z = model.encode(batch.x, batch.labels).mean
        decoded = model.decode(z, batch.labels).mean.flatten(1).sum(1, keepdim=True)
        log_prior = model.prior_distribution(batch.labels).log_prob(z)[:, None]
    return torch.cat([z, decoded, log_prior], 1)


def test_interleaved_passes_give_what_each_pass_gives_alone():
    model = conditional_vae()
    cycling, twos = twin_data()
    passes = [lambda data=data: split_batches(data, 4, torch.empty(0), conditional.model_labels(model, data))
              for data in (cycling, twos)]
    alone = [torch.cat([answers(model, b) for b in make()]) for make in passes]
    first, second = passes[0](), passes[1]()
    together = [[], []]
    for a, b in zip(first, second):  # both generators paused between each other's batches
        together[1].append(answers(model, b))
        together[0].append(answers(model, a))
    assert torch.equal(torch.cat(together[0]), alone[0]) and torch.equal(torch.cat(together[1]), alone[1])
    assert not torch.allclose(alone[0], alone[1])  # the labels matter: the same inputs answer differently


def test_interleaved_training_batches_train_on_their_own_labels():
    """Two training passes drawn alternately: each step's objective equals the one computed with the
    batch's own labels, whatever the other pass did in between."""
    model = conditional_vae()
    cycling, twos = twin_data()
    objective = build_objective(ObjectiveConfig(), model)
    torch.manual_seed(3)
    first = iter(training_batches(cycling, 4, torch.device("cpu"), labels=cycling.labels))
    second = iter(training_batches(twos, 4, torch.device("cpu"), labels=twos.labels))
    for a, b in zip(first, second):
        for batch, data in ((a, cycling), (b, twos)):
            assert torch.equal(batch.labels, data.labels[batch.index])
            with torch.random.fork_rng():
                torch.manual_seed(9)
                terms = objective(model, batch).terms["elbo"]
            torch.manual_seed(9)
            q = model.encode(batch.x, data.labels[batch.index])
            z = q.rsample()
            expected = model.decode(z, data.labels[batch.index]).log_prob(batch.x) - torch.distributions.kl_divergence(
                q, model.prior_distribution(data.labels[batch.index]))
            torch.testing.assert_close(terms, expected, rtol=0, atol=0)


def test_the_model_keeps_no_label_state_and_the_context_manager_is_gone():
    model = conditional_vae()
    assert "given_labels" not in vars(model)
    assert not hasattr(conditional, "conditioned") and not hasattr(conditional, "LabelledBatches")
    assert "given_labels" not in Path(model_module.__file__).read_text()


def test_sample_takes_labels_and_still_accepts_label():
    model = conditional_vae()
    torch.manual_seed(0)
    new = model.sample(3, labels=1)
    torch.manual_seed(0)
    old = model.sample(3, label=1)
    torch.manual_seed(0)
    other = model.sample(3, labels=2)
    assert torch.equal(new, old) and not torch.equal(new, other)
