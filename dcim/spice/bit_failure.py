"""The failure probability of one stored bit under Pelgrom mismatch, per mode and corner.

A bitcell fails, as Mukhopadhyay, Mahmoodi and Roy count SRAM failures ("Modeling of failure
probability and statistical design of SRAM array for yield enhancement in nanoscaled CMOS",
IEEE TCAD 24(12), 2005), when it cannot hold its value, flips while it is read, or cannot be
written. Here each is a margin of :mod:`dcim.spice.margins` below the minimum that
:class:`FailureCriteria` sets: hold SNM, read SNM and write margin. For each *mode*,
:func:`bit_failure_probability` estimates the probability of that event under the
:class:`~dcim.spice.MismatchModel`'s threshold variation of every transistor:

- A presample of the nominal distribution decides the method: where failures are common
  enough that plain Monte Carlo reaches ``target_rse`` within the budget (a failing cell at
  a low supply), :func:`~dcim.spice.monte_carlo` goes on from it; otherwise mean-shift
  :func:`~dcim.spice.importance_sampling` around the most probable failure points.
- Mirror images. The cell's two halves are alike, and the static noise margins are the
  smaller of the butterfly's two lobes, so an SNM's failure region has a mirror image: the
  same shifts with the columns of the left and right transistors swapped. Sampling around
  the one point the search finds sees only one of them and gives half the probability, so
  every point found is joined by its mirror image and the sampling draws from the mixture of
  normals around all of them. The write margin is measured writing a 0 into a cell that
  holds 1; writing a 1 fails in the mirror image of that region, an event of equal
  probability that the write limit state does not contain, so the write mode's probability
  is twice that of writing a 0 (the union bound of the two writes: where writes fail rarely,
  a cell failing both needs weak transistors on both sides and is far less likely still;
  where they fail often the two overlap, which the combined estimate below counts).
- The bit's total. The union bound ``p_hold + p_read + p_write`` is an upper bound, exact
  when the modes' failure regions do not overlap. They may well overlap: a 6T cell whose
  hold SNM fails has lost its read SNM too, and an 8T cell's read SNM is its hold SNM (its
  read port does not disturb the storage nodes). :attr:`BitFailure.lower_bound`, the largest
  single event's probability (half the write mode's, which counts two), is a lower bound.
  :func:`estimate_combined_failure` estimates the union itself, where two modes or more have
  failures seen: it samples the mixture of all their shift points (and a defensive share of
  the nominal distribution) and counts a sample failed where any mode fails. That is
  :attr:`BitFailure.probability`.

Results are cached by content (kind ``bit-failure`` of :mod:`dcim.eda.cache`): the cell,
corner, criteria, mismatch model, estimator settings, seed, the model cards' text and
:data:`BIT_FAILURE_VERSION`. :func:`bit_failure_table` estimates a set of corners
(:func:`bit_failure_corners` by default).
"""

import functools
import math
import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from ..checks import check_int, short_repr
from ..eda import cache
from .bitcell import BITCELLS, Bitcell6T, Bitcell8T
from .corners import PROCESSES, Corner
from .margins import (
    hold_snm_batch,
    read_snm_batch,
    sampler_shift_limit,
    write_margin_batch,
)
from .margins import measurement_settings as margins_settings
from .variation import MismatchModel, mismatch_limit_state
from .yield_estimation import equivalent_sigma, find_shift_point, importance_sampling

__all__ = ["BIT_FAILURE_VERSION", "MODES", "BitFailure", "FailureCriteria", "ModeFailure",
           "bit_failure_corners", "bit_failure_probability", "bit_failure_table",
           "estimate_combined_failure", "estimate_mode_failure", "mirror_permutation",
           "storage_transistors"]

BIT_FAILURE_VERSION = "5"
"""Changes whenever an estimate's method or its margins change, so that old cache entries are
ignored."""
_CACHE_KIND = "bit-failure"

MODES = ("hold", "read", "write")
"""The failure modes of a bit, in the order of :class:`BitFailure`'s members."""
_CORE = ("pd_l", "pu_l", "pg_l", "pd_r", "pu_r", "pg_r")
"""The storage core's transistors (see :func:`storage_transistors`)."""
_TWINS = ("write",)
"""Modes whose limit state holds one of two mirror-image events (the module's text)."""
_MARGINS = {"hold": hold_snm_batch, "read": read_snm_batch, "write": write_margin_batch}
_SAME_REGION = math.cos(math.radians(25))
"""Shift points closer in angle than this belong to one failure region (as in the search)."""
_NEGLIGIBLE_SHARE = 0.01
"""A mode whose probability is below this share of the target relative error of the modes'
total is left out of the combined estimate."""
_DESCENT = 400
"""Evaluations for the search's rays and HLRF iterations, besides its presampling."""


