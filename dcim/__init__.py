"""dcim: design, verify and measure approximate digital compute-in-memory hardware."""

from . import arith
from .macro import DCiMMacro, MacroSpec

__all__ = ["DCiMMacro", "MacroSpec", "arith"]
