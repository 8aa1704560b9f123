"""Bitcell sizing: an Optuna search over transistor widths for area, read delay and leakage,
subject to noise margins, write margin and yield at every given corner.

:func:`size_bitcell` searches the widths of a :class:`~dcim.spice.Bitcell6T` (pull-down,
pull-up, pass gate) or :class:`~dcim.spice.Bitcell8T` (and its read driver and read access
transistor) on the FreePDK45 grid (:func:`default_ranges`), on the core of
:mod:`dcim.spice.study`. Each trial is :func:`evaluate_bitcell`, cached by content:

- **Objectives**, all minimized: the cell's area (:func:`bitcell_area`, a layout model scaled
  from OpenRAM's ``cell_1rw``), and the read delay with ``rows`` cells on the bitline and the
  hold leakage power, both from :func:`~dcim.spice.characterize` at ``objective_corner``
  (default TT, 1.0 V, 25 C).
- **Constraints** at every corner of ``corners`` (default :func:`worst_corners`): hold SNM,
  read SNM and write margin at least the thresholds of :class:`SizingConstraints`, and each
  margin's first-order yield sigma at least ``yield_sigma_min`` (default 6).

The yield proxy is the first-order (FOSM, Hasofer-Lind) reliability index of each margin in
the standard-normal space of Pelgrom mismatch: ``beta = m0 / |grad m|``, the distance from the
nominal cell to the failure boundary ``m = 0`` of the linearised margin, which is exactly the
distance :func:`~dcim.spice.find_shift_point` searches for when the margin is linear. The
gradient comes from one batch of ``2 k + 1`` samples per margin and corner (the nominal cell
and every transistor's threshold shifted by ``+-step_sigma`` sigmas), one ngspice run each.
A symmetric cell's SNM is the smaller of two mirror-image lobes, which meet at the nominal
point, so the margin has a kink there and no gradient; but a forward step sees the smaller
of the two lobes' slopes in each direction and a backward step the larger, so that
``sqrt(sum(d_plus^2 + d_minus^2) / 2)`` is the norm of one lobe's gradient: exact for a
smooth margin and for the two lobes of a mirror-symmetric cell. The final front's points are
checked with mean-shift importance sampling (:func:`verify_yield`).

Area model. OpenRAM's FreePDK45 ``cell_1rw`` (pull-down 205 nm, pull-up 90 nm, pass gate
135 nm) is 0.705 um wide along the word line and 1.345 um tall along the bitlines. In its
layout (``gds_lib/cell_1rw.gds``) every gate is vertical poly, so each transistor's width runs
along the height, and the three diffusion rows lie one above the other: pass gates (135 nm),
pull-downs (205 nm), pull-ups (90 nm). So a width change moves the height by as much, and the
width along the word line (gate and contact pitches) stays 0.705 um:
``height = 1.345 um + (pg - 135 nm) + (pd - 205 nm) + (pu - 90 nm)``. The 8T cell adds a
column for its read stack beside the core, taken as 0.21 um wide (a stated estimate: the
30 % area of an 8T cell over a 6T that Chang et al. report, VLSI 2005); its two transistors
lie in the pull-downs' row, so the row is as tall as the widest of pull-down, read driver
and read access transistor.
"""

import functools
import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..checks import check_int, short_repr
from ..eda import cache
from .bitcell import BITCELLS, Bitcell, Bitcell6T, Bitcell8T
from .characterize import characterize
from .characterize import measurement_settings as characterize_settings
from .corners import Corner
from .margins import (
    hold_snm_batch,
    read_snm_batch,
    sampler_shift_limit,
    write_margin_batch,
)
from .margins import measurement_settings as margins_settings
from .simulator import SimulationError
from .study import Evaluation, EvaluationError, WidthRange, run_study
from .variation import MismatchModel, mismatch_limit_state
from .yield_estimation import YieldEstimate, importance_sampling

