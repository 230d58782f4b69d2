"""evidence: SOC 2 security-control evidence collector.

The public surface is the `evidence` command and the plugin interfaces:
`evidence.collectors.base.Collector` and `evidence.checks.base.check`.
"""

#: the release (hatchling reads it from here when building)
__version__ = "0.1.0"

__all__ = ["__version__"]
