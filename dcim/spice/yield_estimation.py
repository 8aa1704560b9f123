"""Failure probability of a limit state under Gaussian variation: Monte Carlo and importance
sampling.

A *limit state* is a function of a batch of standard-normal samples ``z`` of shape
``(n, dimension)`` (one column per independent variable, e.g. the threshold shift of each
transistor in sigmas) that returns ``n`` margins; a sample fails where its margin is ``<= 0``.
Every call is one batch, so that a SPICE limit state can simulate a whole batch in one
simulator run; every estimator counts the samples it evaluates.

- :func:`monte_carlo` draws ``z`` directly; its relative standard error is the binomial
  ``sqrt((1 - p) / (n p))``, so 10 % at ``p = 1e-9`` (6 sigma) takes 1e11 samples.
- :func:`importance_sampling` is norm-minimizing mean-shift importance sampling (Dolecek et
  al., ICCAD 2008): :func:`find_shift_point` looks for the most probable failure point, the
  point of the failure boundary nearest the origin, and samples ``z ~ N(shift, I)`` weighted by
  the likelihood ratio ``phi(z) / phi(z - shift) = exp(-z . shift + |shift|^2 / 2)``. On a
  linear limit state at 6 sigma it needs a few hundred samples besides the search.

Both stop when the estimator's own relative standard error falls below ``target_rse`` (after
at least ``min_failures`` failures, so that an early lucky batch does not stop them), or when
``max_simulations`` limit-state evaluations, search included, have been spent. That standard
error is itself estimated: where the weights are heavy-tailed (a failure region curving round
its nearest point) it runs low, and runs that stop early stop on low estimates, a few per
cent low on average (BENCHMARKS.md, section yield).

Mean-shift importance sampling around one point is made for one failure region. Where
failures lie in several directions (a symmetric cell fails when either side flips), it
practically never sees the others: its estimate approaches the probability of the one region,
and its standard error does not show the miss. So the search looks again from presampled
failures that no point found explains (those before its tangent plane, ``z . p / |p| < |p|``,
which sampling around ``p`` hardly reaches), up to ``regions`` points, and the sampling draws
from the mixture of normals around them, weighted by ``exp(-|shift|^2 / 2)``. A region that
the presampling does not reach stays unseen; :attr:`YieldEstimate.unexplained_failures`
counts the presampled failures left unexplained, and ``regions=1`` gives plain single-point
mean-shift sampling.

Wiring a SPICE margin is one adapter (see :func:`dcim.spice.variation.mismatch_limit_state`)::

    from dcim.spice.variation import MismatchModel, mismatch_limit_state
    limit_state = mismatch_limit_state(lambda shifts: read_snm_batch(cell, corner, shifts),
                                       cell.transistors, model=MismatchModel(),
                                       threshold=0.0)
    estimate = importance_sampling(limit_state, len(cell.transistors), seed=1)
    estimate.probability, estimate.sigma

At high sigma the presampling may see failures on one side of a symmetric cell only (a 6T
read SNM failing at 7.6 sigma gave 4 failing presamples of 200, all on one side). Its
mirror image, the shift point with the columns of the two halves swapped, is then a second
failure region as likely as the first: pass both, ``importance_sampling(limit_state, 6,
shift=[point, mirrored])``, or the estimate is half the truth.

Estimators written here rather than taken from a library: OpenTURNS and UQpy implement
these methods, but they are large dependencies that dcim's core does not have; these are
short, take one batch per call and count every sample against the simulation budget.
"""

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..checks import check_int, short_repr

__all__ = ["ShiftPoint", "YieldEstimate", "equivalent_sigma", "failure_probability",
           "find_shift_point", "importance_sampling", "monte_carlo"]

_NORMAL = NormalDist()
_SAME_REGION = math.cos(math.radians(25))
"""Shift points closer in angle than this cosine belong to one failure region."""
_RAYS = 4
"""The nearest presampled failures followed to the boundary, for each region."""
_STALLED_ITERATIONS = 3
"""HLRF iterations on the boundary that bring the point less than a tenth of ``tolerance``
nearer before the search ends."""
_RAY_STEPS = 40
"""The most regula falsi steps along the rays to the boundary."""
_SMALLEST_STEP = 1 / 16
"""The shortest HLRF step tried, as a fraction of the full one, before the search stops."""


