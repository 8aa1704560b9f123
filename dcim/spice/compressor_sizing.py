"""Compressor-cell sizing: an Optuna search over a compressor cell's widths for area, delay and
energy, subject to its function at every given corner.

:func:`size_compressor` searches four widths of a cell of :func:`compressor_cell`: the NMOS and
PMOS of its inner stages, and of the stages that drive its outputs (each group sized alike, so
that a search of tens of trials covers the space; a stage-by-stage search would have two
dozen dimensions). It runs on the core of :mod:`dcim.spice.study` (the search space, the thin
objective, Optuna's constrained TPE and the Pareto front are there). Each trial is
:func:`evaluate_compressor`, cached by content:

- **Objectives**, all minimized: the layout-model area (:mod:`dcim.spice.cells`), the worst
  delay at ``delay_corner`` (default SS, 0.9 V, 100 C: the slowest) and the energy per
  single-input transition at ``energy_corner`` (default TT, 1.0 V, 25 C), both from
  :func:`~dcim.spice.cell_measure.measure_cell` at the given load and input slew.
- **Constraint**: the cell's function, checked over every input pattern at every corner of
  ``corners`` (default :data:`FUNCTION_CORNERS`) by
  :func:`~dcim.spice.cell_check.check_function` against the compressor's own definition:
  the number of outputs off their rail, feasible when 0.
"""

import math
from dataclasses import asdict, dataclass, field

from ..checks import check_int, short_repr
from ..eda import cache
from .cell_check import check_function
from .cell_measure import DEFAULT_LOAD, DEFAULT_SLEW, measure_cell, measurement_settings
from .compressor_cells import compressor_cell
from .corners import Corner
from .simulator import SimulationError
from .study import Evaluation, EvaluationError, WidthRange, run_study

__all__ = ["FUNCTION_CORNERS", "OBJECTIVES", "CompressorPoint", "CompressorSizingResult",
           "default_ranges", "evaluate_compressor", "least_energy_delay", "size_compressor",
           "sized_cell"]

SIZING_VERSION = "2"
"""Changes whenever an evaluation's measurements change, so that old cache entries are
ignored."""
_CACHE_KIND = "spice-sizing"

OBJECTIVES = ("area_um2", "delay_ps", "energy_fj")
"""The objectives as the search sees them (printable units)."""

FUNCTION_CORNERS = (Corner("TT", 1.0, 25.0), Corner("SS", 0.9, 100.0), Corner("FF", 1.1, 0.0),
                    Corner("FS", 1.0, 25.0), Corner("SF", 1.0, 25.0))
"""Where the function is checked by default: nominal, the slow and fast extremes of supply
and temperature, and the two skewed processes (where a weak PMOS against a strong NMOS, or
the reverse, would first show in a marginal stage)."""

_WIDTH_NAMES = ("inner_nmos", "inner_pmos", "driver_nmos", "driver_pmos")
_DEFAULT_WIDTHS = {"inner_nmos": 210e-9, "inner_pmos": 315e-9, "driver_nmos": 415e-9,
                   "driver_pmos": 630e-9}


def default_ranges():
    """The default search space: inner stages 90-420 nm NMOS and 90-630 nm PMOS, output
    drivers 90-830 and 90-1260 nm (up to two fingers of the X1 widths), 5 nm steps."""
    return (WidthRange("inner_nmos", 90, 420), WidthRange("inner_pmos", 90, 630),
            WidthRange("driver_nmos", 90, 830), WidthRange("driver_pmos", 90, 1260))


def _check_widths(widths):
    if not isinstance(widths, dict) or set(widths) != set(_WIDTH_NAMES):
        raise ValueError(f"widths must give each of {list(_WIDTH_NAMES)} in metres, not "
                         f"{short_repr(widths)}")


def sized_cell(compressor, widths):
    """Return the compressor's cell with its inner stages and output drivers at ``widths``.

    Parameters
    ----------
    compressor : Compressor or str
    widths : dict of str to float
        ``inner_nmos``, ``inner_pmos``, ``driver_nmos``, ``driver_pmos``, metres.
    """
    _check_widths(widths)
    cell = compressor_cell(compressor)
    inner = (widths["inner_nmos"], widths["inner_pmos"])
    driver = (widths["driver_nmos"], widths["driver_pmos"])
    return cell.resized({stage.name: driver if stage.output in cell.outputs else inner
                         for stage in cell.stages})