@dataclass(frozen=True)
class FailureCriteria:
    """The smallest margins, in volts, with which a cell still counts as working.

    The defaults are those a sized cell is held to at every corner
    (:class:`~dcim.spice.sizing.SizingConstraints`: 0.2, 0.1 and 0.15 V, about a fifth, a
    ninth and a sixth of the lowest standard supply of 0.9 V), so that a cell's yield is
    counted against the margins it was sized for: noise allowances for supply bounce, word-line
    coupling and the sense amplifier's offset, which a margin that is merely positive does not
    leave. Zero minima count functional failures alone (Mukhopadhyay et al.: a cell that is no
    longer bistable, or does not flip with its bitline at ground); for the OpenRAM 6T cell at
    TT, 1.0 V and 25 C under the default mismatch those lie beyond 13 sigma (first-order), out
    of reach of any estimate and of any array size.

    Parameters
    ----------
    hold_snm_min, read_snm_min, write_margin_min : float
        Volts, from -0.5 to 0.5.

    Raises
    ------
    ValueError
        If a minimum is not a number in that range, naming it and its value.
    """

    hold_snm_min: float = 0.2
    read_snm_min: float = 0.1
    write_margin_min: float = 0.15

    def __post_init__(self):
        for name in ("hold_snm_min", "read_snm_min", "write_margin_min"):
            value = getattr(self, name)
            if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float,
                                                                               np.number))
                    or not math.isfinite(value) or not -0.5 <= value <= 0.5):
                raise ValueError(f"{name} must be a number of volts from -0.5 to 0.5, not "
                                 f"{short_repr(value)}")
            object.__setattr__(self, name, float(value))

    def minimum(self, mode):
        """The minimum margin of a mode of :data:`MODES`, in volts."""
        return getattr(self, {"hold": "hold_snm_min", "read": "read_snm_min",
                              "write": "write_margin_min"}[mode])

    @property
    def name(self):
        """A stable name: ``hold200mv_read100mv_write150mv``."""
        return "_".join(f"{mode}{self.minimum(mode) * 1e3:g}mv" for mode in MODES)


@dataclass(frozen=True)
class ModeFailure:
    """The estimated failure probability of one mode of one bit.

    Members
    -------
    mode : str
        Of :data:`MODES`, or ``"bit"`` for the combined estimate.
    probability : float
        The estimate (0 if no failure was found, see ``converged``).
    relative_standard_error : float
        The estimator's standard error over the estimate (``inf`` without failures).
    simulations : int
        Margin evaluations: presample, search and sampling (each write sample is one write).
    method : str
        ``"MC"`` (plain Monte Carlo) or ``"IS"`` (mean-shift importance sampling; the combined
        estimate is always ``"IS"``, plain sampling being its mixture with the nominal
        distribution alone).
    converged : bool
        Whether the relative standard error reached the target within the budget.
    shift_sigma : float or None
        For importance sampling, the distance of the nearest failure point found: the
        first-order sigma of the mode.
    regions : int
        Means of the importance-sampling mixture (mirror images included; 0 for MC).
    seconds : float
        Wall time of the estimate (of the run that made it, for a cached one).
    shift_points : tuple of tuple of float
        The importance-sampling mixture's means in standard-normal coordinates (``regions``
        of them; empty for MC): :func:`estimate_combined_failure` samples around them again.
        For a cell, one coordinate per transistor of :func:`storage_transistors`.
    """

    mode: str
    probability: float
    relative_standard_error: float
    simulations: int
    method: str
    converged: bool
    shift_sigma: float | None = None
    regions: int = 0
    seconds: float = 0.0
    shift_points: tuple = ()

    def __post_init__(self):
        # Read back from JSON the points are lists; keep them hashable and comparable.
        object.__setattr__(self, "shift_points", tuple(
            tuple(float(value) for value in point) for point in self.shift_points))

    @property
    def sigma(self):
        """The equivalent one-sided sigma of :attr:`probability` (``inf`` for 0)."""
        return equivalent_sigma(self.probability)


