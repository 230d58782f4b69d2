"""Fixtures of the check tests: the fake GitHub (validated against GitHub's description, or free to
serve pages of the wrong shape) and hand-written GitHub records (tests/checks/githubrun.py)."""

from tests.checks.githubrun import gh, raw_gh, records

__all__ = ["gh", "raw_gh", "records"]
