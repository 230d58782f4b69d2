"""Checks: one module per service; each a pure function from evidence records to findings."""
