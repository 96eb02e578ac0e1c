"""The exercise machinery: a learner's empty answer, a wrong one and a right one, and the build's reference."""

from __future__ import annotations

import pytest

from vae_tutorial.book.exercises import SOLUTIONS_ENV_VAR, Unanswered, answer, exercise, unanswered


def placeholder(a, x):
    """Exercise 3: d BCE / d a."""
    ...


def written(a, x):
    """Exercise 3: d BCE / d a."""
    return a - x


def returns_ellipsis_on_purpose(a):
    return ...


written_as_a_lambda = lambda a, x: a - x  # noqa: E731 - how a student may write an answer
placeholder_as_a_lambda = lambda a, x: ...  # noqa: E731


@pytest.mark.parametrize("value, empty", [(..., True), (None, True), (placeholder, True), (0.0, False),
                                          (written, False), (returns_ellipsis_on_purpose, False), (len, False),
                                          (written_as_a_lambda, False), (placeholder_as_a_lambda, True)])
def test_a_placeholder_is_unanswered_and_anything_written_is_an_answer(value, empty):
    assert unanswered(value) is empty


@pytest.fixture
def learner(monkeypatch):
    monkeypatch.delenv(SOLUTIONS_ENV_VAR, raising=False)
    said, warned = [], []
    return said, warned, lambda number: exercise(number, show=said.append, warn=warned.append)


def test_an_empty_answer_says_what_to_fill_in_and_the_run_goes_on(learner):
    said, warned, check = learner
    with check(1):
        answer(..., 0.0, "binarized_floor")
        raise AssertionError("the check goes on after an empty answer")  # pragma: no cover
    assert warned == []
    assert said == ["Exercise 1: fill in `binarized_floor` in the answer cell above (replace the ...), "
                    "run that cell, then this one."]


def test_a_wrong_answer_gives_one_line_with_the_checks_message(learner):
    said, warned, check = learner
    with check(2):
        assert answer(0.5, 1.0, "answer_2") == 1.0, "0.5 is not it: the KL alone pulls sigma^2 to 1"
    with check(3):
        answer(written, None, "bce_grad")(1.0)  # raises TypeError: a missing argument
    assert said == []
    assert warned[0] == "Exercise 2: not yet. 0.5 is not it: the KL alone pulls sigma^2 to 1"
    assert warned[1].startswith("Exercise 3: not yet. your answer raised TypeError: ") and "\n" not in warned[1]


def test_a_right_answer_is_right(learner):
    said, warned, check = learner
    with check(2):
        assert answer(1.0, 1.0, "answer_2") == 1.0
    assert said == ["Exercise 2: right"] and warned == []


def test_the_build_checks_the_reference_and_fails_when_it_fails(monkeypatch):
    monkeypatch.setenv(SOLUTIONS_ENV_VAR, "1")
    said = []
    with exercise(2, show=said.append):
        assert answer(..., 1.0, "answer_2") == 1.0
    assert said == ["Exercise 2: right (the reference answer; in JupyterLab this checks yours)"]
    with pytest.raises(AssertionError, match="wrong reference"):
        with exercise(2, show=said.append):
            assert answer(..., 0.5, "answer_2") == 1.0, "wrong reference"


def test_outside_the_build_an_empty_answer_is_never_replaced_by_the_reference(monkeypatch):
    monkeypatch.delenv(SOLUTIONS_ENV_VAR, raising=False)
    with pytest.raises(Unanswered):
        answer(placeholder, written, "bce_grad")


def test_a_cell_above_not_run_is_not_called_a_wrong_answer(learner):
    said, warned, check = learner
    with check(4):
        answer(Reference.free_bits_kl, None, "free_bits_kl")  # noqa: F821 - the folded cell was not run
    assert warned == []
    assert said == ["Exercise 4: name 'Reference' is not defined: run the cells above this one first "
                    "(Run > Run All Above Selected Cell), then this one."]


def test_the_build_extension_spells_the_solutions_variable_as_the_package_does():
    """book/_ext/check_solutions.py sets the variable without importing the package (no torch in
    the Sphinx process); if the two spellings drifted apart, the build would check no exercise."""
    import importlib.util
    from pathlib import Path

    source = Path(__file__).resolve().parents[1] / "book" / "_ext" / "check_solutions.py"
    spec = importlib.util.spec_from_file_location("check_solutions_extension", source)
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    assert extension.SOLUTIONS_ENV_VAR == SOLUTIONS_ENV_VAR


def test_a_shape_slip_is_answered_with_the_shapes_not_a_raw_error(learner):
    """A third review found shape slips (a KL left (B, D), pixels not summed) meeting PyTorch's raw
    "size of tensor a (16) must match ..." in the check's own code: the verdict now says that two shapes
    did not fit, and what the exercise expects, when the chapter states it."""
    import torch

    said, warned, _ = learner
    with exercise(4, show=said.append, warn=warned.append, expects="neg_elbo returns (B,)."):
        torch.zeros(16) + torch.zeros(16, 20).sum(0)  # (16,) + (20,): a KL left per dimension
    with exercise(2, show=said.append, warn=warned.append):
        torch.nn.Linear(400, 20)(torch.zeros(8, 40))  # a layer fed the wrong width
    assert said == []
    assert warned[0].startswith("Exercise 4: not yet. Two tensors of your answer have shapes that do not fit "
                                "(PyTorch: The size of tensor a (16) must match")
    assert warned[0].endswith("neg_elbo returns (B,).") and "your answer raised" not in warned[0]
    assert "cannot be multiplied" in warned[1] and "Print the .shape of each step" in warned[1]
    with exercise(5, show=said.append, warn=warned.append):
        raise RuntimeError("CUDA error: out of memory")  # not a shape: the plain message
    assert warned[2] == "Exercise 5: not yet. your answer raised RuntimeError: CUDA error: out of memory"


def test_an_answer_that_should_be_a_number_is_refused_in_words(learner):
    """'631,188' typed for a parameter count met the check's f"{params:,}" as a raw ValueError."""
    import torch

    said, warned, check = learner
    for written in ("631,188", [1.0], True, torch.zeros(3)):
        with check(1):
            answer(written, 0, "params_latent_2", number=True)
    assert len(warned) == 4 and all(line.startswith("Exercise 1: not yet. `params_latent_2` should be a number")
                                    for line in warned)
    for number in (631188, 0.5, torch.tensor(2.0), __import__("numpy").float64(1.5)):
        assert answer(number, 0, "x", number=True) is number


def test_a_gradient_check_on_a_detached_answer_says_so_not_a_raw_error(learner):
    """Chapter 13's check met 'element 0 of tensors does not require grad' on a detached answer (CI on 86c8878)."""
    import torch

    said, warned, _ = learner
    mu = torch.zeros(3, requires_grad=True)
    with exercise(2, show=said.append, warn=warned.append):
        torch.autograd.grad((mu.detach() ** 2).sum(), mu)
    assert warned == ["Exercise 2: not yet. No gradient flows back through your answer: keep it differentiable "
                      "(no .detach(), no torch.no_grad(), no .item() or NumPy in between)."]
