"""Transistor-level compressor cells derived from each compressor's own definition.

:func:`compressor_cell` runs a :class:`dcim.arith.Compressor`'s function on symbolic bits (the
function is written with ``& | ^ ~`` only, so the operators build an expression graph just as
they build Amaranth values or NumPy arrays) and maps that graph onto static CMOS stages of
:mod:`dcim.spice.cells`:

- a fan-out-free tree of ANDs and ORs becomes one complex gate (AOI/OAI style) whose stacks are
  at most :data:`MAX_STACK` transistors deep, computing the complement; an inverter follows
  where the true value is needed, unless De Morgan's form over already-available complements
  gives it directly;
- an XOR of two nets is the XOR2 cell's composition (NOR2 into AOI21), an XNOR the XNOR2's
  (NAND2 into OAI21), and a complement that is already built costs an inverter;
- a constant output is a tie cell, an output that is an input wire gets a two-inverter buffer.

Nothing is written by hand per compressor, so a compressor registered by a user gets its cell
the same way. :func:`characterize_compressor` then checks the cell against the compressor's
truth table over every input pattern by simulation (:func:`dcim.spice.cell_check.check_function`)
and measures its area (the layout model of :mod:`dcim.spice.cells`), worst delay and energy
per operation (:func:`dcim.spice.cell_measure.measure_cell`).
"""

from dataclasses import dataclass, replace

import numpy as np

from ..arith.compressor import Compressor
from .cell_check import FunctionCheck, check_function
from .cell_measure import DEFAULT_LOAD, DEFAULT_SLEW, CellMeasurement, measure_cell
from .cells import (
    Cell,
    Parallel,
    Series,
    StaticStage,
    TieHigh,
    TieLow,
    stack_height,
)
from .corners import Corner

__all__ = ["MAX_STACK", "CompressorCellReport", "characterize_compressor", "compressor_cell",
           "stack_heights"]

MAX_STACK = 3
"""The deepest series stack a mapped complex gate may have, NMOS or PMOS (Nangate45's deepest
X1 complex gates, AOI222 and OAI33, have three)."""

_DRIVER_WIDTHS = (415e-9, 630e-9)
_INNER_WIDTHS = (210e-9, 315e-9)


# --- symbolic bits --------------------------------------------------------------------------

class _Node:
    """A node of a hash-consed expression graph: equal subexpressions are the same object,
    so a shared ``a ^ b`` is seen as one net with two readers."""

    __slots__ = ("graph", "operands", "operator", "__weakref__")

    def __init__(self, graph, operator, operands):
        self.graph, self.operator, self.operands = graph, operator, operands

    def _coerce(self, other):
        if isinstance(other, _Node):
            return other
        if isinstance(other, bool | int | np.integer) and int(other) in (0, 1):
            return self.graph.constant(int(other))
        return NotImplemented

    def __and__(self, other):
        other = self._coerce(other)
        return other if other is NotImplemented else self.graph.make("and", (self, other))

    def __or__(self, other):
        other = self._coerce(other)
        return other if other is NotImplemented else self.graph.make("or", (self, other))

    def __xor__(self, other):
        other = self._coerce(other)
        return other if other is NotImplemented else self.graph.make("xor", (self, other))

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self):
        return self.graph.make("not", (self,))


class _Graph:
    def __init__(self):
        self.nodes = {}

    def make(self, operator, operands):
        # Constant folding and double negation, so that a tie or an inverter pair is never
        # built for something the logic removes.
        constants = [o.operands[0] for o in operands if o.operator == "const"]
        if operator == "not":
            (operand,) = operands
            if operand.operator == "not":
                return operand.operands[0]
            if constants:
                return self.constant(1 - constants[0])
        elif constants:
            value = constants[0]
            other = next((o for o in operands if o.operator != "const"), None)
            if other is None:
                left, right = (o.operands[0] for o in operands)
                return self.constant({"and": left & right, "or": left | right,
                                      "xor": left ^ right}[operator])
            if operator == "and":
                return other if value else self.constant(0)
            if operator == "or":
                return self.constant(1) if value else other
            return ~other if value else other
        elif operands[0] is operands[-1] and len(operands) == 2:
            return operands[0] if operator != "xor" else self.constant(0)
        key = (operator, tuple(id(o) for o in operands))
        if key not in self.nodes:
            self.nodes[key] = _Node(self, operator, tuple(operands))
        return self.nodes[key]

    def make_nary(self, operator, operands):
        key = (operator, tuple(id(o) for o in operands))
        if key not in self.nodes:
            self.nodes[key] = _Node(self, operator, tuple(operands))
        return self.nodes[key]

    def constant(self, value):
        key = ("const", value)
        if key not in self.nodes:
            self.nodes[key] = _Node(self, "const", (value,))
        return self.nodes[key]

    def pin(self, name):
        key = ("pin", name)
        if key not in self.nodes:
            self.nodes[key] = _Node(self, "pin", (name,))
        return self.nodes[key]


