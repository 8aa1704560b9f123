"""dcim: design, verify and measure approximate digital compute-in-memory hardware."""

from . import arith
from .macro import DCiMMacro, MacroSpec

__all__ = ["DCiMMacro", "MacroSpec", "__version__", "arith"]

__version__ = "0.1.0"
"""The package version; a test keeps it equal to ``pyproject.toml``'s."""
