"""Characterizing a cell into non-linear delay model (NLDM) tables for a Liberty library.

:func:`characterize_cell` turns one :class:`~dcim.spice.cells.Cell` into a
:class:`CharacterizedCell`: for every timing arc (each input pin to each output it can change)
the delay and output transition tables, rising and falling, over a :class:`TableGrid` of input
slews and output loads, the internal energy tables of the same arcs, the input pin
capacitances, and the leakage power of every input state. A flip-flop gets its clock-to-output
arcs and the setup and hold constraints of its data pin instead.

The recipe, in public steps: :func:`timing_deck` builds one transient deck in which every copy
of the cell is one (arc, slew, load) point, each copy with its own input and supply sources,
so that one ngspice run measures many table entries (long decks are split into chunks of
:data:`MAX_COPIES_PER_DECK` copies); :func:`~dcim.spice.simulator.run_deck` runs it, and the
measurements are read from each copy's waveforms. Results are cached by content (kind
``"cell-char"`` of :mod:`dcim.eda.cache`): the key holds the whole netlist the simulator sees
(parasitics included), the corner, the model cards' text, the grid, the simulator's
options and step limit, and :data:`CHARACTERIZATION_VERSION`.

Conventions (those of Nangate45, so the two libraries compare directly)
---------------------------------------------------------------------
- Delays from the input's 50 % point to the output's 50 % point.
- Slews (table index and output transition) are 30 % to 70 % times, ``slew_derate`` 1: an
  input ramp of slew ``s`` runs 0 to 100 % in ``s / 0.4``.
- The delay and transition tables of an arc hold the worst (largest) value over every pattern
  of the other inputs that lets the arc's input change the output under the arc's ``when``.
  An input that moves an output one way under some patterns and the other way under the
  rest has two arcs, positive- and negative-unate, each conditioned on its patterns (see
  :class:`TimingArc`). A cell with more than :data:`SCREEN_ABOVE` such transitions (a 4:2
  compressor has 80) is screened first: one run at the grid's middle slew and load finds, per
  input, output, sense and output edge, the slowest pattern, and only those patterns get
  whole tables (the worst pattern at the middle of the grid is taken to be the worst
  everywhere).
- Internal energy of an output transition: the supply energy drawn in its window, less the
  static power over the window, less ``C_load * VDD**2`` for a rising output (the energy that
  charges the load, which a timing tool books as switching power: half of it stored, half
  dissipated in the pull-up). Energy drawn by input transitions that change no output is not
  tabulated (Liberty would put it on the input pin; a mapped netlist's power is dominated by
  the output transitions).
- Input capacitance: the charge an input's source delivers while it rises, over ``VDD``,
  averaged over the arcs of that pin at the grid's smallest load. A flip-flop's data pin is
  its input inverter's gate.
- A flip-flop's clock-to-output energy (the supply energy of a clock edge that changes the
  state, split evenly between Q and QN) includes its clock buffers at that edge; clock edges
  that change nothing are not tabulated, so an idle flip-flop's clock power is missing.

Parasitics
----------
The transistor netlists of :mod:`dcim.spice.cells` have junction capacitances (their
diffusion areas) but no wires. Every net of a cell other than the rails therefore gets a
capacitance to ground of :data:`NET_WIRE_CAPACITANCE` plus :data:`TERMINAL_CAPACITANCE` per
transistor terminal on it (gate, drain or source). Where the figures come from: metal 1 in
Nangate45's technology LEF (``NangateOpenCellLibrary.tech.lef``: 7.7e-5 pF/um^2 area and
2.7e-5 pF/um edge capacitance) is about 0.06 fF per micron of a 70 nm wire, so 0.1 fF is a
net of about 1.7 um, the span of a cell's internal net; 0.05 fF per terminal stands for its
contact and the contact-to-gate fringe. They were checked against Nangate45's INV_X1 at 1.1 V,
on the falling (NMOS) side, where the two model sets agree: our falling delays match
Nangate45's at fast inputs and at real loads (4.1 against 3.4 ps at 1.2 ps and 0.37 fF, 13.9
against 13.4 ps at 17 ps and 3.8 fF, 28.6 against 28.5 ps at 17 ps and 15 fF, 152 against
153 ps at 198 ps and 61 fF), while with slow inputs into small loads Nangate45's fall to a
few picoseconds or below zero and ours do not; without the parasitics an earlier version
came out about 30 % fast. Our rising delays stay about 40 % below
Nangate45's: OpenRAM's PTM-based PMOS card drives about twice the current Nangate45's
characterization saw at the same 630 nm width (its rising output transitions are twice ours
at large loads), which no wire capacitance can fix.

Flip-flop constraints
---------------------
Setup and hold are found by bisection in parallel rounds: each round is one deck with one
copy per candidate offset of the data edge from the clock edge (both at 50 %), for the setup
and hold of a rising and of a falling data edge at once. The first round spreads six offsets
over :data:`CONSTRAINT_OFFSETS` (-100 ps to 300 ps); each of the two later rounds puts six
offsets inside the bracket between the last failing and the first passing offset, so the
result is within 400 ps / 5 / 49, about 1.6 ps, of the boundary. A setup offset passes when
the new data is captured with a clock-to-output delay within 10 % of the delay at the
widest offset; a hold offset (a data change *after* the edge) passes when the captured value
is kept without a glitch past half the supply. The constraint is the smallest offset from
which on every larger one passes (on each round's points). Both are tables over the clock's
and the data's slews (:func:`constraint_slews`: the grid's smallest, middle and largest), at
the grid's second load; each point (nine, on a grid of three slews or more) is its own three
rounds.
"""

import hashlib
import itertools
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..eda import cache
from .cell_measure import crossing_time
from .cells import Cell
from .corners import Corner
from .simulator import run_deck, simulator_identity

