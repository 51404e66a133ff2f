"""The version of the installed ``agent-framework-hosting`` distribution."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("agent-framework-hosting")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree
    __version__ = "0.0.0"
