"""Every exercise check rejects the mistakes its exercise is about, with a message, and accepts the reference.

For each chapter, tests/exercise_mistakes/chNN.py lists the two or three wrong
answers a learner is most likely to give to each exercise (the lesson's own
mistake, and the usual shortcut). The chapter runs once up to its answers;
then its unchanged check cells run on the answer cell as shipped, on the
reference answers, and on each wrong answer (exercise_harness.py).
"""

import re

import pytest

from exercise_harness import NOTEBOOKS, REFERENCE, UNANSWERED, _text, mistakes_of, run_cases

CHAPTERS = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.md"))
MISTAKES_PER_EXERCISE = 2


def _verdict(printed: str, exercise: int) -> str:
    lines = [line for line in printed.splitlines() if line.startswith(f"Exercise {exercise}:")]
    assert len(lines) == 1, f"exercise {exercise} said {len(lines)} lines: {printed[:400]}"
    return lines[0]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_check_rejects_the_likely_mistakes(chapter):
    exercises = sorted({int(k) for k in re.findall(r"with exercise\((\d+)\)", (NOTEBOOKS / chapter).read_text())})
    mistakes = mistakes_of(chapter)
    covered = [m.exercise for m in mistakes.values()]
    thin = [k for k in exercises if covered.count(k) < MISTAKES_PER_EXERCISE]
    assert not thin, f"{chapter}: exercises {thin} have fewer than {MISTAKES_PER_EXERCISE} likely mistakes to reject"
    printed = run_cases(chapter, mistakes)
    for k in exercises:
        assert _verdict(printed[UNANSWERED], k).startswith(f"Exercise {k}: fill in `"), printed[UNANSWERED]
        assert _verdict(printed[REFERENCE], k) == f"Exercise {k}: right", printed[REFERENCE]
    accepted = []
    for name, mistake in mistakes.items():
        verdict = _verdict(printed[name], mistake.exercise)
        reason = verdict.removeprefix(f"Exercise {mistake.exercise}: not yet. ")
        # a raw error of the check's own code ("your answer raised ...") says nothing of the mistake
        if reason == verdict or len(reason) < 20 or reason.startswith("your answer raised"):
            accepted.append(f"{name!r} ({mistake.mistake}): {verdict}")
    assert not accepted, (f"{chapter}: checks that accept a mistake, say too little or answer it with a raw "
                          "error:\n" + "\n".join(accepted))


def test_verdicts_on_two_streams_stay_on_their_own_lines():
    """A loaded kernel sent print()'s text and its newline apart, and a stderr verdict landed between them:
    'Exercise 1: rightExercise 2: not yet...' (seen in chapter 11 on a busy machine)."""
    stream = [("stdout", "Exercise 1: right"), ("stderr", "Exercise 2: not yet. too far\n"), ("stdout", "\n"),
              ("stdout", "Exercise 3: right\n")]
    cell = {"outputs": [{"output_type": "stream", "name": name, "text": text} for name, text in stream]}
    printed = _text(cell)
    assert [_verdict(printed, k) for k in (1, 2, 3)] == [
        "Exercise 1: right", "Exercise 2: not yet. too far", "Exercise 3: right"]


def test_a_verdict_is_written_in_one_piece():
    """The other half: the check writes each verdict with its newline in one write."""
    from vae_tutorial.book.exercises import exercise

    writes = []

    class Recording:
        def write(self, text):
            writes.append(text)

        def flush(self):
            pass

    import sys

    real = sys.stdout
    sys.stdout = Recording()
    try:
        with exercise(1):
            pass
    finally:
        sys.stdout = real
    assert writes == ["Exercise 1: right\n"] or writes == [
        "Exercise 1: right (the reference answer; in JupyterLab this checks yours)\n"]
