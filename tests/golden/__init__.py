"""Golden-output recipes shared by the golden tests and `python -m tests.golden.regenerate`.

The stored outputs live in tests/fixtures/golden/; tests/fixtures/README.md says how to regenerate them.
"""