__all__ = ["MARGINS", "OBJECTIVES", "BitcellPoint", "CellArea", "CornerMargins",
           "SizingConstraints", "SizingResult", "YieldCheck", "bitcell_area", "default_ranges",
           "evaluate_bitcell", "first_order_sigma", "size_bitcell", "verify_yield", "worst_corners"]

SIZING_VERSION = "2"
"""Changes whenever an evaluation's measurements change, so that old cache entries are
ignored."""
_CACHE_KIND = "spice-sizing"

OPENRAM_CELL_WIDTH = 0.705e-6
OPENRAM_CELL_HEIGHT = 1.345e-6
_OPENRAM = Bitcell6T()
READ_PORT_WIDTH = 0.21e-6
"""The 8T read stack's column beside the core, along the word line (see the module's text)."""

MARGINS = ("hold_snm", "read_snm", "write_margin")
"""The margins constrained at every corner."""
OBJECTIVES = ("area_um2", "read_delay_ps", "leakage_nw")
"""The objectives as the search sees them (printable units)."""
_BATCHES = {"hold_snm": hold_snm_batch, "read_snm": read_snm_batch,
            "write_margin": write_margin_batch}
_CHARACTERIZE_DECKS = 6
"""ngspice runs of one :func:`characterize`: currents, three margins, two transients."""


@dataclass(frozen=True)
class CellArea:
    """A bitcell's footprint by :func:`bitcell_area`, metres and square metres."""

    width: float
    height: float

    @property
    def area(self):
        return self.width * self.height


def bitcell_area(cell):
    """Return the layout model's footprint of ``cell`` (see the module's description).

    Raises
    ------
    ValueError
        If ``cell`` is not a :class:`~dcim.spice.Bitcell6T` or :class:`~dcim.spice.Bitcell8T`.
    """
    if not isinstance(cell, Bitcell6T | Bitcell8T):
        raise ValueError(f"cell must be a Bitcell6T or Bitcell8T, not {short_repr(cell)}")
    pull_down_row = cell.pull_down_width
    width = OPENRAM_CELL_WIDTH
    if isinstance(cell, Bitcell8T):
        pull_down_row = max(pull_down_row, cell.read_driver_width, cell.read_access_width)
        width += READ_PORT_WIDTH
    height = (OPENRAM_CELL_HEIGHT + (cell.pass_gate_width - _OPENRAM.pass_gate_width)
              + (pull_down_row - _OPENRAM.pull_down_width)
              + (cell.pull_up_width - _OPENRAM.pull_up_width))
    return CellArea(width=width, height=height)


def default_ranges(kind):
    """Return the default search space of a bitcell kind (``"6t"`` or ``"8t"``).

    Pull-down 90 to 400 nm, pull-up 90 to 200 nm (a wider pull-up only makes writing harder),
    pass gate 90 to 300 nm, and for the 8T read driver and read access 90 to 400 nm; all in
    steps of 5 nm.

    Raises
    ------
    ValueError
        For an unknown kind.
    """
    _check_kind(kind)
    ranges = [WidthRange("pull_down_width", 90, 400), WidthRange("pull_up_width", 90, 200),
              WidthRange("pass_gate_width", 90, 300)]
    if kind == "8t":
        ranges += [WidthRange("read_driver_width", 90, 400),
                   WidthRange("read_access_width", 90, 400)]
    return tuple(ranges)


def worst_corners():
    """Return the default constraint corners: FS at 0.9 V and 100 C, SF at 0.9 V and 0 C.

    The lowest standard supply lowers every margin. For OpenRAM's 6T sizing, of all five
    processes at 0.9 V and 0 or 100 C, FS (fast NMOS, slow PMOS) at 100 C has the lowest read
    SNM (122 mV against 134 for FF and 146 for TT at 100 C) and the lowest hold SNM (295 mV),
    since a strong pass gate and pull-down against a weak pull-up, hot, pull the stored 1
    down; SF at 0 C has the lowest write margin (265 mV against 285 for SS), since a weak
    pass gate must overpower a strong pull-up.
    """
    return (Corner("FS", 0.9, 100.0), Corner("SF", 0.9, 0.0))


