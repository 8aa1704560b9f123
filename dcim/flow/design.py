"""What the flow accepts as a design, and how each kind becomes Verilog with a stable name.

:func:`resolve_design` turns any accepted design into a :class:`FlowDesign`: a stable name
(the cache key and the Verilog module), a way to produce the Verilog (only called when the
cache has no result), how many operations it performs per clock cycle (for energy per
operation), and how its first-level hierarchy splits into area groups.

Accepted designs:

- a :class:`~dcim.arith.MultiplierSpec`: lint-clean Verilog from
  :func:`~dcim.flow.verilog.emit_verilog`, one multiply per cycle;
- a :class:`~dcim.macro.MacroSpec` or :class:`~dcim.macro.DCiMMacro`: Amaranth's Verilog,
  ``spec.throughput`` multiply-accumulates per cycle, area split into storage (the weight
  array), arithmetic (the datapath lanes) and control (everything else: pipeline registers,
  accumulators, handshakes);
- any other Amaranth component (its name is its class name and a hash of its Verilog);
- a :class:`VerilogDesign`, Verilog text or a ``.v`` file.
"""

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from amaranth.hdl import Elaboratable

__all__ = ["FlowDesign", "VerilogDesign", "load_design", "resolve_design", "yosys_multiplier"]


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
        if not re.search(rf"\bmodule\s+\\?{re.escape(self.top)}\b", self.text):
            raise ValueError(f"top must name a module of the Verilog, not {self.top!r}")
        if self.name is None:
            object.__setattr__(self, "name", self.top)
        if not self.ops_per_cycle > 0:
            raise ValueError(f"ops_per_cycle must be positive, not {self.ops_per_cycle!r}")

    @classmethod
    def from_file(cls, path, top=None, **kwargs):
        """Read a Verilog file; ``top`` defaults to its only (or last) module."""
        text = Path(path).read_text()
        return cls(text, top or _last_module(text, path), **kwargs)


def _last_module(text, origin):
    modules = re.findall(r"^\s*module\s+\\?([^\s(#;]+)", text, re.M)
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
        Stable name: the Verilog top module and the label in reports.
    identity : str
        What the cache key is made of: the name for specs (their names are unique and stable),
        the name plus a hash of the Verilog otherwise.
    top : str
    verilog : callable
        Returns the Verilog text (only called when the cache has no result).
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
    """

    name: str
    identity: str
    top: str
    verilog: object
    spec: object = None
    ops_per_cycle: float = 1.0
    operation: str = "operation"
    groups: dict = field(default_factory=dict)
    port_activity: tuple = ()
    stimulus: object = None

    @property
    def keep_hierarchy(self):
        return bool(self.groups)


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _snake_case(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _amaranth_verilog(component, name):
    from amaranth.back import verilog

    return verilog.convert(component, name=name, emit_src=False)


def _macro_design(spec):
    from ..macro import DCiMMacro
    from .stimulus import macro_stimulus

    name = spec.name
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
    return FlowDesign(
        name=name, identity=name, top=name,
        verilog=lambda: _amaranth_verilog(DCiMMacro(spec=spec), name), spec=spec,
        ops_per_cycle=float(spec.throughput), operation="MAC",
        groups={"storage": ("array",), "arithmetic": ("lane*",)},
        port_activity=port_activity,
        stimulus=lambda operands: macro_stimulus(spec, operands))


def resolve_design(design, name=None):
    """Turn any accepted design into a :class:`FlowDesign` (see the module description).

    Parameters
    ----------
    design : MultiplierSpec, MacroSpec, DCiMMacro, Elaboratable, VerilogDesign, str or Path
        Strings holding ``module`` are Verilog text; other strings and paths name a
        Verilog (``.v``/``.sv``) or design (``.toml``) file.
    name : str or None
        Overrides the name of components and Verilog designs.

    Raises
    ------
    TypeError
        If ``design`` is none of these.
    """
    from ..arith import MultiplierSpec
    from ..macro import DCiMMacro, MacroSpec
    from .verilog import emit_verilog

    if isinstance(design, FlowDesign):
        return design
    if isinstance(design, MultiplierSpec):
        return FlowDesign(name=design.name, identity=design.name, top=design.name,
                          verilog=lambda: emit_verilog(design), spec=design,
                          ops_per_cycle=1.0, operation="multiply")
    if isinstance(design, MacroSpec):
        return _macro_design(design)
    if isinstance(design, DCiMMacro):
        # The flow builds its own component from the spec; this one is never elaborated, so
        # Amaranth's "created but never used" warning is silenced for it.
        design._MustUse__used = True
        return _macro_design(design.spec)
    if isinstance(design, Elaboratable):
        top = name or _snake_case(type(design).__name__)
        try:
            text = emit_verilog(design, name=top)
        except ValueError:
            text = _amaranth_verilog(design, top)  # clocked: Amaranth's own Verilog
        return FlowDesign(name=top, identity=f"{top}-{_digest(text)}", top=top,
                          verilog=lambda: text)
    if isinstance(design, (str, Path)):
        text = str(design)
        if isinstance(design, str) and "module" in design and "\n" in design:
            design = VerilogDesign(text, _last_module(text, "the Verilog text"), name=name)
        elif text.endswith(".toml"):
            return resolve_design(load_design(design), name)
        else:
            design = VerilogDesign.from_file(design, name=name)
    if isinstance(design, VerilogDesign):
        text = design.text
        return FlowDesign(name=design.name, identity=f"{design.name}-{_digest(text)}",
                          top=design.top, verilog=lambda: text,
                          ops_per_cycle=design.ops_per_cycle, operation=design.operation)
    raise TypeError(f"design must be a MultiplierSpec, MacroSpec, DCiMMacro, Amaranth "
                    f"component, VerilogDesign, Verilog text or a file, not {design!r}")


def load_design(path):
    """Read a design TOML file: a ``[multiplier]`` or a ``[macro]`` table.

    Raises
    ------
    ValueError
        If the file has neither table.
    """
    from ..arith import MultiplierSpec
    from ..macro import MacroSpec

    with open(path, "rb") as file:
        data = tomllib.load(file)
    if "multiplier" in data:
        return MultiplierSpec.from_dict(data["multiplier"])
    if "macro" in data:
        return MacroSpec.from_dict(data["macro"])
    raise ValueError(f"design file {str(path)!r} has neither a [multiplier] nor a [macro] "
                     f"table")
