"""Checking a cell's transistors against its boolean function by simulating every input pattern.

A combinational cell is checked in one ngspice run: one copy of the cell per input pattern, each
with its inputs tied to the supply or to ground, in one operating point (:func:`static_state`),
and the output voltages compared with the expected values. A
flip-flop is checked by a clocked transient: each cycle sets ``D`` before the rising clock edge
and flips it again while the clock is high, and ``Q`` must hold the value captured at the edge
through the whole cycle.
"""

import itertools
from dataclasses import dataclass

import numpy as np

from .cells import Cell, liberty_function
from .corners import Corner
from .simulator import run_deck

__all__ = ["LEVEL_TOLERANCE", "FunctionCheck", "check_function", "input_patterns",
           "static_state"]

LEVEL_TOLERANCE = 0.1
"""A 1 must be within this fraction of VDD of the supply, a 0 of ground."""
# The flip-flop's transient: clock period, input edges, samples of Q late in each phase.
_CLOCK_PERIOD = 1e-9
_EDGE = 20e-12
_CAPTURED = (0, 1, 1, 0, 1, 0, 0, 1)


@dataclass(frozen=True)
class FunctionCheck:
    """What :func:`check_function` found.

    Members
    -------
    cell : str
        The cell's name.
    corner : Corner
    patterns : int
        Input patterns simulated (for a flip-flop: samples of its outputs, two per cycle).
    mismatches : tuple of (int, str, bool, float)
        Each failing sample: pattern index (or cycle), output pin, expected value, voltage.
    worst_high, worst_low : float
        The lowest output voltage where a 1 was expected and the highest where a 0 was, volts
        (``nan`` when no output had that value).
    """

    cell: str
    corner: Corner
    patterns: int
    mismatches: tuple
    worst_high: float
    worst_low: float

    @property
    def passed(self):
        """True when every output of every pattern is at the expected rail."""
        return not self.mismatches


def input_patterns(count):
    """Every pattern of ``count`` inputs, shape ``(count, 2 ** count)``; the first input is the
    most significant bit of the pattern index (as :class:`dcim.arith.Compressor`'s tables)."""
    return np.array(list(itertools.product((False, True), repeat=count)), dtype=bool).T \
        .reshape(count, 2 ** count)


def _expected_combinational(cell, patterns):
    values = dict(zip(cell.inputs, patterns, strict=True))
    return np.stack([liberty_function(function, values) for _, function in cell.functions])


def _compare(cell, corner, voltages, expected, labels):
    vdd = corner.vdd
    high_ok = voltages >= (1 - LEVEL_TOLERANCE) * vdd
    low_ok = voltages <= LEVEL_TOLERANCE * vdd
    failing = np.argwhere(np.where(expected, ~high_ok, ~low_ok))
    mismatches = tuple((int(labels[column]), cell.outputs[row], bool(expected[row, column]),
                        float(voltages[row, column])) for row, column in failing)
    highs, lows = voltages[expected], voltages[~expected]
    return FunctionCheck(cell.name, corner, len(labels), mismatches,
                         float(highs.min()) if highs.size else float("nan"),
                         float(lows.max()) if lows.size else float("nan"))


def static_state(cell, corner):
    """Simulate a combinational cell on every input pattern in one operating point.

    One copy per pattern, inputs tied to the rails, each copy's supply through its own 0 V
    source (an ammeter). Every stage output of every copy gets a ``.nodeset`` at the rail its
    logic value says (:meth:`Cell.net_values`): ngspice's operating point otherwise starts
    from all nodes at 0 V, where a chain of a dozen stages needs its slow gmin stepping (and
    then reports a failure although the solution is right). A nodeset is only the Newton
    iteration's starting point, so a wrong circuit still settles where its transistors put it.

    Returns
    -------
    voltages : numpy.ndarray, shape (n_outputs, 2 ** n_inputs)
        The output voltages, patterns as :func:`input_patterns`.
    supply_currents : numpy.ndarray, shape (2 ** n_inputs,)
        The static current each copy draws from the supply, amperes.
    """
    count = len(cell.inputs)
    patterns = input_patterns(count)
    guesses = _guesses(cell, patterns)
    lines = [f"* {cell.name} static state, {corner.name}", *corner.deck_header(),
             cell.subcircuit(), f"vhi hi 0 {corner.vdd:g}"]
    saved, nodesets = [], []
    for index, pattern in enumerate(patterns.T):
        inputs = ["hi" if bit else "0" for bit in pattern]
        outputs = [f"o{index}_{pin}" for pin in cell.outputs]
        lines += [f"vs{index} hi s{index} 0",
                  f"x{index} {' '.join(inputs)} {' '.join(outputs)} s{index} 0 {cell.name}"]
        saved += [*(f"v({node})" for node in outputs), f"i(vs{index})"]
        nodesets += [f"v({f'o{index}_{net}' if net in cell.outputs else f'x{index}.{net}'})="
                     f"{corner.vdd * value[index]:g}" for net, value in guesses.items()]
    lines += [f".save {' '.join(saved)}", f".nodeset {' '.join(nodesets)}", ".op", ".end"]
    vectors = run_deck("\n".join(lines) + "\n", name=f"{cell.kind}-static")
    voltages = np.array([[vectors[f"o{index}_{pin}".lower()][-1]
                          for index in range(patterns.shape[1])] for pin in cell.outputs])
    currents = np.array([vectors[f"vs{index}#branch"][-1] for index in range(patterns.shape[1])])
    return voltages, currents


