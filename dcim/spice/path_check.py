"""Check static timing on our own Liberty against ngspice on the same critical path.

The comparison with Nangate45 (:func:`~dcim.spice.library.compare_libraries`) mixes two
questions: are our tables right for our transistors, and are our transistors Nangate45's?
This answers the first alone. :func:`check_critical_path` takes the worst path OpenSTA finds
in a design synthesized on a library of :func:`~dcim.spice.library.build_pdk`
(:func:`dcim.flow.analysis.critical_path_points`: each pin's transition, slew and arrival,
each net's load), and simulates that path at transistor level:

- every cell of the path is its characterized subcircuit (parasitics included), at the
  library's corner;
- its other inputs are tied so that the path's input switches its output the way the report
  says (the cell's Liberty function decides which ties do); where several ties do (a full
  adder's sum), the path is simulated once per combination of every stage's choices, up to
  :data:`MAX_COPIES` copies side by side in one deck (beyond that, copy ``k`` takes each
  stage's ``k``-th tie, cycling), and the slowest copy counts, as static timing takes the
  slowest of a cell's arcs under their conditions;
- each net carries the load OpenSTA gave it (fanout pins and the wire-load model's wire),
  less the input capacitance of the path's own next cell, which is simulated;
- the start is a linear ramp with the port's slew (the Liberty 30-70 % slew is 40 % of it).

Outputs of multi-output cells that the path does not take are left unloaded. The delay is
measured from the first cell's input to the endpoint, at half the supply, as the Liberty
tables are.
"""

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from ..checks import short_repr
from .cell_measure import crossing_time
from .cells import liberty_function
from .liberty_char import SLEW_FRACTION
from .simulator import run_deck

__all__ = ["MAX_COPIES", "CriticalPathCheck", "PathStage", "check_critical_path",
           "sensitizing_ties"]

MAX_COPIES = 64
"""The most copies of the path one check simulates (see the module's text)."""
_START = 100e-12       # the ramp's start, after the operating point
_MAX_STEP = 2e-12


@dataclass(frozen=True)
class PathStage:
    """One cell of the checked path.

    Members
    -------
    instance, cell, input_pin, output_pin : str
    rising : bool
        The output's transition.
    load : float
        Farads on the output besides the next cell of the path.
    sta_delay, spice_delay : float
        Seconds from the input's to the output's 50 % crossing: OpenSTA's (with the slews it
        propagated) and ngspice's (the slowest copy's).
    """

    instance: str
    cell: str
    input_pin: str
    output_pin: str
    rising: bool
    load: float
    sta_delay: float
    spice_delay: float


@dataclass(frozen=True)
class CriticalPathCheck:
    """OpenSTA's and ngspice's delay of one path: :func:`check_critical_path`.

    Members
    -------
    design, library : str
    startpoint, endpoint : str
    sta_delay, spice_delay : float
        Seconds from the first cell's input to the endpoint.
    stages : tuple of PathStage
    copies : int
        Paths simulated side by side (one per combination of the stages' side-input ties,
        at most :data:`MAX_COPIES`).
    seconds : float
        Wall time of the simulation.
    """

    design: str
    library: str
    startpoint: str
    endpoint: str
    sta_delay: float
    spice_delay: float
    stages: tuple
    copies: int
    seconds: float

    @property
    def ratio(self):
        """``sta_delay / spice_delay``."""
        return self.sta_delay / self.spice_delay


def sensitizing_ties(cell, input_pin, output_pin, *, input_rising, output_rising):
    """The ties of a cell's other inputs under which ``input_pin``'s transition switches
    ``output_pin`` the given way.

    Parameters
    ----------
    cell : CharacterizedCell
    input_pin, output_pin : str
    input_rising, output_rising : bool

    Returns
    -------
    list of dict of str to bool
        Each tie of the other inputs (possibly one empty dict for a one-input cell).

    Raises
    ------
    ValueError
        If a pin is not the cell's.
    """
    functions = dict(cell.functions)
    if input_pin not in cell.inputs:
        raise ValueError(f"input_pin {input_pin!r} is not an input of {cell.name} "
                         f"{cell.inputs}")
    if output_pin not in functions:
        raise ValueError(f"output_pin {output_pin!r} is not an output of {cell.name} "
                         f"{tuple(functions)}")
    others = [pin for pin in cell.inputs if pin != input_pin]
    ties = []
    for values in itertools.product((False, True), repeat=len(others)):
        tie = dict(zip(others, values, strict=True))
        low, high = (bool(liberty_function(functions[output_pin], {
            **{pin: np.array([value]) for pin, value in tie.items()},
            input_pin: np.array([level])})[0]) for level in (False, True))
        after = high if input_rising else low
        if low != high and after == output_rising:
            ties.append(tie)
    return ties