@dataclass(frozen=True)
class BitFailure:
    """The failure probability of one bit at one corner, per mode and in total.

    Members
    -------
    cell : str
        The cell's name.
    corner : Corner
    criteria : FailureCriteria
    mismatch : str
        The mismatch model's name.
    hold, read, write : ModeFailure
    combined : ModeFailure or None
        The estimate of the bit failing in any mode (``mode="bit"``), by
        :func:`estimate_combined_failure`; ``None`` where only the modes were estimated.
    cached : bool
        Whether the result came from the cache.
    """

    cell: str
    corner: Corner
    criteria: FailureCriteria
    mismatch: str
    hold: ModeFailure
    read: ModeFailure
    write: ModeFailure
    combined: ModeFailure | None = None
    cached: bool = False

    @property
    def modes(self):
        """The three :class:`ModeFailure`, in the order of :data:`MODES`."""
        return (self.hold, self.read, self.write)

    @property
    def probability(self):
        """The bit's failure probability: the :attr:`combined` estimate, or without one the
        :attr:`union_bound`."""
        if self.combined is not None:
            return self.combined.probability
        return self.union_bound

    @property
    def relative_standard_error(self):
        """The :attr:`combined` estimate's relative standard error; without one, that of the
        union bound (the modes' errors added in quadrature, weighted by their
        probabilities; ``inf`` for a bound of 0)."""
        if self.combined is not None:
            return self.combined.relative_standard_error
        seen = [mode for mode in self.modes if mode.probability > 0]
        if not seen:
            return math.inf
        return math.sqrt(sum((mode.probability * mode.relative_standard_error) ** 2
                             for mode in seen)) / sum(mode.probability for mode in seen)

    @property
    def union_bound(self):
        """``p_hold + p_read + p_write`` (at most 1): an upper bound of the bit's failure
        probability (see the module's description)."""
        return min(1.0, sum(mode.probability for mode in self.modes))

    @property
    def lower_bound(self):
        """The largest single event's probability: a lower bound of the bit's failure
        probability. The write mode's probability is that of two mirror-image events (the
        writes of a 0 and of a 1) by their union bound, so each counts half of it: where
        writes fail often the two overlap (at TT 0.6 V an 8T cell fails a write in either
        direction with 0.38 against the bound's 0.45), and the mode's own figure is no
        lower bound."""
        return max(mode.probability / 2 if mode.mode in _TWINS else mode.probability
                   for mode in self.modes)

    @property
    def sigma(self):
        """The equivalent sigma of :attr:`probability`."""
        return equivalent_sigma(self.probability)

    @property
    def simulations(self):
        """Margin evaluations of the modes and of the combined estimate."""
        total = sum(mode.simulations for mode in self.modes)
        return total + (self.combined.simulations if self.combined is not None else 0)

    @property
    def converged(self):
        """Whether :attr:`probability` reached its target relative standard error: the
        combined estimate's, or without one every mode's."""
        if self.combined is not None:
            return self.combined.converged
        return all(mode.converged for mode in self.modes)

    def as_dict(self):
        """Plain JSON data, from which :meth:`from_dict` rebuilds the result."""
        combined = None if self.combined is None else asdict(self.combined)
        return {"cell": self.cell, "corner": asdict(self.corner),
                "criteria": asdict(self.criteria), "mismatch": self.mismatch,
                **{mode.mode: asdict(mode) for mode in self.modes}, "combined": combined}

    @classmethod
    def from_dict(cls, data, *, cached=False):
        combined = data.get("combined")
        return cls(cell=data["cell"], corner=Corner(**data["corner"]),
                   criteria=FailureCriteria(**data["criteria"]), mismatch=data["mismatch"],
                   combined=None if combined is None else ModeFailure(**combined),
                   cached=cached, **{mode: ModeFailure(**data[mode]) for mode in MODES})


def mirror_permutation(names):
    """The column order that swaps the two halves of a cell: ``x_l`` with ``x_r``.

    Transistors without a mirror (the 8T read port's ``rd`` and ``ra``) keep their place.
    ``z[:, mirror_permutation(cell.transistor_names)]`` are the mirror images of ``z``.

    Raises
    ------
    ValueError
        If a ``_l`` transistor has no ``_r`` partner or the other way round.
    """
    names = list(names)
    order = []
    for name in names:
        stem, _, side = name.rpartition("_")
        if stem and side in ("l", "r"):
            partner = f"{stem}_{'r' if side == 'l' else 'l'}"
            if partner not in names:
                raise ValueError(f"transistor {name!r} has no mirror {partner!r} among "
                                 f"{names!r}")
            order.append(names.index(partner))
        else:
            order.append(names.index(name))
    return np.array(order)


