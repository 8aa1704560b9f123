"""Verilog for Amaranth designs, clean under ``verilator --lint-only -Wall``.

Amaranth's own back-end (:func:`amaranth.back.verilog.convert`) prints Yosys's word-level
cells as they are: ``a == 2'h3`` with a 4-bit ``a``, ``a + c`` with operands of different
widths, a 5-bit sum of which 4 bits are kept. All of that is correct Verilog, but Verilator's
``-Wall`` reports it (WIDTH, UNUSEDSIGNAL), which buries real warnings in downstream flows.
:func:`emit_verilog` therefore re-writes Amaranth's output: Yosys reads it back and flattens
its processes into cells (``proc; flatten``), and a small writer here prints one ``assign`` per
cell with every operand explicitly extended or cut to the width the operation works at, and
with results cut to the bits that something reads. The only construct added is the idiom
Verilator documents for bits that are deliberately left unread (its ``--unused-regexp``
matches ``*unused*``): one ``unused_bits`` wire that XORs them together. Approximate designs
that ignore input bits therefore lint clean without any waiver.

The writer handles the cells Yosys makes from combinational Verilog (bitwise, arithmetic,
comparison, reduction, logic, shift, ``$mux`` and ``$pmux``) and edge-triggered registers
(``$dff``), each printed as one ``always`` block. Memories (``amaranth.lib.memory.Memory``)
are first turned into registers and multiplexers by Yosys's ``memory`` passes, so the text is
self-contained; a flow that substitutes a hard SRAM macro works from the design's platform
hook, not from this text. Latches and asynchronous resets are rejected with a
``ValueError``. Undefined bits (``x``, ``z``) are printed as 0, which is one of the values
they allow.

A design made of blocks (see :mod:`dcim.eda.blocks`) is written hierarchically: each
distinct block is converted once (:func:`block_modules`, in :func:`~dcim.eda.blocks.block_order`),
Yosys flattens each block's own logic but keeps the blocks it instantiates, and the writer
prints those as one instance line each, every input connected to an expression of exactly
the port's width and every output to a wire of its own. A rows=64, cols=8 macro is thus one
multiplier, one adder tree, one lane with 64 multiplier instances and a tree instance, one
controller, and the macro with the controller and 8 lane instances, rather than 512
flattened multipliers.
"""

import graphlib
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from amaranth.back import rtlil as amaranth_rtlil
from amaranth.back import verilog as amaranth_verilog
from amaranth.hdl import Elaboratable

from . import tools
from .blocks import BlockPlatform, block_order, is_block