@dataclass(frozen=True)
class CompressorPoint:
    """One evaluated sizing of a compressor cell; SI units.

    Members
    -------
    compressor : str
    widths : dict of str to float
    cell : str
        The sized cell's name.
    area : float
        Square metres.
    delay : float
        Worst delay at the delay corner, seconds.
    typical_delay : float
        Worst delay at the energy corner.
    energy : float
        Joules per single-input transition at the energy corner.
    leakage_power : float
        Watts at the energy corner.
    function_errors : dict of str to int
        Outputs off their rail at each checked corner (by corner name); 0 everywhere when
        the cell is feasible.
    simulations : int
        ngspice runs the evaluation took (0 when it came from the cache).
    trial : int or None
        The trial of a search that evaluated it.
    """

    compressor: str
    widths: dict
    cell: str
    area: float
    delay: float
    typical_delay: float
    energy: float
    leakage_power: float
    function_errors: dict
    simulations: int = 0
    trial: int | None = None

    @property
    def feasible(self):
        """Whether the cell computes its function everywhere and every output switches."""
        return not any(self.function_errors.values()) and math.isfinite(self.delay) \
            and math.isfinite(self.energy)

    def objectives(self):
        """The objectives in the search's units: um^2, ps, fJ."""
        return {"area_um2": self.area * 1e12, "delay_ps": self.delay * 1e12,
                "energy_fj": self.energy * 1e15}

    def as_dict(self):
        return asdict(self)


def _models_digest(corners):
    return sorted({cache.text_digest(card.read_text()) for corner in corners
                   for card in corner.model_cards()})


def _check_corner(name, corner):
    if not isinstance(corner, Corner):
        raise ValueError(f"{name} must be a dcim.spice.Corner, not {short_repr(corner)}")
    return corner


def _check_corners(corners):
    corners = tuple(corners)
    if not corners:
        raise ValueError("corners must hold at least one dcim.spice.Corner")
    for corner in corners:
        _check_corner("every corner", corner)
    return corners


def evaluate_compressor(compressor, widths, *, corners=None, delay_corner=None,
                        energy_corner=None, load=DEFAULT_LOAD, slew=DEFAULT_SLEW):
    """Check and measure one sizing of a compressor cell.

    Cached by content (kind ``spice-sizing`` of :mod:`dcim.eda.cache`: the cell's netlist,
    the corners, load and slew, the model cards' text and :data:`SIZING_VERSION`).

    Parameters
    ----------
    compressor : Compressor or str
    widths : dict of str to float
        As :func:`sized_cell`.
    corners : sequence of Corner or None
        Where the function is checked; ``None`` for :data:`FUNCTION_CORNERS`.
    delay_corner, energy_corner : Corner or None
        Default SS, 0.9 V, 100 C and TT, 1.0 V, 25 C.
    load, slew : float
        As :func:`~dcim.spice.cell_measure.measure_cell`.

    Returns
    -------
    CompressorPoint

    Raises
    ------
    ValueError
        For a bad parameter, naming it.
    EvaluationError
        If a simulation fails.
    """
    cell = sized_cell(compressor, widths)
    corners = FUNCTION_CORNERS if corners is None else _check_corners(corners)
    delay_corner = _check_corner("delay_corner", delay_corner or Corner("SS", 0.9, 100.0))
    energy_corner = _check_corner("energy_corner", energy_corner or Corner())
    name = cell.kind[len("CMP_"):]
    key = cache.cache_key(step="compressor-sizing", version=SIZING_VERSION,
                          netlist=cell.subcircuit(), corners=[asdict(c) for c in corners],
                          delay_corner=asdict(delay_corner),
                          energy_corner=asdict(energy_corner), load=load, slew=slew,
                          measurement=measurement_settings(),
                          models=_models_digest((*corners, delay_corner, energy_corner)))
    stored = cache.load(_CACHE_KIND, key)
    if stored is not None:
        return CompressorPoint(**{**stored, "simulations": 0, "trial": None})
    from ..arith.compressor import COMPRESSORS

    reference = COMPRESSORS[name].evaluate
    try:
        errors = {corner.name: len(check_function(cell, corner, reference=reference).mismatches)
                  for corner in corners}
        slow = measure_cell(cell, delay_corner, load=load, slew=slew)
        typical = measure_cell(cell, energy_corner, load=load, slew=slew)
    except SimulationError as error:
        raise EvaluationError(f"{cell.name}: {error}") from error
    point = CompressorPoint(compressor=name, widths=dict(widths), cell=cell.name,
                            area=cell.area, delay=slow.worst_delay,
                            typical_delay=typical.worst_delay, energy=typical.mean_energy,
                            leakage_power=typical.leakage_power, function_errors=errors,
                            simulations=len(corners) + 4)
    cache.store(_CACHE_KIND, key, point.as_dict())
    return point