def _subcircuit_pins(netlist):
    header = netlist.lstrip().splitlines()[0].split()
    if header[0].lower() != ".subckt":
        raise ValueError(f"a characterized netlist must start with .subckt, not {header!r}")
    return header[1], header[2:]


def _stages(points, cells):
    if len(points) < 4 or points[0].cell != "in" or points[-1].cell != "out":
        raise ValueError("the critical path must run from an input port to an output port "
                         "through cells (a path from or to a flip-flop is not checked), not "
                         f"{short_repr([point.pin for point in points])}")
    middle = points[1:-1]
    if len(middle) % 2:
        raise ValueError(f"the path's cell pins must come in input-output pairs, not "
                         f"{short_repr([point.pin for point in middle])}")
    stages = []
    for driven, driving in zip(middle[::2], middle[1::2], strict=True):
        instance, _, input_pin = driven.pin.rpartition("/")
        other, _, output_pin = driving.pin.rpartition("/")
        if instance != other or driven.cell != driving.cell:
            raise ValueError(f"the path's pins {driven.pin!r} and {driving.pin!r} are not one "
                             f"cell's input and output")
        if driving.cell not in cells:
            raise ValueError(f"cell {driving.cell!r} of the path is not in the library's "
                             f"characterized cells {sorted(cells)}")
        stages.append((instance, cells[driving.cell], input_pin, output_pin, driven, driving))
    return stages


