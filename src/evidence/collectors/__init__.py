"""Collectors: one module per system; each only records what it saw."""
