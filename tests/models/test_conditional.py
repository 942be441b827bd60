"""Conditional VAE / AE: the label reaches encoder, decoder and the per-class prior; samples drawn for a
class look like it (a classifier trained on real digits says so, well above chance and above an
unconditional VAE's samples); one z decoded with two labels gives the two classes; every latent tool
and command takes the example's label; bad input exits 2 with one line."""

import json
import math

import numpy as np
import pytest
import torch

from vaekit import Config, ModelConfig, ObjectiveConfig, UserError, build_model, build_objective, save_model
from vaekit.cli import main
from vaekit.data.batch import Batch, split_batches
from vaekit.evaluation.conditional import conditional_sample_accuracy
from vaekit.evaluation.probe import fit_classifier, flat_inputs
from vaekit.models.conditional import model_labels
from vaekit.runs.train import train
from vaekit.training.checkpoint import load_model

SHAPE = (1, 6, 5)


def conditional_model(trunk="mlp", name="vae", prior="normal", classes=3, seed=0):
    torch.manual_seed(seed)
    config = ModelConfig(name=name, trunk=trunk, prior=prior, conditional=True, classes=classes, latent_dim=3,
                         hidden=(16,), channels=(4, 6), likelihood="bernoulli")
    return build_model(config, SHAPE), config


def binary_batch(n=6, seed=1):
    return (torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(seed)) < 0.5).float()


@pytest.mark.parametrize("trunk", ["mlp", "conv"])
@pytest.mark.parametrize("name, prior", [("vae", "normal"), ("vae", "conditional"), ("ae", "normal")])
def test_conditional_models_train_and_round_trip_exactly(trunk, name, prior, tmp_path):
    """Every parameter gets a gradient (the prior's per-class parameters too); save/load reproduces
    q(z|x, y), p(x|z, y) and p(z|y) exactly."""
    model, config = conditional_model(trunk, name, prior)
    x, y = binary_batch(), torch.tensor([0, 1, 2, 2, 1, 0])
    output = build_objective(ObjectiveConfig(), model)(model, Batch(x, y))
    output.loss.backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, parameter_name
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
    save_model(tmp_path / "model.safetensors", model, Config(model=config))
    loaded = load_model(tmp_path / "model.safetensors")[0]
    model.eval()
    with torch.no_grad():
        z = model.encode(x, y).mean
        assert torch.equal(z, loaded.encode(x, y).mean)
        assert torch.equal(model.decode(z, y).log_prob(x), loaded.decode(z, y).log_prob(x))
        if model.prior is not None:
            assert torch.equal(model.prior_distribution(y).log_prob(z), loaded.prior_distribution(y).log_prob(z))


@pytest.mark.parametrize("trunk", ["mlp", "conv"])
def test_the_label_reaches_encoder_and_decoder(trunk):
    model, _ = conditional_model(trunk)
    x = binary_batch(2)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
        q0, q1 = model.encode(x, torch.tensor([0, 0])).mean, model.encode(x, torch.tensor([1, 1])).mean
        z = torch.randn(2, 3)
        p0, p1 = model.decode(z, torch.tensor([0, 0])).mean, model.decode(z, torch.tensor([2, 2])).mean
    assert not torch.allclose(q0, q1) and not torch.allclose(p0, p1)


