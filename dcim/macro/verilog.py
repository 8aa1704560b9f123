"""Hierarchical Verilog of a macro: each distinct block emitted once and instantiated.

Amaranth's back-end writes one Verilog module per instance, so a rows=64, cols=8 macro with
512 multipliers becomes 18 MB of Verilog and takes minutes. :func:`macro_verilog` instead
walks the macro's blocks (:mod:`dcim.macro.blocks`, in :func:`dcim.eda.blocks.block_order`)
and emits each once: the multiplier, the adder tree, the lane around instances of them, the
controller, and the macro's own module (weight array, controller and lane instances) on a
:class:`~dcim.eda.blocks.BlockPlatform`. :func:`macro_blocks` lists those modules;
:func:`dcim.eda.verilog.emit_verilog` writes the same modules lint-clean.
"""

from pathlib import Path

from amaranth.back import verilog

from ..eda.verilog import block_modules
from .macro import DCiMMacro
from .spec import MacroSpec

__all__ = ["macro_blocks", "macro_verilog"]


def macro_blocks(macro, name=None, *, hierarchical=True):
    """The distinct modules of a macro, each listed once, the modules it instantiates first.

    For the multiplier datapath: the multiplier ``spec.mult.name``, the adder tree
    ``spec.name + "_tree"``, the lane ``spec.name + "_lane"`` (instantiating the multiplier
    ``rows`` times and the tree once), the controller ``spec.name + "_ctrl"`` and the macro
    itself (the controller and ``spec.lanes`` lanes). A bit-serial macro has no multiplier.

    Parameters
    ----------
    macro : DCiMMacro or MacroSpec
        A spec is turned into a fresh component when the last block is made.
    name : str or None
        The macro module's name; ``spec.name`` by default. The blocks keep the names derived
        from the spec.
    hierarchical : bool
        ``False`` lists the macro alone, its blocks elaborated inside it.

    Returns
    -------
    list of dcim.eda.verilog.VerilogBlock

    Raises
    ------
    TypeError
        If ``macro`` is neither.
    ValueError
        If ``name`` is not a Verilog identifier, or is one of the blocks' names.
    """
    if not isinstance(macro, (MacroSpec, DCiMMacro)):
        raise TypeError(f"macro must be a DCiMMacro or a MacroSpec, not {macro!r}")
    return block_modules(macro, name, hierarchical=hierarchical)


def macro_verilog(macro, path=None):
    """Verilog of a whole macro, hierarchical: each module of :func:`macro_blocks` once.

    The macro module is named ``spec.name`` (clock ``clk``, synchronous reset ``rst``, then
    the stream ports as ``write__valid``, ``write__payload`` and so on); the blocks are named
    as :func:`macro_blocks` says. Written by Amaranth's back-end: correct Verilog for
    simulators and synthesis, but not free of Verilator lint warnings (use
    :func:`dcim.eda.verilog.emit_verilog` for that).

    Parameters
    ----------
    macro : DCiMMacro or MacroSpec
        The macro module is this component (or a fresh one for a spec); its blocks are
        converted from the spec.
    path : path-like or None
        If given, the text is also written there.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``macro`` is neither a :class:`DCiMMacro` nor a :class:`MacroSpec`.
    """
    parts = [verilog.convert(block.make(), name=block.module, emit_src=False,
                             platform=block.platform) for block in macro_blocks(macro)]
    text = "\n".join(parts)
    if path is not None:
        Path(path).write_text(text)
    return text
