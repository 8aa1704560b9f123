"""Timing and power of a synthesized design: OpenSTA, and power from real operands.

:func:`analyze_timing` reports the worst path, slack, minimum period and maximum frequency.
:func:`analyze_power` reports internal, switching and leakage power, and energy per
operation, in one of two ways:

- **vectorless** (``activity=``): OpenSTA's own estimate. With ``activity_model="inputs"``
  every input port toggles ``activity`` times per clock cycle (duty 0.5) and OpenSTA
  propagates the probabilities through the logic; with ``"global"`` every net toggles
  ``activity`` times per cycle.
- **from data** (``operands=``): the mapped netlist is simulated on the operands, one
  operand set per clock cycle, with each cell's Liberty function
  (:class:`~dcim.flow.activity.MappedNetlist`), and every transition is priced with the
  Liberty data: switching energy ``C V^2 / 2`` per transition of each net, with ``C`` the
  net's load as OpenSTA computes it (pin capacitances, wire-load model, output load);
  internal energy from the cell's ``internal_power`` table of the arc that switched (chosen
  by its ``when`` condition in that cycle), at the input slew and load OpenSTA computes;
  leakage from each cell's ``leakage_power`` states, weighted by the time spent in each.
  OpenSTA's per-pin activity command is broken in the Debian build and it has no VCD or SAIF
  reader, so measured activity cannot be handed to it; ``docs/flow.md`` describes the method
  and its validation against OpenSTA, which is repeated in every report's ``checks``.
  A design assembled from blocks is simulated and priced block by block
  (:class:`~dcim.flow.activity.BlockNetlist`: each distinct block once, all its instances
  side by side), with the slews and loads of one instance of each block, which the timing
  run dumps; ``per_block=False`` simulates and prices the flat expansion instead.

Energy per operation is total power times the clock period, divided by the operations per
cycle (1 multiply for a multiplier, ``rows * cols / interval`` MACs for a macro). The clock is
the ``clock_ns`` given, else the one the design was synthesized for, else the design's own
minimum period (it runs at its maximum frequency).
"""

import concurrent.futures
import hashlib
import json
import math
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..checks import short_repr
from ..eda import cache, tools
from .activity import BlockNetlist, MappedNetlist, Stimulus, block_paths
from .block_timing import LOAD_SUFFIX, load_netlist
from .liberty import unateness
from .pdk import load_pdk
from .sta import (
    PATH_FIELDS_TCL,
    constraints,
    link_inputs,
    parse_checks,
    parse_path_points,
    parse_power,
    run_sta,
    setup_script,
    tcl_port,
)
from .synthesis import SynthesisReport

__all__ = ["ACTIVITY_MODELS", "PowerReport", "TimingReport", "TimingViolationWarning",
           "analyze_power", "analyze_timing", "check_power_options", "critical_path_points",
           "macro_libraries",
           "timing_and_block_activity", "uniform_operands", "warn_if_violated"]

ACTIVITY_MODELS = ("inputs", "global")
"""Vectorless activity models: toggles at the input ports, or on every net."""

DEFAULT_ACTIVITY = 0.5
"""Vectorless default: each input bit toggles every other cycle, as uniformly random data."""

# Timing needs some clock period even for purely combinational designs (a virtual clock):
# it does not change the delays, only the slack.
_TIMING_PERIOD_NS = 10.0


@dataclass(frozen=True)
class TimingReport:
    """The result of :func:`analyze_timing` (times in nanoseconds).

    Members
    -------
    design, corner : str
    clock_ns : float
        The clock period timed against (a virtual clock for a combinational design).
    critical_path_ns : float
        Arrival time at the worst endpoint: for a combinational design, its delay from
        inputs to outputs (including the input driver cell).
    slack_ns : float
        Worst slack at ``clock_ns``.
    min_period_ns : float
        The shortest clock period with no negative slack.
    fmax_mhz : float
    startpoint, endpoint : str
    path : tuple of (point, increment, arrival)
    log : str
        The OpenSTA log.
    cached : bool
    sta_version : str
        The version line of the OpenSTA that made the report.
    """

    design: str
    corner: str
    clock_ns: float
    critical_path_ns: float
    slack_ns: float
    min_period_ns: float
    fmax_mhz: float
    startpoint: str
    endpoint: str
    path: tuple
    log: str = ""
    cached: bool = False
    sta_version: str = ""

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class PowerReport:
    """The result of :func:`analyze_power` (watts, nanoseconds, picojoules).

    Members
    -------
    design, corner : str
    method : str
        ``"vectorless"`` (OpenSTA) or ``"data"`` (simulated operands).
    activity_model : str
        ``"inputs"`` or ``"global"`` for vectorless power; ``"measured"`` from data.
    activity : float
        The stated activity, or for data the measured mean toggles per net per cycle.
    clock_ns : float
        The clock period the power is given at.
    internal_w, switching_w, leakage_w, total_w : float
    ops_per_cycle : float
    operation : str
    cycles : int
        Operand sets simulated (data only; 0 otherwise).
    checks : dict
        For data: OpenSTA's vectorless figures for the same design and clock, at the measured
        input statistics (``opensta_inputs``) and at the measured mean activity on every net
        (``opensta_global``), and this method's switching power at that mean activity
        (``switching_at_mean_activity_w``, which must equal OpenSTA's).
    log : str
    cached : bool
    """

    design: str
    corner: str
    method: str
    activity_model: str
    activity: float
    clock_ns: float
    internal_w: float
    switching_w: float
    leakage_w: float
    total_w: float
    ops_per_cycle: float = 1.0
    operation: str = "operation"
    cycles: int = 0
    checks: dict = field(default_factory=dict)
    log: str = ""
    cached: bool = False

    @property
    def dynamic_w(self):
        return self.internal_w + self.switching_w

    @property
    def energy_per_cycle_pj(self):
        """Energy drawn per clock cycle, in picojoules."""
        return self.total_w * self.clock_ns * 1e3

    @property
    def energy_per_op_pj(self):
        """Energy per operation (multiply, MAC, ...), in picojoules."""
        return self.energy_per_cycle_pj / self.ops_per_cycle

    def as_dict(self):
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["energy_per_cycle_pj"] = self.energy_per_cycle_pj
        data["energy_per_op_pj"] = self.energy_per_op_pj
        return data