def _guesses(cell, patterns):
    # Stage outputs' logic values; a cell whose stages cannot be evaluated (a floating or
    # fighting net) gets no guesses and is left to ngspice.
    try:
        values = cell.net_values(patterns)
    except ValueError:
        return {}
    return {stage.output: values[stage.output].astype(float) for stage in cell.stages}


def _check_combinational(cell, corner, reference):
    patterns = input_patterns(len(cell.inputs))
    expected = np.asarray(reference(patterns), dtype=bool) if reference is not None \
        else _expected_combinational(cell, patterns)
    if expected.shape != (len(cell.outputs), patterns.shape[1]):
        raise ValueError(f"reference must return shape {(len(cell.outputs), patterns.shape[1])}"
                         f", one row per output {cell.outputs}, not {expected.shape}")
    voltages, _ = static_state(cell, corner)
    return _compare(cell, corner, voltages, expected, range(patterns.shape[1]))


def _pwl(points):
    return "pwl(" + " ".join(f"{time:.6g} {value:.6g}" for time, value in points) + ")"


def _steps(levels, times, vdd):
    # A piecewise-linear source holding each level from its time, with _EDGE-long ramps.
    points = [(0.0, levels[0] * vdd)]
    for level, time in zip(levels[1:], times[1:], strict=True):
        points += [(time, points[-1][1]), (time + _EDGE, level * vdd)]
    return _pwl(points)


def _check_sequential(cell, corner):
    if len(cell.inputs) != 2 or cell.clock not in cell.inputs:
        raise ValueError(f"cell {cell.kind}: only a flip-flop with one data input and a clock "
                         f"can be checked, not inputs {cell.inputs}")
    data = next(pin for pin in cell.inputs if pin != cell.clock)
    period, cycles = _CLOCK_PERIOD, len(_CAPTURED)
    # Cycle k: the clock is low for its first half and rises at k T + T / 2. D takes the value
    # to capture at k T + T / 8 and its complement at k T + 5 T / 8, after the edge.
    clock_levels = [level for _ in range(cycles) for level in (0, 1)]
    clock_times = [k * period / 2 for k in range(2 * cycles)]
    data_levels = [level for value in _CAPTURED for level in (value, 1 - value)]
    data_times = [k * period / 2 + period / 8 for k in range(2 * cycles)]
    data_levels, data_times = [1 - _CAPTURED[0], *data_levels], [0.0, *data_times]
    vdd = corner.vdd
    nodes = {cell.clock: "ck", data: "d"}
    pins = [nodes.get(pin, pin) for pin in cell.inputs] + [f"o_{pin}" for pin in cell.outputs]
    lines = [f"* {cell.name} function check, {corner.name}", *corner.deck_header(),
             cell.subcircuit(), f"vdd vdd 0 {_pwl([(0, 0), (_EDGE, vdd)])}",
             f"vck ck 0 {_steps(clock_levels, clock_times, vdd)}",
             f"vd d 0 {_steps(data_levels, data_times, vdd)}",
             f"x1 {' '.join(pins)} vdd 0 {cell.name}",
             f".save {' '.join(f'v(o_{pin})' for pin in cell.outputs)}",
             # No operating point: the latches' loops are bistable, which ngspice's DC
             # solver fails on; every node starts at 0 V and the supply ramps up.
             f".tran {period / 200:g} {cycles * period:g} uic", ".end"]
    vectors = run_deck("\n".join(lines) + "\n", name=f"{cell.kind}-function")
    time = vectors["time"]
    # Q is sampled late in the high phase (after D has flipped) and late in the next low phase.
    captures = [(k, (k + fraction) * period) for k in range(cycles)
                for fraction in (15 / 16, 23 / 16) if k + fraction < cycles]
    labels = [k for k, _ in captures]
    samples = [time for _, time in captures]
    state = np.array([liberty_function(cell.flip_flop.next_state,
                                       {data: np.array(bool(_CAPTURED[k]))}) for k in labels])
    values = {"IQ": state, "IQN": ~state}
    expected = np.stack([liberty_function(function, values) for _, function in cell.functions])
    voltages = np.stack([np.interp(samples, time, vectors[f"o_{pin}".lower()])
                         for pin in cell.outputs])
    return _compare(cell, corner, voltages, expected, labels)


def check_function(cell, corner=None, *, reference=None):
    """Simulate a cell on every input pattern and compare its outputs with its function.

    Parameters
    ----------
    cell : Cell
    corner : Corner or None
        Default TT, 1.0 V, 25 C.
    reference : callable or None
        ``reference(patterns) -> bool array (n_outputs, n_patterns)`` for a combinational cell,
        patterns as :func:`input_patterns`; default the cell's own Liberty functions (a
        compressor cell passes its compressor's ``evaluate``).

    Returns
    -------
    FunctionCheck

    Raises
    ------
    ValueError
        If ``cell`` or ``corner`` has the wrong type, or the reference the wrong shape.
    SimulationError
        If ngspice fails on the deck.
    """
    if not isinstance(cell, Cell):
        raise ValueError(f"cell must be a dcim.spice.cells.Cell, not {cell!r}")
    corner = Corner() if corner is None else corner
    if not isinstance(corner, Corner):
        raise ValueError(f"corner must be a dcim.spice.Corner, not {corner!r}")
    if cell.is_sequential:
        if reference is not None:
            raise ValueError("reference applies to combinational cells only")
        return _check_sequential(cell, corner)
    return _check_combinational(cell, corner, reference)
