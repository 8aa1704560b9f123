"""The blocks of a macro: lane, adder tree, weight column and controller, each a frozen spec.

:class:`~dcim.macro.MacroSpec` follows the block protocol (:mod:`dcim.eda.blocks`): its
direct sub-blocks are its lane (:class:`LaneSpec`), its weight column (:class:`ColumnSpec`)
and its controller (:class:`ControllerSpec`); a lane's are its multiplier (a
:class:`~dcim.arith.MultiplierSpec`, multiplier datapath only) and its column adder tree
(:class:`TreeSpec`). The macro's own module holds the weight array (``cols`` column
instances and their shared row decoder), the lane and controller instances and the wiring
between them (the column multiplexers when ``col_mux > 1``).

Each part holds the whole macro spec, and its name is the macro's with a suffix
(``_lane``, ``_tree``, ``_col``, ``_ctrl``): equal macros give equal parts and names, and a
change of any parameter of the macro gives other names, so no two different modules ever
share one.
Parts of two different macros are different blocks even where their logic agrees; only the
multiplier, named by its own spec, is shared between macros.
"""

from dataclasses import dataclass

from .datapath import AdderTree, BitserialLane, MultiplierLane, lane_signature, tree_signature
from .spec import MacroSpec

__all__ = ["ColumnSpec", "ControllerSpec", "LaneSpec", "TreeSpec"]


class _MacroPart:
    """What the parts share: the macro spec they belong to, checked, and their name."""

    suffix = None

    def __post_init__(self):
        if not isinstance(self.macro, MacroSpec):
            raise TypeError(f"macro must be a MacroSpec, not {self.macro!r}")

    @property
    def name(self):
        """Stable Verilog module name: the macro's name and the part's suffix."""
        return f"{self.macro.name}_{self.suffix}"

    @property
    def clocked(self):
        """True when the part holds pipeline registers (``macro.pipeline`` set): the lane's
        are in its tree. The controller, always clocked, says so itself."""
        return bool(self.macro.pipeline)


@dataclass(frozen=True)
class TreeSpec(_MacroPart):
    """The column adder tree of a lane of ``macro``: ``rows`` terms into one sum.

    A leaf block whose component is :class:`~dcim.macro.datapath.AdderTree`; module
    ``<macro name>_tree``. Combinational, or clocked (ports ``clk``, ``rst`` and ``en``) when
    ``macro.pipeline`` is set: the lane's pipeline registers are in the tree.

    Parameters
    ----------
    macro : MacroSpec

    Raises
    ------
    TypeError
        If ``macro`` is not a :class:`MacroSpec`.
    """

    macro: MacroSpec
    suffix = "tree"

    @property
    def signature(self):
        return tree_signature(self.macro)

    def blocks(self):
        return ()

    def component(self):
        return AdderTree(self.macro)


@dataclass(frozen=True)
class LaneSpec(_MacroPart):
    """One datapath lane of ``macro``: its multipliers (or 1-bit products) and adder tree.

    Its component is :class:`~dcim.macro.datapath.MultiplierLane` or
    :class:`~dcim.macro.datapath.BitserialLane`; module ``<macro name>_lane``. Its blocks are
    the multiplier (multiplier datapath only) and the tree. Combinational, or clocked (with
    an ``en`` port, which the controller's ``advance`` drives) when ``macro.pipeline`` is
    set, as its tree is.

    Parameters
    ----------
    macro : MacroSpec

    Raises
    ------
    TypeError
        If ``macro`` is not a :class:`MacroSpec`.
    """

    macro: MacroSpec
    suffix = "lane"

    @property
    def tree(self):
        """The lane's adder tree, a :class:`TreeSpec`."""
        return TreeSpec(self.macro)

    @property
    def signature(self):
        return lane_signature(self.macro)

    def blocks(self):
        if self.macro.datapath == "multiplier":
            return (self.macro.mult, self.tree)
        return (self.tree,)

    def component(self):
        if self.macro.datapath == "multiplier":
            return MultiplierLane(self.macro)
        return BitserialLane(self.macro)


@dataclass(frozen=True)
class ColumnSpec(_MacroPart):
    """One column of the weight array of ``macro``: ``rows`` weights and their write logic.

    A clocked leaf block (ports ``clk`` and ``rst``; the weights are kept through reset):
    the weight array of a one-column macro, signature
    :func:`~dcim.macro.array_signature` ``(self)``, component
    :class:`~dcim.macro.RegisterArray` ``(self)``; module ``<macro name>_col``. On a
    :class:`~dcim.eda.blocks.BlockPlatform` the macro's weight array is ``cols`` instances
    of it (:class:`~dcim.macro.ColumnArray`), so that a flow synthesizes one column once,
    not ``rows * cols`` weights in the macro's own module. Each column decodes the row
    address itself, as each column's hard SRAM array does (see :mod:`dcim.macro.sram`).

    Parameters
    ----------
    macro : MacroSpec

    Raises
    ------
    TypeError
        If ``macro`` is not a :class:`MacroSpec`.
    """

    macro: MacroSpec
    suffix = "col"
    clocked = True
    cols = 1

    @property
    def rows(self):
        return self.macro.rows

    @property
    def weight_bits(self):
        return self.macro.weight_bits

    @property
    def weight_shape(self):
        return self.macro.weight_shape

    @property
    def addr_width(self):
        return self.macro.addr_width

    @property
    def signature(self):
        from .macro import array_signature
        return array_signature(self)

    def blocks(self):
        return ()

    def component(self):
        from .macro import RegisterArray
        return RegisterArray(self)


@dataclass(frozen=True)
class ControllerSpec(_MacroPart):
    """The control logic of ``macro``: handshakes, sequencing, pipeline and accumulators.

    A clocked leaf block whose component is :class:`~dcim.macro.macro.MacroController`
    (signature :func:`~dcim.macro.macro.controller_signature`); module
    ``<macro name>_ctrl``, with ports ``clk`` and ``rst``. A flow elaborates it in its
    parent (``in_parent``): its outputs (the issued operands, ``advance``) come from its
    registers, but evaluated as a block every output would wait on every input, the lanes'
    sums among them, which wait on those outputs: a loop that is not one.

    Parameters
    ----------
    macro : MacroSpec

    Raises
    ------
    TypeError
        If ``macro`` is not a :class:`MacroSpec`.
    """

    macro: MacroSpec
    suffix = "ctrl"
    clocked = True
    in_parent = True

    @property
    def signature(self):
        from .macro import controller_signature
        return controller_signature(self.macro)

    def blocks(self):
        return ()

    def component(self):
        from .macro import MacroController
        return MacroController(self.macro)
