"""Static CMOS standard cells as frozen specifications that generate their transistor netlists.

A cell is a sequence of *stages* over named nets. A :class:`StaticStage` computes the complement
of a series-parallel network of its input nets: the network is the pull-down (NMOS, series =
AND, parallel = OR), and the pull-up is its dual (PMOS, series and parallel swapped) or, for a
self-dual function, its mirror (the same network in PMOS, as in the mirror adder).
:class:`TransmissionGate`, :class:`ClockedInverter` and :class:`TieHigh` / :class:`TieLow` cover
multiplexers, latches and constant outputs. From the stages come the transistors (each named),
the ``.subckt`` for ngspice with the FreePDK45 models of :mod:`dcim.spice.corners`, a logic
evaluation of a combinational cell, and a layout-area estimate.

Each output pin carries its boolean function as a Liberty ``function`` string; a flip-flop
carries its Liberty ``ff`` group (:class:`FlipFlop`). :func:`liberty_function` evaluates such a
string, so that the stages (and, in :mod:`dcim.spice.cell_check`, their simulation) are checked
against the function a Liberty file will state.

Widths are SI (metres), all lengths 50 nm. The X1 defaults are Nangate45's: 415 nm NMOS and
630 nm PMOS for the driving stage; inner stages of the multi-stage cells are smaller, as in
Nangate45's own netlists.

Layout area model
-----------------
A cell occupies one Nangate45 row, 1.4 um high, and a whole number of 0.19 um poly pitches
(Nangate45's placement site): one pitch per *gate column* plus one for the diffusion contacts
at the cell's ends. A static stage with ``n`` NMOS (and as many PMOS) has ``n`` columns; a
transmission gate one; a clocked inverter two; a tie cell one. A transistor wider than the
row's diffusion (415 nm NMOS, 630 nm PMOS at X1) is folded into fingers, each a column of its
own. The fit against Nangate45's X1 areas is :func:`area_model_fit`.
"""

import itertools
import math
import re
from dataclasses import dataclass, field, replace

import numpy as np

from .corners import NMOS_MODEL, PMOS_MODEL

__all__ = [
    "CELL_GENERATORS",
    "NANGATE45_X1_AREAS",
    "POLY_PITCH",
    "ROW_HEIGHT",
    "STANDARD_CELLS",
    "Cell",
    "ClockedInverter",
    "FlipFlop",
    "Parallel",
    "Series",
    "StaticStage",
    "TieHigh",
    "TieLow",
    "TransmissionGate",
    "area_model_fit",
    "liberty_function",
    "parallel",
    "series",
    "stack_height",
]

LENGTH = 50e-9
ROW_HEIGHT = 1.4e-6
POLY_PITCH = 0.19e-6
# The widest single finger the Nangate45 row holds (its X1 drivers' widths); wider devices fold.
MAX_NMOS_FINGER = 415e-9
MAX_PMOS_FINGER = 630e-9
# Source and drain diffusion extension beside the gate, for the junction areas and perimeters
# the BSIM4 cards need to see any junction capacitance: FreePDK45's contacted diffusion
# (contact 65 nm plus 2 x 35 nm enclosure and spacing to poly) rounded to 90 nm, a stated
# estimate in place of an extracted layout.
DIFFUSION_EXTENSION = 90e-9
_X1_NMOS = 415e-9
_X1_PMOS = 630e-9
# Inner stages of multi-stage X1 cells (Nangate45 sizes them about half the driver).
_INNER_NMOS = 210e-9
_INNER_PMOS = 315e-9

NANGATE45_X1_AREAS = {
    "INV": 0.532e-12, "NAND2": 0.798e-12, "NOR2": 0.798e-12, "AOI21": 1.064e-12,
    "OAI21": 1.064e-12, "XOR2": 1.596e-12, "XNOR2": 1.596e-12, "MUX2": 1.862e-12,
    "FA": 4.256e-12, "HA": 2.660e-12, "DFF": 4.522e-12,
}
"""Areas of Nangate45's X1 cells (square metres), from ``nangate45_typ.lib``."""


def _check_width(name, value):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 90e-9 <= value <= 10e-6:
        raise ValueError(f"{name} must be a width in metres between 90 nm (FreePDK45's minimum) "
                         f"and 10 um, not {value!r}")
    return float(value)


_NET_PATTERN = re.compile(r"[a-z_][a-z0-9_]*", re.IGNORECASE)


