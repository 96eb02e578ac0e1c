"""Run a chapter's exercise checks on answers other than the reference: the learner's likely mistakes.

The chapter runs in a kernel up to its answer cell (as a learner's would), then
the folded reference cell, then, for each case, a cell that gives the answers
(the reference ones, with the case's wrong answer over one of them) and the
chapter's own check cells, unchanged. What each check cell printed is returned
per case, so a test can ask that the check said "not yet" to every wrong answer
and "right" to the reference.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from vae_tutorial.book.exercises import SOLUTIONS_ENV_VAR

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
REFERENCE = "REFERENCE"  # the case whose answers are the reference ones
UNANSWERED = "UNANSWERED"  # the answer cell as the chapter ships it: every `...` left in place


@dataclass(frozen=True)
class WrongAnswer:
    """One likely mistake: the exercise it is about, what it is, and the code of the wrong answer."""

    exercise: int
    mistake: str
    code: str  # Python that (re)defines one or more answer names; Reference and the chapter's names are in scope


def answer_cells(chapter: str) -> tuple[list, int, int, list]:
    """The chapter's cells, the index of its answer cell and of its reference cell, and its check cells."""
    notebook = jupytext.read(NOTEBOOKS / chapter)
    cells = notebook.cells
    reference = next(i for i, c in enumerate(cells) if c.cell_type == "code" and "class Reference" in c.source)
    answer = max(i for i, c in enumerate(cells[:reference]) if c.cell_type == "code")
    last_check = max(i for i, c in enumerate(cells) if c.cell_type == "code" and "with exercise(" in c.source)
    checks = [c for c in cells[reference + 1:last_check + 1] if c.cell_type == "code"]
    return cells, answer, reference, checks


def answer_names(source: str) -> list[str]:
    """The names an answer cell gives (assignments and functions at its top level), in order."""
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def run_cases(chapter: str, cases: dict[str, WrongAnswer]) -> dict[str, str]:
    """Execute the chapter once and every case's checks after it; what the checks printed, per case name."""
    cells, answer, reference, checks = answer_cells(chapter)
    names = answer_names(cells[answer].source)
    reset = "\n".join(f"{name} = Reference.{name}" for name in names if name != "__all__")
    student_mode = f"import os\nos.environ.pop({SOLUTIONS_ENV_VAR!r}, None)  # a learner's JupyterLab: no solutions"
    prefix = [nbformat.v4.new_code_cell(c.source) for c in cells[:answer] if c.cell_type == "code"]
    body = [*prefix, nbformat.v4.new_code_cell(cells[reference].source), nbformat.v4.new_code_cell(student_mode)]
    spans = {}
    all_cases = {UNANSWERED: cells[answer].source, REFERENCE: reset,
                 **{name: f"{reset}\n{case.code}" for name, case in cases.items()}}
    for name, code in all_cases.items():
        start = len(body)
        body += [nbformat.v4.new_code_cell(code), *(nbformat.v4.new_code_cell(c.source) for c in checks)]
        spans[name] = (start, len(body))
    notebook = nbformat.v4.new_notebook(cells=body)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env_before = os.environ.get(SOLUTIONS_ENV_VAR)
    os.environ[SOLUTIONS_ENV_VAR] = "1"  # the chapter's own cells run as the build runs them
    try:
        NotebookClient(notebook, timeout=1200, allow_errors=True,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop(SOLUTIONS_ENV_VAR, None)
        else:
            os.environ[SOLUTIONS_ENV_VAR] = env_before
    prefix_errors = [_text(c) for c in notebook.cells[:len(prefix) + 2] if _has_error(c)]
    if prefix_errors:
        raise RuntimeError(f"{chapter} failed before its exercises: {prefix_errors[0][:500]}")
    return {name: "\n".join(_text(c) for c in notebook.cells[start:end]) for name, (start, end) in spans.items()}


def _has_error(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def _text(cell) -> str:
    """What a cell printed: its stdout, then its stderr, then its error; each stream's pieces joined in order
    (the kernel may cut a line into pieces, and interleave the two streams' pieces)."""
    streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
    errors = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            streams.setdefault(output.get("name", "stdout"), []).append(output["text"])
        elif output.get("output_type") == "error":
            errors.append(f"ERROR {output['ename']}: {output['evalue']}")
    return "\n".join(["".join(pieces) for pieces in streams.values() if pieces] + errors)


def mistakes_of(chapter: str) -> dict[str, WrongAnswer]:
    """The MISTAKES of tests/exercise_mistakes/chNN.py for chapter NN_name.md."""
    import importlib

    return importlib.import_module(f"exercise_mistakes.ch{chapter[:2]}").MISTAKES


def chapters_with_mistakes() -> list[str]:
    """The chapters (NN_name.md) that tests/exercise_mistakes/ holds likely mistakes for."""
    mistakes = Path(__file__).resolve().parent / "exercise_mistakes"
    return sorted(path.name for path in NOTEBOOKS.glob("*.md") if (mistakes / f"ch{path.name[:2]}.py").is_file())


def main(argv: list[str]) -> int:
    """python tests/exercise_harness.py 05_kl.md: what each check said to each case; a bad chapter is one line."""
    import argparse
    import sys

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # one line and exit 2, as the package's command line does
            print(f"error: {self.prog}: {message} (see --help)", file=sys.stderr)
            raise SystemExit(2)

    parser = Parser(description="What each exercise check of a chapter says to the learner's likely mistakes.")
    parser.add_argument("chapter", choices=chapters_with_mistakes(), metavar="CHAPTER",
                        help=f"one of {', '.join(chapters_with_mistakes())}")
    chapter = parser.parse_args(argv).chapter
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for case, printed in run_cases(chapter, mistakes_of(chapter)).items():
        print(f"=== {case}\n{printed.strip()}\n")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