def failure_probability(sigma):
    """The one-sided normal tail ``Phi(-sigma)``: ``failure_probability(6.0)`` is 9.87e-10."""
    sigma = _check_real("sigma", sigma)
    return 0.5 * math.erfc(sigma / math.sqrt(2.0))


def equivalent_sigma(probability):
    """The ``sigma`` whose one-sided normal tail is ``probability``: ``-Phi^-1(probability)``.

    ``0`` gives ``inf`` and ``1`` gives ``-inf``.

    Raises
    ------
    ValueError
        If ``probability`` is not a number in [0, 1].
    """
    probability = _check_real("probability", probability)
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"probability must lie in [0, 1], not {probability!r}")
    if probability == 0.0:
        return math.inf
    if probability == 1.0:
        return -math.inf
    return -_NORMAL.inv_cdf(probability)


@dataclass(frozen=True)
class ShiftPoint:
    """The result of :func:`find_shift_point`.

    Members
    -------
    point : tuple of float or None
        The most probable failure point found (standard-normal units), on the failure side of
        the boundary or within ``tolerance`` of it; ``None`` if no failure was seen.
    others : tuple of tuple of float
        The nearest points of further failure regions, nearest first (see ``regions``).
    sigma : float
        Its distance from the origin (``inf`` if none was found): the first-order estimate
        of the equivalent sigma, exact for a linear limit state.
    simulations : int
        Limit-state evaluations spent by the search.
    presample_failures : int
        Failures among the presamples.
    unexplained_failures : int
        Presampled failures before the tangent plane of every point found
        (``z . p / |p| < |p| - tolerance`` for each): a failure region that sampling around
        these points hardly sees (or, for a failure region curving round its nearest point,
        the far parts of it).
    """

    point: tuple | None
    sigma: float
    simulations: int
    presample_failures: int
    unexplained_failures: int
    others: tuple = ()

    @property
    def points(self):
        """``point`` and ``others``: every shift point, nearest first (empty if none)."""
        return () if self.point is None else (self.point, *self.others)


@dataclass(frozen=True)
class YieldEstimate:
    """A failure probability estimated by :func:`monte_carlo` or :func:`importance_sampling`.

    Members
    -------
    method : str
        ``"monte_carlo"`` or ``"importance_sampling"``.
    probability : float
        The estimated failure probability.
    relative_standard_error : float
        The estimator's standard error over ``probability`` (``inf`` without failures).
    search_simulations, sampling_simulations : int
        Limit-state evaluations spent looking for the shift point and sampling.
    failures : int
        Failing samples among the sampling ones.
    converged : bool
        Whether ``relative_standard_error`` reached the target within the budget.
    shift : tuple of float or None
        The nearest mean of the sampling distribution (``None`` for Monte Carlo).
    shift_sigma : float or None
        Its norm.
    shifts : tuple of tuple of float
        All means of the sampling mixture, nearest first (empty for Monte Carlo).
    unexplained_failures : int
        See :attr:`ShiftPoint.unexplained_failures` (0 for Monte Carlo).
    """

    method: str
    probability: float
    relative_standard_error: float
    search_simulations: int
    sampling_simulations: int
    failures: int
    converged: bool
    shift: tuple | None = None
    shift_sigma: float | None = None
    unexplained_failures: int = 0
    shifts: tuple = ()

    @property
    def simulations(self):
        """All limit-state evaluations: search and sampling."""
        return self.search_simulations + self.sampling_simulations

    @property
    def standard_error(self):
        """The absolute standard error of :attr:`probability`."""
        if self.probability == 0.0:
            return math.nan
        return self.probability * self.relative_standard_error

    @property
    def sigma(self):
        """The equivalent one-sided sigma of :attr:`probability` (``inf`` for 0)."""
        return equivalent_sigma(self.probability)


