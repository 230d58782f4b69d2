"""evidence-fleet: an example out-of-tree evidence plugin (see README.md)."""

__version__ = "0.1.0"
