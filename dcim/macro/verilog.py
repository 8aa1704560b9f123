"""Hierarchical Verilog of a macro: each distinct block emitted once and instantiated.

Amaranth's back-end writes one Verilog module per instance, so a rows=64, cols=8 macro with
512 multipliers becomes 18 MB of Verilog and takes minutes. :func:`macro_verilog` instead
emits the multiplier once, the lane once, and the macro's controller and array around lane
instances, through the macro's platform hooks (``get_dcim_lane``, ``get_multiplier``).
:func:`macro_blocks` lists those modules; :func:`dcim.flow.emit_verilog` writes the same
modules lint-clean.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from amaranth.back import verilog
from amaranth.hdl import ClockSignal, Instance, Module, ResetSignal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from .datapath import BitserialLane, MultiplierLane, lane_signature, multiplier_signature
from .macro import DCiMMacro, RegisterArray, WeightArray
from .spec import MacroSpec

__all__ = ["BlackBox", "VerilogBlock", "lane_verilog", "macro_blocks", "macro_top_verilog",
           "macro_verilog"]


class BlackBox(wiring.Component):
    """An instance of Verilog module ``module`` whose ports are the members of ``signature``.

    Port names are the member paths joined by ``__``, as Amaranth's back-end names the ports
    of a component it converts.

    Parameters
    ----------
    module : str
        The Verilog module's name.
    signature : wiring.Signature
    clocked : bool
        The module has registers in the ``sync`` domain: connect its ``clk`` and ``rst``
        ports (Amaranth's back-end gives a converted component both) to that domain's.
    """

    def __init__(self, module, signature, *, clocked=False):
        self._module = module
        self._clocked = clocked
        super().__init__(signature)

    def elaborate(self, platform):
        m = Module()
        ports = {}
        if self._clocked:
            ports.update(i_clk=ClockSignal(), i_rst=ResetSignal())
        for path, member, value in self.signature.flatten(self):
            prefix = "i_" if member.flow == In else "o_"
            ports[prefix + "__".join(map(str, path))] = Value.cast(value)
        m.submodules.instance = Instance(self._module, **ports)
        return m


class _Hierarchy:
    """A platform whose lanes and multipliers are instances of separately emitted modules."""

    def __init__(self, lane_module=None, multiplier_module=None, *, registers=False):
        self._lane_module = lane_module
        self._multiplier_module = multiplier_module
        self._registers = registers

    def get_dcim_array(self, spec):
        return RegisterArray(spec) if self._registers else WeightArray(spec)

    def get_dcim_lane(self, spec):
        if self._lane_module is None:
            return MultiplierLane(spec) if spec.datapath == "multiplier" else BitserialLane(spec)
        return BlackBox(self._lane_module, lane_signature(spec), clocked=bool(spec.pipeline))

    def get_multiplier(self, mult):
        if self._multiplier_module is None:
            return mult.component()
        return BlackBox(self._multiplier_module, multiplier_signature(mult))


def _macro_of(macro):
    if isinstance(macro, MacroSpec):
        macro = DCiMMacro(spec=macro)
    if not isinstance(macro, DCiMMacro):
        raise TypeError(f"macro must be a DCiMMacro or a MacroSpec, not {macro!r}")
    return macro


def lane_verilog(spec):
    """Verilog of one lane of ``spec``: module ``spec.name + "_lane"``.

    A multiplier lane instantiates module ``spec.mult.name`` for each multiplier (emitted
    separately); a bit-serial lane is complete.

    Raises
    ------
    TypeError
        If ``spec`` is not a :class:`MacroSpec`.
    """
    if not isinstance(spec, MacroSpec):
        raise TypeError(f"spec must be a MacroSpec, not {spec!r}")
    lane = MultiplierLane(spec) if spec.datapath == "multiplier" else BitserialLane(spec)
    return verilog.convert(lane, name=f"{spec.name}_lane", emit_src=False,
                           platform=_Hierarchy(multiplier_module=spec.mult.name))


def macro_top_verilog(macro):
    """Verilog of the macro module alone: module ``spec.name``, lanes as instances.

    Each lane is an instance of module ``spec.name + "_lane"`` (see :func:`lane_verilog`).

    Raises
    ------
    TypeError
        If ``macro`` is neither a :class:`DCiMMacro` nor a :class:`MacroSpec`.
    """
    macro = _macro_of(macro)
    spec = macro.spec
    return verilog.convert(macro, name=spec.name, emit_src=False,
                           platform=_Hierarchy(lane_module=f"{spec.name}_lane"))


class VerilogBlock(NamedTuple):
    """One distinct module of a macro's hierarchical Verilog.

    Members
    -------
    module : str
        The Verilog module's name.
    make : callable
        Returns the component to convert (called once, by the writer).
    platform : object or None
        The platform to elaborate it with: its hooks turn the component's sub-blocks into
        instances of the modules listed before it.
    """

    module: str
    make: Callable[[], Any]
    platform: Any


def macro_blocks(macro, name=None, *, hierarchical=True, registers=False):
    """The distinct modules of a macro, each listed once, the modules it instantiates first.

    The multiplier ``spec.mult.name`` (multiplier datapath only), the lane
    ``spec.name + "_lane"`` (instantiating the multiplier ``rows`` times) and the macro
    itself (instantiating the lane ``spec.lanes`` times).

    Parameters
    ----------
    macro : DCiMMacro or MacroSpec
        A spec is turned into a fresh component when the last block is made.
    name : str or None
        The macro module's name; ``spec.name`` by default. The lane and multiplier keep the
        names derived from the spec.
    hierarchical : bool
        ``False`` lists the macro alone, its lanes and multipliers elaborated inside it.
    registers : bool
        Elaborate the weight array as :class:`~dcim.macro.RegisterArray` rather than the
        :class:`~dcim.macro.WeightArray` memory model (same behaviour; what
        :func:`dcim.flow.emit_verilog` writes).

    Returns
    -------
    list of VerilogBlock

    Raises
    ------
    TypeError
        If ``macro`` is neither.
    """
    if isinstance(macro, MacroSpec):
        spec = macro
        make_top = macro.component
    elif isinstance(macro, DCiMMacro):
        spec = macro.spec

        def make_top():
            return macro
    else:
        raise TypeError(f"macro must be a DCiMMacro or a MacroSpec, not {macro!r}")
    top_name = spec.name if name is None else name
    if not hierarchical:
        return [VerilogBlock(top_name, make_top, _Hierarchy(registers=registers))]
    lane_name = f"{spec.name}_lane"
    blocks = []
    if spec.datapath == "multiplier":
        blocks.append(VerilogBlock(spec.mult.name, spec.mult.component, None))
        blocks.append(VerilogBlock(lane_name, lambda: MultiplierLane(spec),
                                   _Hierarchy(multiplier_module=spec.mult.name)))
    else:
        blocks.append(VerilogBlock(lane_name, lambda: BitserialLane(spec), None))
    blocks.append(VerilogBlock(top_name, make_top,
                               _Hierarchy(lane_module=lane_name, registers=registers)))
    return blocks


def macro_verilog(macro, path=None):
    """Verilog of a whole macro, hierarchical: multiplier, lane and macro modules.

    The macro module is named ``spec.name`` (clock ``clk``, synchronous reset ``rst``, then
    the stream ports as ``write__valid``, ``write__payload`` and so on); the lane module
    ``spec.name + "_lane"``; the multiplier module ``spec.mult.name`` (multiplier datapath
    only). Written by Amaranth's back-end: correct Verilog for simulators and synthesis, but
    not free of Verilator lint warnings (use :func:`dcim.flow.emit_verilog` for that).

    Parameters
    ----------
    macro : DCiMMacro or MacroSpec
        The macro module is this component (or a fresh one for a spec); its lanes and
        multipliers are converted from the spec.
    path : path-like or None
        If given, the text is also written there.

    Returns
    -------
    str
    """
    blocks = macro_blocks(macro)
    parts = [verilog.convert(block.make(), name=block.module, emit_src=False,
                             platform=block.platform) for block in blocks]
    text = "\n".join(parts)
    if path is not None:
        Path(path).write_text(text)
    return text