def monte_carlo(limit_state, dimension, *, target_rse=0.1, max_simulations=1_000_000,
                batch_size=10_000, min_failures=10, seed=None):
    """Estimate the failure probability of ``limit_state`` by plain Monte Carlo.

    Parameters
    ----------
    limit_state : callable
        ``(n, dimension)`` standard-normal samples to ``n`` margins (failure at ``<= 0``).
    dimension : int
        Number of independent standard-normal variables, 1 to 10,000.
    target_rse : float
        Stop once the binomial relative standard error ``sqrt((1 - p) / (n p))`` is at most
        this (and ``min_failures`` failures were seen); in (0, 1].
    max_simulations : int
        The most samples to evaluate.
    batch_size : int
        Samples per limit-state call.
    min_failures : int
        Failures needed before the stopping rule is trusted.
    seed : int, numpy.random.Generator or None
        For :func:`numpy.random.default_rng`.

    Returns
    -------
    YieldEstimate

    Raises
    ------
    ValueError
        For a bad parameter, naming it and its value, or a limit state that returns the wrong
        shape or NaN.
    TypeError
        If ``limit_state`` is not callable or a count is not an int.
    """
    evaluate = _CountedLimitState(limit_state, dimension)
    target_rse, max_simulations, batch_size, min_failures = _check_stopping(
        target_rse, max_simulations, batch_size, min_failures)
    rng = np.random.default_rng(seed)
    failures = 0
    relative_error = math.inf
    while evaluate.count < max_simulations:
        size = min(batch_size, max_simulations - evaluate.count)
        failures += int(np.count_nonzero(evaluate(rng.standard_normal((size, dimension))) <= 0))
        relative_error = _binomial_rse(failures, evaluate.count)
        if failures >= min_failures and relative_error <= target_rse:
            break
    return YieldEstimate(method="monte_carlo", probability=failures / evaluate.count,
                         relative_standard_error=relative_error, search_simulations=0,
                         sampling_simulations=evaluate.count, failures=failures,
                         converged=failures >= min_failures and relative_error <= target_rse)


def find_shift_point(limit_state, dimension, *, max_simulations=2_000, presample_size=200,
                     presample_sigma=3.0, max_presample_sigma=None, step=0.1, tolerance=0.02,
                     regions=2, seed=None):
    """Search the most probable failure point: the failure boundary's point nearest the origin.

    In three batched stages, every evaluation counted:

    1. Presampling: ``presample_size`` samples of ``N(0, presample_sigma^2 I)``, the scale
       growing 1.5 times per batch (up to ``max_presample_sigma``) until some fail (the
       nominal point is evaluated first; if it fails, the origin is the answer).
    2. The four nearest failures are followed along their rays from the origin to the
       boundary (Illinois regula falsi on the margins, one batch per step for all rays).
    3. From the nearest boundary point, improved Hasofer-Lind-Rackwitz-Fiessler iterations:
       the gradient by forward differences of ``step`` sigmas (one batch of ``dimension``
       samples), the step towards the nearest point of the linearised boundary, halved
       until it lowers a merit function (one sample per try). They stop when a step would
       move less than ``tolerance`` sigmas from a point within ``tolerance`` sigmas of the
       boundary, when no step of a sixteenth or more helps, when three iterations in a row
       on the boundary bring the point less than ``tolerance / 10`` nearer, or when the
       budget is spent.

    The nearest point that fails (or lies within ``tolerance`` of the boundary) is returned.
    If presampled failures remain that it does not explain (see
    :attr:`ShiftPoint.unexplained_failures`), stages 2 and 3 run again from the nearest of
    them not yet followed in the direction found, up to ``regions`` points in all and
    ``2 * regions`` searches; a point less than 25 degrees from one found before is the same
    region found twice and is dropped.

    Stage 3 assumes a margin that changes smoothly on the scale of ``step``; where it does
    not, the point of stage 2 is still a failing point, though not the nearest.

    Parameters
    ----------
    limit_state, dimension, seed
        As for :func:`monte_carlo`.
    max_simulations : int
        The search's budget; at least ``presample_size + 1``.
    presample_size : int
        Samples per presampling batch, at least 1.
    presample_sigma : float
        The initial presampling scale, at least 1.
    max_presample_sigma : float or None
        The largest presampling scale, at least ``presample_sigma``; ``None`` for no limit.
        A limit state defined only so far out (a SPICE margin refuses threshold shifts beyond
        half the supply, about 20 sigma) needs one: the scale otherwise grows until samples
        reach there.
    step : float
        The finite-difference step in sigmas, in (0, 1].
    tolerance : float
        Convergence distance in sigmas, in (0, 1].
    regions : int
        The most failure regions to find, 1 to 16.

    Returns
    -------
    ShiftPoint

    Raises
    ------
    ValueError, TypeError
        As for :func:`monte_carlo`.
    """
    evaluate = _CountedLimitState(limit_state, dimension)
    max_simulations = check_int("max_simulations", max_simulations, 2)
    presample_size = check_int("presample_size", presample_size, 1)
    if max_simulations < presample_size + 1:
        raise ValueError(f"max_simulations must be at least presample_size + 1 = "
                         f"{presample_size + 1}, not {max_simulations!r}")
    presample_sigma = _check_real("presample_sigma", presample_sigma, 1.0, 100.0)
    max_presample_sigma = _check_presample_limit(presample_sigma, max_presample_sigma)
    step = _check_real("step", step, 0.0, 1.0, open_low=True)
    tolerance = _check_real("tolerance", tolerance, 0.0, 1.0, open_low=True)
    regions = check_int("regions", regions, 1, 16)
    rng = np.random.default_rng(seed)
    return _search(evaluate, rng, max_simulations, presample_size, presample_sigma,
                   max_presample_sigma, step, tolerance, regions)


