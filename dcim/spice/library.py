"""Our own standard-cell library: characterized from transistors, used by dcim.flow.

:data:`LIBRARY_CELLS` is the cell set (Nangate45's names and pins, so that designs and the
PDK description read alike): inverters and buffers at X1, X2 and X4, NAND2, NOR2 at X1 and X2,
AOI21, OAI21, XOR2, XNOR2, MUX2, FA, HA and DFF at X1, and the tie cells. X2 and X4 scale the
output stage's widths (folded into fingers by the area model). :func:`build_pdk`
characterizes them (:func:`~dcim.spice.liberty_char.characterize_cell`, each cached), writes
the Liberty file and a PDK description into a folder and returns the
:class:`~dcim.flow.pdk.Pdk` that dcim.flow's synthesis (Yosys ``dfflibmap`` and ``abc``) and
analysis (OpenSTA) take. Extra cells, such as a 4:2 compressor's
(:func:`~dcim.spice.compressor_cells.compressor_cell`), join the same library.

:func:`compare_libraries` synthesizes one design on our library and on Nangate45 and returns
area, delay and power of each with their ratios. :func:`compressor_multiplier` writes a tree
multiplier whose compressors are instances of library cells, so that synthesis keeps them
(a cell of the Liberty file is a black box to Yosys), to put its PPA beside the same
multiplier mapped from gates.
"""

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..checks import short_repr
from .cells import (
    CELL_GENERATORS,
    Cell,
    StaticStage,
    TieHigh,
    TieLow,
)
from .corners import Corner
from .liberty_char import TableGrid, characterize_cell
from .liberty_writer import WireLoad, write_liberty

__all__ = ["DEFAULT_LIBRARY_CORNER", "LIBRARY_CELLS", "NANGATE45_WIRE_LOAD", "LibraryBuild",
           "LibraryComparison", "PpaFigures", "buffer", "build_pdk", "compare_libraries",
           "compressor_cell_name", "compressor_cells", "compressor_multiplier", "tie_high",
           "tie_low"]

_X1_NMOS, _X1_PMOS = 415e-9, 630e-9
_INNER_NMOS, _INNER_PMOS = 210e-9, 315e-9

DEFAULT_LIBRARY_CORNER = Corner("TT", 1.1, 25.0)
"""The corner :func:`build_pdk` characterizes at: Nangate45's typical is 1.1 V, 25 C."""

NANGATE45_WIRE_LOAD = WireLoad(
    "5K_hvratio_1_1", capacitance=0.1774, resistance=3.571429e-03, slope=5.0,
    fanout_length=((1, 1.7460), (2, 3.9394), (3, 6.4626), (4, 9.2201), (5, 11.9123),
                   (6, 14.8358), (7, 18.6155), (8, 22.6727), (9, 25.4842), (11, 27.0320)))
"""Nangate45's default wire-load model (its ``5K_hvratio_1_1``, the one dcim.flow's Nangate45
description applies), copied so that both libraries' designs see the same pre-layout wires."""