def check_critical_path(design, build, *, clock_ns=None):
    """Time ``design``'s worst path on our library with OpenSTA and with ngspice.

    Parameters
    ----------
    design :
        Anything :func:`dcim.flow.synthesis.synthesize` takes (a
        :class:`~dcim.arith.MultiplierSpec`...); combinational, so that its worst path runs
        from an input port to an output port.
    build : LibraryBuild
        The library (:func:`~dcim.spice.library.build_pdk`): its PDK, its characterized cells
        and their corner.
    clock_ns : float or None
        As for :func:`dcim.flow.analysis.analyze_timing`.

    Returns
    -------
    CriticalPathCheck

    Raises
    ------
    ValueError
        If ``build`` is not a LibraryBuild, or the path is not one this can simulate.
    SimulationError
        If ngspice fails (the deck is kept).
    """
    from ..flow.analysis import critical_path_points
    from ..flow.synthesis import synthesize
    from .library import LibraryBuild

    if not isinstance(build, LibraryBuild):
        raise ValueError(f"build must be a LibraryBuild (from build_pdk), not "
                         f"{short_repr(build)}")
    synthesis = synthesize(design, pdk=build.pdk)
    points = critical_path_points(synthesis, clock_ns, pdk=build.pdk)
    cells = {cell.name: cell for cell in build.cells}
    stages = _stages(points, cells)
    choices = []
    for instance, cell, input_pin, output_pin, driven, driving in stages:
        ties = sensitizing_ties(cell, input_pin, output_pin, input_rising=driven.rising,
                                output_rising=driving.rising)
        if not ties:
            raise ValueError(f"no tie of {instance} ({cell.name})'s other inputs makes "
                             f"{input_pin} switch {output_pin} as the report says")
        choices.append(ties)
    combinations = math.prod(len(ties) for ties in choices)
    if combinations <= MAX_COPIES:
        assignments = list(itertools.product(*choices))
    else:
        assignments = [tuple(ties[copy % len(ties)] for ties in choices)
                       for copy in range(max(len(ties) for ties in choices))]
    copies = len(assignments)
    loads = []
    for index, (_, _, _, _, _, driving) in enumerate(stages):
        load = driving.load_ff * 1e-15 if driving.load_ff is not None else 0.0
        if index + 1 < len(stages):
            following = stages[index + 1]
            load -= following[1].pin_capacitance[following[2]]
        loads.append(max(load, 0.0))
    corner, vdd = build.corner, build.corner.vdd
    first = points[1]
    ramp = points[0].slew_ns * 1e-9 / SLEW_FRACTION
    sta_total = (points[-1].arrival_ns - first.arrival_ns) * 1e-9
    stop = _START + ramp + 3 * sta_total + 300e-12
    lines = [f"* critical path of {synthesis.design}, {corner.name}", *corner.deck_header()]
    lines += sorted({cell.netlist for _, cell, *_ in stages})
    lines.append(f"vhi hi 0 {vdd:g}")
    begin, end = (0.0, vdd) if first.rising else (vdd, 0.0)
    saved = []
    for copy in range(copies):
        lines.append(f"vin{copy} c{copy}_n0 0 pwl(0 {begin:g} {_START:.6g} {begin:g} "
                     f"{_START + ramp:.6g} {end:g})")
        saved.append(f"v(c{copy}_n0)")
        for index, (_, cell, input_pin, output_pin, _, _) in enumerate(stages):
            tie = assignments[copy][index]
            name, pins = _subcircuit_pins(cell.netlist)
            nodes = []
            for pin in pins:
                if pin == input_pin:
                    nodes.append(f"c{copy}_n{index}")
                elif pin == output_pin:
                    nodes.append(f"c{copy}_n{index + 1}")
                elif pin in tie:
                    nodes.append("hi" if tie[pin] else "0")
                elif pin == "vdd":
                    nodes.append("hi")
                elif pin == "gnd":
                    nodes.append("0")
                else:  # an output the path does not take
                    nodes.append(f"c{copy}_s{index}_{pin}")
            lines.append(f"x{copy}_{index} {' '.join(nodes)} {name}")
            if loads[index] > 0:
                lines.append(f"cl{copy}_{index} c{copy}_n{index + 1} 0 {loads[index]:.6g}")
            saved.append(f"v(c{copy}_n{index + 1})")
    lines += [f".save {' '.join(saved)}", ".options method=gear",
              f".tran 0.5p {stop:.6g} 0 {_MAX_STEP:g}", ".end"]
    started = time.monotonic()
    vectors = run_deck("\n".join(lines) + "\n", name="critical-path")
    seconds = time.monotonic() - started
    times = vectors["time"]
    crossings = np.empty((copies, len(stages) + 1))
    for copy in range(copies):
        rising = [first.rising] + [driving.rising for *_, driving in stages]
        for node, node_rising in enumerate(rising):
            # From the ramp's start: a stage may cross before its input does (a slow input
            # into a light load), a negative delay as in the tables.
            crossings[copy, node] = crossing_time(times, vectors[f"c{copy}_n{node}"],
                                                  0.5 * vdd, _START, node_rising)
    if not np.all(np.isfinite(crossings)):
        raise ValueError(f"the simulated path of {synthesis.design} did not switch within "
                         f"{stop:.3g} s: the ties or the report's transitions are wrong")
    slowest = int(np.argmax(crossings[:, -1] - crossings[:, 0]))
    path_stages = tuple(
        PathStage(instance=instance, cell=cell.name, input_pin=input_pin,
                  output_pin=output_pin, rising=driving.rising, load=loads[index],
                  sta_delay=(driving.arrival_ns - driven.arrival_ns) * 1e-9,
                  spice_delay=float(crossings[slowest, index + 1] - crossings[slowest, index]))
        for index, (instance, cell, input_pin, output_pin, driven, driving)
        in enumerate(stages))
    spice_total = float(crossings[slowest, -1] - crossings[slowest, 0])
    if not math.isfinite(spice_total) or spice_total <= 0:
        raise ValueError(f"the simulated path delay {spice_total!r} is not positive")
    return CriticalPathCheck(design=synthesis.design, library=build.pdk.name,
                             startpoint=points[0].pin, endpoint=points[-1].pin,
                             sta_delay=sta_total, spice_delay=spice_total, stages=path_stages,
                             copies=copies, seconds=seconds)
