"""Worst delay, energy per operation and leakage of a combinational cell, in one transient.

:func:`measure_cell` simulates every *single-input transition* of a cell at once: for each
input and each pattern of the other inputs, one copy of the cell whose other inputs are tied to
the rails and whose toggled input rises at ``t1`` and falls at ``t2`` (a ramp of ``slew``,
0-100 %), every output loaded by ``load``. Each copy has its own supply source, so its supply
current gives the energy of each transition.

- *Worst delay*: the largest time from the toggled input's 50 % point to an output's 50 %
  point, over every transition that changes that output.
- *Energy per operation*: the mean supply energy of one single-input transition (over all
  ``n_inputs * 2 ** n_inputs`` of them, rising and falling, whether or not an output
  changes), each window's static power removed. It includes charging the output loads.
- *Leakage*: the mean static supply power over every input pattern.

This is a one-point measurement (one slew, one load) for comparing cells and sizing them; the
Liberty tables over slew and load are a characterization's job.
"""

from dataclasses import dataclass

import numpy as np

from .cells import Cell
from .corners import Corner
from .simulator import run_deck, simulator_identity

__all__ = ["DEFAULT_LOAD", "DEFAULT_SLEW", "CellMeasurement", "crossing_time", "measure_cell",
           "measurement_settings"]

DEFAULT_LOAD = 2e-15
"""Output load, farads: about two X1 inverter inputs of FreePDK45."""
DEFAULT_SLEW = 20e-12
"""Input ramp, 0 to 100 %, seconds."""
_SUPPLY_RAMP = 20e-12
_RISE_AT = 150e-12
# Each transition's window: long enough for the slowest compressor's outputs (below 200 ps at
# SS, 0.9 V) to settle.
_WINDOW = 300e-12
# The step limit, as a fraction of the input ramp (and at most 10 ps). A fixed 10 ps was
# fine for the compressors (acci1: 2 % on delay, 1 % on energy against 1 ps) but not for a
# fast cell: INV_X1 at 20 ps and 2 fF measured 8.79 ps and 1.899 fJ against 9.21 ps and
# 1.931 fJ at 0.2 ps. At a tenth of the ramp (2 ps) it is 9.20 ps and 1.937 fJ.
# The default trapezoidal integration is kept: Gear's (method=gear, as liberty_char uses
# against ringing supply currents) is further off at the same steps (INV_X1: 1.609 fJ at
# 10 ps, 1.911 fJ at 2 ps), and with these steps both agree within 0.3 % at 1 ps.
_STEPS_PER_SLEW = 10
_MAX_STEP = 10e-12


def measurement_settings():
    """The settings a measurement depends on beyond the cell, corner, load and slew (the
    stimulus timing and time steps) and the ngspice build, for the cache keys of results built
    on :func:`measure_cell`: a change to any of them gives new keys."""
    return {"simulator": simulator_identity(), "supply_ramp": _SUPPLY_RAMP,
            "rise_at": _RISE_AT, "window": _WINDOW, "steps_per_slew": _STEPS_PER_SLEW,
            "max_step": _MAX_STEP}


@dataclass(frozen=True)
class CellMeasurement:
    """What :func:`measure_cell` measured; SI units.

    Members
    -------
    cell : str
    corner : Corner
    load, slew : float
    worst_delay : float
        Seconds; ``inf`` if an output that should change never crossed half the supply.
    worst_arc : tuple of (str, int, str, str)
        Toggled input, pattern index before the transition, output, ``"rise"`` or ``"fall"``
        of the output.
    mean_delay : float
        Mean over every output-changing arc.
    mean_energy : float
        Joules per single-input transition.
    leakage_power : float
        Watts, mean over input patterns.
    transitions : int
        Single-input transitions simulated.
    """

    cell: str
    corner: Corner
    load: float
    slew: float
    worst_delay: float
    worst_arc: tuple
    mean_delay: float
    mean_energy: float
    leakage_power: float
    transitions: int


def _check_positive(name, value, high, unit):
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not 0 < value <= high:
        raise ValueError(f"{name} must be a number of {unit} in (0, {high:g}], not {value!r}")
    return float(value)


def crossing_time(time, signal, level, start, rising):
    """When ``signal`` first crosses ``level`` after ``start`` (rising or falling), linearly
    interpolated between the two samples around it; ``inf`` if it never does."""
    after = time >= start
    t, v = time[after], signal[after]
    above = v >= level
    index = np.flatnonzero((above[1:] != above[:-1]) & (above[1:] == rising))
    if not index.size:
        return np.inf
    i = index[0]
    return float(t[i] + (level - v[i]) * (t[i + 1] - t[i]) / (v[i + 1] - v[i]))


