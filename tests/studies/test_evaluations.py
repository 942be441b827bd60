"""The evaluations a sweep gives each run: their options are checked when the file is read, and each
puts its numbers in the row; ood calls vaekit.ood (here a stand-in; a real one in test_sweep.py)."""

import pytest

import vaekit.runs.ood
from vaekit.errors import UserError
from vaekit.studies.evaluations import EVALUATIONS, evaluations, numbers


def test_numbers_flattens_sections_and_leaves_out_lists_and_text():
    results = {"a": 1, "b": 2.5, "c": [1, 2], "d": "text", "e": True, "f": {"g": 3.0, "h": {"i": 4}}}
    assert numbers(results, "x_") == {"x_a": 1, "x_b": 2.5, "x_f_g": 3.0, "x_f_h_i": 4}


@pytest.mark.parametrize("section, pattern", [
    ({"eval": {"k": -1}}, "k must be at least 0"),
    ({"eval": {"k": True}}, r"evaluate\.eval\.k must be int, got True"),
    ({"eval": 5}, "expected a mapping of options"),
    ({"disentangle": "slow"}, "expected fast or default, got 'slow'"),
])
def test_bad_options_are_refused_naming_the_evaluation(section, pattern):
    with pytest.raises(UserError, match=pattern):
        evaluations(section, "s.yaml")


def test_eval_options_default_to_the_elbo_on_the_whole_split():
    (name, step), = evaluations({"eval": True}, "s.yaml")
    assert name == "eval" and (step.k, step.seed, step.examples) == (0, 0, None)
    assert [name for name, _ in evaluations({"disentangle": "fast", "eval": {}}, "s.yaml")] == ["disentangle", "eval"]


def test_ood_calls_vaekit_ood_and_prefixes_its_numbers(monkeypatch, tmp_path):
    calls = []

    def ood(run_dir, against, **options):
        calls.append((run_dir, against, options))
        return {"mnist": {"auroc": 0.9, "fpr95": 0.3}, "score": "nll"}

    monkeypatch.setattr(vaekit.runs.ood, "ood", ood)
    (name, step), = evaluations({"ood": {"against": ["mnist"], "k": 10}}, "s.yaml")
    assert step.run(tmp_path, "cpu") == {"ood_mnist_auroc": 0.9, "ood_mnist_fpr95": 0.3}
    assert calls == [(tmp_path, ["mnist"], {"k": 10, "device": "cpu"})]
    with pytest.raises(UserError, match=r"expected \{against: \[DATA, ...\]\}"):
        evaluations({"ood": {"against": []}}, "s.yaml")
    with pytest.raises(UserError, match=r"s.yaml: evaluate.ood: unknown option 'samples'; vaekit.ood takes against, methods"):
        evaluations({"ood": {"against": ["mnist"], "samples": 3}}, "s.yaml")


def test_every_registered_evaluation_is_built_from_the_file_value():
    assert set(EVALUATIONS.names()) == {"eval", "disentangle", "ood"}