@dataclass(frozen=True)
class SizingConstraints:
    """The margins a sized cell must keep at every constraint corner.

    Parameters
    ----------
    hold_snm_min, read_snm_min, write_margin_min : float
        Volts: nominal margins at least these (default 0.2, 0.1 and 0.15 V, that is about
        a fifth, a ninth and a sixth of the 0.9 V supply of the worst corners).
    yield_sigma_min : float
        The first-order yield sigma every margin must reach (default 6: a failure
        probability of about 1e-9 per margin).
    mismatch : MismatchModel
        The Pelgrom model of the yield proxy.
    step_sigma : float
        The threshold step of the proxy's gradient, in sigmas, 0.25 to 4 (default 2: a
        third of the 6-sigma distance, so the secant sees the margin's trend over the
        distance that matters, and well above the SNM's 0.5 mV resolution).

    Raises
    ------
    ValueError
        For a parameter out of range, naming it.
    """

    hold_snm_min: float = 0.2
    read_snm_min: float = 0.1
    write_margin_min: float = 0.15
    yield_sigma_min: float = 6.0
    mismatch: MismatchModel = field(default_factory=MismatchModel)
    step_sigma: float = 2.0

    def __post_init__(self):
        for name in ("hold_snm_min", "read_snm_min", "write_margin_min"):
            _check_real(name, getattr(self, name), -1.0, 1.0, "volts")
        _check_real("yield_sigma_min", self.yield_sigma_min, 0.0, 20.0, "sigmas")
        _check_real("step_sigma", self.step_sigma, 0.25, 4.0, "sigmas")
        if not isinstance(self.mismatch, MismatchModel):
            raise ValueError(f"mismatch must be a MismatchModel, not {short_repr(self.mismatch)}")

    def threshold(self, margin):
        """The nominal threshold of a margin of :data:`MARGINS`, in volts."""
        return getattr(self, f"{margin}_min")

    def as_dict(self):
        return {**asdict(self), "mismatch": self.mismatch.name}


def _check_real(name, value, low, high, unit):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ValueError(f"{name} must be a number of {unit} from {low:g} to {high:g}, "
                         f"not {short_repr(value)}")


@dataclass(frozen=True)
class CornerMargins:
    """A cell's nominal margins at one corner (volts) and their first-order yield sigmas."""

    corner: Corner
    hold_snm: float
    read_snm: float
    write_margin: float
    hold_snm_sigma: float
    read_snm_sigma: float
    write_margin_sigma: float

    def margin(self, name):
        return getattr(self, name)

    def yield_sigma(self, name):
        return getattr(self, f"{name}_sigma")


@dataclass(frozen=True)
class BitcellPoint:
    """One evaluated bitcell sizing; SI units (metres, square metres, seconds, watts).

    Members
    -------
    cell : Bitcell
    area, width, height : float
        From :func:`bitcell_area`.
    read_delay, write_delay, read_current, leakage_power : float
        From :func:`~dcim.spice.characterize` at the objective corner.
    margins : tuple of CornerMargins
        One per constraint corner.
    constraints : dict of str to float
        ``hold_snm``, ``read_snm``, ``write_margin`` (threshold minus the worst margin, in
        volts) and ``yield_sigma`` (``yield_sigma_min`` minus the worst first-order sigma):
        feasible when all are ``<= 0``.
    simulations : int
        ngspice runs the evaluation took (0 when it came from the cache).
    trial : int or None
        The trial of the search (``None`` for a point evaluated on its own).
    """

    cell: Bitcell
    width: float
    height: float
    read_delay: float
    write_delay: float
    read_current: float
    leakage_power: float
    margins: tuple
    constraints: dict
    simulations: int = 0
    trial: int | None = None

    @property
    def area(self):
        return self.width * self.height

    @property
    def feasible(self):
        return all(value <= 0 for value in self.constraints.values())

    def worst(self, margin):
        """The smallest nominal value of a margin of :data:`MARGINS` over the corners."""
        return min(entry.margin(margin) for entry in self.margins)

    @property
    def yield_sigma(self):
        """The smallest first-order yield sigma over margins and corners."""
        return min(entry.yield_sigma(margin) for entry in self.margins for margin in MARGINS)

    def objectives(self):
        """The objectives in the search's units (see :data:`OBJECTIVES`)."""
        return {"area_um2": self.area * 1e12, "read_delay_ps": self.read_delay * 1e12,
                "leakage_nw": self.leakage_power * 1e9}

    def as_dict(self):
        """Plain JSON data, from which :meth:`from_dict` rebuilds the point."""
        data = asdict(self)
        data["cell"] = {"kind": _kind_of(self.cell), **asdict(self.cell)}
        return data

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        sizes = dict(data.pop("cell"))
        cell = BITCELLS[sizes.pop("kind")](**sizes)
        margins = tuple(CornerMargins(**{**entry, "corner": Corner(**entry["corner"])})
                        for entry in data.pop("margins"))
        return cls(cell=cell, margins=margins, **data)