def importance_sampling(limit_state, dimension, *, target_rse=0.1, max_simulations=5_000,
                        batch_size=200, min_failures=10, shift=None, search_simulations=None,
                        presample_size=200, presample_sigma=3.0, max_presample_sigma=None,
                        regions=2, shares=None, seed=None):
    """Estimate the failure probability of ``limit_state`` by mean-shift importance sampling.

    Samples ``z ~ N(shift, I)`` in batches of ``batch_size``; the estimate is the mean of
    ``1[g(z) <= 0] w(z)`` with ``w(z) = exp(-z . shift + |shift|^2 / 2)``, its relative
    standard error the sample standard deviation of those terms over ``sqrt(n)`` and the mean.
    With several shift points, ``z`` comes from the mixture ``sum_j a_j N(shift_j, I)``,
    ``a_j`` in proportion to ``exp(-|shift_j|^2 / 2)`` unless ``shares`` gives them, and
    ``w = phi(z) / q(z)``. The shifts are the points of :func:`find_shift_point` unless given.
    A shift of zeros is a defensive share of the nominal distribution: it bounds every weight
    by one over its share, and finds failures no point was found for.

    Parameters
    ----------
    limit_state, dimension, target_rse, batch_size, min_failures, seed
        As for :func:`monte_carlo` (the relative standard error being the weighted one).
    max_simulations : int
        The most limit-state evaluations, search and sampling together.
    shift : array-like of shape (dimension,) or (m, dimension), or None
        Known shift points (from an earlier search, at another corner); ``None`` searches.
    search_simulations : int or None
        The search's share of ``max_simulations``; ``None`` for half of it.
    presample_size, presample_sigma, max_presample_sigma, regions
        As for :func:`find_shift_point`.
    shares : array-like of float or None
        The mixture's share of each given shift (positive, normalized here); ``None`` for
        shares in proportion to ``exp(-|shift_j|^2 / 2)``. Only with ``shift``.

    Returns
    -------
    YieldEstimate
        Not converged, with probability 0, if the search found no failure.

    Raises
    ------
    ValueError, TypeError
        As for :func:`monte_carlo`; also for a ``shift`` of the wrong shape or not finite.
    """
    evaluate = _CountedLimitState(limit_state, dimension)
    target_rse, max_simulations, batch_size, min_failures = _check_stopping(
        target_rse, max_simulations, batch_size, min_failures)
    if shift is None and shares is not None:
        raise ValueError("shares needs the shifts they belong to: give shift as well")
    rng = np.random.default_rng(seed)
    if shift is None:
        search_budget = (max_simulations // 2 if search_simulations is None else
                         check_int("search_simulations", search_simulations, 2,
                                   max_simulations))
        if search_budget < check_int("presample_size", presample_size, 1) + 1:
            raise ValueError(f"search_simulations must be at least presample_size + 1 = "
                             f"{presample_size + 1}, not {search_budget!r} (by default half of "
                             f"max_simulations)")
        found = find_shift_point(evaluate, dimension, max_simulations=search_budget,
                                 presample_size=presample_size,
                                 presample_sigma=presample_sigma,
                                 max_presample_sigma=max_presample_sigma, regions=regions,
                                 seed=rng)
        searched, unexplained = found.simulations, found.unexplained_failures
        if found.point is None:
            return YieldEstimate(method="importance_sampling", probability=0.0,
                                 relative_standard_error=math.inf,
                                 search_simulations=searched, sampling_simulations=0,
                                 failures=0, converged=False, shift=None, shift_sigma=math.inf,
                                 unexplained_failures=unexplained)
        means = np.array(found.points)
        log_shares = _proportional_log_shares(means)
    else:
        means = np.asarray(shift, dtype=float)
        means = means[np.newaxis] if means.ndim == 1 else means
        if (means.ndim != 2 or means.shape[1:] != (dimension,) or not len(means)
                or not np.all(np.isfinite(means))):
            raise ValueError(f"shift must be {dimension} finite numbers or rows of them, not "
                             f"{short_repr(shift)}")
        if shares is None:
            log_shares = _proportional_log_shares(means)
        else:
            try:
                values = np.asarray(shares, dtype=float)
            except (TypeError, ValueError):
                values = np.full(0, np.nan)
            if (values.shape != (len(means),) or not np.all(np.isfinite(values))
                    or not np.all(values > 0)):
                raise ValueError(f"shares must be {len(means)} positive numbers, one per "
                                 f"shift, not {short_repr(shares)}")
            log_shares = np.log(values / values.sum())
        order = np.argsort(np.linalg.norm(means, axis=1), kind="stable")
        means, log_shares = means[order], log_shares[order]
        searched, unexplained = 0, 0
    offsets = -0.5 * np.einsum("ij,ij->i", means, means)
    total = total_squares = 0.0
    failures = 0
    relative_error = math.inf
    while evaluate.count < max_simulations:
        size = min(batch_size, max_simulations - evaluate.count)
        if len(means) == 1:
            points = rng.standard_normal((size, dimension)) + means[0]
        else:
            points = (rng.standard_normal((size, dimension))
                      + means[rng.choice(len(means), size=size, p=np.exp(log_shares))])
        failed = evaluate(points) <= 0
        # log(q(z) / phi(z)) = log sum_j a_j exp(z . shift_j - |shift_j|^2 / 2)
        weights = np.exp(-_log_sum_exp(points[failed] @ means.T + offsets + log_shares))
        failures += int(np.count_nonzero(failed))
        total += float(weights.sum())
        total_squares += float(weights @ weights)
        relative_error = _weighted_rse(total, total_squares, evaluate.count - searched)
        if failures >= min_failures and relative_error <= target_rse:
            break
    sampled = evaluate.count - searched
    return YieldEstimate(method="importance_sampling",
                         probability=total / sampled if sampled else 0.0,
                         relative_standard_error=relative_error, search_simulations=searched,
                         sampling_simulations=sampled, failures=failures,
                         converged=failures >= min_failures and relative_error <= target_rse,
                         shift=tuple(float(value) for value in means[0]),
                         shift_sigma=float(np.linalg.norm(means[0])),
                         unexplained_failures=unexplained,
                         shifts=tuple(tuple(float(value) for value in mean) for mean in means))


