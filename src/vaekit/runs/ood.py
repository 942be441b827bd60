"""Out-of-distribution detection on a trained run: score its test split (in-distribution) and every
``against`` set with each registered method, and write RUN_DIR/ood.json, the figures and the scores in
RUN_DIR/ood/ (the likelihood ratio's background model, when trained here, in RUN_DIR/ood_background/)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ..data.binarize import binarize_once
from ..errors import UserError
from ..evaluation.ood import DEFAULT_K, DEFAULT_SCORES, OOD_METHODS, OodMethod, ScoredSet, Scorer, detection_metrics, roc_points
from ..evaluation.ood.likelihood_ratio import MUTATION_RATE, perturb
from ..evaluation.ood.regret import check_model as check_regret_model
from ..evaluation.ood.typicality import BATCH, MIN_BATCHES
from ..figures.ood import roc_figure, score_histograms
from ..files import atomic_path
from ..rundir import RunDir
from ..training.checkpoint import load_model
from .open import EvaluationData, evaluation_data, open_run
from .prepared import binarize_seed, prepare_data, resolve_device

REFERENCE_EXAMPLES = 2000  # training examples for the typicality test's entropy estimate
SETTINGS = "settings"  # the key of ood.json that holds the settings beside the sets


def ood(run_dir: str | Path, against: list[str] | str, methods: list[str] | None = None, examples: int | None = None,
        seed: int = 0, k: int = DEFAULT_K, background: str | Path | None = None, data=None, device: str = "auto",
        options: dict | None = None) -> dict:
    """{set name: {method: {auroc, auprc, fpr_at_95_tpr}}} for each ``against`` data spec (the positives)
    against the run's test split (or ``data``); also written to RUN_DIR/ood.json with the settings under
    'settings'. ``methods``: names of ``OOD_METHODS`` (None: every one the model supports); ``examples``: a
    seeded random subset of each set; ``k``: importance samples for log p(x); ``background``: a run folder
    for the likelihood ratio (None: trained on the run's perturbed training data, once, into
    RUN_DIR/ood_background); ``options``: per-method settings (see ``Scorer``). Every input is checked
    before anything is computed or written."""
    started = time.perf_counter()
    against = [against] if isinstance(against, (str, Path)) else list(against)  # one spec alone is a list of one
    run = RunDir.check(run_dir)
    evaluated = open_run(run.path, device, data)
    chosen = chosen_methods(evaluated.model, methods)
    check_settings(k, examples, against)
    sets = [subset(ScoredSet("in-distribution", evaluated.data.inputs()), examples, seed)]
    sets += [subset(ScoredSet(name, part.inputs()), examples, seed) for name, part in against_sets(evaluated, against)]
    check_batches(chosen, sets, (options or {}).get("typicality_batch", BATCH))
    background_run = check_background(evaluated, chosen, background)
    own = (lambda: evaluated) if data is None else (lambda: open_run(run.path, device))  # the run's training data
    scorer = Scorer(evaluated.model, k, seed, options=dict(options or {}),
                    background=lambda: background_model(run, own(), background_run, device, seed),
                    reference=lambda: reference_set(own(), seed, (options or {}).get("reference_examples", REFERENCE_EXAMPLES)))
    scores, seconds = score_sets(scorer, chosen, sets)
    table = {scored.name: {method.name: detection_metrics(scores[method.name][0], scores[method.name][i])
                           for method in chosen} for i, scored in enumerate(sets) if i > 0}
    write_outputs(run, chosen, sets, scores)
    settings = {"in_distribution": evaluated.data.name, "split": evaluated.split, "binarize": evaluated.binarize,
                "against": list(against), "methods": [m.name for m in chosen], "examples": [len(s) for s in sets],
                "k": k, "seed": seed, "options": scorer.options, "background": background_note(run, background_run, chosen),
                "positive_class": "out-of-distribution", "seconds": seconds,
                "total_seconds": time.perf_counter() - started}
    run.write_ood({**table, SETTINGS: settings})
    return table


def chosen_methods(model, names: list[str] | None) -> list[OodMethod]:
    """The methods to run: ``names`` (each known, each applicable to the model) or every applicable one."""
    if names is None:
        return [m for m in OOD_METHODS.values() if applies(m, model)]
    if not names:
        raise UserError(f"--methods: give at least one of {', '.join(OOD_METHODS.names())}")
    chosen = [OOD_METHODS.get(name) for name in dict.fromkeys(names)]  # an unknown name lists the known ones
    for method in chosen:
        if not applies(method, model):
            usable = ", ".join(m.name for m in OOD_METHODS.values() if applies(m, model))
            raise UserError(f"ood method {method.name!r} needs {need_words(method, model)}, which this run's model does not "
                            f"have; methods for it: {usable}")
    return chosen


def applies(method: OodMethod, model) -> bool:
    """Whether ``model`` has what ``method`` needs, and what every method it requires needs."""
    return supplies(method.needs, model) and all(applies(OOD_METHODS.get(name), model) for name in method.requires)


def supplies(need: str, model) -> bool:
    if need == "":
        return True
    if need in ("px", "image_px"):
        has_px = model.prior is not None and not model.classes
        return has_px and (need == "px" or len(model.data_shape) == 3)
    try:
        check_regret_model(model)
    except UserError:
        return False
    return True


def need_words(method: OodMethod, model) -> str:
    """The first need of ``method`` (or of a method it requires) that ``model`` does not supply, in words."""
    needs = [method.needs, *(OOD_METHODS.get(name).needs for name in method.requires)]
    unmet = next((need for need in needs if not supplies(need, model)), method.needs)
    return {"": "an encoder and a decoder", "px": "the likelihood p(x) (a VAE's prior)",
            "image_px": "the likelihood p(x) of images C x H x W",
            "posterior": "an unconditional VAE's Gaussian encoder"}[unmet]


def check_settings(k: int, examples: int | None, against: list[str]) -> None:
    if not against:
        raise UserError("--against: give at least one out-of-distribution data set")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise UserError(f"--k, the importance samples per example, must be an integer >= 1, got {k!r}")
    if examples is not None and examples < 1:
        raise UserError(f"--examples must be at least 1, got {examples}")


def set_name(spec, taken: set[str]) -> str:
    """The file's stem for a file, the source's name for 'name:DIR' or a plain source; '_2', ... when taken."""
    text = str(spec)
    path = Path(text)
    name = path.stem if path.suffix else (text.split(":", 1)[0] if ":" in text else text)
    name, base, n = name or "data", name or "data", 2
    while name in taken or name == SETTINGS:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def against_sets(evaluated: EvaluationData, against: list[str]) -> list[tuple[str, object]]:
    """(name, data) of each spec, prepared as the run's data (binarised once as its test split when the run
    binarises), its test split or else all of it; a UserError for a shape other than the model's."""
    config = evaluated.config.replace(data={"validation": "none"})
    device = next(evaluated.model.parameters()).device
    taken = {"in-distribution"}
    return [(set_name(spec, taken), evaluation_data(evaluated.model, config, prepare_data(config, spec, device)).data)
            for spec in against]


