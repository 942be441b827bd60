"""The registry of metrics: every number evaluation reports, registered once beside its definition.

A ``Metric`` names a key of eval.json or disentanglement.json and says how to show it: its label
(tables and the report), unit and number format, cost class (``fast`` metrics run under
``vaekit disentangle --fast`` and in ``vaekit eval``; ``default`` ones only in a full run), section
(``likelihood``, ``latent``, ``probe``, ``conditional``, ``codebook``, ``disentanglement``; later
``ood``, whose scores are higher-is-anomalous) and which way is good. The command line's tables, the
report's rows and the disentanglement suite read this registry, so adding a metric is one
``register_metric`` call beside its function, and its test.

A metric whose ``compute`` is set is computed by its section's runner (the disentanglement suite
calls ``compute(sample)`` with a ``FactorSample`` and merges the dict it returns); one computation may
give several keys (DCI's three scores), each registered as a metric of its own without ``compute``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ..registry import Registry

SECTIONS = ("likelihood", "latent", "codebook", "probe", "conditional", "disentanglement", "ood")
COSTS = ("fast", "default")
ORDERS = ("", "higher_is_better", "lower_is_better", "higher_is_anomalous")
SHOWN_VALUES = 8  # per-dimension lists longer than this are cut short in tables (the JSON has them all)


@dataclass(frozen=True)
class Metric:
    """One reported number (or list of numbers), keyed ``name`` in the results.

    ``stages``: the key is numbered per codebook when a model has several (codebook_usage for one,
    codebook1_usage, codebook2_usage, ... for stages). ``table``: shown in the command line's table and
    the report's rows of its section (False: the JSON only). ``headline``: also in the report's summary.
    ``order``: which way is good ('higher_is_anomalous' for out-of-distribution scores); '' for neither.
    """

    name: str
    label: str
    section: str
    unit: str = ""  # "nats", "bits/dim", "dB"; "" for scores, shares and counts
    format: str = ".4f"  # a format spec for floats; integers and strings are shown as they are
    cost: str = "fast"
    order: str = ""
    table: bool = True
    headline: bool = False
    stages: bool = False
    compute: Callable[..., dict] | None = None
    step: str = ""  # the computation's name in the runner's seconds (default: the metric's name)

    def __post_init__(self):
        for field, value, allowed in (("section", self.section, SECTIONS), ("cost", self.cost, COSTS),
                                      ("order", self.order, ORDERS)):
            if value not in allowed:
                known = ", ".join(map(repr, allowed))
                raise ValueError(f"metric {self.name!r}: {field} {value!r} is not one of {known}")

    def keys(self, results: dict) -> list[str]:
        """The keys of ``results`` that hold this metric (several for a numbered per-codebook metric)."""
        if not self.stages:
            return [self.name] if self.name in results else []
        prefix, _, rest = self.name.partition("_")
        numbered = re.compile(rf"{re.escape(prefix)}\d+_{re.escape(rest)}$")
        return [key for key in results if key == self.name or numbered.match(key)]


METRICS: Registry[Metric] = Registry("metric")


def register_metric(metric: Metric) -> Metric:
    """Add ``metric`` to ``METRICS`` (a name can be registered once)."""
    METRICS.register(metric.name)(metric)
    return metric


def metrics(section: str | None = None, costs: tuple[str, ...] = COSTS) -> list[Metric]:
    """The registered metrics of ``section`` (every section: None) and cost classes, in registration order."""
    return [m for m in METRICS.values() if (section is None or m.section == section) and m.cost in costs]


def format_value(value, metric: Metric | None = None) -> str:
    """A value as tables and the report show it: floats with the metric's format (4 decimals by default),
    lists as a short summary ('D values, largest first: ...'), a list per codebook as one summary each."""
    if isinstance(value, float):
        return format(value, metric.format if metric else ".4f")
    if isinstance(value, list) and value and isinstance(value[0], list):  # one list per part (a VQ-VAE's codebooks)
        return "; ".join(f"[{summarise(part)}]" for part in value)
    if isinstance(value, list):
        return summarise(value)
    return str(value)


def summarise(values: list[float]) -> str:
    """'D values, largest first: a b c ...' with at most SHOWN_VALUES of them."""
    ordered = sorted(values, reverse=True)
    shown = " ".join(f"{v:.3g}" for v in ordered[:SHOWN_VALUES])
    more = " ... (all in eval.json)" if len(values) > SHOWN_VALUES else ""
    return f"{len(values)} values, largest first: {shown}{more}"


def formatted_results(results: dict) -> list[tuple[str, str]]:
    """(key, formatted value) for every key of ``results`` (eval.json): the registered metrics first, in
    registration order, each with its own format, then the rest (settings, counts, seconds) in their order."""
    known = {key: metric for metric in METRICS.values() for key in metric.keys(results)}
    rest = [key for key in results if key not in known]
    return [(key, format_value(results[key], known.get(key))) for key in [*known, *rest]]


def metric_rows(results: dict, section: str | None = None, headline: bool = False) -> list[tuple[Metric, str, str]]:
    """(metric, key, formatted value) for each registered metric of ``section`` (all: None) in ``results``
    that tables show (``headline``: only the report summary's), in registration order."""
    return [(metric, key, format_value(results[key], metric)) for metric in metrics(section)
            if metric.table and (metric.headline or not headline) for key in metric.keys(results)]


def labelled_rows(results: dict, section: str | None = None, headline: bool = False) -> list[tuple[str, str]]:
    """(label, formatted value) rows for a table of the report; a numbered key keeps its codebook's number."""
    return [(label_of(metric, key), value) for metric, key, value in metric_rows(results, section, headline)]


def label_of(metric: Metric, key: str) -> str:
    if key == metric.name:
        return metric.label
    stage = re.search(r"\d+", key).group()
    return f"{metric.label} (codebook {stage})"