def _check_net(name, value):
    if not isinstance(value, str) or not _NET_PATTERN.fullmatch(value):
        raise ValueError(f"{name} must be a net name (letters, digits, '_'), not {value!r}")
    return value


# --- series-parallel networks ---------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    """Transistors or sub-networks in series (AND in a pull-down). Parts: net names or networks."""

    parts: tuple

    def __post_init__(self):
        _check_parts(self)


@dataclass(frozen=True)
class Parallel:
    """Transistors or sub-networks in parallel (OR in a pull-down)."""

    parts: tuple

    def __post_init__(self):
        _check_parts(self)


def _check_parts(network):
    if len(network.parts) < 2:
        raise ValueError(f"a {type(network).__name__} network needs at least two parts, "
                         f"not {network.parts!r}")
    for part in network.parts:
        if not isinstance(part, Series | Parallel):
            _check_net("network part", part)


def series(*parts):
    """Return the series connection of ``parts`` (net names or networks)."""
    return Series(tuple(parts))


def parallel(*parts):
    """Return the parallel connection of ``parts`` (net names or networks)."""
    return Parallel(tuple(parts))


def _dual(network):
    if isinstance(network, str):
        return network
    other = Parallel if isinstance(network, Series) else Series
    return other(tuple(_dual(part) for part in network.parts))


def _conducts(network, values):
    """Whether an NMOS network conducts, given each gate net's value (NumPy bool arrays)."""
    if isinstance(network, str):
        return values[network]
    results = [_conducts(part, values) for part in network.parts]
    combine = np.logical_and if isinstance(network, Series) else np.logical_or
    return combine.reduce(np.stack(results))


def _leaves(network):
    if isinstance(network, str):
        return [network]
    return [leaf for part in network.parts for leaf in _leaves(part)]


def stack_height(network):
    """The most transistors in series on any path through ``network``."""
    if isinstance(network, str):
        return 1
    heights = [stack_height(part) for part in network.parts]
    return sum(heights) if isinstance(network, Series) else max(heights)


# --- stages ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Device:
    name: str
    polarity: str
    drain: str
    gate: str
    source: str
    width: float


def _place(network, polarity, top, bottom, width, prefix, counters, devices):
    # Series parts are placed from ``top`` (the output side) down, each joint a new node.
    devices_counter, nodes_counter = counters
    if isinstance(network, str):
        devices.append(_Device(f"{prefix}{polarity}{next(devices_counter)}", polarity, top,
                               network, bottom, width))
    elif isinstance(network, Parallel):
        for part in network.parts:
            _place(part, polarity, top, bottom, width, prefix, counters, devices)
    else:
        nodes = [top, *(f"{prefix}{polarity}x{next(nodes_counter)}"
                        for _ in network.parts[1:]), bottom]
        for part, upper, lower in zip(network.parts, nodes, nodes[1:], strict=False):
            _place(part, polarity, upper, lower, width, prefix, counters, devices)


def _fingers(width, polarity):
    return math.ceil(width / (MAX_NMOS_FINGER if polarity == "n" else MAX_PMOS_FINGER) - 1e-9)


@dataclass(frozen=True)
class StaticStage:
    """A static CMOS gate: ``output = !(pull_down)``.

    Parameters
    ----------
    name : str
        Prefix of the stage's transistor names, unique within a cell.
    output : str
        The net it drives.
    pull_down : str or Series or Parallel
        The NMOS network between ``output`` and ground; a net name alone is an inverter.
    nmos_width, pmos_width : float
        Every NMOS and every PMOS of the stage, metres.
    pull_up : str
        ``"dual"`` (series and parallel swapped) or ``"mirror"`` (the pull-down's own shape,
        correct only for a self-dual function, which is checked).
    """

    name: str
    output: str
    pull_down: object
    nmos_width: float = _X1_NMOS
    pmos_width: float = _X1_PMOS
    pull_up: str = "dual"

    def __post_init__(self):
        _check_net("stage name", self.name)
        _check_net("stage output", self.output)
        if not isinstance(self.pull_down, Series | Parallel):
            _check_net("pull_down", self.pull_down)
        object.__setattr__(self, "nmos_width", _check_width("nmos_width", self.nmos_width))
        object.__setattr__(self, "pmos_width", _check_width("pmos_width", self.pmos_width))
        if self.pull_up not in ("dual", "mirror"):
            raise ValueError(f"pull_up must be 'dual' or 'mirror', not {self.pull_up!r}")
        if self.pull_up == "mirror" and not _self_dual(self.pull_down):
            raise ValueError(f"stage {self.name!r}: a mirror pull-up needs a self-dual "
                             f"function, which {self.pull_down!r} is not")

    @property
    def inputs(self):
        return tuple(dict.fromkeys(_leaves(self.pull_down)))

    @property
    def pull_up_network(self):
        """The PMOS network between the supply and ``output``."""
        return self.pull_down if self.pull_up == "mirror" else _dual(self.pull_down)

    def devices(self):
        devices = []
        _place(self.pull_down, "n", self.output, "gnd", self.nmos_width, f"{self.name}_",
               (itertools.count(), itertools.count()), devices)
        _place(self.pull_up_network, "p", self.output, "vdd", self.pmos_width,
               f"{self.name}_", (itertools.count(), itertools.count()), devices)
        return devices

    def evaluate(self, values):
        return {self.output: ~_conducts(self.pull_down, values)}

    def columns(self):
        leaves = len(_leaves(self.pull_down))
        return max(leaves * _fingers(self.nmos_width, "n"), leaves * _fingers(self.pmos_width, "p"))