# -- shared set-up ----------------------------------------------------------------------------

def _check_synthesis(synthesis):
    if not isinstance(synthesis, SynthesisReport):
        raise TypeError(f"synthesis must be a SynthesisReport (from dcim.flow.synthesize), not "
                        f"{short_repr(synthesis)}")


def _pdk_of(synthesis, pdk, pdk_root):
    if pdk is None:
        pdk = synthesis.pdk_source or synthesis.pdk
    return load_pdk(pdk, pdk_root if pdk_root is not None else (synthesis.pdk_root or None))


def _prepare(synthesis, pdk, period_ns, workdir, netlist=None):
    """Write the SDC into ``workdir`` and return the Tcl that loads the design.

    ``netlist``: Verilog text to time instead of the synthesized netlist (timing by block).
    """
    library = pdk.library(synthesis.corner)
    inputs = [name for name in synthesis.inputs if name != synthesis.clock_port]
    sdc = constraints(period_ns=period_ns, clock_port=synthesis.clock_port, inputs=inputs,
                      library=library, pdk=pdk, corner=synthesis.corner)
    (Path(workdir) / "constraint.sdc").write_text(sdc)
    macros = macro_libraries(synthesis)
    if netlist is None:
        link_inputs(workdir, {"netlist.v": synthesis.netlist_path})
    else:
        (Path(workdir) / "netlist.v").write_text(netlist)
    link_inputs(workdir, {"cells.lib": pdk.analysis_liberty(synthesis.corner), **macros})
    return setup_script(liberty="cells.lib", netlist="netlist.v", top=synthesis.top,
                        sdc="constraint.sdc", wire_load=pdk.wire_load,
                        macro_libraries=tuple(macros))


def critical_path_points(synthesis, clock_ns=None, *, pdk=None, pdk_root=None):
    """The pins of a synthesized design's worst path, with their slews, arrivals and loads.

    The whole netlist is timed in one run, as :func:`analyze_timing` times a flat design (a
    hierarchical one, which it times by block by default, is timed whole here), so that the
    points name the netlist's own instances.

    Parameters
    ----------
    synthesis : SynthesisReport
    clock_ns : float or None
        As for :func:`analyze_timing`.
    pdk, pdk_root :
        Override the PDK recorded in ``synthesis``.

    Returns
    -------
    tuple of PathPoint
        From the startpoint to the endpoint (:class:`dcim.flow.sta.PathPoint`).

    Raises
    ------
    ToolNotFoundError, ToolError
        If OpenSTA is missing or fails (the log is kept).
    ValueError
        If the design has no timed path.
    """
    _check_synthesis(synthesis)
    clock_ns = _check_period("clock_ns", clock_ns) or synthesis.clock_ns or _TIMING_PERIOD_NS
    pdk = _pdk_of(synthesis, pdk, pdk_root)
    with tempfile.TemporaryDirectory(prefix="dcim-sta-path-") as workdir:
        setup = _prepare(synthesis, pdk, clock_ns, workdir)
        output = run_sta(setup + "\n" + PATH_FIELDS_TCL, workdir=workdir,
                         log_name="critical-path")
    return parse_path_points(output)


def macro_libraries(synthesis):
    """The Liberty files of a design's hard macros, as ``{file name: path}`` for OpenSTA."""
    return {f"macro_{name}.lib": facts["liberty"]
            for name, facts in sorted(synthesis.macros.items())}


