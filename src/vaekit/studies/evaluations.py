"""The evaluations a sweep file's ``evaluate`` section gives each run, registered by name.

    evaluate:
      eval: {k: 100}            # vaekit eval: the ELBO, log p(x) with K importance samples (k: 0 skips it), ...
      disentangle: fast         # vaekit disentangle: fast or default sample counts (data with factors)
      ood: {against: [mnist]}   # vaekit ood: out-of-distribution scores against these sets

An entry is a class built from the file's value (its options, checked when the file is read, before
any run starts) with ``run(run_dir, device) -> {column: number}``: the row's numbers from what the
evaluation wrote into the run folder. Adding an evaluation is one class here and its test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from ..errors import UserError
from ..evaluation.metrics import metrics
from ..registry import Registry

EVALUATIONS: Registry = Registry("evaluation")


class Evaluation(Protocol):
    """One evaluation of a run: built from the sweep file's value; ``run`` returns the row's numbers."""

    def run(self, run_dir: Path, device: str) -> dict[str, float]: ...


def evaluations(section: dict, where: str) -> list[tuple[str, Evaluation]]:
    """[(name, evaluation)] for the sweep file's ``evaluate`` section, each checked; a UserError naming
    ``where`` and the key."""
    steps = []
    for name, value in section.items():
        try:
            kind = EVALUATIONS.get(name)
        except UserError as error:
            raise UserError(f"{where}: evaluate: {error}") from None
        steps.append((name, kind(value, f"{where}: evaluate.{name}")))
    return steps


def numbers(results: dict, prefix: str = "") -> dict[str, float]:
    """The numeric scalars of ``results`` (nested mappings flattened as PREFIX_KEY_KEY); lists left out."""
    found = {}
    for key, value in results.items():
        if isinstance(value, dict):
            found.update(numbers(value, f"{prefix}{key}_"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            found[f"{prefix}{key}"] = value
    return found


def options(value: Any, allowed: dict[str, type], where: str) -> dict:
    """The mapping ``value`` (true or None: no options) checked against ``allowed`` {key: type}."""
    value = {} if value is True or value is None else value
    if not isinstance(value, dict):
        raise UserError(f"{where}: expected a mapping of options ({', '.join(allowed) or 'none'}) or true, got {value!r}")
    for key, item in value.items():
        if key not in allowed:
            raise UserError(f"{where}: unknown option {key!r}; known: {', '.join(allowed) or 'none'}")
        if not isinstance(item, allowed[key]) or isinstance(item, bool) != (allowed[key] is bool):
            raise UserError(f"{where}.{key} must be {allowed[key].__name__}, got {item!r}")
    return value


@EVALUATIONS.register("eval")
class Eval:
    """``vaekit eval`` (eval.json): k importance samples (0: the ELBO only), seed, examples (None: all)."""

    def __init__(self, value: Any, where: str):
        chosen = options(value, {"k": int, "seed": int, "examples": int}, where)
        self.k, self.seed, self.examples = chosen.get("k", 0), chosen.get("seed", 0), chosen.get("examples")
        if self.k < 0 or (self.examples is not None and self.examples < 1):
            raise UserError(f"{where}: k must be at least 0 and examples at least 1, got {chosen}")

    def run(self, run_dir: Path, device: str) -> dict[str, float]:
        from ..runs.evaluate import evaluate_run_dir

        results = evaluate_run_dir(run_dir, device, k=self.k, seed=self.seed, examples=self.examples)
        settings = {"seconds": "eval_seconds", "seed": "eval_seed", "k": "eval_k", "examples": "eval_examples"}
        return {settings.get(key, key): value for key, value in numbers(results).items()}


@EVALUATIONS.register("disentangle")
class Disentangle:
    """``vaekit disentangle`` (disentanglement.json): 'fast' or 'default' sample counts; the registered
    disentanglement metrics go in the row."""

    def __init__(self, value: Any, where: str):
        if value not in ("fast", "default"):
            raise UserError(f"{where}: expected fast or default, got {value!r}")
        self.fast = value == "fast"

    def run(self, run_dir: Path, device: str) -> dict[str, float]:
        from ..runs.disentangle import disentangle_run

        results = disentangle_run(run_dir, fast=self.fast, device=device)
        keys = [key for metric in metrics("disentanglement") for key in metric.keys(results)]
        return {**numbers({key: results[key] for key in keys}), "disentangle_seconds": results["seconds"]["with_figures"]}


@EVALUATIONS.register("ood")
class OutOfDistribution:
    """``vaekit.ood(run_dir, against=[...], **options)`` (RUN/ood.json): its numbers go in the row as
    ood_SET_METHOD_METRIC. The options are vaekit.ood's keyword arguments (methods, examples, seed, k,
    background); another key is refused when the file is read."""

    OPTIONS = ("against", "methods", "examples", "seed", "k", "background")

    def __init__(self, value: Any, where: str):
        if not isinstance(value, dict) or not isinstance(value.get("against"), list) or not value["against"]:
            raise UserError(f"{where}: expected {{against: [DATA, ...]}} (and vaekit.ood's options), got {value!r}")
        unknown = sorted(set(value) - set(self.OPTIONS))
        if unknown:
            raise UserError(f"{where}: unknown option {unknown[0]!r}; vaekit.ood takes {', '.join(self.OPTIONS)}")
        self.options = value

    def run(self, run_dir: Path, device: str) -> dict[str, float]:
        from ..runs import ood

        return numbers(ood.ood(run_dir, device=device, **self.options) or {}, "ood_")