def _self_dual(network):
    leaves = tuple(dict.fromkeys(_leaves(network)))
    patterns = np.array(list(itertools.product((False, True), repeat=len(leaves)))).T
    values = dict(zip(leaves, patterns, strict=True))
    inverted = {leaf: ~value for leaf, value in values.items()}
    return bool(np.all(_conducts(network, values) == ~_conducts(network, inverted)))


@dataclass(frozen=True)
class TransmissionGate:
    """An NMOS and a PMOS in parallel between ``source`` and ``output``, on when
    ``nmos_gate`` is high and ``pmos_gate`` low (the two must be complements).
    """

    name: str
    source: str
    output: str
    nmos_gate: str
    pmos_gate: str
    nmos_width: float = _INNER_NMOS
    pmos_width: float = _INNER_PMOS

    def __post_init__(self):
        for label in ("name", "source", "output", "nmos_gate", "pmos_gate"):
            _check_net(label, getattr(self, label))
        object.__setattr__(self, "nmos_width", _check_width("nmos_width", self.nmos_width))
        object.__setattr__(self, "pmos_width", _check_width("pmos_width", self.pmos_width))

    @property
    def inputs(self):
        return (self.source, self.nmos_gate, self.pmos_gate)

    def devices(self):
        return [_Device(f"{self.name}_n", "n", self.output, self.nmos_gate, self.source,
                        self.nmos_width),
                _Device(f"{self.name}_p", "p", self.output, self.pmos_gate, self.source,
                        self.pmos_width)]

    def evaluate(self, values):
        # Several gates may drive one net; the cell combines them (see Cell.evaluate).
        on = values[self.nmos_gate] & ~values[self.pmos_gate]
        return {self.output: (on, values[self.source])}

    def columns(self):
        return max(_fingers(self.nmos_width, "n"), _fingers(self.pmos_width, "p"))


@dataclass(frozen=True)
class ClockedInverter:
    """A tri-state (C2MOS) inverter: ``output = !source`` while ``nmos_enable`` is high and
    ``pmos_enable`` low; the enable transistors sit next to the output.
    """

    name: str
    source: str
    output: str
    nmos_enable: str
    pmos_enable: str
    nmos_width: float = _INNER_NMOS
    pmos_width: float = _INNER_PMOS

    def __post_init__(self):
        for label in ("name", "source", "output", "nmos_enable", "pmos_enable"):
            _check_net(label, getattr(self, label))
        object.__setattr__(self, "nmos_width", _check_width("nmos_width", self.nmos_width))
        object.__setattr__(self, "pmos_width", _check_width("pmos_width", self.pmos_width))

    @property
    def inputs(self):
        return (self.source, self.nmos_enable, self.pmos_enable)

    def devices(self):
        return [_Device(f"{self.name}_ne", "n", self.output, self.nmos_enable, f"{self.name}_nx",
                        self.nmos_width),
                _Device(f"{self.name}_ni", "n", f"{self.name}_nx", self.source, "gnd",
                        self.nmos_width),
                _Device(f"{self.name}_pe", "p", self.output, self.pmos_enable, f"{self.name}_px",
                        self.pmos_width),
                _Device(f"{self.name}_pi", "p", f"{self.name}_px", self.source, "vdd",
                        self.pmos_width)]

    def evaluate(self, values):
        on = values[self.nmos_enable] & ~values[self.pmos_enable]
        return {self.output: (on, ~values[self.source])}

    def columns(self):
        return 2 * max(_fingers(self.nmos_width, "n"), _fingers(self.pmos_width, "p"))