def _kind_of(cell):
    return next(kind for kind, cell_class in BITCELLS.items() if type(cell) is cell_class)


def _check_kind(kind):
    if kind not in BITCELLS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, BITCELLS))}, "
                         f"not {short_repr(kind)}")


def _check_corners(corners):
    if isinstance(corners, Corner):
        corners = (corners,)
    try:
        corners = tuple(corners)
    except TypeError:
        raise ValueError(f"corners must be a sequence of dcim.spice.Corner, not "
                         f"{short_repr(corners)}") from None
    if not corners or not all(isinstance(corner, Corner) for corner in corners):
        raise ValueError(f"corners must be a non-empty sequence of dcim.spice.Corner, not "
                         f"{short_repr(corners)}")
    return corners


@functools.cache
def _file_digest(path):
    return cache.text_digest(path.read_text())


def _models_digest(corners):
    return sorted({_file_digest(card) for corner in corners for card in corner.model_cards()})


def first_order_sigma(nominal, plus, minus, step):
    """The first-order yield sigma of a margin from its values at ``+-step`` sigmas.

    ``nominal`` is the margin of the nominal cell, ``plus[k]`` and ``minus[k]`` its values
    with transistor ``k`` shifted by ``+step`` and ``-step`` sigmas. Returns
    ``nominal / sqrt(sum(d_plus^2 + d_minus^2) / 2)`` with the one-sided slopes ``d``; see
    the module's description. A margin that is not finite (a cell that does not write)
    gives ``-inf`` at the nominal point and ``0`` elsewhere.
    """
    if not math.isfinite(nominal):
        return -math.inf
    plus, minus = np.asarray(plus, dtype=float), np.asarray(minus, dtype=float)
    if not (np.all(np.isfinite(plus)) and np.all(np.isfinite(minus))):
        return 0.0 if nominal > 0 else -math.inf
    slopes = np.concatenate([plus - nominal, nominal - minus]) / step
    norm = math.sqrt(float(slopes @ slopes) / 2)
    if norm == 0.0:
        return math.inf if nominal > 0 else -math.inf
    return nominal / norm


def _corner_margins(cell, corner, constraints):
    count = len(cell.transistors)
    step = constraints.step_sigma
    z = np.vstack([np.zeros(count), step * np.eye(count), -step * np.eye(count)])
    shifts = constraints.mismatch.vt_shifts(cell.transistors, z)
    values = {}
    for margin, batch in _BATCHES.items():
        measured = batch(cell, corner, shifts)
        values[margin] = float(measured[0])
        values[f"{margin}_sigma"] = float(first_order_sigma(
            measured[0], measured[1:count + 1], measured[count + 1:], step))
    return CornerMargins(corner=corner, **values)


def _constraint_values(margins, constraints):
    # Clipped to finite values (Optuna refuses infinities); +-10 V or sigmas is beyond any
    # margin, so the clipping never changes which designs are feasible.
    values = {margin: constraints.threshold(margin) - min(entry.margin(margin)
                                                          for entry in margins)
              for margin in MARGINS}
    worst_sigma = min(entry.yield_sigma(margin) for entry in margins for margin in MARGINS)
    values["yield_sigma"] = constraints.yield_sigma_min - worst_sigma
    return {name: float(np.clip(value, -10.0, 10.0)) for name, value in values.items()}