__all__ = ["CHARACTERIZATION_VERSION", "CONSTRAINT_OFFSETS", "MAX_COPIES_PER_DECK",
           "NET_WIRE_CAPACITANCE", "SCREEN_ABOVE", "SLEW_FRACTION", "TERMINAL_CAPACITANCE",
           "CharacterizedCell", "Constraint", "TableGrid", "TimingArc", "arc_patterns",
           "characterize_cell", "constraint_slews", "parasitic_subcircuit", "timing_deck"]

CHARACTERIZATION_VERSION = "5"
"""Changes whenever the decks or the measurements change, so old cache entries are ignored."""

SLEW_FRACTION = 0.4
"""A Liberty slew (30 % to 70 %) over the 0-to-100 % time of the linear ramp it stands for."""
NET_WIRE_CAPACITANCE = 0.1e-15
"""Farads of local wire on every internal and pin net of a cell (see the module's text)."""
TERMINAL_CAPACITANCE = 0.05e-15
"""Farads per transistor terminal (gate, drain, source) on a net: contact and fringe."""
MAX_COPIES_PER_DECK = 160
"""Cell copies per ngspice run; a longer characterization is split into several runs."""
SCREEN_ABOVE = 12
"""A cell with more single-input transitions than this is screened first (see the module's
text): only the slowest pattern of each input, output, sense and output edge gets whole
tables."""
CONSTRAINT_OFFSETS = (-100e-12, 300e-12)
"""The range (seconds) of data-to-clock offsets searched for a flip-flop's setup and hold."""
_FIRST_ROUND = 6              # offsets of the first round, across the whole range
_LATER_ROUNDS = 6             # offsets inside the bracket of each later round
_ROUNDS = 3

_SUPPLY_RAMP = 20e-12
_SETTLE = 200e-12             # before the first input edge: the nodes start at 0 V (uic)
_MAX_STEP = 10e-12
_DRIVE_RESISTANCE = 40e3      # generous output resistance (ohms) for the window length
# Gear integration: with the trapezoidal rule the supply currents of these decks ring (tens of
# microamperes either way around an idle flip-flop), which the energy integrals then read.
# Time steps: every copy of a deck shares them, and with ngspice's default truncation-error
# control (trtol 7) and the 10 ps step limit alone the fastest edges (a few picoseconds at
# the grid's small slews and loads) got too few points. Against a 0.25 ps step limit, INV_X1,
# NAND2_X1 and XOR2_X1 came out with delays up to 7.9 % fast and transitions up to 27 % off
# (each relative to the larger of the value and 10 ps).
# A tighter truncation-error control (trtol 0.2) and reltol 1e-4 put the steps where the
# waveforms move: delays within 0.6 %, transitions within 1.3 % of that reference, at about
# 1.3 to 1.8 times the simulation time; a 2 ps step limit instead was as accurate but 3 to 4
# times slower (measured 2026-12-03).
_OPTIONS = ".options method=gear trtol=0.2 reltol=1e-4"


def _check_values(name, values, low, high, unit):
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a sequence of numbers of {unit}, not {values!r}")
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must hold at least one value, not {values!r}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float | np.floating) \
                or not math.isfinite(value) or not low < value <= high:
            raise ValueError(f"{name} must hold {unit} in ({low:g}, {high:g}], "
                             f"not {value!r} (in {values!r})")
    values = tuple(float(value) for value in values)
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"{name} must be strictly increasing, not {values!r}")
    return values


@dataclass(frozen=True)
class TableGrid:
    """The input slews and output loads of a characterization's tables.

    Parameters
    ----------
    slews : tuple of float
        Input transition times, seconds (30 % to 70 %), strictly increasing, up to 1 ns.
    loads : tuple of float
        Output load capacitances, farads, strictly increasing, up to 1 pF.

    Raises
    ------
    ValueError
        If either is empty, not increasing, or holds a value out of range; the message
        names the parameter and the value.
    """

    slews: tuple = (5e-12, 20e-12, 80e-12, 200e-12)
    loads: tuple = (0.5e-15, 2e-15, 8e-15, 32e-15)

    def __post_init__(self):
        object.__setattr__(self, "slews", _check_values("slews", self.slews, 0, 1e-9,
                                                        "seconds"))
        object.__setattr__(self, "loads", _check_values("loads", self.loads, 0, 1e-12,
                                                        "farads"))

    @property
    def name(self):
        """A stable name: ``"4x4"``."""
        return f"{len(self.slews)}x{len(self.loads)}"

    @property
    def points(self):
        """Every ``(slew, load)`` pair, slews outer."""
        return tuple(itertools.product(self.slews, self.loads))


@dataclass(frozen=True)
class TimingArc:
    """One input-to-output arc: its sense and its tables over (slew, load).

    Members
    -------
    related_pin, pin : str
        Input and output pin.
    timing_sense : str
        ``"positive_unate"``, ``"negative_unate"`` or ``"non_unate"``.
    timing_type : str
        ``"combinational"`` or ``"rising_edge"`` (a flip-flop's clock to output).
    cell_rise, cell_fall, rise_transition, fall_transition : tuple of tuple of float
        Seconds, indexed ``[slew][load]`` like the grid.
    rise_energy, fall_energy : tuple of tuple of float
        Internal energy per output transition, joules (see the module's conventions).
    when : str
        A Liberty condition on the other inputs under which the arc applies (``"!B"``), or
        ``""`` for always. An input that moves its output one way under some states of the
        others and the other way under the rest (an XOR's) has two arcs, a positive- and a
        negative-unate one, each with its condition, as Nangate45 writes them: a single
        non-unate arc would time both output edges by the slower input edge's tables.
    """

    related_pin: str
    pin: str
    timing_sense: str
    timing_type: str
    cell_rise: tuple
    cell_fall: tuple
    rise_transition: tuple
    fall_transition: tuple
    rise_energy: tuple
    fall_energy: tuple
    when: str = ""


