"""evidence: SOC 2 security-control evidence collector.

The public surface is the `evidence` command and the plugin interfaces:
`evidence.collectors.base.Collector` and `evidence.checks.base.check`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("evidence")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