def evaluate_bitcell(cell, *, corners=None, constraints=None, objective_corner=None,
                     rows=64):
    """Measure one bitcell for the search: objectives, margins and constraints.

    Cached by content (kind ``spice-sizing`` of :mod:`dcim.eda.cache`: the cell's sizes, the
    corners, the mismatch model and gradient step, the rows, the model cards' text and
    :data:`SIZING_VERSION`), so that a repeated evaluation runs no simulation; the margin
    thresholds are applied to the stored margins.

    Parameters
    ----------
    cell : Bitcell6T or Bitcell8T
    corners : sequence of Corner or None
        The constraint corners; ``None`` for :func:`worst_corners`.
    constraints : SizingConstraints or None
        ``None`` for the defaults.
    objective_corner : Corner or None
        Where the read delay and leakage are measured; ``None`` for TT, 1.0 V, 25 C.
    rows : int
        Cells on the bitline for the read delay, 1 to 1024.

    Returns
    -------
    BitcellPoint

    Raises
    ------
    ValueError
        For a bad parameter, naming it.
    EvaluationError
        If a simulation fails or the cell cannot be read or written at a corner.
    """
    bitcell_area(cell)
    corners = worst_corners() if corners is None else _check_corners(corners)
    constraints = SizingConstraints() if constraints is None else constraints
    if not isinstance(constraints, SizingConstraints):
        raise ValueError(f"constraints must be SizingConstraints, not "
                         f"{short_repr(constraints)}")
    objective_corner = Corner() if objective_corner is None else objective_corner
    if not isinstance(objective_corner, Corner):
        raise ValueError(f"objective_corner must be a dcim.spice.Corner, not "
                         f"{short_repr(objective_corner)}")
    rows = check_int("rows", rows, 1, 1024)
    # The thresholds are not in the key: they judge the measurements without changing them,
    # so a search under other thresholds reads the same entries.
    key = cache.cache_key(step="bitcell-sizing", version=SIZING_VERSION, kind=_kind_of(cell),
                          cell=asdict(cell), corners=[asdict(corner) for corner in corners],
                          mismatch=constraints.mismatch.name, step_sigma=constraints.step_sigma,
                          objective_corner=asdict(objective_corner), rows=rows,
                          measurement=characterize_settings(),
                          models=_models_digest((*corners, objective_corner)))
    stored = cache.load(_CACHE_KIND, key)
    if stored is not None:
        point = BitcellPoint.from_dict(stored)
        return replace(point, simulations=0,
                       constraints=_constraint_values(point.margins, constraints))
    try:
        report = characterize(cell, objective_corner, rows=rows)
        margins = tuple(_corner_margins(cell, corner, constraints) for corner in corners)
    except (SimulationError, RuntimeError) as error:
        raise EvaluationError(f"{cell.name}: {error}") from error
    footprint = bitcell_area(cell)
    point = BitcellPoint(cell=cell, width=footprint.width, height=footprint.height,
                         read_delay=report.read_delay, write_delay=report.write_delay,
                         read_current=report.read_current, leakage_power=report.leakage_power,
                         margins=margins, constraints=_constraint_values(margins, constraints),
                         simulations=_CHARACTERIZE_DECKS + len(_BATCHES) * len(corners))
    cache.store(_CACHE_KIND, key, point.as_dict())
    return point