@dataclass(frozen=True)
class Constraint:
    """A flip-flop's setup or hold constraint tables of its data pin, seconds.

    Members
    -------
    related_pin, pin : str
        The clock and the data pin.
    timing_type : str
        ``"setup_rising"`` or ``"hold_rising"``.
    rise, fall : tuple of tuple of float
        For a rising and for a falling data transition: a row per slew of ``related_slews``
        (the clock's), a column per slew of ``constrained_slews`` (the data's).
    related_slews, constrained_slews : tuple of float
        The tables' indices, 30-70 % transition times.
    """

    related_pin: str
    pin: str
    timing_type: str
    rise: tuple
    fall: tuple
    related_slews: tuple
    constrained_slews: tuple

    def at(self, related_slew, constrained_slew, *, rising=True):
        """The constraint at table indices ``related_slew`` and ``constrained_slew``
        (``KeyError`` for a slew the table does not hold)."""
        for name, slews, slew in (("related_slew", self.related_slews, related_slew),
                                  ("constrained_slew", self.constrained_slews,
                                   constrained_slew)):
            if slew not in slews:
                raise KeyError(f"{name} {slew!r} is not an index of the {self.timing_type} "
                               f"table of {self.pin}: {slews}")
        table = self.rise if rising else self.fall
        return table[self.related_slews.index(related_slew)][
            self.constrained_slews.index(constrained_slew)]


@dataclass(frozen=True)
class CharacterizedCell:
    """Everything a Liberty cell group states about one cell; SI units.

    Members
    -------
    name : str
        The Liberty cell name (``"NAND2_X1"``).
    kind : str
    netlist : str
        The ``.subckt`` that was simulated, parasitics included.
    corner : Corner
    grid : TableGrid
    area : float
        Square metres (the layout model of :mod:`dcim.spice.cells`).
    inputs : tuple of str
    functions : tuple of (str, str)
        Output pins with their Liberty functions.
    flip_flop : tuple of (str, str) or None
        ``(clocked_on, next_state)`` of a flip-flop.
    clock : str or None
    pin_capacitance : dict of str to float
        Farads per input pin.
    arcs : tuple of TimingArc
    constraints : tuple of Constraint
    leakage : tuple of (str, float)
        Each input state as a Liberty ``when`` condition and its leakage power (watts); a
        flip-flop has one entry with an empty condition (the mean over its states).
    seconds : float
        Simulation time when computed (not when read from the cache).
    cached : bool
    """

    name: str
    kind: str
    netlist: str = field(repr=False)
    corner: Corner
    grid: TableGrid
    area: float
    inputs: tuple
    functions: tuple
    flip_flop: tuple | None
    clock: str | None
    pin_capacitance: dict
    arcs: tuple
    constraints: tuple
    leakage: tuple
    seconds: float = 0.0
    cached: bool = False

    @property
    def outputs(self):
        return tuple(pin for pin, _ in self.functions)

    @property
    def leakage_power(self):
        """Mean leakage over the input states, watts."""
        return float(np.mean([power for _, power in self.leakage]))

    def arc(self, related_pin, pin, when=None):
        """The arc from ``related_pin`` to ``pin``, under condition ``when`` where the pair
        has several (see :class:`TimingArc`); ``KeyError`` if there is no such arc."""
        found = [arc for arc in self.arcs if arc.related_pin == related_pin
                 and arc.pin == pin and (when is None or arc.when == when)]
        if len(found) == 1:
            return found[0]
        if not found:
            raise KeyError(f"cell {self.name} has no arc {related_pin} -> {pin}"
                           + ("" if when is None else f" when {when!r}"))
        raise KeyError(f"cell {self.name} has {len(found)} arcs {related_pin} -> {pin}: give "
                       f"when, one of {[arc.when for arc in found]}")

    def as_dict(self):
        data = asdict(self)
        data["corner"] = asdict(self.corner)
        data["grid"] = asdict(self.grid)
        return data

    @classmethod
    def from_dict(cls, data, **changes):
        data = dict(data, **changes)
        data["corner"] = Corner(**data["corner"])
        data["grid"] = TableGrid(**data["grid"])
        data["functions"] = tuple(tuple(pair) for pair in data["functions"])
        data["inputs"] = tuple(data["inputs"])
        data["flip_flop"] = tuple(data["flip_flop"]) if data["flip_flop"] else None
        data["leakage"] = tuple(tuple(pair) for pair in data["leakage"])
        data["arcs"] = tuple(TimingArc(**{key: _tupled(value) for key, value in arc.items()})
                             for arc in data["arcs"])
        data["constraints"] = tuple(Constraint(**{key: _tupled(value)
                                                    for key, value in item.items()})
                                    for item in data["constraints"])
        return cls(**data)


def _tupled(value):
    return tuple(_tupled(item) for item in value) if isinstance(value, list) else value


# --- the netlist ----------------------------------------------------------------------------

def parasitic_subcircuit(cell, name=None):
    """Return the cell's ``.subckt`` with a wire capacitance on every net but the rails.

    Parameters
    ----------
    cell : Cell
    name : str or None
        The subcircuit's name; default ``cell.name``.
    """
    name = cell.name if name is None else name
    terminals = {}
    for _, _, drain, gate, source, _ in cell.transistors():
        for net in (drain, gate, source):
            terminals[net] = terminals.get(net, 0) + 1
    nodes = {pin: pin for pin in cell.pins}
    capacitors = [f"cw_{net} {net} gnd {NET_WIRE_CAPACITANCE + TERMINAL_CAPACITANCE * count:.4g}"
                  for net, count in sorted(terminals.items()) if net not in ("vdd", "gnd")]
    return "\n".join([f".subckt {name} {' '.join(cell.pins)}", *cell.netlist("", nodes),
                      *capacitors, f".ends {name}"]) + "\n"


