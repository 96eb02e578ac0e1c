"""The likely wrong answers to each chapter's exercises, one module per chapter (chNN.py: MISTAKES).

tests/test_exercise_checks.py runs every chapter's checks on each of them and
asks for "not yet" with a message; `python tests/exercise_harness.py NN_name.md`
prints what the checks said, case by case.
"""