def _proportional_log_shares(means):
    # A linear failure region at distance |m| holds about exp(-|m|^2 / 2) of the probability.
    offsets = -0.5 * np.einsum("ij,ij->i", means, means)
    return offsets - _log_sum_exp(offsets[np.newaxis])[0]


class _CountedLimitState:
    """A limit state that checks what it returns and counts the samples it evaluates."""

    def __init__(self, limit_state, dimension):
        if not callable(limit_state):
            raise TypeError(f"limit_state must be callable, not {short_repr(limit_state)}")
        # A counted limit state handed on (importance sampling to its search) keeps counting.
        self._limit_state = limit_state
        self.dimension = check_int("dimension", dimension, 1, 10_000)
        self.count = 0

    def __call__(self, points):
        margins = np.asarray(self._limit_state(points), dtype=float)
        if margins.shape != (len(points),):
            raise ValueError(f"limit_state must return one margin per sample, shape "
                             f"({len(points)},), not {margins.shape}")
        if np.isnan(margins).any():
            index = int(np.flatnonzero(np.isnan(margins))[0])
            raise ValueError(f"limit_state returned NaN for sample {index} of the batch, "
                             f"z = {short_repr(points[index].tolist())}")
        self.count += len(points)
        return margins


def _check_presample_limit(presample_sigma, max_presample_sigma):
    if max_presample_sigma is None:
        return math.inf
    limit = _check_real("max_presample_sigma", max_presample_sigma, 1.0, 100.0)
    if limit < presample_sigma:
        raise ValueError(f"max_presample_sigma must be at least presample_sigma = "
                         f"{presample_sigma:g}, not {limit!r}")
    return limit