def estimate_mode_failure(limit_state, dimension, *, mirror=None, mirrored_twin=False,
                          target_rse=0.1, max_simulations=2000, presample_size=200,
                          max_presample_sigma=4.0, batch_size=200, seed=0, mode="hold"):
    """Estimate ``P(limit_state(z) <= 0)`` for ``z ~ N(0, I)``, choosing MC or IS.

    The presample (``presample_size`` draws of ``N(0, I)``) decides: if its failures promise
    that Monte Carlo reaches ``target_rse`` within ``max_simulations``
    (``(1 - p) / (p target_rse^2)`` samples at its estimate ``p``), Monte Carlo goes on
    from it; otherwise :func:`~dcim.spice.find_shift_point` (with half the rest of the
    budget, at most three presampling batches and 400 evaluations more) looks for
    the failure points, each joined by its mirror image (``z[:, mirror]``) unless the search
    found that too, and :func:`~dcim.spice.importance_sampling` samples their mixture with
    the rest.

    Parameters
    ----------
    limit_state : callable
        ``(n, dimension)`` standard-normal samples to ``n`` margins, failing at ``<= 0``.
    dimension : int
    mirror : array of int or None
        The column permutation that maps a sample to its mirror image (see
        :func:`mirror_permutation`), for a limit state symmetric under it; ``None`` for none.
    mirrored_twin : bool
        The limit state is one of two mirror-image events (the write of a 0 and of a 1): the
        probability returned is the union bound, twice the limit state's, with the same
        relative error.
    target_rse, max_simulations, batch_size
        As for :func:`~dcim.spice.importance_sampling`; the budget covers the presample too.
    presample_size : int
        The deciding presample's size, and the search's presampling batch.
    max_presample_sigma : float
        The search's largest presampling scale (see :func:`~dcim.spice.find_shift_point`).
    seed : int or numpy.random.Generator
    mode : str
        The name the result carries.

    Returns
    -------
    ModeFailure

    Raises
    ------
    ValueError
        For a bad parameter, naming it and its value.
    """
    start = time.perf_counter()
    dimension = check_int("dimension", dimension, 1, 10_000)
    max_simulations = check_int("max_simulations", max_simulations, 1)
    presample_size = check_int("presample_size", presample_size, 1)
    if max_simulations < 2 * presample_size + 2:
        raise ValueError(f"max_simulations must be at least 2 * presample_size + 2 = "
                         f"{2 * presample_size + 2} (the presample, and the search's first "
                         f"batch), not {max_simulations!r}")
    if not isinstance(mirrored_twin, bool):
        raise ValueError(f"mirrored_twin must be True or False, not {short_repr(mirrored_twin)}")
    mirror = _checked_mirror(mirror, dimension)
    rng = np.random.default_rng(seed)
    factor = 2.0 if mirrored_twin else 1.0
    presample_failures = int(np.count_nonzero(
        limit_state(rng.standard_normal((presample_size, dimension))) <= 0))
    spent = presample_size
    estimate = presample_failures / presample_size
    if presample_failures and ((1 - estimate) / (estimate * target_rse**2)
                               <= max_simulations):
        failures, samples = presample_failures, presample_size
        while samples < max_simulations:
            rse = _binomial_rse(failures, samples)
            if failures >= 10 and rse <= target_rse:
                break
            size = min(batch_size, max_simulations - samples)
            failures += int(np.count_nonzero(
                limit_state(rng.standard_normal((size, dimension))) <= 0))
            samples += size
        rse = _binomial_rse(failures, samples)
        return ModeFailure(mode=mode, probability=min(1.0, factor * failures / samples),
                           relative_standard_error=rse, simulations=samples, method="MC",
                           converged=failures >= 10 and rse <= target_rse,
                           seconds=time.perf_counter() - start)
    # Three presampling batches reach the largest scale; beyond them a search that has seen
    # no failure only spends the budget (a mode at 14 sigma stays unseen), and following
    # failures to the nearest point takes a few hundred evaluations.
    search_budget = max(presample_size + 1, min((max_simulations - spent) // 2,
                                                 3 * presample_size + 1 + _DESCENT))
    found = find_shift_point(limit_state, dimension, max_simulations=search_budget,
                             presample_size=presample_size,
                             max_presample_sigma=max_presample_sigma, regions=2, seed=rng)
    spent += found.simulations
    if found.point is None:
        return ModeFailure(mode=mode, probability=0.0, relative_standard_error=math.inf,
                           simulations=spent, method="IS", converged=False,
                           shift_sigma=math.inf, seconds=time.perf_counter() - start)
    means = [np.asarray(point) for point in found.points]
    if mirror is not None:
        for point in list(means):
            image = point[mirror]
            if all(_apart(image, other) for other in means):
                means.append(image)
    estimate = importance_sampling(limit_state, dimension, target_rse=target_rse,
                                   max_simulations=max(1, max_simulations - spent),
                                   batch_size=batch_size, shift=np.array(means), seed=rng)
    return ModeFailure(mode=mode, probability=min(1.0, factor * estimate.probability),
                       relative_standard_error=estimate.relative_standard_error,
                       simulations=spent + estimate.simulations, method="IS",
                       converged=estimate.converged, shift_sigma=found.sigma,
                       regions=len(means), seconds=time.perf_counter() - start,
                       shift_points=tuple(tuple(point) for point in means))


