"""dcim: design, verify and measure approximate digital compute-in-memory hardware."""

from . import arith

__all__ = ["arith"]