@dataclass(frozen=True)
class SizingResult:
    """What :func:`size_bitcell` found.

    Members
    -------
    kind : str
    corners : tuple of Corner
    constraints : SizingConstraints
    objective_corner : Corner
    rows, n_trials, seed : int
    trials : tuple of BitcellPoint
        Every evaluated trial, in order, feasible or not, with its figures.
    failed : tuple of tuple
        ``(trial, widths, message)`` of the trials that could not be evaluated.
    front : tuple of BitcellPoint
        The feasible Pareto front over area, read delay and leakage, by increasing area.
    reference : BitcellPoint
        OpenRAM's sizing (pull-down 205, pull-up 90, pass gate 135 nm; the 8T read stack
        205 nm), evaluated alike; it is also the search's first trial.
    """

    kind: str
    corners: tuple
    constraints: SizingConstraints
    objective_corner: Corner
    rows: int
    n_trials: int
    seed: int
    trials: tuple
    failed: tuple
    front: tuple
    reference: BitcellPoint

    @property
    def simulations(self):
        """ngspice runs of this search, the reference's included (cached evaluations count
        0)."""
        return self.reference.simulations + sum(point.simulations for point in self.trials)


def size_bitcell(kind, *, corners=None, constraints=None, objective_corner=None, rows=64,
                 n_trials=40, seed=0, ranges=None):
    """Search the widths of a bitcell for the Pareto front of area, read delay and leakage.

    Parameters
    ----------
    kind : str
        ``"6t"`` or ``"8t"``.
    corners, constraints, objective_corner, rows
        As for :func:`evaluate_bitcell`.
    n_trials : int
        Trials, 1 to 10,000; the first is OpenRAM's sizing.
    seed : int
        The sampler's seed: the same seed gives the same search.
    ranges : sequence of WidthRange or None
        The search space, one range per width of the cell (see :func:`default_ranges`, whose
        names it must use); ``None`` for the default. OpenRAM's sizing is tried first when it
        lies in the space.

    Returns
    -------
    SizingResult

    Raises
    ------
    ValueError, TypeError
        For a bad parameter, naming it.
    """
    _check_kind(kind)
    corners = worst_corners() if corners is None else _check_corners(corners)
    constraints = SizingConstraints() if constraints is None else constraints
    objective_corner = Corner() if objective_corner is None else objective_corner
    n_trials = check_int("n_trials", n_trials, 1, 10_000)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    ranges = default_ranges(kind) if ranges is None else tuple(ranges)
    names = [item.name for item in default_ranges(kind)]
    if sorted(getattr(item, "name", None) for item in ranges) != sorted(names):
        raise ValueError(f"ranges must hold one WidthRange for each of {names}, not "
                         f"{short_repr(ranges)}")
    cell_class = BITCELLS[kind]
    reference_cell = cell_class()
    options = {"corners": corners, "constraints": constraints,
               "objective_corner": objective_corner, "rows": rows}
    reference = evaluate_bitcell(reference_cell, **options)
    reference_widths = {name: getattr(reference_cell, name) for name in names}
    by_name = {item.name: item for item in ranges}
    enqueue = ((reference_widths,) if all(by_name[name].contains(width)
                                          for name, width in reference_widths.items()) else ())
    points = {}

    def evaluate(widths):
        point = evaluate_bitcell(cell_class(**widths), **options)
        points.setdefault(tuple(sorted(widths.items())), point)
        return _study_evaluation(point)

    study = run_study(evaluate, ranges, OBJECTIVES, n_trials=n_trials, seed=seed,
                      enqueue=enqueue)
    seen = set()
    trials, failed = [], []
    for record in study.trials:
        key = tuple(sorted(record.widths.items()))
        if record.evaluation is None:
            failed.append((record.number, record.widths, record.error))
            continue
        point = replace(points[key], trial=record.number)
        # A width set met again was read from the cache: no new simulation.
        trials.append(point if key not in seen else replace(point, simulations=0))
        seen.add(key)
    by_trial = {point.trial: point for point in trials}
    front = tuple(by_trial[record.number] for record in study.front)
    return SizingResult(kind=kind, corners=corners, constraints=constraints,
                        objective_corner=objective_corner, rows=rows, n_trials=n_trials,
                        seed=seed, trials=tuple(trials), failed=tuple(failed),
                        front=tuple(sorted(front, key=lambda point: point.area)),
                        reference=reference)