@dataclass(frozen=True)
class TieHigh:
    """A constant 1: a PMOS from the supply with its gate on ground (Nangate45's LOGIC1 uses
    a gate-isolating pair; one device is enough for a cell's internal constant)."""

    name: str
    output: str
    pmos_width: float = _INNER_PMOS

    def __post_init__(self):
        _check_net("name", self.name)
        _check_net("output", self.output)
        object.__setattr__(self, "pmos_width", _check_width("pmos_width", self.pmos_width))

    inputs = ()

    def devices(self):
        return [_Device(f"{self.name}_p", "p", self.output, "gnd", "vdd", self.pmos_width)]

    def evaluate(self, values):
        shape = next(iter(values.values())).shape
        return {self.output: np.ones(shape, dtype=bool)}

    def columns(self):
        return _fingers(self.pmos_width, "p")


@dataclass(frozen=True)
class TieLow:
    """A constant 0: an NMOS to ground with its gate on the supply."""

    name: str
    output: str
    nmos_width: float = _INNER_NMOS

    def __post_init__(self):
        _check_net("name", self.name)
        _check_net("output", self.output)
        object.__setattr__(self, "nmos_width", _check_width("nmos_width", self.nmos_width))

    inputs = ()

    def devices(self):
        return [_Device(f"{self.name}_n", "n", self.output, "vdd", "gnd", self.nmos_width)]

    def evaluate(self, values):
        shape = next(iter(values.values())).shape
        return {self.output: np.zeros(shape, dtype=bool)}

    def columns(self):
        return _fingers(self.nmos_width, "n")


_STAGE_TYPES = (StaticStage, TransmissionGate, ClockedInverter, TieHigh, TieLow)


@dataclass(frozen=True)
class FlipFlop:
    """A Liberty ``ff`` group: ``ff (IQ, IQN) { clocked_on; next_state; }``.

    Parameters
    ----------
    clocked_on, next_state : str
        Liberty function strings (``"CK"``, ``"D"``): positive-edge triggered on ``clocked_on``.
    """

    clocked_on: str
    next_state: str