@dataclass(frozen=True)
class CompressorSizingResult:
    """What :func:`size_compressor` found.

    Members
    -------
    compressor : str
    corners : tuple of Corner
    n_trials, seed : int
    reference : CompressorPoint
        The default (X1) sizing.
    trials : tuple of CompressorPoint
        Every evaluated trial, in order.
    failed : tuple of (int, dict, str)
        Trials whose evaluation failed or that have an infinite delay or energy (an output
        that never switches): number, widths, message.
    front : tuple of CompressorPoint
        The feasible Pareto front of area, delay and energy, by area.
    """

    compressor: str
    corners: tuple
    n_trials: int
    seed: int
    reference: CompressorPoint
    trials: tuple = field(repr=False)
    failed: tuple
    front: tuple

    @property
    def simulations(self):
        return self.reference.simulations + sum(point.simulations for point in self.trials)


def size_compressor(compressor, *, n_trials=30, seed=0, corners=None, delay_corner=None,
                    energy_corner=None, load=DEFAULT_LOAD, slew=DEFAULT_SLEW, ranges=None):
    """Search a compressor cell's widths for the Pareto front of area, delay and energy.

    Parameters
    ----------
    compressor : Compressor or str
    n_trials : int
        Trials, 1 to 10,000; the first is the default X1 sizing.
    seed : int
        The sampler's seed: the same seed gives the same search.
    corners, delay_corner, energy_corner, load, slew
        As :func:`evaluate_compressor`.
    ranges : sequence of WidthRange or None
        One range for each of ``inner_nmos``, ``inner_pmos``, ``driver_nmos``,
        ``driver_pmos``; ``None`` for :func:`default_ranges`.

    Returns
    -------
    CompressorSizingResult

    Raises
    ------
    ValueError, TypeError
        For a bad parameter, naming it.
    """
    n_trials = check_int("n_trials", n_trials, 1, 10_000)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    corners = FUNCTION_CORNERS if corners is None else _check_corners(corners)
    ranges = default_ranges() if ranges is None else tuple(ranges)
    if sorted(getattr(item, "name", None) for item in ranges) != sorted(_WIDTH_NAMES):
        raise ValueError(f"ranges must hold one WidthRange for each of {list(_WIDTH_NAMES)}, "
                         f"not {short_repr(ranges)}")
    options = {"corners": corners, "delay_corner": delay_corner,
               "energy_corner": energy_corner, "load": load, "slew": slew}
    reference = evaluate_compressor(compressor, _DEFAULT_WIDTHS, **options)
    by_name = {item.name: item for item in ranges}
    enqueue = ((_DEFAULT_WIDTHS,) if all(by_name[name].contains(width)
                                         for name, width in _DEFAULT_WIDTHS.items()) else ())
    points = {}

    def evaluate(widths):
        point = evaluate_compressor(compressor, widths, **options)
        points.setdefault(tuple(sorted(widths.items())), point)
        return Evaluation(objectives=point.objectives(),
                          constraints={"function_errors": float(sum(
                              point.function_errors.values()))},
                          figures=point.as_dict())

    study = run_study(evaluate, ranges, OBJECTIVES, n_trials=n_trials, seed=seed,
                      enqueue=enqueue)
    trials, failed, seen = [], [], set()
    for record in study.trials:
        key = tuple(sorted(record.widths.items()))
        if record.evaluation is None:
            failed.append((record.number, record.widths, record.error))
            continue
        point = points[key]
        point = CompressorPoint(**{**point.as_dict(), "trial": record.number,
                                   "simulations": point.simulations if key not in seen else 0})
        seen.add(key)
        trials.append(point)
    by_trial = {point.trial: point for point in trials}
    front = sorted((by_trial[record.number] for record in study.front),
                   key=lambda point: point.area)
    return CompressorSizingResult(compressor=reference.compressor, corners=corners,
                                  n_trials=n_trials, seed=seed, reference=reference,
                                  trials=tuple(trials), failed=tuple(failed),
                                  front=tuple(front))


def least_energy_delay(points):
    """The point of ``points`` with the least energy-delay product, its best compromise.

    A compressor in a multiplier's tree sits on its critical path (delay) and switches on
    every multiply (energy); area is the third objective of the search and is left to the
    front. The delay is the worst one at the delay corner, the energy at the energy corner.

    Parameters
    ----------
    points : sequence of CompressorPoint
        A search's front, say; feasible points only.

    Raises
    ------
    ValueError
        If ``points`` is empty or holds an infeasible point.
    """
    points = tuple(points)
    if not points or not all(isinstance(point, CompressorPoint) for point in points):
        raise ValueError(f"points must be a non-empty sequence of CompressorPoint, not "
                         f"{short_repr(points)}")
    infeasible = [point.trial for point in points if not point.feasible]
    if infeasible:
        raise ValueError(f"points must all be feasible, not trials {infeasible}")
    return min(points, key=lambda point: point.delay * point.energy)