def _check_period(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or not value > 0:
        raise ValueError(f"{name} must be a finite positive number of nanoseconds or None, "
                         f"not {value!r}")
    return float(value)


def check_power_options(activity, operands, activity_model):
    """Validate the power options before any tool runs; returns the activity as a float.

    Raises
    ------
    ValueError
        If both ``activity`` and ``operands`` are given, ``activity`` is not a number of
        toggles per cycle from 0 to 2, ``activity_model`` is unknown, or ``operands`` is a
        string other than ``"uniform"``.
    """
    if activity is not None and operands is not None:
        raise ValueError("give either activity (vectorless) or operands (from data), not both")
    if activity_model not in ACTIVITY_MODELS:
        raise ValueError(f"activity_model must be one of {', '.join(ACTIVITY_MODELS)}, "
                         f"not {activity_model!r}")
    if isinstance(operands, str) and operands != "uniform":
        raise ValueError(f"operands must be 'uniform', a dict, a tuple of arrays or a "
                         f"2-D array, not {operands!r}")
    if activity is None:
        return None
    if isinstance(activity, bool) or not isinstance(activity, (int, float, np.integer,
                                                               np.floating)) \
            or not 0 <= activity <= 2:
        raise ValueError(f"activity must be a number of toggles per cycle from 0 to 2, "
                         f"not {activity!r}")
    return float(activity)


class TimingViolationWarning(UserWarning):
    """Power or energy is asked for at a clock the design cannot meet (negative slack)."""


def warn_if_violated(design, clock_ns, min_period_ns, stacklevel=3):
    """Warn that figures at ``clock_ns`` are not attainable when it is below the minimum."""
    if clock_ns is not None and clock_ns < min_period_ns:
        warnings.warn(f"clock_ns={clock_ns:g} is shorter than the minimum period of {design} "
                      f"({min_period_ns:.4g} ns, slack {clock_ns - min_period_ns:.4g} ns): the "
                      f"design cannot run at that clock, and its power there is not real",
                      TimingViolationWarning, stacklevel=stacklevel)


def _analysis_key(step, synthesis, pdk, **parts):
    return cache.cache_key(step=step, synthesis=synthesis.key, sta=tools.tool_version("sta"),
                           wire_load=pdk.wire_load, driver=list(pdk.driver),
                           output_load=pdk.output_load_farads(synthesis.corner), **parts)


# -- timing -----------------------------------------------------------------------------------

def analyze_timing(synthesis, clock_ns=None, *, pdk=None, pdk_root=None, cache_results=True,
                   by_block=None):
    """Static timing of a synthesized design with OpenSTA.

    Parameters
    ----------
    synthesis : SynthesisReport
    clock_ns : float or None
        Clock period; defaults to the one the design was synthesized for, else a 10 ns
        virtual clock (combinational delays and the minimum period do not depend on it).
    pdk, pdk_root :
        Override the PDK recorded in ``synthesis``.
    cache_results : bool
    by_block : bool or None
        For a design assembled from blocks: time one instance of each of the top's blocks
        in full and the others as the loads they put on their parent's nets
        (:mod:`dcim.flow.block_timing`; OpenSTA then computes the delays of one lane of a
        macro, not of every lane), or (``False``) the whole hierarchy. ``None`` (the
        default): by block where the design is assembled from blocks.

    Returns
    -------
    TimingReport

    Raises
    ------
    ToolNotFoundError, ToolError
        If OpenSTA is missing or fails (the log is kept).
    """
    _check_synthesis(synthesis)
    clock_ns = _check_period("clock_ns", clock_ns) or synthesis.clock_ns or _TIMING_PERIOD_NS
    pdk = _pdk_of(synthesis, pdk, pdk_root)
    by_block = _check_by_block(synthesis, by_block)
    key = _timing_key(synthesis, pdk, clock_ns, by_block)
    if cache_results:
        stored = cache.load("timing", key)
        if stored is not None:
            stored["path"] = tuple(tuple(point) for point in stored["path"])
            return TimingReport(**dict(stored, cached=True))
    # Timed by block, the same run dumps what power per block needs: power per block reads
    # the slews and loads of that netlist (_block_electrical), never of the whole hierarchy.
    modules = (json.loads(synthesis.modules_json_path.read_text())["modules"]
               if synthesis.hierarchical else None)
    paths = block_paths(modules, synthesis.top) if modules and by_block else None
    netlist, loads = _by_block_netlist(synthesis, pdk, modules) if by_block else (None, ())
    with tempfile.TemporaryDirectory(prefix="dcim-sta-") as workdir:
        setup = _prepare(synthesis, pdk, clock_ns, workdir, netlist)
        output = run_sta(setup + "\nreport_checks -path_delay max -format full -digits 4\n"
                         + (_block_electrical_tcl(paths, synthesis.macros, loads)
                            if paths else ""),
                         workdir=workdir, log_name="timing")
        if paths and cache_results:
            cache.store("timing", _electrical_key(synthesis, pdk), {"step": "electrical"},
                        {"electrical.txt": Path(workdir) / "electrical.txt"})
        path = parse_checks(output)
        if path is None:  # no timed path at all (e.g. constant outputs)
            arrival, slack, start, end, points = 0.0, clock_ns, "", "", ()
        else:
            arrival, slack = path.arrival_ns, path.slack_ns
            start, end, points = path.startpoint, path.endpoint, path.points
        min_period = max(clock_ns - slack, 1e-6)
        report = TimingReport(
            design=synthesis.design, corner=synthesis.corner, clock_ns=clock_ns,
            critical_path_ns=arrival, slack_ns=slack, min_period_ns=min_period,
            fmax_mhz=1e3 / min_period, startpoint=start, endpoint=end, path=points,
            log=output, sta_version=tools.tool_version("sta"))
    cache.store("timing", key, report.as_dict())
    return report


def _check_by_block(synthesis, by_block):
    if by_block is not None and not isinstance(by_block, bool):
        raise TypeError(f"by_block must be True, False or None, not {by_block!r}")
    if by_block and not synthesis.hierarchical:
        raise ValueError(f"by_block=True needs a design synthesized block by block, and "
                         f"{synthesis.design} was synthesized in one piece")
    return synthesis.hierarchical if by_block is None else by_block


def _by_block_netlist(synthesis, pdk, modules):
    """The netlist of timing by block and the names of its load modules."""
    netlist = load_netlist(synthesis.netlist_path.read_text(), modules, synthesis.top,
                           pdk.library(synthesis.corner), synthesis.macros)
    return netlist, tuple(name + LOAD_SUFFIX for name in modules)


def _timing_key(synthesis, pdk, clock_ns, by_block):
    # Whole-design timing keeps its key; timing by block has its own.
    return _analysis_key("timing", synthesis, pdk, clock_ns=clock_ns,
                         **({"by_block": True} if by_block else {}))


# -- operands ---------------------------------------------------------------------------------

def uniform_operands(synthesis, count=4096, seed=0):
    """Uniformly random values for every input port but the clock, ``count`` cycles."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise ValueError(f"count must be an int of at least 2, not {count!r}")
    rng = np.random.default_rng(seed)
    return {name: rng.integers(0, 1 << width, size=count, dtype=np.int64)
            for name, width in synthesis.inputs.items() if name != synthesis.clock_port}


def _normalise_operands(synthesis, operands):
    if isinstance(operands, Stimulus):
        return operands
    if isinstance(operands, str):
        if operands != "uniform":
            raise ValueError(f"operands must be 'uniform', a dict, a tuple of arrays or a "
                             f"2-D array, not {operands!r}")
        return uniform_operands(synthesis)
    ports = [name for name in synthesis.inputs if name != synthesis.clock_port]
    if isinstance(operands, dict):
        result = dict(operands)
    else:
        if isinstance(operands, (tuple, list)):
            columns = list(operands)
        else:
            array = np.asarray(operands)
            if array.ndim != 2:
                raise ValueError(f"operands must be a 2-D array (cycles x ports), not an array "
                                 f"of shape {array.shape}")
            columns = list(array.T)
        if len(columns) != len(ports):
            raise ValueError(f"operands must give {len(ports)} columns (ports "
                             f"{', '.join(ports)}), not {len(columns)}")
        result = dict(zip(ports, columns, strict=True))
    for name, values in result.items():
        if name not in synthesis.inputs:
            raise ValueError(f"operands name port {name!r}, which is not an input of "
                             f"{synthesis.design} ({', '.join(ports)})")
        values = np.asarray(values)
        if values.dtype.kind not in "iub":
            raise TypeError(f"operands for port {name!r} must be integers, not {values.dtype}")
        width = synthesis.inputs[name]
        if values.size and (values.min() < -(1 << (width - 1)) or values.max() >= 1 << width):
            raise ValueError(f"operands for port {name!r} must fit in {width} bits, not "
                             f"{int(values.max() if values.max() >= 1 << width else values.min())}")
        result[name] = values.astype(np.int64).reshape(-1)
    return result


def _operand_digest(operands):
    digest = hashlib.sha256()
    if isinstance(operands, Stimulus):
        digest.update(repr(operands.measure).encode())
        operands = operands.ports
    for name in sorted(operands):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(operands[name]).tobytes())
    return digest.hexdigest()


# -- power ------------------------------------------------------------------------------------

def _port_bits(synthesis):
    """OpenSTA's names for each input bit: ``a[3]`` for buses, ``a`` for single bits."""
    return {name: [name] if width == 1 else [f"{name}[{bit}]" for bit in range(width)]
            for name, width in synthesis.inputs.items() if name != synthesis.clock_port}


def _vectorless_tcl(synthesis, activity, model, port_activity):
    if model == "global":
        return f"set_power_activity -global -activity {activity:.8g} -duty 0.5\n"
    bits = _port_bits(synthesis)
    settings = {bit: (activity, 0.5) for names in bits.values() for bit in names}
    for port, indices, port_value, duty in port_activity:
        for index, bit in enumerate(bits.get(port, [])):
            if indices is None or index in indices:
                settings[bit] = (activity if port_value is None else port_value, duty)
    # OpenSTA gives the default input activity to register outputs it cannot resolve (state
    # held in a loop): with a port profile, held state must default to not toggling.
    base = 0.0 if port_activity else activity
    lines = [f"set_power_activity -input -activity {base:.8g} -duty 0.5"]
    for bit, (value, duty) in settings.items():
        lines.append(f"set_power_activity -input_ports [get_ports {tcl_port(bit)}] "
                     f"-activity {value:.8g} -duty {duty:.8g}")
    return "\n".join(lines) + "\n"


def analyze_power(synthesis, *, activity=None, operands=None, clock_ns=None,
                  activity_model="inputs", port_activity=(), timing=None, pdk=None,
                  pdk_root=None, cache_results=True, per_block=None):
    """Power and energy per operation of a synthesized design.

    Parameters
    ----------
    synthesis : SynthesisReport
    activity : float or None
        Vectorless power: toggles per clock cycle (of the input ports, or of every net; see
        ``activity_model``). Defaults to 0.5 when ``operands`` is not given.
    operands : "uniform", dict, tuple of arrays, 2-D array, Stimulus, or None
        Power from data. For a combinational design: one value per clock cycle for every
        input port, as ``{port: array}``, as arrays in port order (``(a, b)`` for a
        multiplier), or as a ``(cycles, ports)`` array; ``"uniform"`` draws 4,096 uniformly
        random cycles. For a clocked design: a :class:`~dcim.flow.activity.Stimulus` (see
        :func:`~dcim.flow.macro_stimulus`; :func:`~dcim.flow.ppa` makes one for a macro).
    clock_ns : float or None
        Clock period; defaults to the synthesis clock, else the design's minimum period.
    activity_model : str
        ``"inputs"`` or ``"global"`` (vectorless only).
    port_activity : sequence of (port, bit indices or None, activity or None, duty)
        Vectorless ``"inputs"`` model: per-port overrides (``None`` activity: ``activity``).
    timing : TimingReport or None
        Saves a timing run when the clock defaults to the minimum period, and, for a design
        assembled from blocks, the OpenSTA run that power per block needs (its electrical
        data is dumped in the timing run).
    pdk, pdk_root :
        Override the PDK recorded in ``synthesis``.
    cache_results : bool
    per_block : bool or None
        Power from data of a design assembled from blocks (``synthesis.hierarchical``) with
        a Stimulus: ``True`` (the default, ``None``) simulates each distinct block once
        with all its instances side by side and prices its cells once; ``False`` simulates
        and prices the flat expansion cell by cell, and adds OpenSTA's vectorless figures
        to ``checks`` (slower: the reference the per-block method is validated against).

    Returns
    -------
    PowerReport

    Raises
    ------
    ValueError
        If both or neither of ``activity`` and ``operands`` make sense, for a bad
        ``activity_model``, for operands that do not fit the ports, or for data on a clocked
        design.
    ToolNotFoundError, ToolError
        If OpenSTA is missing or fails.
    """
    _check_synthesis(synthesis)
    activity = check_power_options(activity, operands, activity_model)
    if operands is None and activity is None:
        activity = DEFAULT_ACTIVITY
    clock_ns = _check_period("clock_ns", clock_ns) or synthesis.clock_ns
    pdk = _pdk_of(synthesis, pdk, pdk_root)
    if clock_ns is None:
        timing = timing or analyze_timing(synthesis, pdk=pdk, cache_results=cache_results)
        clock_ns = timing.min_period_ns
    elif timing is not None:
        warn_if_violated(synthesis.design, clock_ns, timing.min_period_ns)
    if operands is None:
        return _vectorless(synthesis, pdk, float(activity), activity_model,
                           tuple(port_activity), clock_ns, cache_results)
    if per_block is not None and not isinstance(per_block, bool):
        raise TypeError(f"per_block must be True, False or None, not {per_block!r}")
    operands = _normalise_operands(synthesis, operands)
    if synthesis.hierarchical and isinstance(operands, Stimulus) and per_block is not False:
        return _from_data_blocks(synthesis, pdk, operands, clock_ns, cache_results)
    return _from_data(synthesis, pdk, operands, clock_ns, cache_results)


def _power_report(synthesis, values, **facts):
    internal, switching, leakage, total = values
    return PowerReport(design=synthesis.design, corner=synthesis.corner, internal_w=internal,
                       switching_w=switching, leakage_w=leakage, total_w=total,
                       ops_per_cycle=synthesis.ops_per_cycle, operation=synthesis.operation,
                       **facts)


def _vectorless(synthesis, pdk, activity, model, port_activity, clock_ns, cache_results):
    key = _analysis_key("power", synthesis, pdk, activity=activity, model=model,
                        port_activity=port_activity, clock_ns=clock_ns)
    if cache_results:
        stored = cache.load("power", key)
        if stored is not None:
            return PowerReport(**dict(_stored_fields(stored), cached=True))
    with tempfile.TemporaryDirectory(prefix="dcim-sta-") as workdir:
        setup = _prepare(synthesis, pdk, clock_ns, workdir)
        body = setup + "\n" + _vectorless_tcl(synthesis, activity, model, port_activity)
        output = run_sta(body + "report_power -digits 8\n", workdir=workdir, log_name="power")
    report = _power_report(synthesis, parse_power(output), method="vectorless",
                           activity_model=model, activity=activity, clock_ns=clock_ns,
                           log=output)
    cache.store("power", key, report.as_dict())
    return report


def _stored_fields(stored):
    return {name: value for name, value in stored.items()
            if name in PowerReport.__dataclass_fields__}


_PIN_DUMP_TCL = """
# Writes the slew of every input pin and the load on every output pin of the cells found by
# each pattern of `patterns` to `path` (after timing), skipping instances of the modules in
# `skip` (blocks, whose own cells the patterns reach): what power from data prices with.
proc dcim_dump_pins {path patterns skip} {
  set corner [sta::cmd_corner]
  set out [open $path w]
  puts $out "T [sta::time_ui_sta 1.0]"
  foreach pattern $patterns {
    foreach inst [get_cells {*}$pattern] {
      if {$skip ne {} && [lsearch -exact $skip [get_property $inst ref_name]] >= 0} {
        continue
      }
      foreach pin [get_pins -of_objects $inst] {
        set direction [get_property $pin direction]
        if {$direction == "input"} {
          puts $out "S [get_full_name $pin] [get_property $pin actual_rise_transition_max]\
 [get_property $pin actual_fall_transition_max]"
        } elseif {$direction == "output"} {
          puts $out "C [get_full_name $pin] [$pin capacitance rise $corner max]\
 [$pin capacitance fall $corner max]"
        }
      }
    }
  }
  close $out
}
"""

_ELECTRICAL_TCL = (_PIN_DUMP_TCL + "report_checks -path_delay max -digits 4 > /dev/null\n"
                   "dcim_dump_pins electrical.txt {{-hierarchical *}} {}\n")


def _read_electrical(text):
    slews, loads, time_unit = {}, {}, 1e-9
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "T":
            time_unit = float(parts[1])
            continue
        instance, _, pin = parts[1].replace("\\", "").rpartition("/")
        rise, fall = _number(parts[2]), _number(parts[3])
        (slews if parts[0] == "S" else loads)[(instance, pin)] = (rise, fall)
    slews = {key: (rise * time_unit, fall * time_unit) for key, (rise, fall) in slews.items()}
    return slews, loads


def _number(text):
    try:
        return float(text)
    except ValueError:
        return 0.0  # OpenSTA prints "INF"/"" for pins without a timed slew


# -- power per block ---------------------------------------------------------------------------

_INSTANCE_PATH = re.compile(r"[A-Za-z0-9_.$/\[\]]*")


def _block_netlist(synthesis, library):
    modules = json.loads(synthesis.modules_json_path.read_text())["modules"]
    return BlockNetlist(modules, synthesis.top, library)


def _block_electrical_tcl(paths, macros=(), loads=()):
    """Tcl that dumps the slews and loads of one instance of each block (after timing).

    Every instance of a block has the same cells; their slews and loads differ only at the
    block's boundary (what drives its inputs, what its outputs drive), so one instance (the
    first in name order) stands for all. Hard macros (``macros``) are cells in OpenSTA, with
    nothing inside to dump; the load modules of timing by block (``loads``) are skipped as
    the blocks are.
    """
    patterns = []
    for name, path in paths.items():
        if name in macros:
            continue
        if not _INSTANCE_PATH.fullmatch(path):
            raise ValueError(f"cannot name instance {path!r} in OpenSTA")
        patterns.append("{{" + (f"{path}/*" if path else "*") + "}}")
    names = " ".join(sorted({*paths, *loads}))
    return (_PIN_DUMP_TCL + f"dcim_dump_pins electrical.txt {{{' '.join(patterns)}}} "
            f"{{{names}}}\n")


def _electrical_key(synthesis, pdk):
    return _analysis_key("electrical", synthesis, pdk)


def _block_electrical(synthesis, pdk, blocks, cache_results):
    """Slews and loads of every block's cells, ``{module: (slews, loads)}``.

    Read from the timing run where it dumped them, else from an OpenSTA run of its own.
    """
    key = _electrical_key(synthesis, pdk)
    folder = cache.entry("timing", key)
    path = folder / "electrical.txt"
    if cache_results and cache.load("timing", key) is not None and path.is_file():
        text = path.read_text()
    else:
        # On the netlist of timing by block, which the timing run dumps from: the same
        # figures either way.
        modules = json.loads(synthesis.modules_json_path.read_text())["modules"]
        netlist, loads = _by_block_netlist(synthesis, pdk, modules)
        with tempfile.TemporaryDirectory(prefix="dcim-sta-") as workdir:
            setup = _prepare(synthesis, pdk, _TIMING_PERIOD_NS, workdir, netlist)
            run_sta(setup + "\nreport_checks -path_delay max -digits 4 > /dev/null\n"
                    + _block_electrical_tcl(blocks.paths, synthesis.macros, loads),
                    workdir=workdir, log_name="electrical")
            text = (Path(workdir) / "electrical.txt").read_text()
            cache.store("timing", key, {"step": "electrical"},
                        {"electrical.txt": Path(workdir) / "electrical.txt"})
    slews, loads = _read_electrical(text)
    module_of = {path: name for name, path in blocks.paths.items()}
    found = {name: ({}, {}) for name in blocks.netlists}
    for index, table in enumerate((slews, loads)):
        for (instance, pin), value in table.items():
            prefix, _, cell = instance.rpartition("/")
            if prefix in module_of:
                found[module_of[prefix]][index][(cell, pin)] = value
    return found


# What timing_and_block_activity simulated while OpenSTA ran, for the analyze_power that
# follows: at most one entry, taken out when used.
_SIMULATED = {}


def _block_activity(synthesis, library, stimulus):
    key = (synthesis.key, synthesis.corner, _operand_digest(stimulus))
    found = _SIMULATED.pop(key, None)
    if found is None:
        blocks = _block_netlist(synthesis, library)
        found = blocks, blocks.count_sequential(stimulus, clock=synthesis.clock_port)
    return found


def timing_and_block_activity(synthesis, stimulus, clock_ns=None, *, pdk=None, pdk_root=None,
                              cache_results=True, by_block=None):
    """:func:`analyze_timing` of a design assembled from blocks, simulating it meanwhile.

    OpenSTA runs in a thread while the blocks are simulated on ``stimulus`` (what power per
    block needs, and which does not depend on the clock), so that the two share the cores;
    the next :func:`analyze_power` of the same design and stimulus in this process uses the
    simulation. With the timing already cached, nothing is simulated in advance.

    Returns
    -------
    TimingReport
    """
    _check_synthesis(synthesis)
    pdk = _pdk_of(synthesis, pdk, pdk_root)
    period = _check_period("clock_ns", clock_ns) or synthesis.clock_ns or _TIMING_PERIOD_NS
    key = _timing_key(synthesis, pdk, period, _check_by_block(synthesis, by_block))
    if cache_results and cache.load("timing", key) is not None:
        return analyze_timing(synthesis, clock_ns, pdk=pdk, cache_results=cache_results,
                              by_block=by_block)
    _SIMULATED.clear()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        timing = pool.submit(analyze_timing, synthesis, clock_ns, pdk=pdk,
                             cache_results=cache_results, by_block=by_block)
        library = pdk.library(synthesis.corner)
        blocks = _block_netlist(synthesis, library)
        counts = blocks.count_sequential(stimulus, clock=synthesis.clock_port)
        _SIMULATED[(synthesis.key, synthesis.corner, _operand_digest(stimulus))] = (blocks,
                                                                                    counts)
        return timing.result()


def _from_data_blocks(synthesis, pdk, stimulus, clock_ns, cache_results):
    """Power from data of a design assembled from blocks, each block simulated and priced once.

    Every instance of a block is simulated (its own port streams, all instances side by
    side in the bit-parallel words), and each cell of the block is priced once at the
    activity summed over the instances: switching and internal energy are linear in the
    transition counts, so this is the sum over the instances, exactly, but for the slews
    and loads, which are those of one instance (they differ only at the block's boundary).
    A hard macro's block is its simulation model: simulated in its place, not priced, the
    macro's power coming from its views and the writes counted (see ``_macro_power``).
    """
    key = _analysis_key("power-blocks", synthesis, pdk, operands=_operand_digest(stimulus),
                        clock_ns=clock_ns)
    if cache_results:
        stored = cache.load("power", key)
        if stored is not None:
            _SIMULATED.clear()  # a simulation made in advance is not needed after all
            return PowerReport(**dict(_stored_fields(stored), cached=True))
    library = pdk.library(synthesis.corner)
    blocks, counts = _block_activity(synthesis, library, stimulus)
    electrical = _block_electrical(synthesis, pdk, blocks, cache_results)
    samples = max(counts[blocks.top].transitions, 1)
    period = clock_ns * 1e-9
    internal = switching = leakage = per_toggle = 0.0
    toggled = observed = 0
    per_block, macro_power = {}, {}
    for name, netlist in blocks.netlists.items():
        block, instances = counts[name], blocks.instances[name]
        if name in synthesis.macros:
            # The model's own enable port: its nets hold every instance's write enables.
            writes = sum(int(block.ones[net]) for net in netlist.inputs.get("en", ()))
            macro_power[name] = _macro_power(synthesis.macros[name], instances,
                                             writes / samples, period)
            continue
        slews, loads = electrical[name]
        energy = _price(netlist, block, slews, loads, library)
        figures = {"instances": instances,
                   "internal_w": energy["internal_j"] / (samples * period),
                   "switching_w": energy["switching_j"] / (samples * period),
                   # _price gives the mean leakage of one instance (states over all samples).
                   "leakage_w": energy["leakage_w"] * instances}
        per_block[name] = figures
        internal += figures["internal_w"]
        switching += figures["switching_w"]
        leakage += figures["leakage_w"]
        per_toggle += energy["switching_per_toggle_j"] * instances
        # A block's input nets are its parent's: counted there (the top's, but the clock).
        if name == blocks.top:
            driven = _driven_nets(netlist, exclude=netlist.inputs.get(synthesis.clock_port, ()))
        else:
            driven = _driven_nets(netlist, exclude=[net for nets in netlist.inputs.values()
                                                    for net in nets])
        toggled += int(block.toggles[driven].sum())
        observed += len(driven) * block.transitions
    internal += sum(power["compute_w"] + power["write_w"] for power in macro_power.values())
    leakage += sum(power["leakage_w"] for power in macro_power.values())
    mean_activity = toggled / max(observed, 1)
    checks = {"mean_activity": mean_activity,
              "switching_at_mean_activity_w": per_toggle * mean_activity / period,
              "blocks": per_block}
    if macro_power:
        checks["macros"] = macro_power
    report = _power_report(synthesis, (internal, switching, leakage,
                                       internal + switching + leakage),
                           method="data", activity_model="measured", activity=mean_activity,
                           clock_ns=clock_ns, cycles=samples, checks=checks,
                           log="power per block: " + ", ".join(
                               f"{name} x{figures['instances']}"
                               for name, figures in per_block.items()))
    cache.store("power", key, report.as_dict())
    return report


def _from_data(synthesis, pdk, operands, clock_ns, cache_results):
    key = _analysis_key("power-data", synthesis, pdk, operands=_operand_digest(operands),
                        clock_ns=clock_ns)
    if cache_results:
        stored = cache.load("power", key)
        if stored is not None:
            return PowerReport(**dict(_stored_fields(stored), cached=True))
    library = pdk.library(synthesis.corner)
    module = json.loads(synthesis.netlist_json_path.read_text())["modules"][synthesis.top]
    netlist = MappedNetlist(module, library)
    clocked = isinstance(operands, Stimulus)
    if clocked:
        counts = netlist.count_sequential(operands, clock=synthesis.clock_port)
    elif netlist.flop_count:
        raise ValueError(f"{synthesis.design} is clocked ({netlist.flop_count} flip-flops): "
                         f"power from data needs a Stimulus (see dcim.flow.macro_stimulus), "
                         f"not operands per port")
    else:
        counts = netlist.count(operands)
    transitions = max(counts.transitions, 1)
    # Mean toggles per cycle over the nets that cells and input ports (but the clock) drive.
    driven = _driven_nets(netlist, exclude=netlist.inputs.get(synthesis.clock_port, ()))
    mean_activity = float(counts.toggles[driven].sum()) / (len(driven) * transitions)
    bits = _port_bits(synthesis)
    # State that OpenSTA cannot resolve (held in loops) defaults to the base input activity.
    base = 0.0 if clocked else mean_activity
    input_lines = [f"set_power_activity -input -activity {base:.8g} -duty 0.5"]
    for port, names in bits.items():
        for index, bit in enumerate(names):
            net = netlist.inputs[port][index]
            toggles = counts.toggles[net] / transitions
            duty = counts.ones[net] / counts.cycles
            input_lines.append(f"set_power_activity -input_ports [get_ports {tcl_port(bit)}]"
                               f" -activity {toggles:.8g} -duty {duty:.8g}")
    with tempfile.TemporaryDirectory(prefix="dcim-sta-") as workdir:
        setup = _prepare(synthesis, pdk, clock_ns, workdir)
        body = (setup + _ELECTRICAL_TCL + "\n".join(input_lines) + "\n"
                "puts DCIM-INPUTS\nreport_power -digits 8\n"
                f"set_power_activity -global -activity {mean_activity:.8g} -duty 0.5\n"
                "puts DCIM-GLOBAL\nreport_power -digits 8\n")
        output = run_sta(body, workdir=workdir, log_name="power")
        slews, loads = _read_electrical((Path(workdir) / "electrical.txt").read_text())
    inputs_part, global_part = output.split("DCIM-GLOBAL")
    opensta_inputs = parse_power(inputs_part.split("DCIM-INPUTS")[1])
    opensta_global = parse_power(global_part)
    models = tuple(f"{instance}/" for facts in synthesis.macros.values()
                   for instance in facts["pins"])
    energy = _price(netlist, counts, slews, loads, library, skip=models)
    period = clock_ns * 1e-9
    internal = energy["internal_j"] / (transitions * period)
    switching = energy["switching_j"] / (transitions * period)
    leakage = energy["leakage_w"]
    macro_power = {name: _macro_power(facts, len(facts["pins"]),
                                      _flat_writes(facts, netlist, counts), period)
                   for name, facts in synthesis.macros.items()}
    internal += sum(power["compute_w"] + power["write_w"] for power in macro_power.values())
    leakage += sum(power["leakage_w"] for power in macro_power.values())
    checks = {
        "mean_activity": mean_activity,
        "opensta_inputs": dict(zip(("internal_w", "switching_w", "leakage_w", "total_w"),
                                   opensta_inputs, strict=True)),
        "opensta_global": dict(zip(("internal_w", "switching_w", "leakage_w", "total_w"),
                                   opensta_global, strict=True)),
        "switching_at_mean_activity_w": energy["switching_per_toggle_j"] * mean_activity
        / period,
    }
    if macro_power:
        checks["macros"] = macro_power
    report = _power_report(synthesis, (internal, switching, leakage,
                                       internal + switching + leakage),
                           method="data", activity_model="measured", activity=mean_activity,
                           clock_ns=clock_ns, cycles=counts.cycles, checks=checks, log=output)
    cache.store("power", key, report.as_dict())
    return report


def _flat_writes(facts, netlist, counts):
    """Column writes per cycle of a hard macro's instances in the flat netlist."""
    writes = 0
    for pins in facts["pins"].values():
        nets = [netlist.net(bit) for bit in pins.get("en", ())]
        writes += sum(int(counts.ones[net]) for net in nets if net is not None)
    return writes / counts.cycles


def _macro_power(facts, instances, writes_per_cycle, period):
    """Power of a hard macro from its views and the accesses counted in the simulation.

    Every simulated cycle reads all compute ports once (the datapath reads the array every
    cycle it computes); each sample with a column's write enable high writes that column's
    bits (``writes_per_cycle``: column writes per cycle over all ``instances``). Its
    simulation model's own cells are not priced; the nets its outputs drive change only on
    writes, and are charged with it.
    """
    views = facts["views"]
    cols = views["spec"]["cols"]
    compute_j = views["compute_energy_per_bit_pj"] * views["spec"]["rows"] \
        * cols * views["spec"]["weight_bits"] * 1e-12
    return {"instances": instances, "writes_per_cycle": writes_per_cycle,
            "compute_w": instances * compute_j / period,
            "write_w": writes_per_cycle * views["write_energy_pj"] * 1e-12 / cols / period,
            "leakage_w": instances * views["leakage_w"]}


def _driven_nets(netlist, exclude=()):
    nets = {net for nets in netlist.inputs.values() for net in nets}
    for _, cell, pins in netlist.instances:
        for pin in cell.outputs:
            if pin.name in pins:
                nets.add(pins[pin.name])
    nets -= {0, 1, *exclude}
    return np.array(sorted(nets), dtype=np.int64)


def _price(netlist, counts, slews, loads, library, skip=()):
    """Energy of the counted transitions, with Liberty tables at OpenSTA's slews and loads.

    Returns joules of internal and switching energy over the whole stream, the switching
    energy of one transition of every output pin together, and the state-weighted leakage.
    Instances whose names start with one of ``skip`` (hard macros' simulation models) are
    simulated but not priced.
    """
    voltage = library.voltage
    internal = switching = per_toggle = leakage = 0.0
    # Batch table look-ups per (cell, pin, group): one interpolation call for all instances.
    batches = {}
    for index, (name, cell, pins) in enumerate(netlist.instances):
        if skip and name.startswith(skip):
            continue
        first_output = next((pin.name for pin in cell.outputs if pin.name in pins), None)
        output_load = loads.get((name, first_output), (0.0, 0.0))
        for pin in cell.pins.values():
            if pin.name not in pins:
                continue
            if pin.direction == "input":
                if not pin.internal_power:
                    continue
                slew = slews.get((name, pin.name), (0.0, 0.0))
                load = max(output_load) / library.capacitance_unit
                for group_index in range(len(pin.internal_power)):
                    grises, gfalls = counts.power_counts.get((index, pin.name, group_index),
                                                             (0, 0))
                    batches.setdefault((cell.name, pin.name, group_index), []).append(
                        (slew[0], slew[1], load, grises, gfalls, 1.0, 1.0))
                continue
            # The net's load as OpenSTA uses it for power: the larger of rise and fall.
            load_f = max(loads.get((name, pin.name), (0.0, 0.0)))
            rises, falls = counts.pin_transitions.get((index, pin.name), (0, 0))
            switching += 0.5 * load_f * voltage ** 2 * (rises + falls)
            per_toggle += 0.5 * load_f * voltage ** 2
            related = [(group_index, power) for group_index, power
                       in enumerate(pin.internal_power) if power.related_pin in pins]
            if not related:
                continue
            matched = [counts.power_counts.get((index, pin.name, group_index), (0, 0))
                       for group_index, _ in related]
            total_rise = sum(rise for rise, _ in matched)
            total_fall = sum(fall for _, fall in matched)
            for (group_index, power), (grises, gfalls) in zip(related, matched, strict=True):
                # Scale so that each output transition is priced once, as the average of the
                # arcs that switched with it (several inputs may switch in one cycle).
                rise_scale = rises / total_rise if total_rise else rises / len(related)
                fall_scale = falls / total_fall if total_fall else falls / len(related)
                if not total_rise:
                    grises = 1
                if not total_fall:
                    gfalls = 1
                slew_rise, slew_fall = _arc_slews(cell, pin, power,
                                                  slews.get((name, power.related_pin),
                                                            (0.0, 0.0)))
                batches.setdefault((cell.name, pin.name, group_index), []).append(
                    (slew_rise, slew_fall, load_f / library.capacitance_unit, grises, gfalls,
                     rise_scale, fall_scale))
        leakage += _leakage(cell, counts.leakage_counts.get(index, {}), counts.cycles)
    for (cell_name, pin_name, group_index), rows in batches.items():
        power = library.cells[cell_name].pins[pin_name].internal_power[group_index]
        data = np.array(rows, dtype=float)
        slew_rise = data[:, 0] / library.time_unit
        slew_fall = data[:, 1] / library.time_unit
        load = data[:, 2]
        if power.rise is not None:
            energy = power.rise.lookup(slew=slew_rise, load=load)
            internal += float(np.sum(energy * data[:, 3] * data[:, 5]))
        if power.fall is not None:
            energy = power.fall.lookup(slew=slew_fall, load=load)
            internal += float(np.sum(energy * data[:, 4] * data[:, 6]))
    return {"internal_j": internal * library.energy_unit, "switching_j": switching,
            "switching_per_toggle_j": per_toggle, "leakage_w": leakage * library.leakage_unit}


def _arc_slews(cell, pin, power, related_slews):
    """Input slews (seconds) for an output rise and fall of an arc, by its unateness."""
    rise, fall = related_slews
    sense = unateness(pin.function, power.related_pin) if pin.function else "non"
    if sense == "positive":
        return rise, fall
    if sense == "negative":
        return fall, rise
    mean = (rise + fall) / 2
    return mean, mean


def _leakage(cell, held, cycles):
    conditional = [(index, value) for index, (when, value) in enumerate(cell.leakage)
                   if when is not None]
    if conditional:
        # OpenSTA's rule: conditional groups, when present, replace the default ones.
        return sum(value * held.get(index, 0) / cycles for index, value in conditional)
    defaults = [value for when, value in cell.leakage if when is None]
    if defaults:
        return sum(defaults)
    return cell.cell_leakage or 0.0