def _checked_mirror(mirror, dimension):
    if mirror is None:
        return None
    mirror = np.asarray(mirror)
    if sorted(mirror.tolist()) != list(range(dimension)):
        raise ValueError(f"mirror must be a permutation of range({dimension}), not "
                         f"{short_repr(mirror.tolist())}")
    return mirror


def _check_target_rse(target_rse):
    if (isinstance(target_rse, bool) or not isinstance(target_rse, int | float)
            or not 0 < target_rse <= 1):
        raise ValueError(f"target_rse must be a number in (0, 1], not {short_repr(target_rse)}")


def _apart(point, other):
    norms = float(np.linalg.norm(point) * np.linalg.norm(other))
    return norms == 0.0 or float(point @ other) < _SAME_REGION * norms


def _binomial_rse(failures, samples):
    if failures == 0:
        return math.inf
    probability = failures / samples
    return math.sqrt((1.0 - probability) / (samples * probability))


def estimate_combined_failure(limit_states, failures, dimension, *, mirror=None, twins=(),
                              target_rse=0.1, max_samples=400, batch_size=100,
                              defensive_share=0.1, seed=0):
    """Estimate the probability that any of several failure modes occurs, from their own
    estimates: mixture importance sampling on the smallest of their limit states.

    The union bound double-counts cells that fail in more than one mode (a 6T cell that
    cannot hold its value cannot be read either); this estimates the union itself. Each mode
    with a failure seen is an *event* of its estimated probability; a mode in ``twins`` (the
    write of a 0) is two, itself and its mirror image (the write of a 1, whose limit state
    is the mode's on mirrored samples), each of half its probability. The proposal is the
    mixture of unit normals around every event's shift points, each point's share the
    event's probability over its number of points, and the nominal distribution, whose share
    is the probability of the events estimated by plain Monte Carlo (they have no points) and
    at least ``defensive_share`` of the whole: it bounds every weight and samples failures
    where no point was found. A sample fails where any event's limit state is at most 0;
    the events are evaluated most probable first, each only on the samples none before it
    failed. Modes in which no failure was seen (probability 0: beyond the search's reach)
    are left out, and so are modes below a hundredth of ``target_rse`` of the modes' total
    (they cannot move the union by more than that). With a single mode left that is not a
    twin, its estimate is the answer, and nothing is simulated; a twin alone is still
    sampled, for the union of its two events. The result's ``regions`` and ``shift_points``
    count the nominal component (a zero point) with the rest.

    Parameters
    ----------
    limit_states : dict of str to callable
        Each mode's limit state, ``(n, dimension)`` standard-normal samples to ``n`` margins.
    failures : dict of str to ModeFailure
        Each mode's estimate (:func:`estimate_mode_failure`), with the same keys.
    dimension : int
    mirror : array of int or None
        The mirror permutation (:func:`mirror_permutation`); needed for ``twins``.
    twins : collection of str
        The modes whose estimate counts their mirror image too (``mirrored_twin``).
    target_rse : float
        The relative standard error at which sampling stops, in (0, 1].
    max_samples : int
        The most samples; each is evaluated on one to all events' limit states.
    batch_size : int
    defensive_share : float
        The nominal distribution's least share of the mixture, in (0, 1).
    seed : int or numpy.random.SeedSequence

    Returns
    -------
    ModeFailure
        ``mode="bit"``; its ``simulations`` count margin evaluations, every event's.

    Raises
    ------
    ValueError
        For a bad parameter, naming it and its value.
    """
    start = time.perf_counter()
    if not isinstance(limit_states, dict) or not isinstance(failures, dict) \
            or sorted(limit_states) != sorted(failures):
        raise ValueError(f"limit_states and failures must be dicts with the same modes, not "
                         f"{short_repr(limit_states)} and {short_repr(failures)}")
    if not all(isinstance(failure, ModeFailure) for failure in failures.values()):
        raise ValueError(f"failures must hold ModeFailure values, not {short_repr(failures)}")
    dimension = check_int("dimension", dimension, 1, 10_000)
    twins = tuple(twins)
    if not set(twins) <= set(failures):
        raise ValueError(f"twins must be modes of {sorted(failures)}, not {short_repr(twins)}")
    if twins and mirror is None:
        raise ValueError("twins need the mirror permutation: give mirror as well")
    mirror = _checked_mirror(mirror, dimension)
    if not all(callable(limit_state) for limit_state in limit_states.values()):
        raise ValueError(f"limit_states must hold callables, not {short_repr(limit_states)}")
    if (isinstance(defensive_share, bool) or not isinstance(defensive_share, int | float)
            or not 0 < defensive_share < 1):
        raise ValueError(f"defensive_share must be a number in (0, 1), not "
                         f"{short_repr(defensive_share)}")
    max_samples = check_int("max_samples", max_samples, 1)
    _check_target_rse(target_rse)
    total = sum(failure.probability for failure in failures.values())
    # A mode this much less likely than the rest changes their union by less than a hundredth
    # of the target error: sampling it too would only spend simulations.
    negligible = _NEGLIGIBLE_SHARE * target_rse * total
    seen = [failures[mode] for mode in failures
            if failures[mode].probability > 0 and failures[mode].probability >= negligible]
    if not seen:
        return ModeFailure(mode="bit", probability=0.0, relative_standard_error=math.inf,
                           simulations=0, method="IS", converged=False, shift_sigma=math.inf,
                           seconds=time.perf_counter() - start)
    if len(seen) == 1 and seen[0].mode not in twins:
        return replace(seen[0], mode="bit", simulations=0,
                       seconds=time.perf_counter() - start)
    events = []  # (probability, limit state, points)
    for failure in seen:
        limit_state, points = limit_states[failure.mode], np.array(failure.shift_points)
        if failure.mode not in twins:
            events.append((failure.probability, limit_state, points))
            continue
        events.append((failure.probability / 2, limit_state, points))
        events.append((failure.probability / 2,
                       lambda z, own=limit_state, image=mirror: own(z[:, image]),
                       points[:, mirror] if len(points) else points))
    events.sort(key=lambda event: -event[0])
    # The nominal share: the Monte Carlo events' probability, and at least defensive_share
    # of the mixture once it is normalized with the points' shares.
    pointed = sum(probability for probability, _, points in events if len(points))
    nominal = max(defensive_share / (1 - defensive_share) * pointed,
                  sum(probability for probability, _, points in events if not len(points)))
    means, shares = [np.zeros(dimension)], [nominal]
    for probability, _, points in events:
        for point in points:
            means.append(point)
            shares.append(probability / len(points))
    evaluations = 0

    def any_failure(z):
        nonlocal evaluations
        margins = np.full(len(z), np.inf)
        working = np.arange(len(z))
        for _, limit_state, _ in events:
            if not working.size:
                break
            event_margins = np.asarray(limit_state(z[working]), dtype=float)
            evaluations += working.size
            margins[working] = np.minimum(margins[working], event_margins)
            working = working[event_margins > 0]
        return margins

    estimate = importance_sampling(any_failure, dimension, target_rse=target_rse,
                                   max_simulations=max_samples, batch_size=batch_size,
                                   min_failures=10, shift=np.array(means), shares=shares,
                                   seed=np.random.default_rng(seed))
    return ModeFailure(mode="bit", probability=min(1.0, estimate.probability),
                       relative_standard_error=estimate.relative_standard_error,
                       simulations=evaluations, method="IS", converged=estimate.converged,
                       regions=len(means),
                       seconds=time.perf_counter() - start,
                       shift_points=tuple(tuple(point) for point in means))