def test_the_per_class_prior_is_a_gaussian_per_class():
    model, _ = conditional_model(prior="conditional")
    with torch.no_grad():
        model.prior.loc.copy_(torch.randn(3, 3))
        model.prior.log_scale.copy_(0.3 * torch.randn(3, 3))
    z, y = torch.randn(4, 3), torch.tensor([2, 0, 1, 2])
    loc, scale = model.prior.loc[y], model.prior.log_scale[y].exp()
    direct = (-0.5 * ((z - loc) / scale) ** 2 - scale.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
    torch.testing.assert_close(model.prior_distribution(y).log_prob(z), direct)
    draws = model.prior.sample(4000, 0.5, torch.Generator().manual_seed(0), labels=torch.full((4000,), 1))
    torch.testing.assert_close(draws.mean(0), model.prior.loc[1].detach(), atol=0.05, rtol=0)
    torch.testing.assert_close(draws.std(0), 0.5 * model.prior.log_scale[1].exp().detach(), atol=0.03, rtol=0)


def test_a_pass_over_data_gives_each_batch_its_own_labels():
    model, _ = conditional_model()
    from vaekit.data.array import ArrayData

    data = ArrayData(binary_batch(7).to(torch.uint8), torch.tensor([0, 1, 2, 0, 1, 2, 0]), "seven")
    batches = list(split_batches(data, 3, torch.empty(0), model_labels(model, data)))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert torch.equal(torch.cat([b.labels for b in batches]), data.labels)
    assert torch.equal(torch.cat([b.x for b in batches]), data.inputs())


def test_sample_takes_a_label_and_defaults_to_the_classes_in_turn():
    model, _ = conditional_model(prior="conditional")
    assert model.sample(5, label=2).shape == (5, *SHAPE)
    assert torch.equal(model.sample_labels(5, None), torch.tensor([0, 1, 2, 0, 1]))
    with pytest.raises(UserError, match="never seen in training"):
        model.sample(2, label=3)
    plain = build_model(ModelConfig(latent_dim=3, hidden=(16,), likelihood="bernoulli"), SHAPE)
    with pytest.raises(UserError, match="not conditional"):
        plain.sample(2, label=1)
    with pytest.raises(UserError, match="needs the class label"):
        model.encode(binary_batch(2))


@pytest.fixture(scope="module")
def digit_runs(tmp_path_factory):
    """A conditional and an unconditional VAE trained briefly on digits, with the same settings."""
    folder = tmp_path_factory.mktemp("digits")
    config = Config().replace(model={"latent_dim": 8, "hidden": [128]}, train={"epochs": 20, "lr": 3e-3, "report": False})
    runs = {}
    for conditional in (True, False):
        runs[conditional] = train(config.replace(model={"conditional": conditional}), out=folder / str(conditional),
                                  device="cpu")
    return runs


def test_samples_drawn_for_a_class_are_classified_as_it(digit_runs):
    """Thresholds from a run of these settings (1.0 for the conditional samples, 0.10 for the
    unconditional ones, chance 0.1), with margin."""
    scores = {c: conditional_sample_accuracy(run.model, run.data.train, run.data.test, per_class=50)
              for c, run in digit_runs.items()}
    assert scores[True]["sample_classifier_chance"] == pytest.approx(0.1)
    assert scores[True]["conditional_sample_accuracy"] > 0.7
    assert scores[True]["conditional_sample_accuracy"] > scores[False]["conditional_sample_accuracy"] + 0.4


def test_one_z_decoded_with_two_labels_gives_the_two_classes(digit_runs):
    run = digit_runs[True]
    classifier = fit_classifier(flat_inputs(run.data.train), run.data.train.labels.numpy(), 0)
    z = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    a, b = torch.full((200,), 3), torch.full((200,), 7)
    with torch.no_grad():
        as_a, as_b = run.model.decode(z, a).mean, run.model.decode(z, b).mean
    said_a = classifier.predict(as_a.flatten(1).double().numpy())
    said_b = classifier.predict(as_b.flatten(1).double().numpy())
    both = np.mean((said_a == 3) & (said_b == 7))  # the same z is a 3 with label 3 and a 7 with label 7
    assert both > 0.7  # 0.985 in a run of these settings


def test_eval_and_report_show_the_conditional_sample_accuracy(digit_runs, capsys):
    run = digit_runs[True]
    assert main(["report", str(run.dir)]) == 0
    results = json.loads((run.dir / "eval.json").read_text())
    assert 0 <= results["conditional_sample_accuracy"] <= 1 and "sample_classifier_test_accuracy" in results
    page = (run.dir / "report.html").read_text()
    assert "samples classified as the class drawn for" in page and "Samples per class" in page


def test_the_latent_commands_take_labels(digit_runs, tmp_path):
    run = str(digit_runs[True].dir)
    assert main(["sample", run, "--label", "all", "--out", str(tmp_path / "all.png")]) == 0
    with np.load(tmp_path / "all.npz") as stored:
        assert stored["samples"].shape == (10, 8, 1, 8, 8) and list(stored["labels"]) == list(range(10))
    assert main(["sample", run, "--label", "4", "--n", "6", "--out", str(tmp_path / "four.png")]) == 0
    assert main(["interpolate", run, "--from", "0", "--label", "7", "--steps", "5", "--out", str(tmp_path / "m.png")]) == 0
    with np.load(tmp_path / "m.npz") as stored:
        labels = stored["labels"]  # (5, 10): one-hot of the example's label to one-hot of 7
        assert labels.shape == (5, 10) and labels[-1, 7] == 1 and np.allclose(labels.sum(1), 1)
    for command in (["interpolate", run, "--from", "0", "--to", "1"], ["traverse", run, "--top", "2"],
                    ["reconstruct", run, "--n", "4"], ["encode", run], ["denoise", run, "--n", "4"]):
        assert main([*command, "--out", str(tmp_path / f"{command[0]}.{'npz' if command[0] == 'encode' else 'png'}")]) == 0


def test_the_reconstruction_uses_the_example_label(digit_runs):
    """Reconstructing with the wrong label is worse than with the example's own, on average."""
    run = digit_runs[True]
    x, y = run.data.test.inputs(slice(0, 100)), run.data.test.labels[:100]
    with torch.no_grad():
        q = run.model.encode(x, y).mean
        own = run.model.decode(q, y).log_prob(x)
        wrong = run.model.decode(q, (y + 5) % 10).log_prob(x)
    assert own.mean() > wrong.mean()


def npz_without_labels(tmp_path):
    path = tmp_path / "plain.npy"
    np.save(path, (np.random.default_rng(0).random((20, 4)) < 0.5).astype(np.float32))
    return path


@pytest.mark.parametrize("case, message", [
    ("no labels", "needs class labels"),
    ("one class", "at least two classes"),
    ("hvae", "model: unknown key 'conditional' (= True) for model 'hvae'; known keys: name, latent_dim, trunk"),
    ("prior without conditional", "model.prior.name=conditional is a prior per class"),
    ("vamp", "cannot do without their labels"),
])
def test_bad_conditional_training_exits_2_with_one_line(case, message, tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = (rng.random((20, 4)) < 0.5).astype(np.float32)
    if case == "no labels":
        np.save(tmp_path / "d.npy", x)
        args = ["--data", str(tmp_path / "d.npy"), "--conditional"]
    elif case == "one class":
        np.savez(tmp_path / "d.npz", x=x, y=np.zeros(20, dtype=np.int64))
        args = ["--data", str(tmp_path / "d.npz"), "--conditional"]
    elif case == "hvae":
        args = ["--model", "hvae", "--conditional"]
    elif case == "vamp":
        args = ["--prior", "vamp", "--conditional"]
    else:
        args = ["--prior", "conditional"]
    assert main(["train", *args, "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_bad_labels_exit_2_with_one_line(digit_runs, tmp_path, capsys):
    run, plain = str(digit_runs[True].dir), str(digit_runs[False].dir)
    for args, message in [
        (["sample", run, "--label", "12"], "never seen in training"),
        (["sample", run, "--label", "cat"], "not a class of this run"),
        (["sample", plain, "--label", "3"], "not conditional"),
        (["sample", plain, "--label", "all"], "not conditional"),
        (["interpolate", plain, "--label", "3"], "not conditional"),
    ]:
        assert main([*args, "--out", str(tmp_path / "x.png")]) == 2, args
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err


def test_evaluating_on_labels_the_run_never_saw_is_an_error(digit_runs, tmp_path, capsys):
    model = digit_runs[True].model
    from vaekit.data.array import ArrayData
    from vaekit.evaluation.likelihood import evaluate

    data = ArrayData(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), torch.tensor([0, 1, 2, 11]), "odd labels")
    with pytest.raises(UserError, match="label 11 was never seen in training"):
        evaluate(model, data)


def test_a_conditional_autoencoder_trains_and_reports(tmp_path):
    """No prior, so no samples and no sample accuracy; reconstructions and the report use the labels."""
    assert main(["train", "--model", "ae", "--conditional", "--epochs", "1", "--set", "model.hidden=[32]",
                 "--out", str(tmp_path / "run")]) == 0
    results = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert "log_px_z_nats" in results and "conditional_sample_accuracy" not in results
    assert (tmp_path / "run" / "report.html").is_file()
