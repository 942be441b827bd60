"""The run folders of every exportable family (``export_helpers.FAMILIES``), saved once per session."""

from pathlib import Path

import pytest
from export_helpers import FAMILIES, saved_run


@pytest.fixture(scope="session")
def family_runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("export-runs")
    return {name: saved_run(root / name, *spec) for name, spec in FAMILIES.items()}