def storage_transistors(cell):
    """The indices of the transistors whose mismatch the bit's margins depend on: the six of
    the storage core (the cross-coupled pair and the access devices).

    An 8T cell's read port (``rd``, ``ra``) only reads ``qb``: shifting its thresholds by
    100 mV (some eight sigma) moves the hold and read SNMs by under 0.1 uV and the write
    margin by under 1.5 mV, inside the write margin's own resolution of about a millivolt
    (tested). So the margins are taken as functions of the core alone, and the estimates
    search and sample in six dimensions, not eight: the probability is the same, since the
    read port's shifts then integrate out exactly, and a search no longer wanders along
    directions that change nothing.

    Raises
    ------
    ValueError
        If ``cell`` is not a Bitcell6T or Bitcell8T.
    """
    _check_cell(cell)
    names = cell.transistor_names
    return tuple(index for index, name in enumerate(names) if name in _CORE)


def _cell_limit_state(cell, corner, mode, criteria, mismatch):
    varied = storage_transistors(cell)
    count = len(cell.transistors)

    def margins(shifts):
        full = np.zeros((len(shifts), count))
        full[:, varied] = shifts
        return _MARGINS[mode](cell, corner, full)

    return mismatch_limit_state(margins, [cell.transistors[index] for index in varied],
                                model=mismatch, threshold=criteria.minimum(mode),
                                shift_limit=sampler_shift_limit(corner))