# --- cells ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """A standard cell: pins, their Liberty functions, and the stages that implement them.

    Parameters
    ----------
    kind : str
        The cell's base name (``"NAND2"``); :attr:`name` adds the sizes.
    inputs : tuple of str
        Input pins, in ``.subckt`` order (then outputs, then ``vdd gnd``).
    functions : tuple of (str, str)
        Each output pin with its Liberty ``function`` string, e.g. ``("ZN", "!(A1 & A2)")``;
        a flip-flop's outputs name its state (``"IQ"``, ``"IQN"``).
    stages : tuple
        :class:`StaticStage`, :class:`TransmissionGate`, :class:`ClockedInverter`,
        :class:`TieHigh` or :class:`TieLow`, in signal order; a net is an input pin, an
        output pin or internal.
    flip_flop : FlipFlop or None
        The state element of a sequential cell.
    clock : str or None
        A sequential cell's clock pin.
    description : str
        How the cell is built (which topology).

    Raises
    ------
    ValueError
        If a stage reads a net nothing drives, an output pin is undriven, or names clash.
    """

    kind: str
    inputs: tuple
    functions: tuple
    stages: tuple = field(repr=False)
    flip_flop: FlipFlop | None = None
    clock: str | None = None
    description: str = ""

    def __post_init__(self):
        _check_net("kind", self.kind)
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "functions", tuple(tuple(pair) for pair in self.functions))
        object.__setattr__(self, "stages", tuple(self.stages))
        pins = [*self.inputs, *self.outputs]
        for pin in pins:
            _check_net("pin", pin)
        if len(set(pins)) != len(pins) or {"vdd", "gnd"} & set(pins):
            raise ValueError(f"cell {self.kind}: pin names must be unique and not vdd/gnd, "
                             f"not {pins!r}")
        names = [stage.name for stage in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"cell {self.kind}: stage names must be unique, not {names!r}")
        driven = set(self.inputs) | {"vdd", "gnd"}
        for stage in self.stages:
            if not isinstance(stage, _STAGE_TYPES):
                raise ValueError(f"cell {self.kind}: a stage must be one of "
                                 f"{[t.__name__ for t in _STAGE_TYPES]}, not {stage!r}")
            driven.add(stage.output)
        for stage in self.stages:
            missing = set(stage.inputs) - driven
            if missing:
                raise ValueError(f"cell {self.kind}: stage {stage.name!r} reads "
                                 f"{sorted(missing)}, which no input or stage drives")
        undriven = set(self.outputs) - driven
        if undriven:
            raise ValueError(f"cell {self.kind}: outputs {sorted(undriven)} are not driven")
        if (self.flip_flop is None) != (self.clock is None):
            raise ValueError(f"cell {self.kind}: flip_flop and clock go together")

    @property
    def outputs(self):
        return tuple(pin for pin, _ in self.functions)

    @property
    def pins(self):
        """``.subckt`` pin order: inputs, outputs, ``vdd``, ``gnd``."""
        return (*self.inputs, *self.outputs, "vdd", "gnd")

    @property
    def is_sequential(self):
        return self.flip_flop is not None

    @property
    def name(self):
        """A stable name from the kind and the widths: ``"NAND2_n415_p630"`` when every stage
        has the same widths, else the kind and the widths of each stage in nm."""
        widths = [(round(stage.nmos_width * 1e9) if hasattr(stage, "nmos_width") else None,
                   round(stage.pmos_width * 1e9) if hasattr(stage, "pmos_width") else None)
                  for stage in self.stages]
        if len(set(widths)) == 1:
            n, p = widths[0]
            return f"{self.kind}_n{n}_p{p}"
        return f"{self.kind}_" + "_".join(
            f"{n if n is not None else 0}x{p if p is not None else 0}" for n, p in widths)

    def transistors(self):
        """Every transistor as ``(name, polarity, drain, gate, source, width)``, nets being
        the cell's (pins, ``vdd``, ``gnd``, internal nets)."""
        return [(d.name, d.polarity, d.drain, d.gate, d.source, d.width)
                for stage in self.stages for d in stage.devices()]

    @property
    def transistor_count(self):
        return len(self.transistors())

    def netlist(self, prefix, nodes):
        """Return the element lines of one copy of the cell.

        Parameters
        ----------
        prefix : str
            Prepended to element names and internal nets (``"c3_"``).
        nodes : dict of str to str
            The deck node of each pin (``"A1"``, ``"vdd"``, ``"gnd"``...); nets not named
            here are internal and get the prefix.
        """
        def node(net):
            return nodes.get(net, f"{prefix}{net}")

        lines = []
        for name, polarity, drain, gate, source, width in self.transistors():
            model, body = (NMOS_MODEL, node("gnd")) if polarity == "n" \
                else (PMOS_MODEL, node("vdd"))
            area = width * DIFFUSION_EXTENSION
            perimeter = 2 * (width + DIFFUSION_EXTENSION)
            lines.append(f"m{prefix}{name} {node(drain)} {node(gate)} {node(source)} {body} "
                         f"{model} w={width:.6g} l={LENGTH:.6g} ad={area:.6g} as={area:.6g} "
                         f"pd={perimeter:.6g} ps={perimeter:.6g}")
        return lines

    def subcircuit(self):
        """Return the cell as a ``.subckt`` named after :attr:`name`, pins as :attr:`pins`."""
        nodes = {pin: pin for pin in self.pins}
        return "\n".join([f".subckt {self.name} {' '.join(self.pins)}",
                          *self.netlist("", nodes), f".ends {self.name}"]) + "\n"

    @property
    def gate_columns(self):
        """Poly columns of the layout-area model (see the module's description)."""
        return sum(stage.columns() for stage in self.stages)

    @property
    def area(self):
        """Layout-area estimate in square metres: row height x poly pitch x (columns + 1)."""
        return ROW_HEIGHT * POLY_PITCH * (self.gate_columns + 1)

    def evaluate(self, patterns):
        """Evaluate a combinational cell's stages on input patterns.

        Parameters
        ----------
        patterns : array-like of bool, shape (len(inputs), n)

        Returns
        -------
        numpy.ndarray of bool, shape (len(outputs), n)

        Raises
        ------
        ValueError
            If the cell is sequential, or a net is left floating or driven both ways.
        """
        values = self.net_values(patterns)
        return np.stack([values[pin] for pin in self.outputs])

    def net_values(self, patterns):
        """Return the logic value of every net (pins, stage outputs, ``vdd``, ``gnd``) of a
        combinational cell for each input pattern, as :meth:`evaluate` does for the outputs.
        """
        if self.is_sequential:
            raise ValueError(f"cell {self.kind} is sequential; simulate it instead")
        patterns = np.asarray(patterns, dtype=bool)
        if patterns.ndim != 2 or patterns.shape[0] != len(self.inputs):
            raise ValueError(f"patterns must have shape ({len(self.inputs)}, n), "
                             f"not {patterns.shape}")
        values = dict(zip(self.inputs, patterns, strict=True))
        shape = patterns.shape[1:]
        values["vdd"], values["gnd"] = np.ones(shape, bool), np.zeros(shape, bool)
        # A net driven by switches (transmission gates, clocked inverters) is known once
        # its last driver has been evaluated.
        remaining = {}
        for stage in self.stages:
            remaining[stage.output] = remaining.get(stage.output, 0) + 1
        switched = {}
        for stage in self.stages:
            for net, value in stage.evaluate(values).items():
                if isinstance(value, tuple):
                    switched.setdefault(net, []).append(value)
                    remaining[net] -= 1
                    if not remaining[net]:
                        values[net] = _resolve(self.kind, net, switched[net])
                else:
                    values[net] = value
        return values

    def resized(self, widths):
        """Return a copy with new stage widths.

        Parameters
        ----------
        widths : dict of str to (float, float)
            ``{stage_name: (nmos_width, pmos_width)}``; stages not named keep theirs. A tie
            stage takes only the width of its one device.
        """
        unknown = set(widths) - {stage.name for stage in self.stages}
        if unknown:
            raise ValueError(f"cell {self.kind} has no stages {sorted(unknown)}")
        stages = []
        for stage in self.stages:
            if stage.name not in widths:
                stages.append(stage)
                continue
            nmos, pmos = widths[stage.name]
            changes = {}
            if hasattr(stage, "nmos_width"):
                changes["nmos_width"] = nmos
            if hasattr(stage, "pmos_width"):
                changes["pmos_width"] = pmos
            stages.append(replace(stage, **changes))
        return replace(self, stages=tuple(stages))