def subset(scored: ScoredSet, examples: int | None, seed: int) -> ScoredSet:
    """A seeded random ``examples`` of the set (all when it has no more)."""
    if examples is None or examples >= len(scored):
        return scored
    rows = np.sort(np.random.default_rng(seed).choice(len(scored), examples, replace=False))
    return ScoredSet(scored.name, scored.x[torch.from_numpy(rows).to(scored.x.device)])


def check_batches(chosen: list[OodMethod], sets: list[ScoredSet], batch: int) -> None:
    """A batch test needs MIN_BATCHES batches in every set."""
    for method in chosen:
        if not method.per_example:
            for scored in sets:
                if len(scored) // batch < MIN_BATCHES:
                    raise UserError(f"{method.name} tests batches of {batch} examples and needs {MIN_BATCHES} per set; "
                                    f"{scored.name} has {len(scored)} examples: give at least {MIN_BATCHES * batch} "
                                    f"(--examples) or leave {method.name} out")


def check_background(evaluated: EvaluationData, chosen: list[OodMethod], background) -> Path | None:
    """The background run folder given (checked: trained weights, the model's shape), or None."""
    if background is None or not any(m.name == "likelihood_ratio" for m in chosen):
        return None
    run = RunDir.check(background)
    shape = tuple(run.metadata()["data_shape"])
    if shape != evaluated.model.data_shape:
        raise UserError(f"--background {background}: its model takes examples of shape {shape}, this run's "
                        f"{evaluated.model.data_shape}")
    return run.path


def background_model(run: RunDir, evaluated: EvaluationData, given: Path | None, device: str, seed: int):
    """The likelihood ratio's background: the given run's model, else RUN_DIR/ood_background (trained now
    on the run's training data perturbed at MUTATION_RATE, with the run's own config, when not there yet)."""
    folder = given or run.ood_background
    if not RunDir.is_run(folder):
        train_background(folder, evaluated, seed)
    return load_model(RunDir(folder).weights, resolve_device(device))[0].eval()