def _study_evaluation(point):
    # The whole point goes with the trial, so that Optuna's own record of a study (its
    # user attributes) holds every trial's figures too.
    return Evaluation(objectives=point.objectives(), constraints=point.constraints,
                      figures=point.as_dict())


@dataclass(frozen=True)
class YieldCheck:
    """One margin of one sized cell at one corner: the first-order sigma against importance
    sampling.

    Members
    -------
    cell : str
    corner : Corner
    margin : str
    first_order_sigma : float
        The search's proxy.
    estimate : YieldEstimate
        :func:`~dcim.spice.importance_sampling` of ``margin <= 0``; its ``sigma`` is the
        equivalent sigma of the estimated failure probability.
    """

    cell: str
    corner: Corner
    margin: str
    first_order_sigma: float
    estimate: YieldEstimate


def verify_yield(point, *, margins=("hold_snm", "read_snm"), constraints=None, seed=0,
                 target_rse=0.1, max_simulations=3000):
    """Check a point's first-order yield sigmas by mean-shift importance sampling.

    For each margin, at the corner where its first-order sigma is lowest, the failure
    probability of ``margin <= 0`` under ``constraints.mismatch`` is estimated with
    :func:`~dcim.spice.importance_sampling` (two failure regions, as a symmetric cell has),
    cached by content like the evaluations. The write margin is left out by default: its
    transient decks run about 5 samples/s, so an estimate takes minutes, where the SNMs' DC
    decks run 100 samples/s.

    Parameters
    ----------
    point : BitcellPoint
    margins : sequence of str
        Of :data:`MARGINS`.
    constraints : SizingConstraints or None
        Its mismatch model; ``None`` for the defaults (as the search used).
    seed, target_rse, max_simulations
        As for :func:`~dcim.spice.importance_sampling`.

    Returns
    -------
    tuple of YieldCheck

    Raises
    ------
    ValueError
        For a bad parameter, naming it.
    """
    if not isinstance(point, BitcellPoint):
        raise ValueError(f"point must be a BitcellPoint, not {short_repr(point)}")
    margins = tuple(margins)
    unknown = [margin for margin in margins if margin not in MARGINS]
    if unknown or not margins:
        raise ValueError(f"margins must be some of {MARGINS}, not {short_repr(margins)}")
    constraints = SizingConstraints() if constraints is None else constraints
    if not isinstance(constraints, SizingConstraints):
        raise ValueError(f"constraints must be SizingConstraints, not "
                         f"{short_repr(constraints)}")
    cell = point.cell
    checks = []
    for margin in margins:
        worst = min(point.margins, key=lambda entry: entry.yield_sigma(margin))
        key = cache.cache_key(step="bitcell-yield", version=SIZING_VERSION,
                              kind=_kind_of(cell), cell=asdict(cell), margin=margin,
                              corner=asdict(worst.corner), mismatch=constraints.mismatch.name,
                              seed=seed, target_rse=target_rse,
                              max_simulations=max_simulations,
                              measurement=margins_settings(),
                              models=_models_digest((worst.corner,)))
        stored = cache.load(_CACHE_KIND, key)
        if stored is None:
            batch = _BATCHES[margin]
            limit_state = mismatch_limit_state(
                functools.partial(batch, cell, worst.corner), cell.transistors,
                model=constraints.mismatch, shift_limit=sampler_shift_limit(worst.corner))
            estimate = importance_sampling(limit_state, len(cell.transistors), seed=seed,
                                           target_rse=target_rse,
                                           max_simulations=max_simulations)
            stored = asdict(estimate)
            cache.store(_CACHE_KIND, key, stored)
        estimate = YieldEstimate(**{name: tuple(map(tuple, value)) if name == "shifts"
                                    else tuple(value) if name == "shift" and value is not None
                                    else value for name, value in stored.items()})
        checks.append(YieldCheck(cell=cell.name, corner=worst.corner, margin=margin,
                                 first_order_sigma=worst.yield_sigma(margin),
                                 estimate=estimate))
    return tuple(checks)