@functools.cache
def _file_digest(path):
    return cache.text_digest(path.read_text())


def _check_cell(cell):
    if not isinstance(cell, Bitcell6T | Bitcell8T):
        raise ValueError(f"cell must be a Bitcell6T or Bitcell8T, not {short_repr(cell)}")
    return next(kind for kind, cell_class in BITCELLS.items() if type(cell) is cell_class)


def bit_failure_probability(cell, corner, *, criteria=None, mismatch=None, target_rse=0.1,
                            max_simulations=2000, presample_size=200, max_presample_sigma=4.0,
                            combined_samples=400, seed=0):
    """Estimate the failure probability of one bit of ``cell`` at ``corner``, per mode.

    Parameters
    ----------
    cell : Bitcell6T or Bitcell8T
    corner : Corner
    criteria : FailureCriteria or None
        ``None`` for the defaults (the sizing thresholds).
    mismatch : MismatchModel or None
        ``None`` for ``MismatchModel()``.
    target_rse : float
        Each mode's target relative standard error, in (0, 1].
    max_simulations : int or dict of str to int
        Each mode's budget of margin evaluations (presample, search and sampling), at least
        ``2 * presample_size + 2``; a dict gives each mode of :data:`MODES` its own. Every
        margin evaluates some 100 samples a second on one core here (BENCHMARKS.md
        ``spice``).
    presample_size : int
        The presample that chooses the method, and the search's batch.
    max_presample_sigma : float
        The search's largest presampling scale, 1 to 10 sigma (see
        :func:`~dcim.spice.find_shift_point`): 4 keeps its samples' largest shifts near
        16 sigma, inside the margins' range of half the supply.
    combined_samples : int
        The most samples of the combined estimate (:func:`estimate_combined_failure`, run
        where failures of two modes or more were seen; each sample costs one to four margin
        evaluations), at least 1.
    seed : int
        Each mode draws from its own stream of ``SeedSequence((seed, mode index))``, the
        combined estimate from ``SeedSequence((seed, 3))``.

    Returns
    -------
    BitFailure

    Raises
    ------
    ValueError
        For a bad parameter, naming it and its value.
    SimulationError
        If ngspice fails on a sample.
    """
    kind = _check_cell(cell)
    if not isinstance(corner, Corner):
        raise ValueError(f"corner must be a dcim.spice.Corner, not {short_repr(corner)}")
    criteria = FailureCriteria() if criteria is None else criteria
    if not isinstance(criteria, FailureCriteria):
        raise ValueError(f"criteria must be a FailureCriteria, not {short_repr(criteria)}")
    mismatch = MismatchModel() if mismatch is None else mismatch
    if not isinstance(mismatch, MismatchModel):
        raise ValueError(f"mismatch must be a MismatchModel, not {short_repr(mismatch)}")
    _check_target_rse(target_rse)
    presample_size = check_int("presample_size", presample_size, 1)
    budgets = _check_budgets(max_simulations, 2 * presample_size + 2)
    if (isinstance(max_presample_sigma, bool)
            or not isinstance(max_presample_sigma, int | float)
            or not 3.0 <= max_presample_sigma <= 10.0):
        raise ValueError(f"max_presample_sigma must be a number from 3 to 10 sigma (the "
                         f"search starts at 3), not {short_repr(max_presample_sigma)}")
    seed = check_int("seed", seed, 0)
    combined_samples = check_int("combined_samples", combined_samples, 1)
    settings = {"target_rse": float(target_rse), "presample_size": presample_size,
                "max_presample_sigma": float(max_presample_sigma)}
    key = cache.cache_key(step="bit-failure", version=BIT_FAILURE_VERSION, kind=kind,
                          cell=asdict(cell), corner=asdict(corner), criteria=asdict(criteria),
                          mismatch=mismatch.name, settings=settings, budgets=budgets,
                          combined_samples=combined_samples, seed=seed,
                          measurement=margins_settings(),
                          models=sorted(_file_digest(card) for card in corner.model_cards()))
    stored = cache.load(_CACHE_KIND, key)
    if stored is not None:
        return BitFailure.from_dict(stored, cached=True)
    varied = storage_transistors(cell)
    mirror = mirror_permutation([cell.transistor_names[index] for index in varied])
    modes, limit_states = {}, {}
    for index, mode in enumerate(MODES):
        limit_states[mode] = _cell_limit_state(cell, corner, mode, criteria, mismatch)
        # The SNMs are the smaller of two lobes, symmetric under the mirror; the write
        # margin writes a 0 only, and writing a 1 is its mirror image (the module's text).
        symmetric = mode not in _TWINS
        modes[mode] = estimate_mode_failure(
            limit_states[mode], len(varied), mirror=mirror if symmetric else None,
            mirrored_twin=not symmetric, mode=mode, seed=np.random.SeedSequence((seed, index)),
            max_simulations=budgets[mode], **settings)
    combined = estimate_combined_failure(
        limit_states, modes, len(varied), mirror=mirror, twins=_TWINS,
        target_rse=target_rse, max_samples=combined_samples,
        seed=np.random.SeedSequence((seed, len(MODES))))
    result = BitFailure(cell=cell.name, corner=corner, criteria=criteria,
                        mismatch=mismatch.name, combined=combined, **modes)
    cache.store(_CACHE_KIND, key, result.as_dict())
    return result