def buffer(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """BUF: ``Z = A``, an inner inverter into an output inverter of the given widths."""
    return Cell("BUF", ("A",), (("Z", "A"),), (
        StaticStage("inv", "zn", "A", _INNER_NMOS, _INNER_PMOS),
        StaticStage("out", "Z", "zn", nmos_width, pmos_width),
    ), description="two inverters")


def tie_high():
    """LOGIC1: a constant 1 on ``Z``."""
    return Cell("LOGIC1", (), (("Z", "1"),), (TieHigh("tie", "Z"),),
                description="PMOS to the supply")


def tie_low():
    """LOGIC0: a constant 0 on ``Z``."""
    return Cell("LOGIC0", (), (("Z", "0"),), (TieLow("tie", "Z"),),
                description="NMOS to ground")


def _library_cells():
    generators = dict(CELL_GENERATORS, BUF=buffer)
    strengths = {"INV": (1, 2, 4), "BUF": (1, 2, 4), "NAND2": (1, 2), "NOR2": (1, 2)}
    cells = {}
    for kind, generator in generators.items():
        for strength in strengths.get(kind, (1,)):
            cells[f"{kind}_X{strength}"] = generator(strength * _X1_NMOS, strength * _X1_PMOS)
    cells["LOGIC0_X1"] = tie_low()
    cells["LOGIC1_X1"] = tie_high()
    return cells


LIBRARY_CELLS = _library_cells()
"""Every cell of the library by its Liberty name (``"NAND2_X2"``)."""


@dataclass(frozen=True)
class LibraryBuild:
    """What :func:`build_pdk` made.

    Members
    -------
    pdk : Pdk
        The dcim.flow PDK of the library (one corner, ``"typ"``).
    liberty : Path
    description : Path
        The PDK's TOML description.
    cells : tuple of CharacterizedCell
    corner : Corner
    seconds : float
        Wall time of the whole build (characterizations read from the cache take none).
    simulated : int
        Cells that were simulated rather than read from the cache.
    """

    pdk: object
    liberty: Path
    description: Path
    cells: tuple
    corner: Corner
    seconds: float
    simulated: int


_DESCRIPTION = """\
# Written by dcim.spice.library.build_pdk: cells characterized from FreePDK45 transistors.
name = "{name}"
description = "dcim's own cells on FreePDK45, characterized at {corner}"
folder = "{name}"
default_corner = "typ"

[corners.typ]
liberty = "{liberty}"
description = "{corner}"

[cells]
tie_high = ["LOGIC1_X1", "Z"]
tie_low = ["LOGIC0_X1", "Z"]
buffer = ["BUF_X1", "A", "Z"]
driver = ["BUF_X1", "Z"]

[analysis]
output_load = ["DFF_X1", "D"]
wire_load = "{wire_load}"
"""


def build_pdk(folder, corner=None, *, grid=None, cells=None, extra_cells=None,
              name="dcim45", progress=None):
    """Characterize the library's cells and write a PDK folder that dcim.flow can use.

    Parameters
    ----------
    folder : path-like
        The PDK root to write into: ``folder/<name>.toml`` and ``folder/<name>/<name>_<corner
        name>.lib``.
    corner : Corner or None
        Default :data:`DEFAULT_LIBRARY_CORNER` (TT, 1.1 V, 25 C).
    grid : TableGrid or None
        Default ``TableGrid()``.
    cells : dict of str to Cell or None
        The standard cells by Liberty name; default :data:`LIBRARY_CELLS`. It must hold the
        PDK's tie, buffer and flip-flop cells (LOGIC1_X1, LOGIC0_X1, BUF_X1, DFF_X1).
    extra_cells : dict of str to Cell or None
        More cells by Liberty name (compressor cells, say), added to the library.
    name : str
        The library's and the PDK's name.
    progress : callable or None
        Called as ``progress(done, total, cell name)`` before each cell and at the end.

    Returns
    -------
    LibraryBuild

    Raises
    ------
    ValueError
        If a needed cell is missing, names clash, or an argument is malformed.
    """
    from ..flow.pdk import load_pdk

    corner = DEFAULT_LIBRARY_CORNER if corner is None else corner
    if not isinstance(corner, Corner):
        raise ValueError(f"corner must be a dcim.spice.Corner, not {corner!r}")
    grid = TableGrid() if grid is None else grid
    if not isinstance(grid, TableGrid):
        raise ValueError(f"grid must be a TableGrid, not {grid!r}")
    cells = dict(LIBRARY_CELLS if cells is None else cells)
    for needed in ("LOGIC1_X1", "LOGIC0_X1", "BUF_X1", "DFF_X1"):
        if needed not in cells:
            raise ValueError(f"cells must hold {needed} (the PDK's tie, buffer and output-load "
                             f"cells), not only {sorted(cells)}")
    extra = dict(extra_cells or {})
    clashes = sorted(set(extra) & set(cells))
    if clashes:
        raise ValueError(f"extra_cells must not reuse standard cell names, not {clashes}")
    cells.update(extra)
    for cell_name, cell in cells.items():
        if not isinstance(cell, Cell):
            raise ValueError(f"cell {cell_name!r} must be a dcim.spice.cells.Cell, not {cell!r}")
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be an identifier, not {name!r}")
    started = time.monotonic()
    characterized, simulated = [], 0
    for index, (cell_name, cell) in enumerate(cells.items()):
        if progress is not None:
            progress(index, len(cells), cell_name)
        result = characterize_cell(cell, corner, grid=grid, name=cell_name)
        simulated += not result.cached
        characterized.append(result)
    if progress is not None:
        progress(len(cells), len(cells), "")
    folder = Path(folder)
    liberty_name = f"{name}_{corner.name}.lib"
    liberty = write_liberty(folder / name / liberty_name, name, characterized, corner,
                            wire_loads=(NANGATE45_WIRE_LOAD,),
                            default_wire_load=NANGATE45_WIRE_LOAD.name)
    description = folder / f"{name}.toml"
    description.write_text(_DESCRIPTION.format(
        name=name, corner=f"{corner.process}, {corner.vdd:.2f} V, {corner.temp_c:g} C",
        liberty=liberty_name, wire_load=NANGATE45_WIRE_LOAD.name))
    pdk = load_pdk(description, folder)
    return LibraryBuild(pdk, liberty, description, tuple(characterized), corner,
                        time.monotonic() - started, simulated)


# --- comparison -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PpaFigures:
    """Area, delay and power of one design on one library.

    Members
    -------
    design, library : str
    area_um2 : float
    delay_ns : float
        Critical path (minimum period).
    power_w : float
        Total power at the analysis clock, from uniformly random operands.
    energy_per_op_pj : float
    cells : dict of str to int
        Instances per library cell.
    """

    design: str
    library: str
    area_um2: float
    delay_ns: float
    power_w: float
    energy_per_op_pj: float
    cells: dict = field(default_factory=dict)

    @classmethod
    def from_report(cls, report, library):
        return cls(report.design, library, report.area_um2, report.delay_ns,
                   report.power.total_w, report.energy_per_op_pj,
                   dict(report.synthesis.cells))


@dataclass(frozen=True)
class LibraryComparison:
    """One design on our library and on a reference library: :func:`compare_libraries`.

    Members
    -------
    ours, reference : PpaFigures
    """

    ours: PpaFigures
    reference: PpaFigures

    @property
    def area_ratio(self):
        return self.ours.area_um2 / self.reference.area_um2

    @property
    def delay_ratio(self):
        return self.ours.delay_ns / self.reference.delay_ns

    @property
    def power_ratio(self):
        return self.ours.power_w / self.reference.power_w

    @property
    def energy_ratio(self):
        return self.ours.energy_per_op_pj / self.reference.energy_per_op_pj


def compare_libraries(design, pdk, *, reference="nangate45", corner="typ",
                      reference_corner="typ", clock_ns=None, pdk_root=None, same_cells=False):
    """Synthesize, time and estimate the power of ``design`` on two libraries.

    With ``same_cells``, synthesis on the reference may use only the cells whose names our
    library has too (the rest become ``dont_use``): a cell-for-cell comparison of the two
    characterizations, apart from what the reference's richer set (more drive strengths,
    complex gates) buys the design.

    Parameters
    ----------
    design :
        Anything :func:`dcim.flow.ppa` takes (a :class:`~dcim.arith.MultiplierSpec`, ...).
    pdk : Pdk
        Our library (``build_pdk(...).pdk``; a description's path works too when
        ``$DCIM_PDK_ROOT`` is the folder it was written to).
    reference : Pdk or str
        The library to compare with; default Nangate45.
    corner, reference_corner : str
        The corners of each (both ``"typ"``: ours at 1.1 V, as Nangate45's typical).
    clock_ns : float or None
        As for :func:`dcim.flow.ppa`.
    pdk_root : path-like or None
        The reference's PDK root (``$DCIM_PDK_ROOT`` when ``None``).
    same_cells : bool
        Restrict the reference to the cells of ours, by name.

    Returns
    -------
    LibraryComparison

    Raises
    ------
    ValueError
        If ``same_cells`` is not a bool, or the libraries share no cell.
    """
    from ..flow.pdk import load_pdk
    from ..flow.ppa import ppa

    if not isinstance(same_cells, bool):
        raise ValueError(f"same_cells must be True or False, not {short_repr(same_cells)}")
    ours_pdk = load_pdk(pdk)
    reference_pdk = load_pdk(reference, pdk_root)
    if same_cells:
        our_cells = set(ours_pdk.library(corner).cells)
        their_cells = set(reference_pdk.library(reference_corner).cells)
        if not our_cells & their_cells:
            raise ValueError(f"same_cells: library {ours_pdk.name!r} shares no cell name with "
                             f"{reference_pdk.name!r}")
        reference_pdk = replace(reference_pdk, dont_use=tuple(
            reference_pdk.dont_use) + tuple(sorted(their_cells - our_cells)))
    ours = ppa(design, corner, clock_ns, pdk=ours_pdk, metrics=False)
    theirs = ppa(design, reference_corner, clock_ns, pdk=reference_pdk, metrics=False)
    reference_name = f"{reference_pdk.name} (same cells)" if same_cells else reference_pdk.name
    return LibraryComparison(PpaFigures.from_report(ours, ours_pdk.name),
                             PpaFigures.from_report(theirs, reference_name))


# --- multipliers whose compressors are library cells --------------------------------------

def compressor_cell_name(compressor):
    """The Liberty name of a compressor's cell in this library: ``"CMP_exact42_X1"``."""
    return f"CMP_{compressor}_X1"


def compressor_cells(names, *, widths=None):
    """The cells of the named compressors, by Liberty name, for ``build_pdk(extra_cells=)``.

    Parameters
    ----------
    names : iterable of str
        Registered compressors (``"exact42"``, ``"acci1"``).
    widths : dict of str to dict or None
        Stage widths per compressor name (see
        :func:`~dcim.spice.compressor_cells.compressor_cell`); default widths otherwise.
    """
    from .compressor_cells import compressor_cell

    widths = widths or {}
    return {compressor_cell_name(name): compressor_cell(name, widths=widths.get(name))
            for name in names}


class _Bit:
    """A bit as a Verilog expression, combined with ``& | ^ ~`` as the compressors are."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    @staticmethod
    def _operand(other):
        if isinstance(other, _Bit):
            return other
        if isinstance(other, bool | int) and int(other) in (0, 1):
            return _Bit(f"1'b{int(other)}")
        return NotImplemented

    def _binary(self, other, symbol):
        other = self._operand(other)
        return other if other is NotImplemented else _Bit(f"({self.text} {symbol} {other.text})")

    def __and__(self, other):
        return self._binary(other, "&")

    def __or__(self, other):
        return self._binary(other, "|")

    def __xor__(self, other):
        return self._binary(other, "^")

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self):
        return _Bit(f"~{self.text}")


class _NetlistLogic:
    """A logic back-end (see :mod:`dcim.arith.logic`) that writes structural Verilog, placing
    the compressors of ``cells`` as instances of their library cells."""

    def __init__(self, cells):
        self.cells = cells
        self.lines = []
        self.instances = {}

    def const(self, value):
        return _Bit(f"1'b{int(bool(value))}")

    def coerce(self, value):
        return value if isinstance(value, _Bit) else self.const(value)

    def net(self, name, value):
        self.lines += [f"  wire {name};", f"  assign {name} = {self.coerce(value).text};"]
        return _Bit(name)

    def add(self, name, rows, width):
        operands = " + ".join("{" + ", ".join(self.coerce(bit).text for bit in reversed(row))
                              + "}" for row in rows)
        self.lines += [f"  wire [{width - 1}:0] {name};", f"  assign {name} = {operands};"]
        return [_Bit(f"{name}[{k}]") for k in range(width)]

    def place_compressor(self, compressor, bits, name):
        cell = self.cells.get(compressor.name)
        if cell is None:
            return None
        outputs = [f"{name}_{pin}" for pin, _ in compressor.outputs]
        connections = [f".{pin}({self.coerce(bit).text})"
                       for pin, bit in zip(compressor.inputs, bits, strict=True)]
        connections += [f".{pin}({wire})" for (pin, _), wire in zip(compressor.outputs, outputs,
                                                                    strict=True)]
        self.lines += [f"  wire {', '.join(outputs)};",
                       f"  {cell} {name} ({', '.join(connections)});"]
        self.instances[cell] = self.instances.get(cell, 0) + 1
        return [_Bit(wire) for wire in outputs]


def compressor_multiplier(spec, compressors, *, name=None):
    """A tree multiplier as Verilog whose compressors are instances of library cells.

    The partial products, the reduction plan and the final adder are the spec's own
    (:func:`~dcim.arith.tree_multiplier.tree_plan`, the same walk as its hardware and its
    model); each compressor named in ``compressors`` becomes an instance of the cell
    :func:`compressor_cell_name` names (its pins are the compressor's), declared as a black
    box so that Yosys keeps it and maps only the logic around it. The other compressors
    (full and half adders, say) stay logic.

    Parameters
    ----------
    spec : MultiplierSpec
        A tree multiplier (kind ``"exact"``, ``"approx"``, or any kind with their options).
    compressors : iterable of str
        The compressors to place as cells; each must occur in the spec's tree.
    name : str or None
        The module's name; default ``<spec.name>_cells``.

    Returns
    -------
    VerilogDesign
        Ports ``a``, ``b`` and ``p`` as the spec's; one multiply per cycle.

    Raises
    ------
    ValueError
        If ``spec`` is not a tree multiplier, or a compressor does not occur in its tree.
    """
    from ..arith.compressor import COMPRESSORS
    from ..arith.multiplier import MultiplierSpec
    from ..arith.tree import reduce_columns
    from ..arith.tree_multiplier import ExactOptions, _columns, tree_plan
    from ..flow.design import VerilogDesign

    if not isinstance(spec, MultiplierSpec) or not isinstance(spec.options, ExactOptions):
        raise ValueError(f"spec must be a tree multiplier (a MultiplierSpec with a tree's "
                         f"options, kinds exact and approx), not {spec!r}")
    plan = tree_plan(spec)
    used = set(plan.totals())
    compressors = tuple(compressors)
    missing = sorted(set(compressors) - used)
    if missing or not compressors:
        raise ValueError(f"compressors must name compressors of {spec.name}'s tree "
                         f"({', '.join(sorted(used))}), not {list(compressors)!r}")
    name = f"{spec.name}_cells" if name is None else name
    logic = _NetlistLogic({compressor: compressor_cell_name(compressor)
                           for compressor in compressors})
    width = spec.width
    a_bits = [_Bit(f"a[{k}]") for k in range(width)]
    b_bits = [_Bit(f"b[{k}]") for k in range(width)]
    bits = reduce_columns(plan, logic, _columns(spec, logic, a_bits, b_bits),
                          final_adder=spec.options.final_adder)
    product = ", ".join(logic.coerce(bit).text for bit in reversed(bits))
    lines = [f"// {spec.name} with {', '.join(compressors)} as library cells "
             f"(dcim.spice.library.compressor_multiplier)",
             f"module {name} (a, b, p);", f"  input [{width - 1}:0] a;",
             f"  input [{width - 1}:0] b;", f"  output [{2 * width - 1}:0] p;",
             *logic.lines, f"  assign p = {{{product}}};", "endmodule", ""]
    for compressor in compressors:
        pins = [*COMPRESSORS[compressor].inputs,
                *(pin for pin, _ in COMPRESSORS[compressor].outputs)]
        lines += ["(* blackbox *)",
                  f"module {compressor_cell_name(compressor)} ({', '.join(pins)});",
                  *(f"  input {pin};" for pin in COMPRESSORS[compressor].inputs),
                  *(f"  output {pin};" for pin, _ in COMPRESSORS[compressor].outputs),
                  "endmodule", ""]
    return VerilogDesign("\n".join(lines), name, ops_per_cycle=1.0, operation="multiply")