def train_background(folder: Path, evaluated: EvaluationData, seed: int) -> None:
    from .train import train  # runs.train imports the trainer: only when a background is trained

    if evaluated.train is None:
        raise UserError("likelihood_ratio: this run's training data cannot be read back (trained on arrays, or a "
                        "whole file evaluated); pass --background RUN")
    values = evaluated.train.values.cpu()
    perturbed = perturb(values, MUTATION_RATE, torch.Generator().manual_seed(seed))
    inputs = perturbed.numpy() if values.dtype == torch.uint8 else evaluated.train.with_values(perturbed).inputs().numpy()
    config = evaluated.config.replace(train={"report": False})
    train(config, data=inputs, out=folder)


def background_note(run: RunDir, given: Path | None, chosen: list[OodMethod]) -> dict | None:
    if not any(m.name == "likelihood_ratio" for m in chosen):
        return None
    if given is not None:
        return {"run": str(given), "trained_here": False}
    return {"run": str(run.ood_background), "trained_here": True, "mutation_rate": MUTATION_RATE,
            "config": "the run's own (architecture, epochs, optimiser), on its perturbed training split"}


def reference_set(evaluated: EvaluationData, seed: int, size: int = REFERENCE_EXAMPLES) -> ScoredSet:
    """Up to ``size`` training examples (option 'reference_examples') as the model sees test data (binarised
    once when the run binarises dynamically): the typicality test's entropy estimate, the combination's
    calibration."""
    if evaluated.train is None:
        raise UserError("typicality needs the run's training data for its entropy estimate; this run's cannot be "
                        "read back (trained on arrays, or a whole file evaluated)")
    train = evaluated.train
    rows = np.sort(np.random.default_rng(seed).choice(len(train), min(len(train), size), replace=False))
    part = train.subset(torch.from_numpy(rows).to(train.values.device))
    if evaluated.binarize.startswith("dynamic"):
        part = binarize_once(part, binarize_seed(evaluated.config, "train"))
    return ScoredSet("training reference", part.inputs())


def score_sets(scorer: Scorer, chosen: list[OodMethod], sets: list[ScoredSet]) -> tuple[dict, dict]:
    """({method: [scores of each set]}, {method: seconds}); the seconds of shared terms (log p(x), a
    combination's components) go to the first method that needs them."""
    scores, seconds = {}, {}
    for method in chosen:
        started = time.perf_counter()
        scores[method.name] = [method.scores(scorer, scored) for scored in sets]
        seconds[method.name] = time.perf_counter() - started
    return scores, seconds


def write_outputs(run: RunDir, chosen: list[OodMethod], sets: list[ScoredSet], scores: dict) -> None:
    """Per method the histogram and ROC figures, and every score in RUN_DIR/ood/scores.npz ('SET/METHOD')."""
    folder = run.ood_folder
    folder.mkdir(exist_ok=True)
    for method in chosen:
        per_set = scores[method.name]
        others = {scored.name: values for scored, values in zip(sets[1:], per_set[1:])}
        score_histograms(per_set[0], others, method.label, method.name, run.ood_figure("histogram", method.name))
        curves = {name: (*roc_points(per_set[0], values), detection_metrics(per_set[0], values)["auroc"])
                  for name, values in others.items()}
        roc_figure(curves, method.name, run.ood_figure("roc", method.name))
    arrays = {f"{scored.name}/{method.name}": scores[method.name][i] for method in chosen for i, scored in enumerate(sets)}
    with atomic_path(folder / run.FIGURES.OOD_SCORES) as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)


def example_scores(run_dir: str | Path, evaluated: EvaluationData, method: str, k: int = DEFAULT_K,
                   seed: int = 0) -> np.ndarray:
    """(N,) scores of one per-example method for every example of the evaluation split, in order
    ('vaekit score --method'); a UserError for a batch test or a method the model does not support."""
    chosen = chosen_methods(evaluated.model, [method])[0]
    if not chosen.per_example:
        raise UserError(f"--method {method}: scores batches of examples, not each example; use {method}_example")
    device = str(next(evaluated.model.parameters()).device)
    own = lambda: open_run(run_dir, device)  # noqa: E731  (the run's own training data, whatever is scored)
    scorer = Scorer(evaluated.model, k, seed, background=lambda: background_model(RunDir(run_dir), own(), None, device, seed),
                    reference=lambda: reference_set(own(), seed))
    return chosen.scores(scorer, ScoredSet(evaluated.data.name, evaluated.data.inputs()))


def default_method(model) -> str:
    """The first of ``DEFAULT_SCORES`` the model supports (the reconstruction error supports every model)."""
    return next(name for name in DEFAULT_SCORES if applies(OOD_METHODS.get(name), model))
