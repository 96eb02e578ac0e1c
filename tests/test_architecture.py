"""The package's house: the maths on top, the machinery in three rooms, every import pointing down.

    vae_tutorial/*.py   the maths and the loop's own files (checkpoint, resume, device)
    runs/               a run's folder, cache, pictures, sweep and report; imports the top
    book/               what the chapters import; imports runs/ and the top
    cli/                the command line; imports runs/ and the top
    __main__.py         `python -m vae_tutorial`: imports the command line only

No module imports a room above its own, no two modules import each other
(directly or round a circle), and every import sits at the top of its module.
Allowed inside a function body: optional or heavy dependencies that only some
paths need (matplotlib, ipywidgets, IPython, PIL, tqdm, torchvision, fcntl, sklearn), and the
command line's import of `commands` (it loads torch, which must come after the
start-up setting of runtime.py and inside main's error handling).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vae_tutorial"
ROOT = "vae_tutorial"  # the package's own __init__ (its version)
ROOMS = {"__main__": {"cli"}, "top": {"top"}, "runs": {"runs", "top"}, "book": {"book", "runs", "top"}, "cli": {"cli", "runs", "top"}}
LATE_IMPORTS_ALLOWED = {"matplotlib", "ipywidgets", "IPython", "tqdm", "torchvision", "fcntl", "PIL", "sklearn"}
LATE_PACKAGE_IMPORTS_ALLOWED = {("cli.main", "cli.commands")}


def _name(path: Path) -> str:
    """A module's dotted name inside the package: model, runs.cache, book (a room's face), vae_tutorial (the root)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    parts = parts[:-1] if parts[-1] == "__init__" else parts
    return ".".join(parts) or ROOT


def _is_module(parts: tuple[str, ...]) -> bool:
    target = PACKAGE.joinpath(*parts)
    return bool(parts) and (target.with_suffix(".py").is_file() or (target / "__init__.py").is_file())


def _package_imports(node: ast.AST, path: Path) -> list[str]:
    """The package's modules a relative import names (`from .x import y`, `from .. import x`)."""
    if not isinstance(node, ast.ImportFrom) or node.level == 0:
        return []
    package = path.relative_to(PACKAGE).parent.parts  # () at the top, ("runs",) in a room
    base = package[:len(package) - (node.level - 1)]
    target = (*base, *node.module.split(".")) if node.module else base
    submodules = [(*target, alias.name) for alias in node.names if _is_module((*target, alias.name))]
    if submodules:
        return [".".join(parts) for parts in submodules]
    return [".".join(target) or ROOT]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _graph() -> dict[str, set[str]]:
    return {_name(path): {name for node in ast.walk(ast.parse(path.read_text()))
                          for name in _package_imports(node, path)}
            for path in _modules()}


def _room(module: str) -> str:
    first = module.split(".")[0]
    return first if first in ROOMS and first != "top" else "top"


def _upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((module, name) for module, names in graph.items() for name in names
                  if _room(name) not in ROOMS[_room(module)])


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, node])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [])):
            return found
    return None


def test_the_graph_sees_every_room_and_resolves_their_imports():
    graph = _graph()
    assert {"model", "train", "runs.cache", "book.chapter", "cli.commands", "cli"} <= set(graph)
    assert "runs.cache" in graph["book.chapter"] and "train" in graph["runs.cache"]
    assert "cli.main" in graph["cli"] and ROOT in graph["runs.cache"]  # a face, and `from .. import __version__`
    assert set().union(*graph.values()) <= set(graph)  # every edge ends at a module that exists


def test_the_import_graph_has_no_circle():
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()))


def test_a_circle_would_be_found():
    """The check itself can fail: a made-up back edge is reported."""
    graph = {name: set(edges) for name, edges in _graph().items()}
    graph["sampling"].add("model")
    assert _cycle(graph) is not None


def test_no_module_imports_a_room_above_its_own():
    assert _upward_imports(_graph()) == []


def test_an_upward_import_would_be_found():
    """The maths importing the chapters' room, or the command line the chapters' room, is reported."""
    graph = {name: set(edges) for name, edges in _graph().items()}
    graph["train"].add("runs.cache")
    graph["cli.commands"].add("book.plots")
    assert _upward_imports(graph) == [("cli.commands", "book.plots"), ("train", "runs.cache")]


def test_imports_sit_at_the_top_of_their_module():
    late = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    names = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module.split(".")[0]]
                elif isinstance(node, ast.ImportFrom):
                    names = [(_name(path), name) for name in _package_imports(node, path)]
                else:
                    continue
                late += [(_name(path), function.name, name) for name in names
                         if name not in LATE_IMPORTS_ALLOWED and name not in LATE_PACKAGE_IMPORTS_ALLOWED]
    assert late == []
