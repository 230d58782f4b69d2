"""Fixtures of the artifact tests: the fake GitHub and hand-written GitHub records
(tests/checks/githubrun.py)."""

from tests.checks.githubrun import gh, raw_gh, records

__all__ = ["gh", "raw_gh", "records"]