def measure_cell(cell, corner=None, *, load=DEFAULT_LOAD, slew=DEFAULT_SLEW):
    """Measure a combinational cell's worst delay, energy per operation and leakage.

    Parameters
    ----------
    cell : Cell
    corner : Corner or None
        Default TT, 1.0 V, 25 C.
    load : float
        Capacitance on every output, farads (up to 1 pF).
    slew : float
        Input ramp time, seconds (up to 200 ps).

    Returns
    -------
    CellMeasurement

    Raises
    ------
    ValueError
        If the cell is sequential or an argument is out of range.
    SimulationError
        If ngspice fails on the deck.
    """
    if not isinstance(cell, Cell) or cell.is_sequential:
        raise ValueError(f"cell must be a combinational dcim.spice.cells.Cell, not {cell!r}")
    corner = Corner() if corner is None else corner
    if not isinstance(corner, Corner):
        raise ValueError(f"corner must be a dcim.spice.Corner, not {corner!r}")
    load = _check_positive("load", load, 1e-12, "farads")
    slew = _check_positive("slew", slew, 200e-12, "seconds")
    vdd = corner.vdd
    count = len(cell.inputs)
    fall_at = _RISE_AT + _WINDOW
    stop = fall_at + _WINDOW
    arcs = [(toggled, pattern) for toggled in range(count) for pattern in range(2 ** count)
            if not pattern >> (count - 1 - toggled) & 1]
    # No operating point (ngspice's often fails on many copies of a multi-stage cell): every
    # node starts at 0 V and the supplies ramp up well before the first transition.
    supply = f"pwl(0 0 {_SUPPLY_RAMP:g} {vdd:g})"
    lines = [f"* {cell.name} single-input transitions, {corner.name}", *corner.deck_header(),
             cell.subcircuit(), f"vhi hi 0 {supply}",
             f"vtog tog 0 pwl(0 0 {_RISE_AT:g} 0 {_RISE_AT + slew:g} {vdd:g} {fall_at:g} "
             f"{vdd:g} {fall_at + slew:g} 0)"]
    saved = []
    for copy, (toggled, pattern) in enumerate(arcs):
        nodes = ["tog" if index == toggled else
                 ("hi" if pattern >> (count - 1 - index) & 1 else "0") for index in range(count)]
        outputs = [f"o{copy}_{pin}" for pin in cell.outputs]
        lines += [f"vs{copy} s{copy} 0 {supply}",
                  f"x{copy} {' '.join(nodes)} {' '.join(outputs)} s{copy} 0 {cell.name}",
                  *(f"cl{copy}_{pin} o{copy}_{pin} 0 {load:g}" for pin in cell.outputs)]
        saved += [*(f"v({node})" for node in outputs), f"i(vs{copy})"]
    step = min(_MAX_STEP, slew / _STEPS_PER_SLEW)
    lines += [f".save {' '.join(saved)}", f".tran 1p {stop:g} 0 {step:g} uic", ".end"]
    vectors = run_deck("\n".join(lines) + "\n", name=f"{cell.kind}-transitions")
    time = vectors["time"]
    expected = _expected(cell, count)
    delays, energies = [], []
    worst, worst_arc = -np.inf, None
    for copy, (toggled, pattern) in enumerate(arcs):
        current = -vectors[f"vs{copy}#branch"]
        for start, end, before, after in ((_RISE_AT, fall_at, pattern,
                                           pattern | 1 << (count - 1 - toggled)),
                                          (fall_at, stop, pattern | 1 << (count - 1 - toggled),
                                           pattern)):
            inside = (time >= start - slew) & (time <= end - slew)
            static = vdd * np.interp(end - slew, time, current)
            energies.append(vdd * np.trapezoid(current[inside], time[inside])
                            - static * (end - start))
            for row, pin in enumerate(cell.outputs):
                if expected[row, before] == expected[row, after]:
                    continue
                rising = bool(expected[row, after])
                crossing = crossing_time(time, vectors[f"o{copy}_{pin}".lower()], vdd / 2,
                                     start, rising)
                delay = crossing - (start + slew / 2)
                delays.append(delay)
                if delay > worst:
                    worst = delay
                    worst_arc = (cell.inputs[toggled], before, pin, "rise" if rising else "fall")
    finite = [d for d in delays if np.isfinite(d)]
    return CellMeasurement(
        cell.name, corner, load, slew, float(worst) if delays else 0.0, worst_arc,
        float(np.mean(finite)) if finite else float("nan"), float(np.mean(energies)),
        _leakage(cell, corner), len(energies))


def _leakage(cell, corner):
    from .cell_check import static_state

    _, currents = static_state(cell, corner)
    return float(corner.vdd * np.mean(currents))


def _expected(cell, count):
    from .cell_check import input_patterns
    from .cells import liberty_function

    patterns = input_patterns(count)
    values = dict(zip(cell.inputs, patterns, strict=True))
    return np.stack([liberty_function(function, values) for _, function in cell.functions])
