"""Hierarchical Verilog of a macro: each distinct block emitted once and instantiated.

Amaranth's back-end writes one Verilog module per instance, so a rows=64, cols=8 macro with
512 multipliers becomes 18 MB of Verilog and takes minutes. :func:`macro_verilog` instead
emits the multiplier once, the lane once, and the macro's controller and array around lane
instances, through the macro's platform hooks (``get_dcim_lane``, ``get_multiplier``).
"""

from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import Instance, Module, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from .datapath import BitserialLane, MultiplierLane, lane_signature, multiplier_signature
from .macro import DCiMMacro
from .spec import MacroSpec

__all__ = ["BlackBox", "lane_verilog", "macro_top_verilog", "macro_verilog"]


class BlackBox(wiring.Component):
    """An instance of Verilog module ``module`` whose ports are the members of ``signature``.

    Port names are the member paths joined by ``__``, as Amaranth's back-end names the ports
    of a component it converts; the instance has no clock (combinational blocks only).

    Parameters
    ----------
    module : str
        The Verilog module's name.
    signature : wiring.Signature
    """

    def __init__(self, module, signature):
        self._module = module
        super().__init__(signature)

    def elaborate(self, platform):
        m = Module()
        ports = {}
        for path, member, value in self.signature.flatten(self):
            prefix = "i_" if member.flow == In else "o_"
            ports[prefix + "__".join(map(str, path))] = Value.cast(value)
        m.submodules.instance = Instance(self._module, **ports)
        return m


class _Hierarchy:
    """A platform whose lanes and multipliers are instances of separately emitted modules."""

    def __init__(self, lane_module=None, multiplier_module=None):
        self._lane_module = lane_module
        self._multiplier_module = multiplier_module

    def get_dcim_lane(self, spec):
        if self._lane_module is None:
            return MultiplierLane(spec) if spec.datapath == "multiplier" else BitserialLane(spec)
        return BlackBox(self._lane_module, lane_signature(spec))

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
    macro = _macro_of(macro)
    spec = macro.spec
    parts = []
    if spec.datapath == "multiplier":
        parts.append(verilog.convert(spec.mult.component(), name=spec.mult.name,
                                     emit_src=False))
    parts += [lane_verilog(spec), macro_top_verilog(macro)]
    text = "\n".join(parts)
    if path is not None:
        Path(path).write_text(text)
    return text