def _search(evaluate, rng, budget, presample_size, presample_sigma, max_presample_sigma, step,
            tolerance, regions):
    start = evaluate.count
    dimension = evaluate.dimension

    def spent():
        return evaluate.count - start

    origin_margin = float(evaluate(np.zeros((1, dimension)))[0])
    if origin_margin <= 0:
        return ShiftPoint(point=(0.0,) * dimension, sigma=0.0, simulations=spent(),
                          presample_failures=0, unexplained_failures=0)
    scale = presample_sigma
    failing = np.empty((0, dimension))
    failing_margins = np.empty(0)
    while not len(failing) and spent() + presample_size <= budget:
        points = scale * rng.standard_normal((presample_size, dimension))
        margins = evaluate(points)
        failing, failing_margins = points[margins <= 0], margins[margins <= 0]
        scale = min(1.5 * scale, max_presample_sigma)
    if not len(failing):
        return ShiftPoint(point=None, sigma=math.inf, simulations=spent(),
                          presample_failures=0, unexplained_failures=0)
    found = []
    unseen = np.ones(len(failing), dtype=bool)
    for _ in range(2 * regions):
        if not unseen.any() or len(found) == regions or spent() >= budget:
            break
        starts = np.flatnonzero(unseen)
        starts = starts[np.argsort(np.linalg.norm(failing[starts], axis=1))[:_RAYS]]
        point = _descend(evaluate, failing[starts], failing_margins[starts], origin_margin,
                         budget - spent(), step, tolerance)
        unit = point / np.linalg.norm(point)
        if all(unit @ other < _SAME_REGION * np.linalg.norm(other) for other in found):
            found.append(point)
        # Look on from failures before this point's tangent plane, new or found again (a
        # curved region can reach round it), leaving out the starts of this search in its
        # direction; the starts of its rays in other directions are followed again.
        before = unseen & (failing @ unit < np.linalg.norm(point) - tolerance)
        starts_here = starts[failing[starts] @ unit
                             >= _SAME_REGION * np.linalg.norm(failing[starts], axis=1)]
        before[starts_here] = False
        if np.array_equal(before, unseen):
            break
        unseen = before
    if not found:
        # The presampling spent the budget: its nearest failure is the best point known.
        found = [failing[int(np.argmin(np.linalg.norm(failing, axis=1)))]]
    found.sort(key=np.linalg.norm)
    found_array = np.array(found)
    norms = np.linalg.norm(found_array, axis=1)
    away = np.all(failing @ (found_array / norms[:, np.newaxis]).T < norms - tolerance, axis=1)
    return ShiftPoint(point=tuple(float(value) for value in found[0]),
                      sigma=float(np.linalg.norm(found[0])), simulations=spent(),
                      presample_failures=len(failing),
                      unexplained_failures=int(np.count_nonzero(away)),
                      others=tuple(tuple(float(value) for value in point)
                                   for point in found[1:]))


