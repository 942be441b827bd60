"""The package's shape: no import circles, a small top level, and folders that import only the folders
below them (the README's "Architecture" table)."""

import ast
from pathlib import Path

import vaekit

PACKAGE = Path(vaekit.__file__).resolve().parent
MAX_TOP_LEVEL = 12
# The folders, each importing only those after it (the README's "Architecture" table, in its order).
LAYERS = ["commands", "studies", "export", "runs", "training", "evaluation", "figures", "latent", "objectives", "models", "nn", "data",
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


LAZY = ("scipy", "sklearn")  # slow to import: each is imported in the functions that use it


def test_scipy_and_scikit_learn_are_imported_where_used_so_the_command_line_starts_fast():
    """Every command and every process a data-parallel run or a test starts imports the package; a
    module-level ``from scipy.stats import ...`` once took half of that start-up time."""
    eager = []
    for name, path in module_names().items():
        for node in ast.parse(path.read_text()).body:  # module level only, not inside functions
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [node.module.split(".")[0]]
            else:
                continue
            eager += [f"{name} imports {root}" for root in roots if root in LAZY]
    assert eager == []
