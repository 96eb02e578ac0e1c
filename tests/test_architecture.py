"""The package's house: every module imports only modules below it, at its top.

Allowed inside a function body: optional or heavy dependencies that only some
paths need (matplotlib, ipywidgets, IPython, PIL, tqdm, torchvision, fcntl), and the
command line's import of `commands` (it loads torch, which must come after the
start-up setting of runtime.py and inside main's error handling).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vae_tutorial"
LATE_IMPORTS_ALLOWED = {"matplotlib", "ipywidgets", "IPython", "tqdm", "torchvision", "fcntl", "PIL"}
LATE_PACKAGE_IMPORTS_ALLOWED = {("cli", "commands")}


def _package_imports(node: ast.AST, module: str) -> list[str]:
    """The vae_tutorial modules a `from . import x` / `from .x import y` statement names."""
    if not isinstance(node, ast.ImportFrom) or node.level != 1:
        return []
    if node.module:
        return [node.module.split(".")[0]]
    return [alias.name for alias in node.names]


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        graph[path.stem] = {name for node in ast.walk(tree) for name in _package_imports(node, path.stem)
                            if (PACKAGE / f"{name}.py").exists()}
    return graph


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


def test_the_import_graph_has_no_circle():
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()))


def test_a_circle_would_be_found():
    """The check itself can fail: a made-up back edge is reported."""
    graph = {name: set(edges) for name, edges in _graph().items()}
    graph["sampling"].add("model")
    assert _cycle(graph) is not None


def test_imports_sit_at_the_top_of_their_module():
    late = []
    for path in PACKAGE.glob("*.py"):
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
                    names = [(path.stem, name) for name in _package_imports(node, path.stem)]
                else:
                    continue
                late += [(path.name, function.name, name) for name in names
                         if name not in LATE_IMPORTS_ALLOWED and name not in LATE_PACKAGE_IMPORTS_ALLOWED]
    assert late == []
