"""Every exercise check rejects the mistakes its exercise is about, with a message, and accepts the reference.

For each chapter, tests/exercise_mistakes/chNN.py lists the two or three wrong
answers a learner is most likely to give to each exercise (the lesson's own
mistake, and the usual shortcut). The chapter runs once up to its answers;
then its unchanged check cells run on the answer cell as shipped, on the
reference answers, and on each wrong answer (exercise_harness.py).
"""

import re

import pytest

from exercise_harness import NOTEBOOKS, REFERENCE, UNANSWERED, mistakes_of, run_cases

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
        if reason == verdict or len(reason) < 20:
            accepted.append(f"{name!r} ({mistake.mistake}): {verdict}")
    assert not accepted, f"{chapter}: checks that accept a mistake or say too little:\n" + "\n".join(accepted)
