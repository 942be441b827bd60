"""A run folder: the one place that names its files and writes them.

    RUN_DIR/
      config.yaml            the exact config used, defaults included
      run.json               versions, data, device, hardware (and the world size of a data-parallel run;
                             history: what each --resume changed, e.g. the learning rate)
      model.safetensors      best weights (by the validation score) with config, data transform and, for a
                             VQ-VAE, its code prior and the prior's numbers ("code_prior")
      last.safetensors       last weights plus optimizer, schedule, RNG and trainer state (resume)
      STAGE.safetensors      a stage after training (code_prior.safetensors), resumable
      metrics.csv            one row per epoch
      eval.json              'vaekit eval' (or the report's evaluation): the tightest evaluation of these
                             weights, and under "evaluations" every one kept, one per setting
      train.lock             while a training works in the folder: its pid, host and start time
      disentanglement.json   'vaekit disentangle'; figures in disentanglement/
      ood.json               'vaekit ood'; figures and scores in ood/, its background model in ood_background/
      report.html            'vaekit report'; its figures in report/
      tensorboard/           event files, when the tensorboard package is installed
      curves.png, reconstructions.png, samples.png, ...   FIGURES

It sits low (it imports only config, errors and files) so that every layer that names a run file,
from the trainer's event writer to the report's figures, reads the name from here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any, Protocol

import torch

from .config import Config, load_config, save_config
from .errors import UserError
from .files import FolderFile, atomic_write_json, atomic_write_text, read_metadata, save_tensors


class Figures:
    """The PNG names a run folder (and its report/ folder) holds, and the other default outputs of the
    commands; the .npz of a figure goes beside it."""

    CURVES = "curves.png"
    RECONSTRUCTIONS = "reconstructions.png"
    SAMPLES = "samples.png"
    CLASS_SAMPLES = "class_samples.png"
    INTERPOLATION = "interpolation.png"
    TRAVERSAL = "traversal.png"
    LATENT_MAP = "latent_map.png"
    MANIFOLD = "latent_map_manifold.png"  # latent_map_outputs writes it beside LATENT_MAP (STEM_manifold.png)
    DENOISED = "denoised.png"
    KL_PER_DIMENSION = "kl_per_dimension.png"
    CODE_USE = "code_use.png"
    MUTUAL_INFORMATION = "mutual_information.png"
    FACTOR_TRAVERSAL = "factor_traversal.png"
    FACTOR_SCATTER = "factor_scatter.png"
    SCORES = "scores.csv"  # 'vaekit score' (a table, written where the figures go)
    OOD_HISTOGRAM = "{method}_histogram.png"  # 'vaekit ood', per method, in RUN_DIR/ood/
    OOD_ROC = "{method}_roc.png"
    OOD_SCORES = "scores.npz"  # every set's scores per method, keyed 'SET/METHOD'
    ENCODED = "encoded.npz"  # 'vaekit encode' (arrays)
    EXPORTED = "export"  # 'vaekit export' (a folder per format: export/onnx, export/torchscript)


class Saveable(Protocol):
    """What a checkpoint stores of a model: its weights and the shape of one example."""

    data_shape: tuple[int, ...]

    def state_dict(self) -> dict[str, torch.Tensor]: ...


def versions() -> dict[str, str]:
    from ._version import __version__

    return {"vaekit": __version__, "torch": torch.__version__}


# Metadata that save_model writes itself; the rest (the data transform, a stage's numbers) is the caller's.
OWN_METADATA = ("config", "data_shape", "vaekit", "torch")


def save_model(path: str | Path, model: Saveable, config: Config, metadata: dict | None = None,
               tensors: dict | None = None) -> None:
    """Weights, the full config and the data shape, so ``load_model`` needs nothing else.
    ``metadata`` adds plain values (the data transform, ...); ``tensors`` adds tensors (resume state)
    beside the weights."""
    stored = {"config": config.to_dict(), "data_shape": list(model.data_shape), **versions(), **(metadata or {})}
    save_tensors(path, {**model.state_dict(), **(tensors or {})}, stored)


class RunDir:
    """A run folder: its file names (class constants), paths, metadata reads and writes."""

    WEIGHTS = "model.safetensors"
    RESUME = "last.safetensors"
    CONFIG = "config.yaml"
    RUN_INFO = "run.json"
    METRICS = "metrics.csv"
    EVALUATION = "eval.json"
    DISENTANGLEMENT = "disentanglement.json"
    DISENTANGLEMENT_FIGURES = "disentanglement"  # a folder
    OOD = "ood.json"
    OOD_FIGURES = "ood"  # a folder
    OOD_BACKGROUND = "ood_background"  # a run folder: the likelihood ratio's background model
    REPORT = "report.html"
    REPORT_FIGURES = "report"  # a folder
    EVENTS = "tensorboard"  # a folder
    CODE_PRIOR = "code_prior"  # the code prior's numbers in the weights' metadata, and its stage's name
    STAGE_SUFFIX = ".safetensors"
    LOCK = "train.lock"  # held by the training that works in the folder (vaekit.locks)
    EVALUATIONS = "evaluations"  # eval.json's section of every evaluation kept, keyed by its setting
    WEIGHTS_ID = "weights_sha256"  # eval.json's record of the weights an evaluation scored

    # RUN_DIR/<file> for each of the files above, e.g. ``run.weights``
    weights = FolderFile(WEIGHTS)
    resume = FolderFile(RESUME)
    config_file = FolderFile(CONFIG)
    metrics = FolderFile(METRICS)
    evaluation = FolderFile(EVALUATION)
    disentanglement = FolderFile(DISENTANGLEMENT)
    ood = FolderFile(OOD)
    ood_background = FolderFile(OOD_BACKGROUND)
    report = FolderFile(REPORT)
    events = FolderFile(EVENTS)
    lock = FolderFile(LOCK)
    report_folder = FolderFile(REPORT_FIGURES)  # the report's figures with their arrays
    disentanglement_folder = FolderFile(DISENTANGLEMENT_FIGURES)  # the figures of 'vaekit disentangle'
    ood_folder = FolderFile(OOD_FIGURES)  # the figures and scores of 'vaekit ood'

    FIGURES = Figures

    # The code prior's -log p(codes) on held-out data was stored as test_code_nll_nats by
    # 'vaekit fit-code-prior' before 0.2; it is val_code_nll_nats now (read_code_prior translates).
    OLD_CODE_PRIOR_KEYS = {"test_code_nll_nats": "val_code_nll_nats"}

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # --- is this a run? -----------------------------------------------------------------------------

    @classmethod
    def is_run(cls, path: str | Path) -> bool:
        """Whether ``path`` is a run folder with trained weights."""
        return (Path(path) / cls.WEIGHTS).is_file()

    @classmethod
    def check(cls, path: str | Path) -> RunDir:
        """The RunDir of ``path``; a UserError naming it when it holds no trained weights."""
        if not cls.is_run(path):
            raise UserError(f"{path}: no {cls.WEIGHTS} here; pass a run folder written by 'vaekit train'")
        return cls(path)

    # --- paths --------------------------------------------------------------------------------------

    def file(self, name: str) -> Path:
        """RUN_DIR/name (a name from this class or ``Figures``)."""
        return self.path / name

    def checkpoint(self, which: str) -> Path:
        """The weights file ``which`` names: 'model' (the best weights) or 'last' (with the resume state)."""
        names = {"model": self.WEIGHTS, "last": self.RESUME}
        if which not in names:
            raise UserError(f"which={which!r}: a run folder holds the weights 'model' (best) and 'last'")
        return self.path / names[which]

    def stage_checkpoint(self, stage: str) -> Path:
        """RUN_DIR/STAGE.safetensors: a stage after training (the code prior), resumable."""
        return self.path / f"{stage}{self.STAGE_SUFFIX}"

    def figure(self, name: str) -> Path:
        return self.path / name

    def report_figure(self, name: str) -> Path:
        return self.report_folder / name

    def ood_figure(self, kind: str, method: str) -> Path:
        """RUN_DIR/ood/METHOD_histogram.png (``kind`` 'histogram') or METHOD_roc.png ('roc')."""
        names = {"histogram": Figures.OOD_HISTOGRAM, "roc": Figures.OOD_ROC}
        return self.ood_folder / names[kind].format(method=method)

    def output(self, out: str | Path | None, name: str) -> Path:
        """A command's output file: ``--out`` when given, else RUN_DIR/name."""
        return Path(out) if out else self.path / name

    # --- config and metadata ------------------------------------------------------------------------

    def read_config(self) -> Config:
        """config.yaml; when the folder has none (copied without it, or deleted), the config stored with the
        weights (the same values, saved beside them), so that every command opens such a run alike."""
        if self.config_file.exists() or not self.weights.is_file():
            return load_config(self.config_file)
        return Config.from_dict(self.metadata()["config"], f"{self.weights} (stored config)")

    def save_config(self, config: Config) -> None:
        save_config(config, self.config_file)

    def metadata(self) -> dict[str, Any]:
        """The plain values stored with the best weights (config, data transform, stage numbers)."""
        return read_metadata(self.weights)

    def epochs_done(self) -> int:
        """The epochs the resume state (last.safetensors) holds; 0 before the first checkpoint."""
        if not self.resume.is_file():
            return 0
        return int(read_metadata(self.resume)["train_state"]["epoch"])

    def data_metadata(self) -> dict[str, Any]:
        """The data transform and names stored with the weights (shift, scale, columns, classes, ...)."""
        return self.metadata()["data"]

    def write_run_info(self, info: dict) -> None:
        """Write run.json, keeping the history of its resumed runs (``append_history``)."""
        history = self.read_run_info().get("history")
        atomic_write_json(self.path / self.RUN_INFO, {**info, **({"history": history} if history else {})})

    def read_run_info(self) -> dict:
        """run.json's contents ({} before it is written)."""
        path = self.path / self.RUN_INFO
        return json.loads(path.read_text()) if path.is_file() else {}

    def append_history(self, entry: dict) -> None:
        """Add ``entry`` (what a resumed run changed) to run.json's 'history' list."""
        info = self.read_run_info()
        atomic_write_json(self.path / self.RUN_INFO, {**info, "history": [*info.get("history", []), entry]})

    # --- weights ------------------------------------------------------------------------------------

    def save_model(self, model: Saveable, config: Config, metadata: dict | None = None) -> None:
        """The best weights with ``metadata`` (data transform, ...)."""
        save_model(self.weights, model, config, metadata)

    def save_resume(self, model: Saveable, config: Config, metadata: dict, tensors: dict) -> None:
        """The last weights with the resume state (``tensors`` under the resume prefix, ``metadata``)."""
        save_model(self.resume, model, config, metadata, tensors)

    def save_fitted(self, model: Saveable, stages: dict[str, dict], config: Config | None = None,
                    metadata: dict | None = None) -> None:
        """The best weights again, now holding what the stages after training fitted (a VQ-VAE's code
        prior), with each stage's numbers under its name (``CODE_PRIOR``); the one way the code prior is
        saved, by training and by 'vaekit fit-code-prior'. ``config`` and ``metadata`` default to those
        stored with the weights (a stage fitted before is replaced)."""
        if config is None or metadata is None:
            stored = self.metadata()
            config = config or Config.from_dict(stored["config"], f"{self.weights} (stored config)")
            metadata = {key: value for key, value in stored.items() if key not in OWN_METADATA} if metadata is None else metadata
        save_model(self.weights, model, config, {**metadata, **stages})

    def read_code_prior(self) -> dict | None:
        """The code prior's numbers stored with the weights (None without one), old keys translated."""
        numbers = self.metadata().get(self.CODE_PRIOR)
        return None if numbers is None else code_prior_numbers(numbers)

    # --- tables and results -------------------------------------------------------------------------

    def write_metrics(self, history: list[dict]) -> None:
        """metrics.csv rewritten whole from the history (atomic), so it always matches the checkpoint."""
        names = list(dict.fromkeys(key for row in history for key in row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=names)
        writer.writeheader()
        writer.writerows(history)
        atomic_write_text(self.metrics, buffer.getvalue())

    def read_metrics(self) -> list[dict]:
        """metrics.csv's rows as numbers (epoch an int); [] when there is none."""
        if not self.metrics.is_file():
            return []
        with open(self.metrics) as handle:
            rows = [{key: float(value) for key, value in row.items() if value != ""} for row in csv.DictReader(handle)]
        return [{**row, "epoch": int(row["epoch"])} for row in rows]

    def weights_id(self) -> str:
        """The SHA-256 of the best weights' file: which weights an evaluation scored (eval.json's WEIGHTS_ID)."""
        digest = hashlib.sha256()
        with open(self.weights, "rb") as handle:
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
        return digest.hexdigest()

    def evaluation_is_current(self) -> bool:
        """Whether eval.json's headline evaluation scored the weights there now (for an eval.json written
        before evaluations named their weights: whether it is not older than them)."""
        return self._scored(self.read_evaluation()) == self.weights_id()

    def _scored(self, results: dict) -> str | None:
        """The weights ``results`` (eval.json, or one of its evaluations) scored: its WEIGHTS_ID, else (an
        eval.json of an earlier version) the weights there now when the file is not older than them."""
        if self.WEIGHTS_ID in results:
            return results[self.WEIGHTS_ID]
        if results and self.evaluation.stat().st_mtime >= self.weights.stat().st_mtime:
            return self.weights_id()
        return None

    def read_evaluation(self) -> dict:
        """eval.json ({} when there is none), old key names translated."""
        if not self.evaluation.is_file():
            return {}
        return code_prior_numbers(json.loads(self.evaluation.read_text()))

    def write_evaluation(self, results: dict) -> Path:
        """Add the evaluation ``results`` (flat: numbers and settings, as ``vaekit.runs.evaluate.evaluate_run``
        gives them) to eval.json, the one writer of it. Nothing earlier is lost to a looser evaluation:

        - under EVALUATIONS every evaluation is kept, one per setting (``evaluation_setting``: K, the number of
          examples, the data and split), each with the WEIGHTS_ID of the weights it scored; ``results``
          replaces only the one of its own setting;
        - the plain values at the top are one evaluation's, whole (so readers of earlier versions read them
          unchanged): the tightest (``tightest``) of these weights on the data and split of ``results``;
        - a section of the earlier file (a value that is itself a dict) is kept, for the same weights, unless
          ``results`` has a section of that name."""
        weights = self.weights_id()
        new = {**results, self.WEIGHTS_ID: weights}
        earlier = self.read_evaluation()
        scored = self._scored(earlier)
        kept = dict(earlier.get(self.EVALUATIONS) or {})
        if self.EVALUATIONS not in earlier and any(not isinstance(v, dict) for v in earlier.values()):
            plain = {key: value for key, value in earlier.items() if not isinstance(value, dict)}
            kept[evaluation_setting(plain)] = {**plain, self.WEIGHTS_ID: scored}  # eval.json of an earlier version
        kept[evaluation_setting(new)] = new
        sections = {key: value for key, value in earlier.items()
                    if isinstance(value, dict) and key != self.EVALUATIONS and scored == weights}
        headline = tightest([entry for entry in kept.values() if entry.get(self.WEIGHTS_ID) == weights], new)
        atomic_write_json(self.evaluation, {**sections, **headline, self.EVALUATIONS: kept})
        return self.evaluation

    def write_disentanglement(self, results: dict) -> Path:
        atomic_write_json(self.disentanglement, results)
        return self.disentanglement

    def write_ood(self, results: dict) -> Path:
        atomic_write_json(self.ood, results)
        return self.ood

    def read_ood(self) -> dict:
        """ood.json ({} when there is none)."""
        return json.loads(self.ood.read_text()) if self.ood.is_file() else {}


def code_prior_numbers(numbers: dict) -> dict:
    """``numbers`` with the code prior's old key names (``RunDir.OLD_CODE_PRIOR_KEYS``) under the new ones."""
    old = RunDir.OLD_CODE_PRIOR_KEYS
    translated = {new: numbers[key] for key, new in old.items() if key in numbers}
    return {**translated, **{key: value for key, value in numbers.items() if key not in old}}  # a new key wins


def evaluation_setting(results: dict) -> str:
    """The setting an evaluation is kept under in eval.json: 'k=K n=EXAMPLES DATA SPLIT' (e.g.
    'k=100 n=359 digits test'); another evaluation of the same setting (another seed) replaces it."""
    return f"k={results.get('k', 0)} n={results.get('examples', '?')} {results.get('data', '?')} {results.get('split', '?')}"


def tightest(evaluations: list[dict], new: dict) -> dict:
    """Of ``evaluations`` (one of them ``new``), the tightest estimate of log p(x) on the data and split of
    ``new``: the most importance samples K, then the most examples; ``new`` on a tie. Evaluations of other
    data never compete (``new`` is the first of its data); one that does not name its data (eval.json of
    vaekit 0.1) competes."""
    same = [e for e in evaluations
            if all(None in (e.get(key), new.get(key)) or e[key] == new[key] for key in ("data", "split"))]
    return max(same, key=lambda e: (e.get("k", 0), e.get("examples", 0), e is new))