def _check_budgets(max_simulations, least):
    if isinstance(max_simulations, dict):
        if sorted(max_simulations) != sorted(MODES):
            raise ValueError(f"max_simulations must give a budget to each of {MODES}, not "
                             f"{short_repr(max_simulations)}")
        return {mode: check_int(f"max_simulations[{mode!r}]", max_simulations[mode], least)
                for mode in MODES}
    budget = check_int("max_simulations", max_simulations, least)
    return dict.fromkeys(MODES, budget)


def bit_failure_corners():
    """The default corners of :func:`bit_failure_table`, nominal (TT, 1.0 V, 25 C) first:
    every process at 1.0 V and 25 C, TT at 0.6 to 1.1 V in steps of 0.1 V, and TT at 0 and
    100 C."""
    corners = [Corner(process, 1.0, 25.0) for process in PROCESSES]
    corners += [Corner("TT", vdd, 25.0) for vdd in (0.6, 0.7, 0.8, 0.9, 1.1)]
    corners += [Corner("TT", 1.0, temp_c) for temp_c in (0.0, 100.0)]
    return tuple(corners)


def bit_failure_table(cell, corners=None, *, progress=None, **options):
    """:func:`bit_failure_probability` of ``cell`` at each corner, in their order.

    Parameters
    ----------
    cell : Bitcell6T or Bitcell8T
    corners : sequence of Corner or None
        ``None`` for :func:`bit_failure_corners`.
    progress : callable or None
        Called as ``progress(done, total)`` after each corner.
    **options
        For :func:`bit_failure_probability`.

    Returns
    -------
    tuple of BitFailure

    Raises
    ------
    ValueError
        For a bad cell, corner or option, before any simulation.
    """
    _check_cell(cell)
    corners = bit_failure_corners() if corners is None else corners
    if isinstance(corners, Corner):
        corners = (corners,)
    corners = tuple(corners)
    if not corners or not all(isinstance(corner, Corner) for corner in corners):
        raise ValueError(f"corners must be a non-empty sequence of dcim.spice.Corner, not "
                         f"{short_repr(corners)}")
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be callable or None, not {short_repr(progress)}")
    results = []
    for done, corner in enumerate(corners, 1):
        results.append(bit_failure_probability(cell, corner, **options))
        if progress is not None:
            progress(done, len(corners))
    return tuple(results)