def _descend(evaluate, failing, failing_margins, origin_margin, budget, step, tolerance):
    """Stages 2 and 3 of :func:`find_shift_point` from the presampled failures ``failing``."""
    start = evaluate.count

    def spent():
        return evaluate.count - start

    best, best_margin = _ray_boundaries(evaluate, failing, failing_margins, origin_margin,
                                        budget - spent(), tolerance)
    point, margin = best, best_margin
    identity = step * np.eye(evaluate.dimension)
    stalled = 0
    while spent() + evaluate.dimension <= budget and stalled < _STALLED_ITERATIONS:
        with np.errstate(invalid="ignore"):
            gradient = (evaluate(point + identity) - margin) / step
        length = float(np.linalg.norm(gradient))
        if length == 0.0 or not math.isfinite(length):
            break
        near = margin <= 0 or margin / length <= tolerance
        # The finite-difference gradient's error can leave the iterations circling the
        # nearest point instead of reaching it.
        gain = float(np.linalg.norm(best) - np.linalg.norm(point))
        if near:
            stalled = 0 if gain > 0.1 * tolerance else stalled + 1
        if near and gain > 0:
            best = point
        direction = (float(gradient @ point) - margin) / length**2 * gradient - point
        if near and np.linalg.norm(direction) <= tolerance:
            break
        # Improved HLRF (Zhang and Der Kiureghian, 1997): plain HLRF cycles where the
        # boundary curves more than the sphere through its nearest point, so each step is
        # halved until it lowers the merit |z|^2 / 2 + c |g(z)|, c > |z| / |grad g|.
        weight = 2.0 * max(float(np.linalg.norm(point)), 1.0) / length
        merit = 0.5 * float(point @ point) + weight * abs(margin)
        fraction = 1.0
        while fraction >= _SMALLEST_STEP and spent() < budget:
            trial = point + fraction * direction
            trial_margin = float(evaluate(trial[np.newaxis])[0])
            if 0.5 * float(trial @ trial) + weight * abs(trial_margin) < merit:
                break
            fraction /= 2
        else:
            break
        point, margin = trial, trial_margin
    return best


def _ray_boundaries(evaluate, points, margins, origin_margin, budget, tolerance):
    """The nearest boundary crossing of the rays from the origin through failing ``points``."""
    radii = np.linalg.norm(points, axis=1)
    directions = points / radii[:, np.newaxis]
    low, low_margin = np.zeros(len(radii)), np.full(len(radii), origin_margin)
    high, high_margin = radii.copy(), margins.copy()
    spent = 0
    # Illinois: halve the margin of an end kept twice, so that the bracket shrinks on both
    # sides even where the margin bends.
    last_side = np.zeros(len(radii), dtype=int)
    for _ in range(_RAY_STEPS):
        if spent + len(radii) > budget or np.max(high - low) <= tolerance:
            break
        with np.errstate(invalid="ignore"):
            between = low + (high - low) * low_margin / (low_margin - high_margin)
        # Bisect where a margin is infinite (a cell that never flips) or the secant stalls.
        between = np.where(np.isfinite(between), between, (low + high) / 2)
        between = np.clip(between, low + 0.01 * (high - low), high - 0.01 * (high - low))
        found = evaluate(between[:, np.newaxis] * directions)
        spent += len(radii)
        fails = found <= 0
        high, high_margin = np.where(fails, between, high), np.where(fails, found, high_margin)
        low, low_margin = np.where(fails, low, between), np.where(fails, low_margin, found)
        side = np.where(fails, 1, -1)
        low_margin = np.where(fails & (last_side == 1), low_margin / 2, low_margin)
        high_margin = np.where(~fails & (last_side == -1), high_margin / 2, high_margin)
        last_side = side
    nearest = int(np.argmin(high))
    return high[nearest] * directions[nearest], float(high_margin[nearest])


def _log_sum_exp(values):
    """``log(sum(exp(values), axis=1))`` without overflow: the weights reach exp(+-500)."""
    largest = np.max(values, axis=1, keepdims=True)
    return largest[:, 0] + np.log(np.exp(values - largest).sum(axis=1))


def _check_stopping(target_rse, max_simulations, batch_size, min_failures):
    return (_check_real("target_rse", target_rse, 0.0, 1.0, open_low=True),
            check_int("max_simulations", max_simulations, 1),
            check_int("batch_size", batch_size, 1),
            check_int("min_failures", min_failures, 1))


def _check_real(parameter, value, low=None, high=None, *, open_low=False):
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number))
            or not math.isfinite(value)):
        raise ValueError(f"{parameter} must be a finite number, not {short_repr(value)}")
    value = float(value)
    if low is not None and (value < low or open_low and value == low):
        raise ValueError(f"{parameter} must be {'above' if open_low else 'at least'} {low:g}, "
                         f"not {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{parameter} must be at most {high:g}, not {value!r}")
    return value


def _binomial_rse(failures, samples):
    if failures == 0:
        return math.inf
    probability = failures / samples
    return math.sqrt((1.0 - probability) / (samples * probability))


def _weighted_rse(total, total_squares, samples):
    if total == 0.0 or samples < 2:
        return math.inf
    mean = total / samples
    variance = max(total_squares / samples - mean * mean, 0.0) * samples / (samples - 1)
    return math.sqrt(variance / samples) / mean