__all__ = ["VerilogBlock", "block_modules", "check_identifier", "design_block", "emit_verilog",
           "is_verilog_identifier", "resolve_design", "snake_case"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")

# Reserved words of IEEE 1364-2005 and 1800-2017: Verilator parses .v files as SystemVerilog,
# so neither a module nor a net may be called e.g. `logic` or `int`.
_KEYWORD_TEXT = """
accept_on alias always always_comb always_ff always_latch and assert assign assume automatic
before begin bind bins binsof bit break buf bufif0 bufif1 byte case casex casez cell chandle
checker class clocking cmos config const constraint context continue cover covergroup
coverpoint cross deassign default defparam design disable dist do edge else end endcase
endchecker endclass endclocking endconfig endfunction endgenerate endgroup endinterface
endmodule endpackage endprimitive endprogram endproperty endsequence endspecify endtable
endtask enum event eventually expect export extends extern final first_match for force
foreach forever fork forkjoin function generate genvar global highz0 highz1 if iff ifnone
ignore_bins illegal_bins implements implies import incdir include initial inout input inside
instance int integer interconnect interface intersect join join_any join_none large let
liblist library local localparam logic longint macromodule matches medium modport module
nand negedge nettype new nexttime nmos nor noshowcancelled not notif0 notif1 null or output
package packed parameter pmos posedge primitive priority program property protected pull0
pull1 pulldown pullup pulsestyle_ondetect pulsestyle_onevent pure rand randc randcase
randsequence rcmos real realtime ref reg reject_on release repeat restrict return rnmos
rpmos rtran rtranif0 rtranif1 s_always s_eventually s_nexttime s_until s_until_with scalared
sequence shortint shortreal showcancelled signed small soft solve specify specparam static
string strong strong0 strong1 struct super supply0 supply1 sync_accept_on sync_reject_on
table tagged task this throughout time timeprecision timeunit tran tranif0 tranif1 tri tri0
tri1 triand trior trireg type typedef union unique unique0 unsigned until until_with untyped
use uwire var vectored virtual void wait wait_order wand weak weak0 weak1 while wildcard wire
with within wor xnor xor
"""
_KEYWORDS = frozenset(_KEYWORD_TEXT.split())

_BITWISE = {"$and": "&", "$or": "|", "$xor": "^", "$xnor": "^"}
_ARITHMETIC = {"$add": "+", "$sub": "-", "$mul": "*"}
_UNARY = {"$not": "~", "$pos": "", "$buf": "", "$neg": "-"}
_COMPARE = {"$eq": "==", "$eqx": "==", "$ne": "!=", "$nex": "!=",
            "$lt": "<", "$le": "<=", "$gt": ">", "$ge": ">="}
_REDUCE = {"$reduce_and": "&", "$reduce_or": "|", "$reduce_bool": "|",
           "$reduce_xor": "^", "$reduce_xnor": "~^"}
_LOGIC = ("$logic_not", "$logic_and", "$logic_or")
_SHIFT_LEFT = ("$shl", "$sshl")
_SHIFT_RIGHT = ("$shr", "$sshr", "$shift", "$shiftx")
_DIVIDE = {"$div": "/", "$mod": "%"}
# Binary operators printed alike: with $signed() on both operands when the cell is signed.
_SIGNABLE_BINARY = {**_ARITHMETIC, **_DIVIDE, **_COMPARE}
# Operations whose low result bits depend only on the low operand bits: their results can be
# computed at just the width that is read.
_TRUNCATABLE = {*_BITWISE, *_ARITHMETIC, *_UNARY, *_SHIFT_LEFT, "$mux", "$pmux"}
# Operations with a single-bit result; wider Y ports are zero-extended.
_SINGLE_BIT = {*_COMPARE, *_REDUCE, *_LOGIC}
# Cells that carry no logic.
_IGNORED = {"$scopeinfo"}


def is_verilog_identifier(name):
    """Whether ``name`` is a simple (unescaped) Verilog identifier and not a reserved word."""
    return (isinstance(name, str) and _IDENTIFIER.fullmatch(name) is not None
            and name not in _KEYWORDS)


_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_identifier(parameter, value):
    """``value`` if it is a plain Verilog identifier, else ``ValueError`` naming ``parameter``.

    Module and design names reach Yosys and Tcl scripts and file names; a plain identifier
    (letters, digits, underscores, not starting with a digit) needs no quoting in any of
    them, so nothing a user types can become a command or a path outside the cache.
    """
    if not isinstance(value, str) or not _PLAIN_IDENTIFIER.fullmatch(value) \
            or value in _KEYWORDS:
        raise ValueError(f"{parameter} must be a Verilog identifier (letters, digits and "
                         f"underscores, not starting with a digit, not a reserved word), "
                         f"not {value!r}")
    return value


def _check_module_name(name):
    if not is_verilog_identifier(name):
        raise ValueError(f"name must be a legal Verilog identifier, not {name!r}")


def snake_case(name):
    """``ExactMultiplier`` -> ``exact_multiplier``: a class name as a module name."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def resolve_design(design, name=None):
    """Return ``(component, module_name)`` for a component or a spec-like object.

    Parameters
    ----------
    design : Elaboratable or spec
        An Amaranth component, or an object with a ``component()`` method and a ``name``.
    name : str or None
        Overrides the module name (see :func:`emit_verilog`).

    Raises
    ------
    TypeError
        If ``design`` is neither.
    ValueError
        If the module name is not a legal Verilog identifier.
    """
    if isinstance(design, Elaboratable):
        component = design
        module_name = snake_case(type(design).__name__) if name is None else name
    elif callable(getattr(design, "component", None)):
        module_name = getattr(design, "name", None) if name is None else name
        if module_name is not None:
            # Checked before the component is made: an unused one makes Amaranth warn.
            _check_module_name(module_name)
        component = design.component()
        if module_name is None:
            module_name = snake_case(type(component).__name__)
    else:
        raise TypeError(f"design must be an Amaranth component or have a component() method, "
                        f"not {design!r}")
    _check_module_name(module_name)
    return component, module_name


def _port_order(component):
    """Port names in the order of the component's signature, if it has one."""
    signature = getattr(component, "signature", None)
    try:
        return ["__".join(map(str, path)) for path, _, _ in signature.flatten(component)]
    except AttributeError:
        return []


def design_block(design):
    """The block that ``design`` is, or wraps: ``(block, component)``, else ``(None, None)``.

    A block (see :mod:`dcim.eda.blocks`) gives ``(design, None)``; an Amaranth component
    whose ``spec`` is a block (a :class:`~dcim.macro.DCiMMacro`) gives ``(design.spec,
    design)``: written as that block, with the component itself as its top module.
    """
    if is_block(design):
        return design, None
    if isinstance(design, Elaboratable):
        spec = getattr(design, "spec", None)
        if is_block(spec):
            return spec, design
    return None, None


class VerilogBlock(NamedTuple):
    """One distinct module of a design's hierarchical Verilog.

    Members
    -------
    module : str
        The Verilog module's name.
    make : callable
        Returns the component to convert (called once, by the writer).
    platform : BlockPlatform
        The platform to elaborate it with: its sub-blocks become instances of the modules
        listed before it (or, flat, are elaborated inside).
    """

    module: str
    make: Callable[[], Any]
    platform: Any


def block_modules(design, name=None, *, hierarchical=True):
    """The distinct modules of a design made of blocks, each once, instantiated ones first.

    The modules of :func:`~dcim.eda.blocks.block_order`, each converted on a hierarchical
    :class:`~dcim.eda.blocks.BlockPlatform`; the design's own module is last.

    Parameters
    ----------
    design : Block or Elaboratable wrapping one
        See :func:`design_block`. A block's top component is made when its module is.
    name : str or None
        The top module's name; ``block.name`` by default. The sub-blocks keep their names.
    hierarchical : bool
        ``False`` lists the top module alone, its sub-blocks elaborated inside it.

    Returns
    -------
    list of VerilogBlock

    Raises
    ------
    TypeError
        If ``design`` is not a block and does not wrap one, or ``hierarchical`` is not a bool.
    ValueError
        If ``name`` is not a legal Verilog identifier or is the name of a sub-block, or
        the blocks' names clash (see :func:`~dcim.eda.blocks.block_order`).
    """
    if not isinstance(hierarchical, bool):
        raise TypeError(f"hierarchical must be a bool, not {hierarchical!r}")
    root, component = design_block(design)
    if root is None:
        raise TypeError(f"design must be a block or a component whose spec is one, "
                        f"not {design!r}")
    order = block_order(root)
    top = root.name if name is None else name
    _check_module_name(top)
    if top in {block.name for block in order[:-1]}:
        raise ValueError(f"name must differ from the names of the design's blocks, "
                         f"not {top!r}")
    make_top = root.component if component is None else lambda: component
    if not hierarchical:
        return [VerilogBlock(top, make_top, BlockPlatform(hierarchical=False))]
    platform = BlockPlatform()
    return ([VerilogBlock(block.name, block.component, platform) for block in order[:-1]]
            + [VerilogBlock(top, make_top, platform)])


def emit_verilog(design, path=None, *, name=None, hierarchical=True):
    """Convert a design (combinational or clocked) to lint-clean Verilog.

    Parameters
    ----------
    design : Elaboratable or spec
        An Amaranth component, or any object with a ``component()`` method and a ``name``
        attribute (such as a multiplier spec). A block (:mod:`dcim.eda.blocks`) or a
        component wrapping one (see :func:`design_block`) is written block by block.
    path : path-like or None
        If given, the Verilog is also written there (parent directories are created).
    name : str or None
        Module name; defaults to ``design.name`` for a spec (or the block a component wraps)
        and to the component's class name in snake case (``ExactMultiplier`` ->
        ``exact_multiplier``) otherwise. Sub-blocks keep their own names.
    hierarchical : bool
        For a design made of blocks, such as a macro (:class:`~dcim.macro.MacroSpec` or
        :class:`~dcim.macro.DCiMMacro`): write each distinct block once, in
        :func:`~dcim.eda.blocks.block_order` (for a macro: multiplier, adder tree, lane,
        controller), and the top module (``name``) around instances of them (see
        :func:`block_modules`); ``False`` writes one flat module, whose size grows with
        ``rows * lanes`` multipliers. Other designs are always written as one flat module.
        Either way the design is elaborated on a :class:`~dcim.eda.blocks.BlockPlatform`
        (a macro's weight array is then one register per row,
        :class:`~dcim.macro.RegisterArray`, the behaviour of its memory model).

    Returns
    -------
    str
        The Verilog text: each module once, the instantiated ones first; ports in signature
        order, plain (unsigned) port declarations as Amaranth emits them.

    Raises
    ------
    TypeError
        If ``hierarchical`` is not a bool, or ``design`` is not a design.
    ValueError
        If the module name is not a legal Verilog identifier (or is a sub-block's name), or
        the design contains cells the writer does not know (latches, asynchronous resets).
    ToolNotFoundError, ToolError
        If Yosys is missing or fails.
    """
    if not isinstance(hierarchical, bool):
        raise TypeError(f"hierarchical must be a bool, not {hierarchical!r}")
    root, _ = design_block(design)
    if root is None:
        component, module_name = resolve_design(design, name)
        text = _write_blocks([VerilogBlock(module_name, lambda: component, None)],
                             via_rtlil=False)
    else:
        # A leaf block (a multiplier) goes through Amaranth's Verilog like any component; a
        # design of blocks through RTLIL (see _write_blocks).
        text = _write_blocks(block_modules(design, name, hierarchical=hierarchical),
                             via_rtlil=bool(root.blocks()))
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return text


def _write_blocks(blocks, *, via_rtlil):
    """Lint-clean Verilog of :class:`VerilogBlock` modules, in that order.

    Amaranth's design reaches Yosys as RTLIL (``via_rtlil``: a design of blocks such as a
    macro, whose cells the writer knows, and which Amaranth's own Verilog back-end would take
    seconds longer to print) or as Amaranth's Verilog, in which Yosys has already lowered
    every cell Amaranth makes into ones the writer knows (floor division, for one).

    One Yosys run reads every block's RTLIL and flattens each block's own logic; the blocks
    instantiated by later ones are marked ``keep_hierarchy``, so they stay instances. Memories
    become registers and multiplexers.
    """
    names = [block.module for block in blocks]
    components = []
    with tempfile.TemporaryDirectory(prefix="dcim-verilog-") as workdir:
        reads = []
        for index, (module_name, make, platform) in enumerate(blocks):
            # Each component is made just before it is converted: one made and never
            # elaborated (if an earlier block fails) would make Amaranth warn.
            component = make()
            components.append(component)
            # `emit_src=False` keeps Python source locations (which change with every edit)
            # out of the text; the ports come from the component's signature.
            if via_rtlil:
                text = amaranth_rtlil.convert(component, name=module_name, emit_src=False,
                                              platform=platform)
                Path(workdir, f"block{index}.il").write_text(text)
                reads.append(f"read_rtlil block{index}.il")
            else:
                text = amaranth_verilog.convert(component, name=module_name, emit_src=False,
                                                platform=platform)
                Path(workdir, f"block{index}.v").write_text(text)
                reads.append(f"read_verilog block{index}.v")
        keep = (f"setattr -mod -set keep_hierarchy 1 {' '.join(names[:-1])}; "
                if len(names) > 1 else "")
        # The writer prints only the cells whose results are read, so a macro skips Yosys's
        # opt_clean (three quarters of Yosys's time on a rows=128 macro).
        passes = "memory_collect; memory_map" if via_rtlil else "memory; opt_clean"
        tools.run_tool(
            ["yosys", "-q", "-p",
             f"{'; '.join(reads)}; {keep}hierarchy -top {names[-1]}; proc; flatten; "
             f"{passes}; write_json netlist.json"],
            cwd=workdir)
        netlist = json.loads(Path(workdir, "netlist.json").read_text())
    orders = {module_name: _port_order(component)
              for module_name, component in zip(names, components, strict=True)}
    return "\n".join(
        _CombinationalWriter(module_name, netlist, orders, type(component).__name__).write()
        for module_name, component in zip(names, components, strict=True))


class _CombinationalWriter:
    """Prints one flattened module of a Yosys JSON netlist as Verilog.

    Cells of Yosys's internal types (``$and``, ``$dff``, ...) become assignments and
    ``always`` blocks; cells of other types are instances of modules of the same netlist.
    """

    def __init__(self, module_name, netlist, port_orders, origin):
        self.name = module_name
        self.origin = origin
        self.modules = netlist["modules"]
        self.port_orders = port_orders
        self.ports = self._ordered_ports(module_name)
        module = self.modules[module_name]
        cells = [(cell_name, cell) for cell_name, cell in module["cells"].items()
                 if cell["type"] not in _IGNORED]
        # Instances and registers break combinational paths: they are printed apart.
        self.instances = [(cell_name, cell) for cell_name, cell in cells
                          if not cell["type"].startswith("$")]
        cells = [cell for _, cell in cells if cell["type"].startswith("$")]
        self.registers = [cell for cell in cells if cell["type"] == "$dff"]
        self.cells = [cell for cell in cells if cell["type"] != "$dff"]
        self.netnames = module["netnames"]
        self.used_names = set(_KEYWORDS) | {port for port, _ in self.ports}
        self.next_suffix = {}
        self.nets_by_bits = {}  # net bits -> [(name, net)], sorted by name
        # Verilator ignores unread bits of nets named *unused* (its --unused-regexp).
        self.sink = self._fresh("unused_bits")
        self.home = {}        # net bit -> (wire name, index, wire width)
        self.constant = {}    # net bit -> "0" for zero-extended single-bit results

    # -- analysis -------------------------------------------------------------------------

    def _check_cells(self):
        for cell in self.cells:
            kind = cell["type"]
            if kind == "$dff":
                continue
            known = (kind in _TRUNCATABLE or kind in _SINGLE_BIT or kind in _SHIFT_RIGHT
                     or kind in _DIVIDE)
            if not known:
                raise ValueError(
                    f"design {self.name!r} contains a {kind} cell, which emit_verilog does not "
                    f"support: it writes combinational logic and edge-triggered registers")
            signed_shift = kind in ("$shift", "$shiftx") and _param(cell, "B_SIGNED")
            if signed_shift:
                raise ValueError(f"design {self.name!r} shifts by a signed amount ({kind}), "
                                 f"which emit_verilog does not support")

    def _sorted_cells(self):
        driver = {}
        for index, cell in enumerate(self.cells):
            for _, bits in _outputs(cell):
                for bit in bits:
                    driver[bit] = index
        graph = graphlib.TopologicalSorter(
            {index: self._input_drivers(index, driver) for index in range(len(self.cells))})
        try:
            return [self.cells[index] for index in graph.static_order()]
        except graphlib.CycleError:
            raise ValueError(f"design {self.name!r} has a combinational loop") from None

    def _input_drivers(self, index, driver):
        return [driver[bit] for _, bits in _inputs(self.cells[index])
                for bit in bits if bit in driver]

    def _plan(self, cells):
        """Choose each cell's computed width and operands, reading from the outputs back."""
        used = {bit for _, port in self.ports if port["direction"] == "output"
                for bit in port["bits"] if isinstance(bit, int)}
        # Every register's next state is computed; an unread register output goes to the sink.
        used |= {bit for cell in self.registers
                 for port in ("CLK", "D") for bit in cell["connections"][port]
                 if isinstance(bit, int)}
        # Every instance is kept, with all its inputs connected.
        used |= {bit for _, cell in self.instances for _, bits in _inputs(cell)
                 for bit in bits if isinstance(bit, int)}
        for cell in cells:
            if cell["type"] in _SINGLE_BIT:
                for bit in cell["connections"]["Y"][1:]:
                    self.constant[bit] = "0"
        plans = []
        for cell in reversed(cells):
            y_bits = cell["connections"]["Y"]
            read = [position for position, bit in enumerate(y_bits) if bit in used]
            if not read:
                continue
            plan = _operands(cell, read[-1] + 1)
            plans.append(plan)
            for bits in plan["operands"]:
                used.update(bit for bit in bits if isinstance(bit, int))
        plans.reverse()
        return plans, used

    def _ordered_ports(self, module_name):
        """A module's ``(name, port)`` items, in the order of its component's signature."""
        order = {port: index for index, port in enumerate(self.port_orders.get(module_name, []))}
        return sorted(self.modules[module_name]["ports"].items(),
                      key=lambda item: order.get(item[0], len(order)))

    def _instance_ports(self, cell):
        """An instance's ports in the order its module declares them."""
        if cell["type"] not in self.modules:
            raise ValueError(f"design {self.name!r} instantiates {cell['type']!r}, which is not "
                             f"one of the modules emit_verilog writes")
        return [port for port, _ in self._ordered_ports(cell["type"])
                if port in cell["connections"]]

    # -- naming and rendering -------------------------------------------------------------

    def _register_name(self, q_bits):
        named = self.nets_by_bits.get(tuple(q_bits))
        return self._fresh(named[0][0] if named else "register")

    def _register_init(self, q_bits):
        """The power-on value Amaranth gave the register (its ``init``), as a literal."""
        for _, net in self.nets_by_bits.get(tuple(q_bits), ()):
            init = net.get("attributes", {}).get("init")
            if isinstance(init, str) and set(init) <= {"0", "1"}:
                return f"{len(init)}'b{init}"
        return None

    def _fresh(self, base):
        base = re.sub(r"[^A-Za-z0-9_]", "_", base).strip("_") or "n"
        if base[0].isdigit():
            base = f"n{base}"
        # Suffixes below the last one given out for this base are all taken: start there, or
        # naming thousands of cells of one type takes quadratic time.
        candidate, suffix = base, self.next_suffix.get(base, 1)
        if suffix > 1:
            candidate = f"{base}_{suffix - 1}"
        while candidate in self.used_names:
            candidate = f"{base}_{suffix}"
            suffix += 1
        self.next_suffix[base] = suffix
        self.used_names.add(candidate)
        return candidate

    def _result_name(self, cell, bits, width, outputs):
        """Name of the wire a cell drives: an output port, a named Amaranth signal, or new."""
        key = tuple(bits)
        if width == len(bits):
            if key in outputs:
                return outputs.pop(key), False
            named = self.nets_by_bits.get(key)
            if named:
                return self._fresh(named[0][0]), True
        return self._fresh(cell["type"].lstrip("$")), True

    def _ref(self, bit):
        if not isinstance(bit, int):
            return ("const", "1" if bit == "1" else "0")
        if bit in self.constant:
            return ("const", self.constant[bit])
        if bit not in self.home:
            # Undriven nets read as 0, like x and z constants.
            return ("const", "0")
        return ("wire", *self.home[bit])

    def render(self, bits):
        """Verilog expression for a list of net bits (LSB first), exactly len(bits) wide."""
        runs = []   # each run: [kind, payload...]; built LSB first
        for bit in bits:
            ref = self._ref(bit)
            last = runs[-1] if runs else None
            if ref[0] == "const":
                if last and last[0] == "const":
                    last[1].append(ref[1])
                    continue
                runs.append(["const", [ref[1]]])
                continue
            _, wire, index, width = ref
            if last and last[0] == "wire" and last[1] == wire and last[3] == index - 1:
                last[3] = index
                continue
            if last and last[0] == "rep" and last[1] == ref:
                last[2] += 1
                continue
            if last and last[0] == "wire" and last[2] == last[3] and last[1] == wire \
                    and last[2] == index:
                runs[-1] = ["rep", ref, 2]
                continue
            runs.append(["wire", wire, index, index, width])
        parts = [self._render_run(run) for run in reversed(runs)]
        return parts[0] if len(parts) == 1 else "{" + ", ".join(parts) + "}"

    @staticmethod
    def _render_run(run):
        if run[0] == "const":
            values = "".join(reversed(run[1]))
            return f"{len(values)}'b{values}"
        if run[0] == "rep":
            _, wire, index, width = run[1]
            single = wire if width == 1 else f"{wire}[{index}]"
            return f"{{{run[2]}{{{single}}}}}"
        _, wire, low, high, width = run
        if low == 0 and high == width - 1:
            return wire
        return f"{wire}[{high}]" if low == high else f"{wire}[{high}:{low}]"

    def _expression(self, plan):
        kind, cell = plan["type"], plan["cell"]
        ops = [self.render(bits) for bits in plan["operands"]]
        if kind in _BITWISE:
            text = f"{ops[0]} {_BITWISE[kind]} {ops[1]}"
            return f"~({text})" if kind == "$xnor" else text
        if kind in _SIGNABLE_BINARY:
            if plan["signed"]:
                return f"$signed({ops[0]}) {_SIGNABLE_BINARY[kind]} $signed({ops[1]})"
            return f"{ops[0]} {_SIGNABLE_BINARY[kind]} {ops[1]}"
        if kind in _UNARY:
            return f"{_UNARY[kind]}{ops[0]}"
        if kind in _REDUCE:
            bits = plan["operands"][0]
            if len(bits) == 1:
                return f"~{ops[0]}" if kind == "$reduce_xnor" else ops[0]
            return f"{_REDUCE[kind]}{ops[0]}"
        if kind in _LOGIC:
            truth = [op if len(bits) == 1 else f"(|{op})"
                     for op, bits in zip(ops, plan["operands"], strict=True)]
            if kind == "$logic_not":
                return f"~{truth[0]}"
            return f"{truth[0]} {'&' if kind == '$logic_and' else '|'} {truth[1]}"
        if kind in _SHIFT_LEFT:
            return f"{ops[0]} << {ops[1]}"
        if kind in _SHIFT_RIGHT:
            if plan["signed"]:
                return f"$signed({ops[0]}) >>> {ops[1]}"
            return f"{ops[0]} >> {ops[1]}"
        if kind == "$mux":
            return f"{ops[2]} ? {ops[1]} : {ops[0]}"
        if kind == "$pmux":
            # Yosys leaves the result undefined when several selects are active; the first wins.
            selects = [self.render([bit]) for bit in plan["operands"][-1]]
            terms = [f"{select} ? {choice} : "
                     for select, choice in zip(selects, ops[1:-1], strict=True)]
            return "".join(terms) + ops[0]
        raise AssertionError(f"unhandled cell {cell['type']}")  # _check_cells rules this out

    # -- output ---------------------------------------------------------------------------

    def write(self):
        self._check_cells()
        self.netnames = sorted(
            ((name, net) for name, net in self.netnames.items()
             if not name.startswith(("$", "\\$")) and net.get("hide_name", 0) == 0),
            key=lambda item: item[0])
        for net_name, net in self.netnames:
            self.nets_by_bits.setdefault(tuple(net["bits"]), []).append((net_name, net))
        plans, used = self._plan(self._sorted_cells())
        outputs = {tuple(port["bits"]): name for name, port in self.ports
                   if port["direction"] == "output"}
        for name, port in self.ports:
            if port["direction"] == "input":
                for index, bit in enumerate(port["bits"]):
                    self.home.setdefault(bit, (name, index, len(port["bits"])))

        declarations, assignments, unused = [], [], []
        registers = []
        for cell in self.registers:
            q_bits = cell["connections"]["Q"]
            wire = self._register_name(q_bits)
            init = self._register_init(q_bits)
            declarations.append(f"  reg {_range(len(q_bits))}{wire}"
                                f"{f' = {init}' if init else ''};")
            for index, bit in enumerate(q_bits):
                self.home.setdefault(bit, (wire, index, len(q_bits)))
            registers.append((wire, cell))
            unused += [(wire, index, len(q_bits)) for index, bit in enumerate(q_bits)
                       if bit not in used]
        instances = []
        for cell_name, cell in self.instances:
            # BlockInstance wraps each Instance in a submodule of its own, named by the parent.
            instance = self._fresh(re.sub(r"\.instance$", "", cell_name))
            connections = []
            for port in self._instance_ports(cell):
                bits = cell["connections"][port]
                if cell["port_directions"][port] == "input":
                    connections.append((port, bits, None))
                    continue
                wire = self._fresh(f"{instance}_{port}")
                declarations.append(f"  wire {_range(len(bits))}{wire};")
                for index, bit in enumerate(bits):
                    self.home.setdefault(bit, (wire, index, len(bits)))
                connections.append((port, bits, wire))
                unused += [(wire, index, len(bits)) for index, bit in enumerate(bits)
                           if bit not in used]
            instances.append((cell["type"], instance, connections))
        for plan in plans:
            y_bits = plan["cell"]["connections"]["Y"]
            width = plan["width"]
            kept = y_bits[:min(width, len(y_bits))]
            wire, declare = self._result_name(plan["cell"], kept, width, outputs)
            if declare:
                declarations.append(f"  wire {_range(width)}{wire};")
            for index, bit in enumerate(kept):
                self.home.setdefault(bit, (wire, index, width))
            assignments.append((wire, plan))
            unused += [(wire, index, width) for index in range(width)
                       if index >= len(kept) or kept[index] not in used]

        lines = [f"// Generated by dcim.eda.verilog from {self.origin}: one assign per "
                 f"operation, one always block per register"
                 f"{', one line per instance' if self.instances else ''}.", ""]
        lines.append(f"module {self.name} ({', '.join(name for name, _ in self.ports)});")
        for name, port in self.ports:
            lines.append(f"  {port['direction']} wire {_range(len(port['bits']))}{name};")
        lines += declarations
        for wire, plan in assignments:
            lines.append(f"  assign {wire} = {self._expression(plan)};")
        for bits, name in outputs.items():
            lines.append(f"  assign {name} = {self.render(list(bits))};")
        for module_name, instance, connections in instances:
            pins = ", ".join(f".{port}({wire or self.render(bits)})"
                             for port, bits, wire in connections)
            lines.append(f"  {module_name} {instance} ({pins});")
        for wire, cell in registers:
            edge = "posedge" if _param(cell, "CLK_POLARITY") else "negedge"
            clock = self.render(cell["connections"]["CLK"])
            lines.append(f"  always @({edge} {clock}) {wire} <= "
                         f"{self.render(cell['connections']['D'])};")

        for name, port in self.ports:
            if port["direction"] == "input":
                width = len(port["bits"])
                unused += [(name, index, width) for index, bit in enumerate(port["bits"])
                           if bit not in used]
        if unused:
            # Verilator's documented idiom for bits that are deliberately not read: a sink
            # whose name matches its default --unused-regexp "*unused*".
            runs = []
            for wire, index, width in unused:
                if runs and runs[-1][1] == wire and runs[-1][3] == index - 1:
                    runs[-1][3] = index
                else:
                    runs.append(["wire", wire, index, index, width])
            parts = [self._render_run(run) for run in reversed(runs)]
            lines.append(f"  wire {self.sink};")
            lines.append(f"  assign {self.sink} = ^{{{', '.join(parts)}}};")
        lines.append("endmodule")
        return "\n".join(lines) + "\n"


def _param(cell, name):
    value = cell["parameters"].get(name, 0)
    return int(value, 2) if isinstance(value, str) else int(value)


def _outputs(cell):
    return [(port, bits) for port, bits in cell["connections"].items()
            if cell["port_directions"][port] == "output"]


def _inputs(cell):
    return [(port, bits) for port, bits in cell["connections"].items()
            if cell["port_directions"][port] == "input"]


def _range(width):
    return "" if width == 1 else f"[{width - 1}:0] "


def _resize(bits, width, signed):
    """Cut or extend a list of bits to ``width``, by sign or zero as Yosys's cells do."""
    if len(bits) >= width:
        return list(bits[:width])
    fill = bits[-1] if signed and bits else "0"
    return list(bits) + [fill] * (width - len(bits))


def _operands(cell, read_width):
    """Computed width and operands (LSB-first bit lists) of a cell, given how much is read."""
    kind, connections = cell["type"], cell["connections"]
    a_signed, b_signed = _param(cell, "A_SIGNED"), _param(cell, "B_SIGNED")
    y_width = len(connections["Y"])
    plan = {"cell": cell, "type": kind, "signed": False}
    if kind in _TRUNCATABLE:
        width = read_width
    elif kind in _SINGLE_BIT:
        width = 1
    elif kind in _DIVIDE:
        width = max(len(connections["A"]), len(connections["B"]), y_width)
    else:  # right shifts see every operand bit above the read ones
        width = max(len(connections["A"]), y_width)
    plan["width"] = width
    if kind in _BITWISE or kind in _ARITHMETIC:
        # Yosys's simulation models extend both operands as signed only if both are signed.
        signed = a_signed and b_signed
        plan["operands"] = [_resize(connections[port], width, signed) for port in "AB"]
        if kind in _ARITHMETIC:
            natural = _natural_operands(kind, connections, width, signed)
            if natural is not None:
                plan["operands"], plan["signed"] = natural, bool(signed)
    elif kind in _UNARY:
        plan["operands"] = [_resize(connections["A"], width, a_signed)]
    elif kind in _DIVIDE:
        # Truncating division: every result bit depends on every operand bit.
        signed = a_signed and b_signed
        plan["operands"] = [_resize(connections[port], width, signed) for port in "AB"]
        plan["signed"] = bool(signed)
    elif kind in _COMPARE:
        signed = a_signed and b_signed
        common = max(len(connections["A"]), len(connections["B"]))
        plan["operands"] = [_resize(connections[port], common, signed) for port in "AB"]
        plan["signed"] = signed and kind not in ("$eq", "$eqx", "$ne", "$nex")
    elif kind in _REDUCE or kind == "$logic_not":
        plan["operands"] = [connections["A"]]
    elif kind in _LOGIC:
        plan["operands"] = [connections["A"], connections["B"]]
    elif kind in _SHIFT_LEFT:
        plan["operands"] = [_resize(connections["A"], width, a_signed), connections["B"]]
    elif kind in _SHIFT_RIGHT:
        # $shift and $shiftx never extend by sign; out-of-range bits (x for $shiftx) read 0.
        extend = a_signed and kind in ("$shr", "$sshr")
        plan["operands"] = [_resize(connections["A"], width, extend), connections["B"]]
        plan["signed"] = kind == "$sshr" and bool(a_signed)
    elif kind == "$mux":
        plan["operands"] = [connections["A"][:width], connections["B"][:width],
                            connections["S"]]
    else:  # $pmux
        slice_width = len(connections["A"])
        b_bits = connections["B"]
        choices = [b_bits[k:k + slice_width][:width]
                   for k in range(0, len(b_bits), slice_width)]
        plan["operands"] = [connections["A"][:width], *choices, connections["S"]]
    return plan


def _core(bits, signed):
    """The shortest prefix of ``bits`` that extends (by sign or zero) back to ``bits``."""
    fill = bits[-1] if signed else "0"
    length = len(bits)
    while length > 1 and bits[length - 1] == fill and (not signed or bits[length - 2] == fill):
        length -= 1
    return list(bits[:length])


def _natural_operands(kind, connections, width, signed):
    """Operands at their own widths where Verilog's rules give the result without warnings.

    Verilator accepts ``y = a * b`` with ``|y| = |a| + |b|`` and ``y = a + b`` with equal
    operand widths and ``|y|`` one more (the carry); those forms also let synthesis see a
    narrow signed multiplier instead of a wide unsigned one.
    """
    a, b = _core(connections["A"], signed), _core(connections["B"], signed)
    if kind == "$mul" and len(a) + len(b) == width:
        return [a, b]
    if kind != "$mul":
        common = max(len(a), len(b))
        if width in (common, common + 1):
            return [_resize(a, common, signed), _resize(b, common, signed)]
    return None