# --- arcs -----------------------------------------------------------------------------------

def _expected(cell, patterns):
    from .cells import liberty_function

    values = dict(zip(cell.inputs, patterns, strict=True))
    return np.stack([liberty_function(function, values) for _, function in cell.functions])


def arc_patterns(cell):
    """The single-input transitions of a combinational cell that change an output.

    Returns
    -------
    list of (int, int, dict)
        ``(toggled input index, pattern with the toggled input low, {output: +1 or -1})``:
        each output that changes when the input rises, +1 if it rises with it. Patterns number
        the inputs with the first as the most significant bit.
    """
    from .cell_check import input_patterns

    count = len(cell.inputs)
    table = _expected(cell, input_patterns(count))
    result = []
    for toggled in range(count):
        bit = 1 << (count - 1 - toggled)
        for pattern in range(2 ** count):
            if pattern & bit:
                continue
            changes = {pin: 1 if table[row, pattern | bit] else -1
                       for row, pin in enumerate(cell.outputs)
                       if table[row, pattern] != table[row, pattern | bit]}
            if changes:
                result.append((toggled, pattern, changes))
    return result


def _window(grid):
    return _window_for(max(grid.slews), max(grid.loads))


def _window_for(slew, load):
    # Long enough for the slowest ramp and the largest load to settle.
    return 2.5 * slew / SLEW_FRACTION + _DRIVE_RESISTANCE * load + 200e-12


def _pwl(points):
    return "pwl(" + " ".join(f"{t:.6g} {v:.6g}" for t, v in points) + ")"


def timing_deck(cell, corner, grid, copies, subcircuit):
    """Return the transient deck of some (arc, slew, load) copies of a combinational cell.

    Parameters
    ----------
    cell : Cell
    corner : Corner
    grid : TableGrid
        For the window length.
    copies : list of (int, int, float, float)
        ``(toggled input, pattern, slew, load)``: the toggled input rises at the window's
        start and falls one window later; the other inputs are tied as ``pattern`` says;
        every output is loaded by ``load``.
    subcircuit : str
        The cell's ``.subckt`` (see :func:`parasitic_subcircuit`), named ``cell.name``.

    Returns
    -------
    (str, float, float)
        The deck, the rising edge's start and the window length, seconds.
    """
    vdd, count = corner.vdd, len(cell.inputs)
    window = _window(grid)
    rise_at, fall_at = _SETTLE, _SETTLE + window
    supply = _pwl([(0, 0), (_SUPPLY_RAMP, vdd)])
    lines = [f"* {cell.name} timing arcs, {corner.name}", *corner.deck_header(), subcircuit,
             f"vhi hi 0 {supply}"]
    saved = []
    for index, (toggled, pattern, slew, load) in enumerate(copies):
        ramp = slew / SLEW_FRACTION
        nodes = [f"in{index}" if pin == toggled else
                 ("hi" if pattern >> (count - 1 - pin) & 1 else "0") for pin in range(count)]
        outputs = [f"o{index}_{pin}" for pin in cell.outputs]
        lines += [f"vs{index} s{index} 0 {supply}",
                  f"vin{index} in{index} 0 "
                  + _pwl([(0, 0), (rise_at, 0), (rise_at + ramp, vdd), (fall_at, vdd),
                          (fall_at + ramp, 0)]),
                  f"x{index} {' '.join(nodes)} {' '.join(outputs)} s{index} 0 {cell.name}",
                  *(f"cl{index}_{pin} o{index}_{pin} 0 {load:.6g}" for pin in cell.outputs)]
        saved += [*(f"v({node})" for node in outputs), f"i(vs{index})", f"i(vin{index})"]
    lines += [f".save {' '.join(saved)}", _OPTIONS,
              f".tran 1p {fall_at + window:.6g} 0 {_MAX_STEP:g} uic", ".end"]
    return "\n".join(lines) + "\n", rise_at, window


def _edge(time, signal, start, rising, vdd):
    """Times of the 50 % crossing and the 30-70 % transition of an output edge after start."""
    middle = crossing_time(time, signal, 0.5 * vdd, start, rising)
    first = crossing_time(time, signal, (0.3 if rising else 0.7) * vdd, start, rising)
    last = crossing_time(time, signal, (0.7 if rising else 0.3) * vdd, start, rising)
    return middle, last - first


def _energy(time, current, start, end, vdd):
    """Supply energy in [start, end) less the static power (read at the end) over it."""
    inside = (time >= start) & (time <= end)
    static = vdd * float(np.interp(end, time, current))
    return vdd * float(np.trapezoid(current[inside], time[inside])) - static * (end - start)


def _charge(time, current, start, end):
    inside = (time >= start) & (time <= end)
    return float(np.trapezoid(current[inside], time[inside]))


def _sense(directions):
    if all(direction > 0 for direction in directions):
        return "positive_unate"
    if all(direction < 0 for direction in directions):
        return "negative_unate"
    return "non_unate"


def _when(cell, pattern, skip=None):
    """The pattern as a Liberty condition on the inputs, less the input numbered ``skip``."""
    count = len(cell.inputs)
    return " & ".join(pin if pattern >> (count - 1 - index) & 1 else f"!{pin}"
                      for index, pin in enumerate(cell.inputs) if index != skip)


