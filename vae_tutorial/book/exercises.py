"""Exercise checks: the learner's answer, checked in one line; the reference answer, checked by the build.

A chapter's exercises come in three cells. A hidden cell holds the reference
answers as attributes of a class ``Reference``. The learner's answer cell holds
``...`` placeholders. The check cell runs each exercise's check in a
``with exercise(n):`` block, on ``answer(yours, Reference.x, "x")``:

- in JupyterLab, an answer still ``...`` gives one line that says what to fill
  in, a wrong answer one line that says what is wrong (no traceback), and a
  right one "right";
- when the book is built or the chapters run as tests (``$VAE_TUTORIAL_SOLUTIONS``
  is set: by conftest.py and by the book's Sphinx configuration), an answer
  left ``...`` is replaced by the reference answer, and a failing check fails
  the build, so every check is run on the reference answer.
"""

from __future__ import annotations

import ast
import inspect
import numbers
import re
import sys
import textwrap
from types import TracebackType

from ..config import env_switch

SOLUTIONS_ENV_VAR = "VAE_TUTORIAL_SOLUTIONS"
NO_GRADIENT = "does not require grad"  # PyTorch's words when backward() or grad() meets a cut graph
# PyTorch's words when two tensors' shapes do not fit (broadcasting, matmul, view, a layer's input)
SHAPE_ERROR = re.compile(r"must match the size of tensor|cannot be multiplied|size mismatch|shape '\[.*\]' is invalid|"
                         r"expanded size|doesn't match the broadcast shape|Dimension out of range|"
                         r"Expected .* to have .* size", re.I)


def checking_solutions() -> bool:
    """True where the build or the test suite runs the chapters: the reference answers are checked."""
    return env_switch(SOLUTIONS_ENV_VAR)  # 1/true/yes or 0/false/no/empty/unset; anything else is refused


class Unanswered(Exception):
    """An answer that is still the placeholder `...`."""


def unanswered(value) -> bool:
    """`...`, None, or a function whose body is only a docstring and `...`: not answered yet."""
    if value is Ellipsis or value is None:
        return True
    if not inspect.isfunction(value):
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(value)))
    except (OSError, TypeError, SyntaxError):  # no source to read: a real function
        return False
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):  # a lambda: `f = lambda a, x: ...`
        lambdas = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda)]
        return bool(lambdas) and all(isinstance(node.body, ast.Constant) and node.body.value is Ellipsis
                                     for node in lambdas)
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring
    return len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
        and body[0].value.value is Ellipsis


def answer(yours, reference, name: str, number: bool = False):
    """Your answer if you gave one; else the reference (building the book) or Unanswered (JupyterLab).

    With `number`, an answer that is not a number (a string such as "631,188", a list) is refused in words
    before the check's own arithmetic meets it with a raw error."""
    if not unanswered(yours):
        if number and not _is_number(yours):
            raise AssertionError(f"`{name}` should be a number, not the {type(yours).__name__} {yours!r:.40}")
        return yours
    if checking_solutions():
        return reference
    raise Unanswered(name)


def _is_number(value) -> bool:
    """A real number: int, float, numpy's, or a one-element real tensor; not a bool."""
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):
        return True
    return hasattr(value, "numel") and value.numel() == 1 and not value.is_complex()


class exercise:  # noqa: N801 - used as `with exercise(1):`, like a statement
    """`with exercise(n):` around one exercise's check: one line of verdict instead of a traceback."""

    def __init__(self, number, show=None, warn=None, expects: str | None = None):
        self.name = f"Exercise {number}"
        self.expects = expects  # the shapes the answer takes and returns, said when PyTorch finds they do not fit
        self.show = show or (lambda line: _write_line(line, sys.stdout))  # the verdicts: right, or what to fill in
        self.warn = warn or (lambda line: _write_line(line, sys.stderr))  # a wrong answer: red in JupyterLab

    def __enter__(self) -> "exercise":
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, trace: TracebackType | None) -> bool:
        if kind is None:
            self.show(f"{self.name}: right" + (" (the reference answer; in JupyterLab this checks yours)"
                                                if checking_solutions() else ""))
            return False
        if isinstance(error, Unanswered):
            self.show(f"{self.name}: fill in `{error}` in the answer cell above (replace the ...), "
                      f"run that cell, then this one.")
            return True
        if checking_solutions() or not isinstance(error, Exception):
            return False  # the reference answer must pass: the build fails; Ctrl-C stays Ctrl-C
        if isinstance(error, NameError):  # a cell above (the answers, the folded reference) has not run
            self.show(f"{self.name}: {error}: run the cells above this one first "
                      f"(Run > Run All Above Selected Cell), then this one.")
            return True
        if isinstance(error, RuntimeError) and SHAPE_ERROR.search(str(error)):  # a shape slip, met on our tensors
            said = str(error).strip().splitlines()[0]
            self.warn(f"{self.name}: not yet. Two tensors of your answer have shapes that do not fit (PyTorch: "
                      f"{said}). " + (self.expects or "Print the .shape of each step and compare it with the "
                                      "shapes the exercise states."))
            return True
        if isinstance(error, RuntimeError) and NO_GRADIENT in str(error):  # a gradient check met a cut graph
            self.warn(f"{self.name}: not yet. No gradient flows back through your answer: keep it differentiable "
                      "(no .detach(), no torch.no_grad(), no .item() or NumPy in between).")
            return True
        self.warn(f"{self.name}: not yet. {_one_line(error)}")
        return True


def _write_line(line: str, stream) -> None:
    """One verdict as one write: print() writes the text and its newline apart, and a kernel that sends the
    two in separate messages lets a verdict on the other stream land between them, on the same line."""
    stream.write(line + "\n")
    stream.flush()


def _one_line(error: Exception) -> str:
    """An assertion's own message, or the kind of error and its first line."""
    text = str(error).strip().splitlines()
    if isinstance(error, AssertionError):
        return text[0] if text else "the check does not hold for this answer"
    return f"your answer raised {type(error).__name__}" + (f": {text[0]}" if text else "")
