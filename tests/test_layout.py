"""The package's shape: no import circles, a small top level, old run folders still open, run files
readable by the group, and help texts that list what is registered."""

import ast
import json
import os
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest

import vaekit
from vaekit.cli import build_parser, main
from vaekit.data import SOURCES
from vaekit.files import atomic_write_text
from vaekit.latent import PATHS

PACKAGE = Path(vaekit.__file__).resolve().parent
OLD_RUN = Path(__file__).resolve().parent / "data" / "run_v0_1_0"
MAX_TOP_LEVEL = 12
# The folders, each importing only those after it (the README's "Architecture" table, in its order).
LAYERS = ["commands", "runs", "training", "evaluation", "figures", "latent", "objectives", "models", "nn", "data",
          "config"]
FACES = {"vaekit", "vaekit.cli", "vaekit.disentanglement"}  # the package faces and the command line import the folders


def module_names() -> dict[str, Path]:
    """'vaekit.models.model' -> its file, for every module of the package (a package is its __init__)."""
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["vaekit", *path.relative_to(PACKAGE).with_suffix("").parts]
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in its source (relative or absolute).

    'from P import m' imports the module P.m when there is one, else the module P (a name defined in P)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in modules else prefix for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # 'vaekit.models.model.build_model' -> its module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles_and_a_small_top_level():
    modules = module_names()
    edges = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert "vaekit.models.registry" in edges["vaekit.models.model"]  # the reader sees relative imports
    assert circles(edges) == []
    top_level = [path for path in PACKAGE.glob("*.py") if path.name != "__init__.py"]
    assert len(top_level) <= MAX_TOP_LEVEL, sorted(p.name for p in top_level)


def folder_of(module: str) -> str | None:
    """'vaekit.models.vq' -> 'models'; None for a module at the top of the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """Imports against the layering: a folder importing a folder above it (or beside it in the list's order),
    or a small top-level module (not the face or the command line) importing any folder but ``config``, the
    bottom one (the run folder object, ``rundir``, stores the config)."""
    wrong = []
    for module, targets in edges.items():
        for target in targets:
            here, there = folder_of(module), folder_of(target)
            if there is None or here == there:
                continue
            if (here is None and module not in FACES and there != "config") or (here is not None and LAYERS.index(there) < LAYERS.index(here)):
                wrong.append(f"{module} -> {target}")
    return sorted(wrong)


def test_folders_import_only_the_folders_below_them():
    assert set(LAYERS) == {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    modules = module_names()
    edges = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert upward_imports(edges) == []
    assert upward_imports({"vaekit.models.vq": {"vaekit.objectives.vq"}}) == ["vaekit.models.vq -> vaekit.objectives.vq"]
    assert upward_imports({"vaekit.config": {"vaekit.models"}}) == ["vaekit.config -> vaekit.models"]


def test_a_run_folder_of_the_flat_layout_opens_and_evaluates_as_it_did(tmp_path, capsys):
    run_dir = tmp_path / "old-run"
    shutil.copytree(OLD_RUN, run_dir)
    expected = json.loads((run_dir / "expected_eval.json").read_text())
    assert main(["eval", str(run_dir), "--k", str(expected["k"])]) == 0
    result = json.loads((run_dir / "eval.json").read_text())
    for key in ("examples", "split", "active_units", "seed"):
        assert result[key] == expected[key], key
    for key in ("elbo_nats", "log_px_nats", "kl_nats", "log_px_z_nats", "reconstruction_mse"):
        assert result[key] == pytest.approx(expected[key], rel=1e-5, abs=1e-6), key
    assert result["kl_per_dim_nats"] == pytest.approx(expected["kl_per_dim_nats"], rel=1e-5, abs=1e-6)
    model = vaekit.load(run_dir)
    assert tuple(model.sample(3).shape) == (3, 1, 8, 8)
    assert main(["train", "--resume", str(run_dir)]) == 0  # the old resume state continues
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 1 + 2  # its 2 epochs were all it asked for


@contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_run_files_get_the_mode_the_umask_gives_a_plain_open(tmp_path, small_config):
    run_dir = tmp_path / "run"
    config = small_config.replace(train={"epochs": 1, "report": True})
    with umask(0o022):
        vaekit.train(config, out=run_dir)
    files = [path for path in run_dir.rglob("*") if path.is_file()]
    assert {"model.safetensors", "last.safetensors", "config.yaml", "eval.json", "report.html", "curves.png"} <= {
        path.name for path in files}
    assert {path.relative_to(run_dir).as_posix(): oct(mode(path)) for path in files if mode(path) != 0o644} == {}
    with umask(0o007):
        atomic_write_text(tmp_path / "shared.txt", "for the group")
    assert mode(tmp_path / "shared.txt") == 0o660


def help_of(command: str, option: str) -> str:
    parser = build_parser()
    subparser = parser._subparsers._group_actions[0].choices[command]
    action = next(a for a in subparser._actions if option in a.option_strings)
    return " ".join(action.help.split()) + " " + " ".join(action.choices or [])


@contextmanager
def registered(registry, name: str):
    """``name`` registered in ``registry`` for the body, then removed again."""
    registry.register(name)(object)
    try:
        yield
    finally:
        del registry._entries[name]


@pytest.mark.parametrize("command, option, registry", [
    ("train", "--model", vaekit.MODELS), ("train", "--prior", vaekit.PRIORS),
    ("train", "--likelihood", vaekit.LIKELIHOODS), ("train", "--trunk", vaekit.TRUNKS),
    ("train", "--objective", vaekit.OBJECTIVES), ("train", "--data", SOURCES), ("interpolate", "--method", PATHS),
])
def test_help_lists_every_registered_name_from_the_registry(command, option, registry):
    text = help_of(command, option)
    for name in registry.names():
        assert name in text, (option, name)
    with registered(registry, "newly_registered_part"):
        assert "newly_registered_part" in help_of(command, option)
    assert "newly_registered_part" not in help_of(command, option)


def test_train_help_names_the_vq_vae():
    assert "vqvae" in help_of("train", "--model")