def _screen(cell, corner, grid, subcircuit, arcs):
    """The patterns worth a whole table: per input, output, sense and output edge, the
    slowest.

    One deck runs every transition at the grid's middle slew and load.
    """
    vdd = corner.vdd
    slew, load = grid.slews[len(grid.slews) // 2], grid.loads[len(grid.loads) // 2]
    worst = {}
    for start in range(0, len(arcs), MAX_COPIES_PER_DECK):
        chunk = arcs[start:start + MAX_COPIES_PER_DECK]
        deck, rise_at, window = timing_deck(
            cell, corner, grid, [(toggled, pattern, slew, load) for toggled, pattern, _ in chunk],
            subcircuit)
        vectors = run_deck(deck, name=f"{cell.kind}-screen")
        time_axis = vectors["time"]
        for index, (toggled, pattern, changes) in enumerate(chunk):
            for edge_start, input_rises in ((rise_at, True), (rise_at + window, False)):
                for pin, direction in changes.items():
                    rising = (direction > 0) == input_rises
                    middle = crossing_time(time_axis, vectors[f"o{index}_{pin}".lower()],
                                       vdd / 2, edge_start, rising)
                    key = (toggled, pin, direction, rising)
                    if key not in worst or middle - edge_start > worst[key][0]:
                        worst[key] = (middle - edge_start, pattern)
    kept = {(toggled, pattern) for (toggled, _, _, _), (_, pattern) in worst.items()}
    return [arc for arc in arcs if (arc[0], arc[1]) in kept]


def _conditions(cell, arcs):
    """Per (input, output, direction): the Liberty condition on the other inputs under
    which the input moves the output that way; ``""`` where it always does."""
    minterms = {}
    for toggled, pattern, changes in arcs:
        side = _when(cell, pattern, skip=toggled)
        for pin, direction in changes.items():
            minterms.setdefault((cell.inputs[toggled], pin, direction), []).append(side)
    conditions = {}
    for (related, pin, direction), sides in minterms.items():
        if (related, pin, -direction) not in minterms:
            conditions[(related, pin, direction)] = ""
        elif len(sides) == 1:
            conditions[(related, pin, direction)] = sides[0]
        else:
            conditions[(related, pin, direction)] = " | ".join(f"({side})" for side in sides)
    return conditions


def _combinational(cell, corner, grid, subcircuit):
    vdd = corner.vdd
    arcs = arc_patterns(cell)
    conditions = _conditions(cell, arcs)
    if len(arcs) > SCREEN_ABOVE:
        arcs = _screen(cell, corner, grid, subcircuit, arcs)
    points = grid.points
    copies = [(toggled, pattern, slew, load) for toggled, pattern, _ in arcs
              for slew, load in points]
    # (input, output, condition) -> table name -> array over the grid
    shape = (len(grid.slews), len(grid.loads))
    tables, senses = {}, {}
    charges = {pin: [] for pin in cell.inputs}

    def arc_key(toggled, pin, direction):
        related = cell.inputs[toggled]
        return related, pin, conditions[(related, pin, direction)]

    for toggled, _, changes in arcs:
        for pin, direction in changes.items():
            key = arc_key(toggled, pin, direction)
            senses.setdefault(key, []).append(direction)
            tables.setdefault(key, {name: np.full(shape, -math.inf) for name in (
                "cell_rise", "cell_fall", "rise_transition", "fall_transition",
                "rise_energy", "fall_energy")})
    for start in range(0, len(copies), MAX_COPIES_PER_DECK):
        chunk = copies[start:start + MAX_COPIES_PER_DECK]
        deck, rise_at, window = timing_deck(cell, corner, grid, chunk, subcircuit)
        vectors = run_deck(deck, name=f"{cell.kind}-arcs")
        time_axis = vectors["time"]
        # Copies are numbered within their deck.
        for index, (toggled, pattern, slew, load) in enumerate(chunk):
            changes = next(c for t, p, c in arcs if t == toggled and p == pattern)
            i, j = grid.slews.index(slew), grid.loads.index(load)
            ramp = slew / SLEW_FRACTION
            current = -vectors[f"vs{index}#branch"]
            if load == grid.loads[0]:
                charges[cell.inputs[toggled]].append(
                    -_charge(time_axis, vectors[f"vin{index}#branch"], rise_at,
                             rise_at + window) / vdd)
            for edge_start, input_rises in ((rise_at, True), (rise_at + window, False)):
                energy = _energy(time_axis, current, edge_start, edge_start + window, vdd)
                for pin, direction in changes.items():
                    rising = (direction > 0) == input_rises
                    middle, transition = _edge(time_axis, vectors[f"o{index}_{pin}".lower()],
                                               edge_start, rising, vdd)
                    delay = middle - (edge_start + ramp / 2)
                    if not math.isfinite(delay):
                        raise RuntimeError(
                            f"cell {cell.name}: output {pin} did not switch when "
                            f"{cell.inputs[toggled]} {'rose' if input_rises else 'fell'} "
                            f"(pattern {pattern}, slew {slew:g} s, load {load:g} F); the "
                            f"window of {window:g} s is too short or the cell is broken")
                    table = tables[arc_key(toggled, pin, direction)]
                    edge = "rise" if rising else "fall"
                    internal = energy - (load * vdd ** 2 if rising else 0.0)
                    table[f"cell_{edge}"][i, j] = max(table[f"cell_{edge}"][i, j], delay)
                    table[f"{edge}_transition"][i, j] = max(table[f"{edge}_transition"][i, j],
                                                            transition)
                    table[f"{edge}_energy"][i, j] = max(table[f"{edge}_energy"][i, j],
                                                        internal)
    result = []
    for (related, pin, when), table in tables.items():
        # A positive- or negative-unate arc's output moves one way per input edge, so both
        # output edges are always seen; a cell where one never is would leave -inf here.
        if any(np.isinf(values).any() for values in table.values()):
            raise RuntimeError(f"cell {cell.name}: arc {related} -> {pin} lacks an output edge")
        result.append(TimingArc(related, pin, _sense(senses[(related, pin, when)]),
                                "combinational", when=when,
                                **{name: _tables(values) for name, values in table.items()}))
    capacitance = {pin: float(np.mean(values)) if values else 0.0
                   for pin, values in charges.items()}
    return tuple(result), capacitance


def _tables(values):
    return tuple(tuple(float(value) for value in row) for row in values)


def _leakage(cell, corner):
    from .cell_check import static_state

    if not cell.inputs:
        # A tie cell: one state; static_state needs input patterns, a one-copy .op does not.
        deck = "\n".join([f"* {cell.name} leakage, {corner.name}", *corner.deck_header(),
                          cell.subcircuit(), f"vs s 0 {corner.vdd:g}",
                          f"x1 {' '.join(f'o_{pin}' for pin in cell.outputs)} s 0 {cell.name}",
                          ".op", ".end"]) + "\n"
        vectors = run_deck(deck, name=f"{cell.kind}-leakage")
        return (("", float(-corner.vdd * vectors["vs#branch"][-1])),)
    _, currents = static_state(cell, corner)
    return tuple((_when(cell, pattern), float(corner.vdd * current))
                 for pattern, current in enumerate(currents))


# --- flip-flops -----------------------------------------------------------------------------

def _flip_flop_deck(cell, corner, subcircuit, copies, period, name):
    """One copy per entry of ``copies``: ``(clock pwl points, data pwl points, load)``."""
    vdd = corner.vdd
    supply = _pwl([(0, 0), (_SUPPLY_RAMP, vdd)])
    data = next(pin for pin in cell.inputs if pin != cell.clock)
    lines = [f"* {cell.name} {name}, {corner.name}", *corner.deck_header(), subcircuit]
    saved = []
    stop = 0.0
    for index, (clock, data_points, load) in enumerate(copies):
        nodes = {cell.clock: f"ck{index}", data: f"d{index}"}
        outputs = [f"o{index}_{pin}" for pin in cell.outputs]
        lines += [f"vs{index} s{index} 0 {supply}", f"vck{index} ck{index} 0 {_pwl(clock)}",
                  f"vd{index} d{index} 0 {_pwl(data_points)}",
                  f"x{index} {' '.join(nodes[pin] for pin in cell.inputs)} "
                  f"{' '.join(outputs)} s{index} 0 {cell.name}",
                  *(f"cl{index}_{pin} o{index}_{pin} 0 {load:.6g}" for pin in cell.outputs)]
        saved += [*(f"v({node})" for node in outputs), f"i(vs{index})", f"i(vck{index})",
                  f"i(vd{index})"]
        stop = max(stop, clock[-1][0], data_points[-1][0])
    lines += [f".save {' '.join(saved)}", _OPTIONS,
              f".tran 1p {stop + period:.6g} 0 {_MAX_STEP:g} uic", ".end"]
    return "\n".join(lines) + "\n"


def _clock(edges, ramp, period, vdd):
    """A clock low at 0 that rises at each time of ``edges`` and falls half a period later."""
    points = [(0.0, 0.0)]
    for edge in edges:
        points += [(edge, 0.0), (edge + ramp, vdd), (edge + period / 2, vdd),
                   (edge + period / 2 + ramp, 0.0)]
    return points


def _steps(changes, ramp, vdd, initial):
    """A signal at ``initial`` that ramps to each ``(time, level)`` of ``changes``."""
    points, level = [(0.0, initial * vdd)], initial
    for at, new in changes:
        points += [(at, level * vdd), (at + ramp, new * vdd)]
        level = new
    return points


def _flip_flop(cell, corner, grid, subcircuit):
    vdd = corner.vdd
    window = _window(grid)
    period = 2 * window
    data = next(pin for pin in cell.inputs if pin != cell.clock)
    # Edge 0 captures 0 whatever state the latches powered up in, edge 1 captures 1 (the
    # outputs' first measured edge), edge 2 captures 0 again.
    edges = [_SETTLE + k * period for k in range(3)]
    copies = []
    for slew, load in grid.points:
        ramp = slew / SLEW_FRACTION
        data_ramp = grid.slews[0] / SLEW_FRACTION
        changes = [(edges[0] + period * 0.75, 1), (edges[1] + period * 0.75, 0)]
        copies.append((_clock(edges, ramp, period, vdd), _steps(changes, data_ramp, vdd, 0),
                       load))
    shape = (len(grid.slews), len(grid.loads))
    tables = {pin: {name: np.zeros(shape) for name in (
        "cell_rise", "cell_fall", "rise_transition", "fall_transition", "rise_energy",
        "fall_energy")} for pin in cell.outputs}
    clock_charges, data_charges = [], []
    vectors = run_deck(_flip_flop_deck(cell, corner, subcircuit, copies, period, "clock arcs"),
                       name=f"{cell.kind}-clock")
    time_axis = vectors["time"]
    state_after = {1: True, 2: False}
    for index, (slew, load) in enumerate(grid.points):
        i, j = grid.slews.index(slew), grid.loads.index(load)
        ramp = slew / SLEW_FRACTION
        current = -vectors[f"vs{index}#branch"]
        for edge_number in (1, 2):
            edge = edges[edge_number]
            energy = _energy(time_axis, current, edge, edge + window, vdd)
            for pin, function in cell.functions:
                rising = state_after[edge_number] == (function == "IQ")
                middle, transition = _edge(time_axis, vectors[f"o{index}_{pin}".lower()],
                                           edge, rising, vdd)
                if not math.isfinite(middle):
                    raise RuntimeError(f"cell {cell.name}: {pin} did not switch at clock edge "
                                       f"{edge_number} (slew {slew:g} s, load {load:g} F)")
                name = "rise" if rising else "fall"
                tables[pin][f"cell_{name}"][i, j] = middle - (edge + ramp / 2)
                tables[pin][f"{name}_transition"][i, j] = transition
                # Both outputs switch at once: each gets half of the edge's internal energy.
                tables[pin][f"{name}_energy"][i, j] = (
                    energy - sum(load * vdd ** 2 for _, other in cell.functions
                                 if state_after[edge_number] == (other == "IQ"))) / 2
        if load == grid.loads[0]:
            clock_charges.append(-_charge(time_axis, vectors[f"vck{index}#branch"], edges[1],
                                          edges[1] + ramp) / vdd)
            data_charges.append(-_charge(time_axis, vectors[f"vd{index}#branch"],
                                         edges[0] + period * 0.75,
                                         edges[0] + period * 0.75 + window) / vdd)
    arcs = tuple(TimingArc(cell.clock, pin, "non_unate", "rising_edge",
                           **{name: _tables(values) for name, values in tables[pin].items()})
                 for pin in cell.outputs)
    # The clock's charge is read over its ramp only (the master's and slave's transmission
    # gates see it through the clock buffers afterwards, which the supply pays).
    capacitance = {cell.clock: float(np.mean(clock_charges)),
                   data: float(np.mean(data_charges))}
    constraints = _constraints(cell, corner, grid, subcircuit, data)
    # Leakage: the static supply power just before edges 1 and 2 (state 0 with D = 1, and
    # state 1 with D = 0, clock low), and late in the clock's high phases.
    samples = []
    index = len(grid.points) - 1
    current = -vectors[f"vs{index}#branch"]
    for at in (edges[1] - 0.05 * period, edges[2] - 0.05 * period,
               edges[1] + 0.45 * period, edges[2] + 0.45 * period):
        samples.append(vdd * float(np.interp(at, time_axis, current)))
    return arcs, capacitance, constraints, (("", float(np.mean(samples))),)


def constraint_slews(grid):
    """The slews (seconds) of a flip-flop's setup and hold tables: the grid's smallest, middle
    and largest, for both the clock and the data pin."""
    return tuple(dict.fromkeys((grid.slews[0], grid.slews[len(grid.slews) // 2],
                                grid.slews[-1])))


def _constraints(cell, corner, grid, subcircuit, data):
    """Setup and hold tables of ``data`` against ``cell.clock`` over :func:`constraint_slews`
    (rows: the clock's slew; columns: the data's), each point by bisection in parallel rounds."""
    slews = constraint_slews(grid)
    load = grid.loads[min(1, len(grid.loads) - 1)]
    found = {(clock_slew, data_slew): _constraint_point(cell, corner, subcircuit, data,
                                                        clock_slew, data_slew, load)
             for clock_slew in slews for data_slew in slews}

    def table(key):
        return tuple(tuple(found[(clock_slew, data_slew)][key] for data_slew in slews)
                     for clock_slew in slews)

    return tuple(Constraint(cell.clock, data, f"{kind}_rising", table((kind, 1)),
                            table((kind, 0)), slews, slews) for kind in ("setup", "hold"))


def _constraint_data(kind, new, offset, edges, period, clock_ramp, data_ramp, vdd):
    """The data pin's pwl points of one setup or hold case against the clock edge
    ``edges[1]``.

    Setup: D's 50 % point moves to ``new`` ``offset`` before the clock's; it must be captured.
    Hold: D moves to ``new`` as soon as the clock has fallen after ``edges[0]``, and its 50 %
    point moves away ``offset`` after the clock's; the captured ``new`` must be kept. A ramp's
    start is its 50 % time less half the ramp. With a period of at least five of the longest
    ramps (see _window_for), the hold case's two ramps stay apart over all of
    CONSTRAINT_OFFSETS.
    """
    clock_middle = edges[1] + clock_ramp / 2
    if kind == "setup":
        changes = [(clock_middle - offset - data_ramp / 2, new)]
    else:
        changes = [(edges[0] + period / 2 + clock_ramp, new),
                   (clock_middle + offset - data_ramp / 2, 1 - new)]
    return _steps(changes, data_ramp, vdd, 1 - new)


def _constraint_point(cell, corner, subcircuit, data, clock_slew, data_slew, load):
    """``{(kind, new): offset}``: the setup and hold of a rising (1) and falling (0) data
    edge at one clock slew, data slew and output load."""
    vdd = corner.vdd
    window = _window_for(max(clock_slew, data_slew), load)
    period = 2 * window
    clock_ramp, data_ramp = clock_slew / SLEW_FRACTION, data_slew / SLEW_FRACTION
    edges = [_SETTLE + k * period for k in range(2)]
    q_pin = next(pin for pin, function in cell.functions if function == "IQ")
    clock = _clock(edges, clock_ramp, period, vdd)
    edge = edges[1]
    clock_middle = edge + clock_ramp / 2

    def case(kind, new, offset):
        return clock, _constraint_data(kind, new, offset, edges, period, clock_ramp,
                                       data_ramp, vdd), load

    def measure(points):
        """``{(kind, new): [(offset, captured, clock-to-Q delay)]}`` for the points given."""
        flat = [(key, offset) for key, offsets in points.items() for offset in offsets]
        deck = _flip_flop_deck(cell, corner, subcircuit, [case(*key, offset)
                                                          for key, offset in flat],
                               period, "setup and hold")
        vectors = run_deck(deck, name=f"{cell.kind}-constraints")
        time_axis = vectors["time"]
        found = {key: [] for key in points}
        for index, ((kind, new), offset) in enumerate(flat):
            q = vectors[f"o{index}_{q_pin}".lower()]
            settled = (float(np.interp(edge + 0.45 * period, time_axis, q)) > vdd / 2) == new
            if kind == "setup":
                delay = crossing_time(time_axis, q, vdd / 2, edge, bool(new)) - clock_middle
                found[(kind, new)].append((offset, settled, delay))
            else:
                # No 50 % crossing away from the captured value late in the cycle.
                away = crossing_time(time_axis, q, vdd / 2, edge + window, not new)
                found[(kind, new)].append((offset, settled and not math.isfinite(away), 0.0))
        return found

    keys = list(itertools.product(("setup", "hold"), (1, 0)))
    low, high = CONSTRAINT_OFFSETS[0], CONSTRAINT_OFFSETS[-1]
    first = measure({key: list(np.linspace(low, high, _FIRST_ROUND)) for key in keys})
    # The setup delay criterion is against the delay with the widest margin.
    reference = {key: rows[-1][2] for key, rows in first.items()}
    brackets = {}
    rows_of = first
    for round_number in range(_ROUNDS):
        for key, rows in rows_of.items():
            passing = [ok and (key[0] == "hold" or delay <= 1.1 * reference[key])
                       for _, ok, delay in rows]
            if not passing[-1]:
                raise RuntimeError(f"cell {cell.name}: the {key[0]} sweep fails even at "
                                   f"{rows[-1][0]:g} s (clock slew {clock_slew:g} s, data "
                                   f"slew {data_slew:g} s); widen CONSTRAINT_OFFSETS")
            boundary = len(passing) - 1
            while boundary > 0 and passing[boundary - 1]:
                boundary -= 1
            known = brackets.get(key, (None, None))[0]
            brackets[key] = (rows[boundary - 1][0] if boundary else known, rows[boundary][0])
        refine = {key: list(np.linspace(lo, hi, _LATER_ROUNDS + 2)[1:-1])
                  for key, (lo, hi) in brackets.items() if lo is not None}
        if not refine or round_number == _ROUNDS - 1:
            break
        rows_of = {key: sorted([(brackets[key][0], False, math.inf), *rows,
                                (brackets[key][1], True, 0.0)])
                   for key, rows in measure(refine).items()}
    return {key: float(hi) for key, (_, hi) in brackets.items()}


# --- the public step ------------------------------------------------------------------------

def _models_digest(corner):
    digest = hashlib.sha256()
    for card in corner.model_cards():
        digest.update(card.read_bytes())
    return digest.hexdigest()


def characterize_cell(cell, corner=None, *, grid=None, name=None, cache_results=True):
    """Characterize one cell into NLDM tables (see the module's conventions).

    Parameters
    ----------
    cell : Cell
        A combinational cell, a tie cell, or a flip-flop with one data input and a clock.
    corner : Corner or None
        Default TT, 1.0 V, 25 C.
    grid : TableGrid or None
        Slews and loads of the tables; default ``TableGrid()`` (4 x 4).
    name : str or None
        The Liberty cell name; default ``cell.name``.
    cache_results : bool
        Read and write the ``"cell-char"`` cache (``False`` always simulates, and overwrites).

    Returns
    -------
    CharacterizedCell

    Raises
    ------
    ValueError
        If ``cell``, ``corner``, ``grid`` or ``name`` has the wrong type.
    SimulationError
        If ngspice fails on a deck.
    RuntimeError
        If an output never switches where the cell's function says it must.
    """
    if not isinstance(cell, Cell):
        raise ValueError(f"cell must be a dcim.spice.cells.Cell, not {cell!r}")
    corner = Corner() if corner is None else corner
    if not isinstance(corner, Corner):
        raise ValueError(f"corner must be a dcim.spice.Corner, not {corner!r}")
    grid = TableGrid() if grid is None else grid
    if not isinstance(grid, TableGrid):
        raise ValueError(f"grid must be a TableGrid, not {grid!r}")
    name = cell.name if name is None else name
    if not isinstance(name, str) or not name.replace("_", "a").isalnum() \
            or not name[0].isalpha():
        raise ValueError(f"name must be a cell name (letters, digits, '_'), not {name!r}")
    if cell.is_sequential and (len(cell.inputs) != 2 or cell.clock not in cell.inputs):
        raise ValueError(f"cell {cell.kind}: only a flip-flop with one data input and a clock "
                         f"can be characterized, not inputs {cell.inputs}")
    subcircuit = parasitic_subcircuit(cell)
    key = cache.cache_key(step="cell-char", version=CHARACTERIZATION_VERSION,
                          netlist=subcircuit, name=name, corner=asdict(corner),
                          models=_models_digest(corner), grid=asdict(grid),
                          simulator=(simulator_identity(), _OPTIONS, _MAX_STEP),
                          functions=cell.functions, flip_flop=cell.flip_flop and
                          asdict(cell.flip_flop))
    if cache_results:
        stored = cache.load("cell-char", key)
        if stored is not None:
            return CharacterizedCell.from_dict(stored, cached=True, seconds=0.0)
    started = time.monotonic()
    constraints = ()
    if cell.is_sequential:
        arcs, capacitance, constraints, leakage = _flip_flop(cell, corner, grid, subcircuit)
        flip_flop = (cell.flip_flop.clocked_on, cell.flip_flop.next_state)
    else:
        arcs, capacitance = _combinational(cell, corner, grid, subcircuit) if cell.inputs \
            else ((), {})
        leakage = _leakage(cell, corner)
        flip_flop = None
    result = CharacterizedCell(
        name=name, kind=cell.kind, netlist=subcircuit, corner=corner, grid=grid,
        area=cell.area, inputs=cell.inputs, functions=cell.functions, flip_flop=flip_flop,
        clock=cell.clock, pin_capacitance=capacitance, arcs=arcs, constraints=constraints,
        leakage=leakage, seconds=time.monotonic() - started)
    cache.store("cell-char", key, result.as_dict())
    return result