def _resolve(kind, net, drivers):
    on = np.stack([enabled for enabled, _ in drivers])
    value = np.stack([value for _, value in drivers])
    if not np.all(on.any(axis=0)):
        raise ValueError(f"cell {kind}: net {net!r} floats for some input patterns")
    high = (on & value).any(axis=0)
    low = (on & ~value).any(axis=0)
    if np.any(high & low):
        raise ValueError(f"cell {kind}: net {net!r} is driven both ways for some patterns")
    return high


# --- Liberty function strings ---------------------------------------------------------------

_OPERATORS = frozenset("()!'&*|+^")
_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_\[\]]*)|([()!'&*|+^01]))")


def liberty_function(text, values):
    """Evaluate a Liberty ``function`` string on NumPy bool arrays.

    Liberty's operators: ``!`` and postfix ``'`` (not), ``^`` (xor), ``&``, ``*`` or a space
    (and), ``|`` and ``+`` (or), parentheses and the constants ``0``, ``1``. The Liberty
    reference's precedence: inversion first, then XOR, then AND, then OR, each left to right
    (so ``A & B ^ C`` is ``A & (B ^ C)``). A few dozen lines of parser rather than sympy,
    which dcim does not otherwise need.

    Parameters
    ----------
    text : str
    values : dict of str to numpy.ndarray

    Raises
    ------
    ValueError
        If the string does not parse or names a pin missing from ``values``.
    """
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"function {text!r}: cannot read {text[position:]!r}")
        tokens.append(match.group(1) or match.group(2))
        position = match.end()
    shape = np.shape(next(iter(values.values()))) if values else ()
    cursor = [0]

    def peek():
        return tokens[cursor[0]] if cursor[0] < len(tokens) else None

    def take():
        cursor[0] += 1
        return tokens[cursor[0] - 1]

    def primary():
        token = take() if peek() is not None else None
        if token == "!":
            result = ~primary()
        elif token == "(":
            result = either()
            if peek() != ")":
                raise ValueError(f"function {text!r}: unbalanced parentheses")
            take()
        elif token in ("0", "1"):
            result = np.full(shape, token == "1")
        elif token is not None and token not in _OPERATORS:
            if token not in values:
                raise ValueError(f"function {text!r} names {token!r}, not one of "
                                 f"{sorted(values)}")
            result = np.asarray(values[token], dtype=bool)
        else:
            raise ValueError(f"function {text!r}: unexpected {token!r}")
        while peek() == "'":
            take()
            result = ~result
        return result

    def exclusive():
        result = primary()
        while peek() == "^":
            take()
            result = result ^ primary()
        return result

    def conjunction():
        result = exclusive()
        while peek() is not None and peek() not in {")", "|", "+", "'"}:
            if peek() in ("&", "*"):
                take()
            result = result & exclusive()
        return result

    def either():
        result = conjunction()
        while peek() in ("|", "+"):
            take()
            result = result | conjunction()
        return result

    result = either()
    if peek() is not None:
        raise ValueError(f"function {text!r}: unexpected {peek()!r}")
    return result


# --- the standard-cell set ------------------------------------------------------------------

def _single_stage(kind, inputs, output, function, pull_down, nmos_width, pmos_width,
                  description):
    return Cell(kind, inputs, ((output, function),),
                (StaticStage("g", output, pull_down, nmos_width, pmos_width),),
                description=description)


def inverter(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """INV: ``ZN = !A``."""
    return _single_stage("INV", ("A",), "ZN", "!A", "A", nmos_width, pmos_width,
                         "static CMOS inverter")


def nand2(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """NAND2: ``ZN = !(A1 & A2)``; the NMOS stack is not widened, as in Nangate45."""
    return _single_stage("NAND2", ("A1", "A2"), "ZN", "!(A1 & A2)", series("A1", "A2"),
                         nmos_width, pmos_width, "static CMOS NAND")


def nor2(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """NOR2: ``ZN = !(A1 | A2)``."""
    return _single_stage("NOR2", ("A1", "A2"), "ZN", "!(A1 | A2)", parallel("A1", "A2"),
                         nmos_width, pmos_width, "static CMOS NOR")


def aoi21(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """AOI21: ``ZN = !(A | (B1 & B2))``, Nangate45's pin names."""
    return _single_stage("AOI21", ("A", "B1", "B2"), "ZN", "!(A | (B1 & B2))",
                         parallel("A", series("B1", "B2")), nmos_width, pmos_width,
                         "static CMOS complex gate")


def oai21(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """OAI21: ``ZN = !(A & (B1 | B2))``."""
    return _single_stage("OAI21", ("A", "B1", "B2"), "ZN", "!(A & (B1 | B2))",
                         series("A", parallel("B1", "B2")), nmos_width, pmos_width,
                         "static CMOS complex gate")


def xor2(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """XOR2: ``Z = A ^ B`` as ``AOI21(A & B, NOR2(A, B))`` (10 transistors, both stages
    static, so the output is driven and the inputs see only gates; a transmission-gate XOR
    would pass its inputs' drivers through to the output)."""
    return Cell("XOR2", ("A", "B"), (("Z", "(A ^ B)"),), (
        StaticStage("nor", "nab", parallel("A", "B"), _INNER_NMOS, _INNER_PMOS),
        StaticStage("aoi", "Z", parallel(series("A", "B"), "nab"), nmos_width, pmos_width),
    ), description="NOR2 into AOI21 (static, 10 transistors)")


def xnor2(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """XNOR2: ``ZN = !(A ^ B)`` as ``OAI21(A | B, NAND2(A, B))`` (10 transistors)."""
    return Cell("XNOR2", ("A", "B"), (("ZN", "!(A ^ B)"),), (
        StaticStage("nand", "nab", series("A", "B"), _INNER_NMOS, _INNER_PMOS),
        StaticStage("oai", "ZN", series(parallel("A", "B"), "nab"), nmos_width, pmos_width),
    ), description="NAND2 into OAI21 (static, 10 transistors)")


def mux2(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """MUX2: ``Z = S ? B : A``: inverted inputs through two transmission gates into an
    output inverter (12 transistors; the inputs see only gates and the output is driven)."""
    inner = (_INNER_NMOS, _INNER_PMOS)
    return Cell("MUX2", ("A", "B", "S"), (("Z", "((S & B) | (A & !S))"),), (
        StaticStage("invs", "sn", "S", *inner),
        StaticStage("inva", "an", "A", *inner),
        StaticStage("invb", "bn", "B", *inner),
        TransmissionGate("tga", "an", "x", "sn", "S", *inner),
        TransmissionGate("tgb", "bn", "x", "S", "sn", *inner),
        StaticStage("out", "Z", "x", nmos_width, pmos_width),
    ), description="transmission-gate multiplexer of inverted inputs, output inverter")


def full_adder(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """FA: the 28-transistor mirror adder. ``con = !maj(A, B, CI)``, then
    ``sn = !(A B CI | con (A | B | CI))`` with mirror pull-ups (both functions are
    self-dual), and output inverters ``S = !sn``, ``CO = !con``."""
    inner = (_INNER_NMOS, _INNER_PMOS)
    carry = parallel(series("A", "B"), series("CI", parallel("A", "B")))
    total = parallel(series("A", "B", "CI"), series("con", parallel("A", "B", "CI")))
    return Cell("FA", ("A", "B", "CI"), (
        ("CO", "((A & B) | (CI & (A | B)))"), ("S", "(A ^ B ^ CI)")), (
        StaticStage("carry", "con", carry, *inner, pull_up="mirror"),
        StaticStage("sum", "sn", total, *inner, pull_up="mirror"),
        StaticStage("invc", "CO", "con", nmos_width, pmos_width),
        StaticStage("invs", "S", "sn", nmos_width, pmos_width),
    ), description="mirror adder (28 transistors)")


def half_adder(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """HA: ``S = A ^ B`` as ``AOI21(A & B, NOR2(A, B))`` and ``CO = A & B`` as
    ``INV(NAND2(A, B))`` (16 transistors)."""
    inner = (_INNER_NMOS, _INNER_PMOS)
    return Cell("HA", ("A", "B"), (("CO", "(A & B)"), ("S", "(A ^ B)")), (
        StaticStage("nor", "nab", parallel("A", "B"), *inner),
        StaticStage("aoi", "S", parallel(series("A", "B"), "nab"), nmos_width, pmos_width),
        StaticStage("nand", "cn", series("A", "B"), *inner),
        StaticStage("inv", "CO", "cn", nmos_width, pmos_width),
    ), description="gate composition: NOR2 + AOI21 sum, NAND2 + INV carry")


def dff(nmos_width=_X1_NMOS, pmos_width=_X1_PMOS):
    """DFF: positive-edge master-slave flip-flop of transmission gates, with clocked-inverter
    feedback (26 transistors). ``D`` is buffered by an inverter, as in Nangate45's DFF_X1,
    so that its pin is one small gate and not the master's node (which the transmission gate
    would otherwise load it with while the clock is low). The master follows ``D`` while
    ``CK`` is low, the slave while it is high; ``Q`` and ``QN`` are buffered off the slave's
    loop."""
    inner = (_INNER_NMOS, _INNER_PMOS)
    return Cell("DFF", ("D", "CK"), (("Q", "IQ"), ("QN", "IQN")), (
        StaticStage("ckn", "cn", "CK", *inner),
        StaticStage("ckp", "cp", "cn", *inner),
        StaticStage("ind", "db", "D", *inner),
        TransmissionGate("tgm", "db", "m", "cn", "cp", *inner),
        StaticStage("invm", "mb", "m", *inner),
        ClockedInverter("fbm", "mb", "m", "cp", "cn", *inner),
        TransmissionGate("tgs", "mb", "s", "cp", "cn", *inner),
        StaticStage("invs", "sb", "s", *inner),
        ClockedInverter("fbs", "sb", "s", "cn", "cp", *inner),
        # The input inverter leaves the slave holding D at s: Q is taken off its other node.
        StaticStage("outq", "Q", "sb", nmos_width, pmos_width),
        StaticStage("outqn", "QN", "s", nmos_width, pmos_width),
    ), flip_flop=FlipFlop("CK", "D"), clock="CK",
        description="transmission-gate master-slave, clocked-inverter feedback")


STANDARD_CELLS = {cell.kind: cell for cell in (
    inverter(), nand2(), nor2(), aoi21(), oai21(), xor2(), xnor2(), mux2(), full_adder(),
    half_adder(), dff())}
"""The standard-cell set at X1 sizes, by kind: INV, NAND2, NOR2, AOI21, OAI21, XOR2, XNOR2,
MUX2, FA, HA, DFF."""

CELL_GENERATORS = {"INV": inverter, "NAND2": nand2, "NOR2": nor2, "AOI21": aoi21,
                   "OAI21": oai21, "XOR2": xor2, "XNOR2": xnor2, "MUX2": mux2,
                   "FA": full_adder, "HA": half_adder, "DFF": dff}
"""Each standard cell's generator, ``generator(nmos_width=, pmos_width=)`` sizing its output
stage (X4 = four times the X1 widths, folded into fingers by the area model)."""


def area_model_fit():
    """Compare the area model with Nangate45's X1 areas.

    Returns
    -------
    dict of str to (float, float)
        ``{kind: (model area, Nangate45 area)}`` in square metres, for every standard cell.
    """
    return {kind: (cell.area, NANGATE45_X1_AREAS[kind]) for kind, cell in STANDARD_CELLS.items()}