def _liberty(node):
    """The node's function as a Liberty string over the input pins."""
    if node.operator == "pin":
        return node.operands[0]
    if node.operator == "const":
        return str(node.operands[0])
    if node.operator == "not":
        return f"!{_liberty(node.operands[0])}"
    symbol = {"and": "&", "or": "|", "xor": "^"}[node.operator]
    return "(" + f" {symbol} ".join(_liberty(o) for o in node.operands) + ")"


# --- mapping onto stages --------------------------------------------------------------------

def _fanouts(roots):
    counts = {}

    def visit(node):
        counts[id(node)] = counts.get(id(node), 0) + 1
        if counts[id(node)] == 1:
            for operand in node.operands if isinstance(node.operands[0], _Node) else ():
                visit(operand)

    for root in roots:
        visit(root)
    return counts


def _heights(tree):
    """NMOS and PMOS stack heights of a pull-down network given as nested ('and'|'or', parts)."""
    if not isinstance(tree, tuple):
        return 1, 1
    operator, parts = tree
    heights = [_heights(part) for part in parts]
    n = [h[0] for h in heights]
    p = [h[1] for h in heights]
    return (sum(n), max(p)) if operator == "and" else (max(n), sum(p))


class _Mapper:
    def __init__(self, graph, roots):
        self.graph = graph
        self.fanout = _fanouts(roots)
        self.stages = []
        self.nets = {}
        self.counter = 0

    def _name(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def _stage(self, prefix, pull_down):
        output = self._name("n")
        self.stages.append(StaticStage(self._name(prefix), output, pull_down, *_INNER_WIDTHS))
        return output

    def _invert(self, net):
        return self._stage("inv", net)

    def net(self, node, positive=True):
        """Return a net carrying ``node`` (or its complement), building stages as needed."""
        key = (id(node), positive)
        if key in self.nets:
            return self.nets[key]
        if node.operator == "not":
            net = self.net(node.operands[0], not positive)
        elif (id(node), not positive) in self.nets:
            net = self._invert(self.nets[(id(node), not positive)])
        elif node.operator == "pin":
            net = node.operands[0] if positive else self._invert(node.operands[0])
        elif node.operator == "const":
            value = node.operands[0] if positive else 1 - node.operands[0]
            net = self._name("tie")
            self.stages.append((TieHigh if value else TieLow)(self._name("tie"), net))
        elif node.operator == "xor":
            net = self._xor(node, positive)
        else:
            net = self._complex(node, positive)
        self.nets[key] = net
        return net

    def _xor(self, node, positive):
        left, right = node.operands
        # ~x ^ y = ~(x ^ y): strip complements from the operands into the polarity.
        for operand in (left, right):
            if operand.operator == "not":
                positive = not positive
        left, right = (o.operands[0] if o.operator == "not" else o for o in (left, right))
        a, b = self.net(left), self.net(right)
        if positive:  # XOR2's composition: AOI21(a & b, NOR2(a, b))
            nor = self._stage("nor", Parallel((a, b)))
            return self._stage("aoi", Parallel((Series((a, b)), nor)))
        nand = self._stage("nand", Series((a, b)))  # XNOR2's: OAI21(a | b, NAND2(a, b))
        return self._stage("oai", Series((Parallel((a, b)), nand)))

    def _flatten(self, node):
        # The fan-out-free AND/OR tree below ``node``, chains of one operator made n-ary.
        if node.operator not in ("and", "or"):
            return node
        parts = []
        for operand in node.operands:
            if operand.operator in ("and", "or") and self.fanout.get(id(operand), 1) == 1:
                sub = self._flatten(operand)
                parts.extend(sub[1] if sub[0] == node.operator else [sub])
            else:
                parts.append(operand)
        return node.operator, tuple(parts)

    def _fit(self, tree):
        # Cut the tree so that both stacks stay within MAX_STACK: the tallest sub-tree along
        # the series direction becomes a gate of its own, and too many single leaves are
        # grouped MAX_STACK at a time.
        if not isinstance(tree, tuple):
            return tree
        operator, parts = tree
        parts = [self._fit(part) for part in parts]
        along = 0 if operator == "and" else 1
        while sum(_heights(part)[along] for part in parts) > MAX_STACK:
            composite = [i for i, part in enumerate(parts) if isinstance(part, tuple)]
            if composite:
                tallest = max(composite, key=lambda i: _heights(parts[i])[along])
                parts[tallest] = self._gate_node(parts[tallest])
            else:
                parts = [self._gate_node((operator, tuple(group))) if len(group) > 1
                         else group[0] for group in (parts[i:i + MAX_STACK]
                                                     for i in range(0, len(parts), MAX_STACK))]
        return operator, tuple(parts)

    def _gate_node(self, tree):
        # A node standing for a cut-off sub-tree: mapped as a gate of its own, its inner
        # nodes fan out once so that the gate absorbs them again.
        if not isinstance(tree, tuple):
            return tree
        operator, parts = tree
        node = self.graph.make_nary(operator, tuple(self._gate_node(part) for part in parts))
        for part in node.operands:
            if part.operator in ("and", "or") and id(part) not in self.fanout:
                self.fanout[id(part)] = 1
        self.fanout.setdefault(id(node), 2)
        return node

    def _cost(self, node, positive):
        # Transistors a net of this polarity still costs, as far as the choice between the
        # two forms of a gate can tell: an inverter is 2, an XOR or XNOR 10.
        if (id(node), positive) in self.nets:
            return 0
        if node.operator == "not":
            return self._cost(node.operands[0], not positive)
        if (id(node), not positive) in self.nets:
            return 2
        if node.operator in ("pin", "const"):
            return 0 if positive or node.operator == "const" else 2
        if node.operator == "xor":
            return 10
        return 2 if positive else 0

    def _complex(self, node, positive):
        tree = self._fit(self._flatten(node))
        leaves = _tree_leaves(tree)
        # The gate computes !f over the leaves as they are, or (De Morgan) f over their
        # complements; an inverter makes the other polarity. Take the cheaper.
        natural = sum(self._cost(leaf, True) for leaf in leaves) + (2 if positive else 0)
        de_morgan = sum(self._cost(leaf, False) for leaf in leaves) + (0 if positive else 2)
        if de_morgan < natural:
            true = self._stage("g", _network(_dual_tree(tree), self, positive=False))
            self.nets[(id(node), True)] = true
            return true if positive else self._invert(true)
        complement = self._stage("g", _network(tree, self, positive=True))
        self.nets[(id(node), False)] = complement
        return complement if not positive else self._invert(complement)


def _frozen(tree):
    if not isinstance(tree, tuple):
        return tree
    operator, parts = tree
    return operator, tuple(_frozen(part) for part in parts)


def _tree_leaves(tree):
    if not isinstance(tree, tuple):
        return [tree]
    return [leaf for part in tree[1] for leaf in _tree_leaves(part)]


def _dual_tree(tree):
    if not isinstance(tree, tuple):
        return tree
    operator, parts = tree
    return ("or" if operator == "and" else "and"), tuple(_dual_tree(part) for part in parts)


def _network(tree, mapper, positive):
    if not isinstance(tree, tuple):
        return mapper.net(tree, positive)
    operator, parts = tree
    return (Series if operator == "and" else Parallel)(
        tuple(_network(part, mapper, positive) for part in parts))


def _renamed_network(network, old, new):
    if isinstance(network, str):
        return new if network == old else network
    return type(network)(tuple(_renamed_network(part, old, new) for part in network.parts))


def _rename(stage, old, new):
    changes = {}
    for field_name in ("output", "source", "nmos_gate", "pmos_gate", "nmos_enable",
                       "pmos_enable"):
        if getattr(stage, field_name, None) == old:
            changes[field_name] = new
    if isinstance(stage, StaticStage):
        changes["pull_down"] = _renamed_network(stage.pull_down, old, new)
    return replace(stage, **changes)


def compressor_cell(compressor, *, widths=None):
    """Return the static CMOS cell of a compressor, mapped from its own function.

    Parameters
    ----------
    compressor : Compressor or str
        A compressor or the name of a registered one (``"acci1"``).
    widths : dict of str to (float, float) or None
        Stage widths by stage name (see :meth:`Cell.resized`); default: stages that drive an
        output pin at Nangate45's X1 widths (415 / 630 nm), inner stages at 210 / 315 nm.

    Returns
    -------
    Cell
        Kind ``"CMP_<name>"``, pins the compressor's inputs and outputs, each output with its
        Liberty function.

    Raises
    ------
    ValueError
        If ``compressor`` is not a compressor or a registered name.
    """
    from ..arith.compressor import COMPRESSORS

    if isinstance(compressor, str):
        if compressor not in COMPRESSORS:
            raise ValueError(f"compressor must be a Compressor or one of "
                             f"{', '.join(COMPRESSORS)}, not {compressor!r}")
        compressor = COMPRESSORS[compressor]
    if not isinstance(compressor, Compressor):
        raise ValueError(f"compressor must be a Compressor or a registered name, "
                         f"not {compressor!r}")
    graph = _Graph()
    results = compressor.function(*(graph.pin(name) for name in compressor.inputs))
    roots = [result if isinstance(result, _Node) else graph.constant(int(result))
             for result in results]
    mapper = _Mapper(graph, roots)
    stages = mapper.stages
    outputs = [name for name, _ in compressor.outputs]
    for pin, root in zip(outputs, roots, strict=True):
        net = mapper.net(root)
        driven_here = any(stage.output == net for stage in stages)
        if net in compressor.inputs or net in outputs or not driven_here:
            # An output that is an input wire or another output gets its own buffer.
            middle = mapper._invert(net)
            stages.append(StaticStage(mapper._name("buf"), pin, middle, *_DRIVER_WIDTHS))
            continue
        stages[:] = [_rename(stage, net, pin) for stage in stages]
        for key, value in list(mapper.nets.items()):
            if value == net:
                mapper.nets[key] = pin
    stages = [_sized_driver(stage, outputs) for stage in stages]
    cell = Cell(f"CMP_{compressor.name}", compressor.inputs,
                tuple((pin, _liberty(root)) for pin, root in zip(outputs, roots, strict=True)),
                tuple(stages), description=f"mapped from {compressor.name}'s function: "
                                           f"{compressor.description}")
    return cell.resized(widths) if widths else cell


def _sized_driver(stage, outputs):
    if stage.output not in outputs or isinstance(stage, TieHigh | TieLow):
        return stage
    return replace(stage, nmos_width=_DRIVER_WIDTHS[0], pmos_width=_DRIVER_WIDTHS[1])


# --- characterization -----------------------------------------------------------------------

@dataclass(frozen=True)
class CompressorCellReport:
    """What :func:`characterize_compressor` found; SI units.

    Members
    -------
    compressor : str
    cell : str
        The cell's name (kind and widths).
    transistors : int
    area : float
        Square metres, from the layout model of :mod:`dcim.spice.cells`.
    table : tuple of int
        The simulated value ``sum(out_k << weight_k)`` of each input pattern.
    function : FunctionCheck
        The check of every output of every pattern against the compressor's function.
    timing : CellMeasurement
        Worst delay, energy per operation and leakage at the given load and input slew.
    """

    compressor: str
    cell: str
    transistors: int
    area: float
    table: tuple
    function: FunctionCheck
    timing: CellMeasurement

    @property
    def worst_delay(self):
        return self.timing.worst_delay

    @property
    def energy(self):
        return self.timing.mean_energy

    @property
    def matches_truth_table(self):
        return self.function.passed


def characterize_compressor(compressor, corner=None, *, widths=None, cell=None,
                            load=DEFAULT_LOAD, slew=DEFAULT_SLEW):
    """Build a compressor's cell, check it over every input pattern and measure it.

    Parameters
    ----------
    compressor : Compressor or str
    corner : Corner or None
        Default TT, 1.0 V, 25 C.
    widths : dict or None
        Stage widths, as :func:`compressor_cell`.
    cell : Cell or None
        An already built (e.g. sized) cell of this compressor, instead of ``widths``.
    load, slew : float
        Output load capacitance (farads) and input transition time (seconds, 0-100 %).

    Returns
    -------
    CompressorCellReport

    Raises
    ------
    ValueError
        As :func:`compressor_cell` and :func:`dcim.spice.cell_measure.measure_cell`.
    SimulationError
        If ngspice fails.
    """
    from ..arith.compressor import COMPRESSORS

    spec = COMPRESSORS.get(compressor) if isinstance(compressor, str) else compressor
    cell = compressor_cell(compressor, widths=widths) if cell is None else cell
    corner = Corner() if corner is None else corner
    function = check_function(cell, corner, reference=spec.evaluate)
    timing = measure_cell(cell, corner, load=load, slew=slew)
    weights = np.array([1 << weight for _, weight in spec.outputs])
    expected = spec.evaluate(_patterns(spec.n_inputs))
    # The simulated table: the expected value where every output matched, else the value the
    # failing outputs' voltages read as (above or below half the supply).
    read = expected.copy()
    for pattern, pin, _, voltage in function.mismatches:
        read[cell.outputs.index(pin), pattern] = voltage > corner.vdd / 2
    table = tuple(int(v) for v in (read.astype(int) * weights[:, None]).sum(axis=0))
    return CompressorCellReport(spec.name, cell.name, cell.transistor_count, cell.area, table,
                                function, timing)


def _patterns(count):
    from .cell_check import input_patterns

    return input_patterns(count)


def stack_heights(cell):
    """Return the deepest NMOS and PMOS stacks of a cell's static stages."""
    heights = [(stack_height(stage.pull_down), stack_height(stage.pull_up_network))
               for stage in cell.stages if isinstance(stage, StaticStage)]
    return max(h[0] for h in heights), max(h[1] for h in heights)
