"""The SRAM compute-in-memory macro: specification, hardware, golden model and simulation.

``DCiMMacro(rows=64, mult="log")`` builds a macro; :class:`MacroSpec` is its one frozen
description; ``macro.model(weights, activations)`` is the bit-exact NumPy golden model;
:func:`simulate` checks the hardware against it cycle by cycle. Its blocks (lane, adder
tree, weight column, controller; :mod:`dcim.macro.blocks`) let writers and the flow make
each part once.
See ``docs/macro.md``.
"""

from .check import MacroCheck, check_macro
from .macro import ColumnArray, DCiMMacro, RegisterArray, WeightArray, array_signature
from .sim import ENGINES, SimulationResult, simulate, simulate_program
from .spec import DATAPATHS, MacroSpec
from .summary import MacroSummary, summarize_macro
from .verilog import macro_blocks, macro_verilog

__all__ = [
    "DATAPATHS",
    "ColumnArray",
    "ENGINES",
    "DCiMMacro",
    "MacroCheck",
    "MacroSpec",
    "MacroSummary",
    "RegisterArray",
    "SimulationResult",
    "WeightArray",
    "array_signature",
    "check_macro",
    "macro_blocks",
    "macro_verilog",
    "simulate",
    "simulate_program",
    "summarize_macro",
]
