"""The SRAM compute-in-memory macro: specification, hardware, golden model and simulation.

``DCiMMacro(rows=64, mult="log")`` builds a macro; :class:`MacroSpec` is its one frozen
description; ``macro.model(weights, activations)`` is the bit-exact NumPy golden model;
:func:`simulate` checks the hardware against it cycle by cycle. See ``docs/macro.md``.
"""

from .macro import DCiMMacro, WeightArray, array_signature
from .sim import ENGINES, SimulationResult, simulate, simulate_program
from .spec import DATAPATHS, MacroSpec
from .verilog import macro_verilog

__all__ = [
    "DATAPATHS",
    "ENGINES",
    "DCiMMacro",
    "MacroSpec",
    "SimulationResult",
    "WeightArray",
    "array_signature",
    "macro_verilog",
    "simulate",
    "simulate_program",
]
