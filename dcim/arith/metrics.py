"""Error metrics of approximate multipliers: ER, MED, NMED, MAE%, MRED, WCE, WCRE, MSE, bias.

A multiplier is given as a vectorised NumPy model ``model(a, b)``; its products are compared
with the exact products ``a * b`` over every ordered operand pair when there are few enough, or
over a seeded random sample otherwise. Operands are uniform unless an
:class:`OperandDistribution` (for example, histograms of the quantised weights and activations
of a neural network) is given.

The definitions follow ``shared/reference/approximate-arithmetic.md``. With exact product
``P = a * b``, approximate product ``P'`` and error distance ``ED = |P' - P|``:

======  =========================================================================
ER      fraction of pairs with ``ED != 0`` (pairs with ``P = 0`` included)
MED     mean of ``ED`` (EvoApprox calls it "MAE")
NMED    ``MED / max |P|``; for unsigned operands ``max |P| = (2**n - 1)**2``, the
        Liang, Han and Lombardi (2013) normalisation; for signed ones ``2**(2n - 2)``
MAE%    ``100 * MED / 2**(2n)`` (EvoApprox: divides by the output range)
MRED    mean of ``ED / |P|`` over the pairs with ``P != 0``
WCE     maximum ``ED``
WCRE    maximum ``ED / |P|`` over the pairs with ``P != 0``
MSE     mean of ``ED**2``
bias    mean of ``P' - P``; it predicts how errors accumulate in a dot product
======  =========================================================================
"""

import math
from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

__all__ = ["ErrorMetrics", "OperandDistribution", "error_metrics"]

_MAX_WIDTH = 32
# A distribution stores one weight per operand value in a hashable tuple; beyond 16 bits the
# tuples would take hundreds of megabytes, and quantised operands are narrower than that.
_MAX_DISTRIBUTION_WIDTH = 16
# Exact integer sums split values into 32-bit halves; the halves of up to 2**31 values cannot
# overflow a 64-bit accumulator.
_MAX_CHUNK_SIZE = 1 << 30
# Random pairs are drawn in blocks of this many, each from its own child seed, so that the
# sample depends only on the seed and the sample count and not on ``chunk_size``.
_SAMPLE_BLOCK = 1 << 16
# Differences of values within this bound cannot overflow int64.
_INT64_SAFE = 1 << 62


def _check_width(width, limit=_MAX_WIDTH, what=""):
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) \
            or not 1 <= width <= limit:
        raise ValueError(f"width must be an integer from 1 to {limit}{what}, not {width!r}")
    return int(width)


def _check_signed(signed):
    if not isinstance(signed, (bool, np.bool_)):
        raise TypeError(f"signed must be a bool, not {signed!r}")
    return bool(signed)


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, not {value!r}")
    return int(value)


def _value_range(width, signed):
    """Smallest and largest operand value."""
    low = -(1 << (width - 1)) if signed else 0
    return low, low + (1 << width) - 1


def _describe(width, signed):
    return f"{width}-bit {'signed' if signed else 'unsigned'}"


def _normalised(name, values, width):
    """Validate one weight per operand value and scale them to sum to 1, as a tuple."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of numbers, not {type(values).__name__}") \
            from error
    if array.shape != (1 << width,):
        raise ValueError(f"{name} must have {1 << width} entries for {width}-bit operands, "
                         f"not shape {array.shape}")
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be finite and non-negative, not {float(array[index])!r} "
                         f"at index {index}")
    peak = array.max()
    if peak == 0:
        raise ValueError(f"{name} must have a non-zero sum, not all zeros")
    # Scaling by the peak first keeps huge counts from overflowing the sum.
    total = math.fsum(array / peak)
    # Weights that already sum to 1 are kept as they are, so that rebuilding a distribution from
    # its own weights gives an equal (and equally hashed) object.
    if abs(total * peak - 1.0) > 1e-12:
        array = array / peak / total
    return tuple(array.tolist())


def _histogram(name, samples, width, signed):
    """Count how often each operand value occurs in ``samples`` (any shape)."""
    array = np.asarray(samples).ravel()
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold integers, not values of dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty")
    if array.dtype.kind == "f":
        fractional = ~np.isfinite(array) | (array != np.round(array))
        if fractional.any():
            raise ValueError(f"{name} must hold integers, not {float(array[fractional][0])!r}")
    low, high = _value_range(width, signed)
    outside = (array < low) | (array > high)
    if outside.any():
        bad = array[outside][0]
        bad = float(bad) if array.dtype.kind == "f" else int(bad)
        raise ValueError(f"{name} must lie in {low}..{high} for {_describe(width, signed)} "
                         f"operands, not {bad!r}")
    return np.bincount((array - low).astype(np.int64), minlength=1 << width)


def _uniform_sample(width, signed, n, rng):
    low, high = _value_range(width, signed)
    a = rng.integers(low, high, size=n, dtype=np.int64, endpoint=True)
    b = rng.integers(low, high, size=n, dtype=np.int64, endpoint=True)
    return a, b


@dataclass(frozen=True)
class OperandDistribution:
    """Distribution of the operands ``(a, b)`` of a multiplier; ``a`` and ``b`` independent.

    Build one with :meth:`uniform`, :meth:`from_histograms` or :meth:`from_samples`. It is
    frozen and hashable, so that it can be part of the specification of an experiment.

    Weights are indexed by position in the value range, not by bit pattern: for unsigned
    operands value ``v`` is at index ``v``; for signed operands at index ``v + 2**(width-1)``,
    so index 0 holds the most negative value. Weights are scaled to sum to 1.

    Parameters
    ----------
    width : int
        Operand width in bits, 1 to 16.
    signed : bool
        Whether operands are two's complement.
    a_weights, b_weights : tuple of float
        Probability of each of the ``2**width`` values of ``a`` and of ``b``.

    Raises
    ------
    ValueError
        If ``width`` is out of range or a weight sequence has the wrong length, a negative or
        non-finite entry, or a zero sum.
    TypeError
        If ``signed`` is not a bool.
    """

    width: int
    signed: bool
    a_weights: tuple = field(repr=False)
    b_weights: tuple = field(repr=False)

    def __post_init__(self):
        width = _check_width(self.width, _MAX_DISTRIBUTION_WIDTH, " for an operand distribution")
        # Frozen: normalise the fields through object.__setattr__.
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "signed", _check_signed(self.signed))
        object.__setattr__(self, "a_weights", _normalised("a_weights", self.a_weights, width))
        object.__setattr__(self, "b_weights", _normalised("b_weights", self.b_weights, width))

    @classmethod
    def uniform(cls, width, signed):
        """Every value of ``a`` and of ``b`` equally likely.

        Raises
        ------
        ValueError
            If ``width`` is not 1 to 16.
        TypeError
            If ``signed`` is not a bool.
        """
        width = _check_width(width, _MAX_DISTRIBUTION_WIDTH, " for an operand distribution")
        weights = (1.0 / (1 << width),) * (1 << width)
        return cls(width, signed, weights, weights)

    @classmethod
    def from_histograms(cls, a_hist, b_hist, *, width, signed):
        """Distribution from one weight (or count) per operand value.

        Parameters
        ----------
        a_hist, b_hist : array-like of float
            ``2**width`` finite, non-negative weights each, indexed as described in the class
            documentation; they need not be normalised.
        width : int
        signed : bool

        Raises
        ------
        ValueError
            If ``width`` is not 1 to 16, or a histogram has the wrong length, a negative or
            non-finite entry, or a zero sum (the message names ``a_hist`` or ``b_hist``).
        TypeError
            If ``signed`` is not a bool.
        """
        width = _check_width(width, _MAX_DISTRIBUTION_WIDTH, " for an operand distribution")
        return cls(width, signed, _normalised("a_hist", a_hist, width),
                   _normalised("b_hist", b_hist, width))

    @classmethod
    def from_samples(cls, a_samples, b_samples, *, width, signed):
        """Distribution from observed operand values, such as quantised weights and activations.

        Parameters
        ----------
        a_samples, b_samples : array-like of int
            Operand values (signed values for signed operands), of any shape. Floats are
            accepted if they are whole numbers.
        width : int
        signed : bool

        Raises
        ------
        ValueError
            If ``width`` is not 1 to 16, or a sample array is empty, holds a non-integer, or holds
            a value outside the operand range (the message names ``a_samples`` or ``b_samples``).
        TypeError
            If ``signed`` is not a bool.
        """
        width = _check_width(width, _MAX_DISTRIBUTION_WIDTH, " for an operand distribution")
        signed = _check_signed(signed)
        return cls(width, signed, _histogram("a_samples", a_samples, width, signed),
                   _histogram("b_samples", b_samples, width, signed))

    @property
    def values(self):
        """The operand values in index order, as an int64 array."""
        low, high = _value_range(self.width, self.signed)
        return np.arange(low, high + 1, dtype=np.int64)

    @cached_property
    def a_probabilities(self):
        """Probabilities of the values of ``a`` as a read-only float64 array."""
        array = np.array(self.a_weights, dtype=np.float64)
        array.flags.writeable = False
        return array

    @cached_property
    def b_probabilities(self):
        """Probabilities of the values of ``b`` as a read-only float64 array."""
        array = np.array(self.b_weights, dtype=np.float64)
        array.flags.writeable = False
        return array

    @cached_property
    def is_uniform(self):
        """Whether every value of ``a`` and of ``b`` is equally likely."""
        return bool(np.all(self.a_probabilities == self.a_probabilities[0])
                    and np.all(self.b_probabilities == self.b_probabilities[0]))

    def sample(self, n, rng=None):
        """Draw ``n`` independent operand pairs.

        Parameters
        ----------
        n : int
            Number of pairs.
        rng : numpy.random.Generator or int or None
            Generator, or a seed for :func:`numpy.random.default_rng`.

        Returns
        -------
        tuple of numpy.ndarray
            ``(a, b)``, int64 arrays of operand values (signed values for signed operands).
        """
        n = _check_count("n", n, 0)
        rng = np.random.default_rng(rng)
        if self.is_uniform:
            # The same draws as the default (distribution-free) uniform sampling.
            return _uniform_sample(self.width, self.signed, n, rng)
        low, _ = _value_range(self.width, self.signed)
        a = low + rng.choice(1 << self.width, size=n, p=self.a_probabilities)
        b = low + rng.choice(1 << self.width, size=n, p=self.b_probabilities)
        return a.astype(np.int64), b.astype(np.int64)


_DEFINITIONS = (
    ("ER", "er", "fraction of pairs with ED != 0"),
    ("MED", "med", "mean ED = mean |P' - P|"),
    ("NMED", "nmed", "MED / max |P|"),
    ("MAE%", "mae_percent", "100 * MED / 2**(2n)"),
    ("MRED", "mred", "mean ED / |P| over P != 0"),
    ("WCE", "wce", "max ED"),
    ("WCRE", "wcre", "max ED / |P| over P != 0"),
    ("MSE", "mse", "mean ED**2"),
    ("bias", "bias", "mean P' - P"),
)
_FRACTIONS = frozenset({"er", "nmed", "mred", "wcre"})


@dataclass(frozen=True)
class ErrorMetrics:
    """Error statistics of an approximate multiplier, as returned by :func:`error_metrics`.

    ``er``, ``nmed``, ``mred`` and ``wcre`` are fractions (0.0378, not 3.78); ``mae_percent``
    is a percentage, as its name says. :meth:`table` shows the fractions as percentages. See
    the module documentation for the definitions.

    Parameters
    ----------
    er : float
        Error rate.
    med : float
        Mean error distance.
    nmed : float
        Normalised mean error distance, ``med / max |P|``.
    mae_percent : float
        ``100 * med / 2**(2 * width)``.
    mred : float
        Mean relative error distance over the pairs with a non-zero exact product; NaN if
        there are none.
    wce : float
        Worst-case error distance.
    wcre : float
        Worst-case relative error distance over the pairs with a non-zero exact product; NaN
        if there are none.
    mse : float
        Mean squared error distance.
    bias : float
        Mean signed error ``P' - P``; negative for a multiplier that underestimates.
    pairs : int
        Number of operand pairs evaluated.
    exhaustive : bool
        Whether every pair (with non-zero probability) was evaluated rather than a sample.
    seed : int or None
        Seed of the sample; None for exhaustive evaluation.
    width : int
    signed : bool
    """

    er: float
    med: float
    nmed: float
    mae_percent: float
    mred: float
    wce: float
    wcre: float
    mse: float
    bias: float
    pairs: int
    exhaustive: bool
    seed: int | None
    width: int
    signed: bool

    @property
    def is_exact(self):
        """Whether every metric is zero (an undefined MRED or WCRE counts as zero)."""
        return all(getattr(self, attribute) == 0 or math.isnan(getattr(self, attribute))
                   for _, attribute, _ in _DEFINITIONS)

    def as_dict(self):
        """All fields as a plain ``dict``, for JSON or a data frame."""
        return asdict(self)

    def table(self):
        """A readable text table: metric, value and a short definition, one metric a line."""
        if self.exhaustive:
            source = f"all {self.pairs:,} pairs"
        else:
            source = f"{self.pairs:,} sampled pairs (seed {self.seed})"
        rows = [("metric", "value", "definition")]
        for label, attribute, definition in _DEFINITIONS:
            value = getattr(self, attribute)
            if attribute in _FRACTIONS:
                text = f"{100 * value:.6g} %"
            elif attribute == "mae_percent":
                text = f"{value:.6g} %"
            else:
                text = f"{value:.6g}"
            rows.append((label, text, definition))
        widths = [max(len(row[column]) for row in rows) for column in range(2)]
        lines = [f"error metrics, {_describe(self.width, self.signed)} operands, {source}"]
        lines += [f"{label:<{widths[0]}}  {value:>{widths[1]}}  {definition}"
                  for label, value, definition in rows]
        return "\n".join(lines)


def _exact_sum(values):
    """Sum an integer array exactly, as a Python int."""
    if values.dtype == object:
        return int(values.sum())
    # A 64-bit sum of a chunk could overflow; the sums of the 32-bit halves cannot.
    if values.dtype == np.uint64:
        high = values >> np.uint64(32)
        low = values & np.uint64(0xFFFF_FFFF)
        return (int(high.sum(dtype=np.uint64)) << 32) + int(low.sum(dtype=np.uint64))
    high = values >> 32
    low = values & 0xFFFF_FFFF
    return (int(high.sum(dtype=np.int64)) << 32) + int(low.sum(dtype=np.uint64))


def _errors(approx, exact):
    """Exact error distances and the signed errors as float64, for one chunk.

    Returns ``(ed, error, error_sum)``: ``ed`` an exact integer array (int64, uint64 or Python
    ints), ``error = P' - P`` rounded to float64 (never zero unless exactly zero), and the exact
    sum of ``P' - P`` as a Python int.
    """
    if approx.dtype == np.int64 and exact.dtype == np.int64 \
            and approx.min() >= -_INT64_SAFE and approx.max() <= _INT64_SAFE:
        difference = approx - exact
        return np.abs(difference), difference.astype(np.float64), _exact_sum(difference)
    if exact.dtype == np.uint64 and (approx.dtype == np.uint64 or approx.min() >= 0):
        # 32-bit unsigned products need all 64 bits: subtract the smaller from the larger.
        approx = approx.astype(np.uint64)
        above = approx >= exact
        ed = np.where(above, approx - exact, exact - approx)
        magnitude = ed.astype(np.float64)
        return ed, np.where(above, magnitude, -magnitude), _exact_sum(approx) - _exact_sum(exact)
    # Products far outside the operand range: slow but exact Python ints.
    difference = approx.astype(object) - exact.astype(object)
    return np.abs(difference), difference.astype(np.float64), int(difference.sum())


class _Accumulator:
    """Running sums over chunks; exact integers for unweighted pairs, float64 for weighted."""

    def __init__(self):
        self.pairs = 0
        self.total = []            # total weight (unweighted: pair count)
        self.wrong = []            # weight of pairs with ED != 0
        self.ed_sum = []
        self.error_sum = []
        self.square_sum = []
        self.relative_sum = []
        self.relative_total = []   # weight of pairs with P != 0
        self.ed_max = 0.0
        self.relative_max = -math.inf

    def add(self, exact, approx, weights):
        ed, error, error_sum = _errors(approx, exact)
        magnitude = np.abs(error)
        nonzero_product = exact != 0
        relative = magnitude[nonzero_product] / np.abs(exact[nonzero_product]).astype(np.float64)
        self.pairs += exact.size
        if weights is None:
            self.total.append(exact.size)
            self.wrong.append(int(np.count_nonzero(error)))
            self.ed_sum.append(_exact_sum(ed))
            self.error_sum.append(error_sum)
            self.square_sum.append(float(np.sum(magnitude * magnitude)))
            self.relative_sum.append(float(np.sum(relative)))
            self.relative_total.append(relative.size)
            possible, relative_possible = magnitude, relative
        else:
            relative_weights = weights[nonzero_product]
            self.total.append(float(np.sum(weights)))
            self.wrong.append(float(np.sum(weights[error != 0])))
            self.ed_sum.append(float(np.sum(weights * magnitude)))
            self.error_sum.append(float(np.sum(weights * error)))
            self.square_sum.append(float(np.sum(weights * magnitude * magnitude)))
            self.relative_sum.append(float(np.sum(relative_weights * relative)))
            self.relative_total.append(float(np.sum(relative_weights)))
            # Worst cases only over pairs that can occur.
            possible = magnitude[weights > 0]
            relative_possible = relative[relative_weights > 0]
        if possible.size:
            self.ed_max = max(self.ed_max, float(possible.max()))
        if relative_possible.size:
            self.relative_max = max(self.relative_max, float(relative_possible.max()))

    @staticmethod
    def _mean(parts, totals):
        # Integer parts stay exact until the one correctly rounded division.
        if all(isinstance(x, int) for x in parts + totals):
            total = sum(totals)
            return sum(parts) / total if total else math.nan
        total = math.fsum(totals)
        return math.fsum(parts) / total if total else math.nan

    def result(self, width, signed, exhaustive, seed):
        med = self._mean(self.ed_sum, self.total)
        max_product = (1 << (2 * width - 2)) if signed else ((1 << width) - 1) ** 2
        return ErrorMetrics(
            er=self._mean(self.wrong, self.total),
            med=med,
            nmed=med / max_product,
            mae_percent=100 * med / (1 << (2 * width)),
            mred=self._mean(self.relative_sum, self.relative_total),
            wce=self.ed_max,
            wcre=self.relative_max if self.relative_max >= 0 else math.nan,
            mse=self._mean(self.square_sum, self.total),
            bias=self._mean(self.error_sum, self.total),
            pairs=self.pairs,
            exhaustive=exhaustive,
            seed=seed,
            width=width,
            signed=signed,
        )


def _support(width, signed, distribution):
    """Operand values with non-zero probability and their probabilities (None: uniform)."""
    if distribution is None or distribution.is_uniform:
        return None
    a_index = np.flatnonzero(distribution.a_probabilities)
    b_index = np.flatnonzero(distribution.b_probabilities)
    low, _ = _value_range(width, signed)
    return (low + a_index, distribution.a_probabilities[a_index],
            low + b_index, distribution.b_probabilities[b_index])


def _exhaustive_chunks(width, signed, support, chunk_size):
    """Every ordered pair, ``a`` major, in chunks: ``(a, b, weights or None)``."""
    if support is None:
        low, _ = _value_range(width, signed)
        total = 1 << (2 * width)
        for start in range(0, total, chunk_size):
            # uint64 so that even 32-bit operands (2**64 pairs) can be indexed.
            flat = np.arange(start, min(start + chunk_size, total), dtype=np.uint64)
            yield (low + (flat >> width).astype(np.int64),
                   low + (flat & ((1 << width) - 1)).astype(np.int64), None)
        return
    a_values, a_weights, b_values, b_weights = support
    total = a_values.size * b_values.size
    for start in range(0, total, chunk_size):
        a_index, b_index = np.divmod(np.arange(start, min(start + chunk_size, total)),
                                     b_values.size)
        yield a_values[a_index], b_values[b_index], a_weights[a_index] * b_weights[b_index]


def _sampled_chunks(draw, samples, entropy, chunk_size):
    """``samples`` random pairs in chunks: ``(a, b, None)``.

    Block ``k`` of ``_SAMPLE_BLOCK`` pairs comes from its own child seed ``(entropy, k)``.
    """
    cached_index, cached_block = None, None
    for start in range(0, samples, chunk_size):
        stop = min(start + chunk_size, samples)
        a_parts, b_parts = [], []
        for index in range(start // _SAMPLE_BLOCK, (stop - 1) // _SAMPLE_BLOCK + 1):
            if index != cached_index:
                seed = np.random.SeedSequence(entropy, spawn_key=(index,))
                cached_index = index
                cached_block = draw(_SAMPLE_BLOCK, np.random.default_rng(seed))
            offset = index * _SAMPLE_BLOCK
            part = slice(max(start, offset) - offset, min(stop, offset + _SAMPLE_BLOCK) - offset)
            a_parts.append(cached_block[0][part])
            b_parts.append(cached_block[1][part])
        yield np.concatenate(a_parts), np.concatenate(b_parts), None


def _evaluate(model, a, b, width, signed):
    """Exact and approximate products of one chunk, in a common integer dtype."""
    if width == _MAX_WIDTH and not signed:
        # (2**32 - 1)**2 needs all 64 bits.
        exact = a.astype(np.uint64) * b.astype(np.uint64)
    else:
        exact = a * b
    # The exact products are computed first so that a model that writes to its inputs cannot
    # change them.
    approx = np.asarray(model(a, b))
    if approx.shape != a.shape:
        raise ValueError(f"model must return an array of the operands' shape {a.shape}, "
                         f"not {approx.shape}")
    if approx.dtype.kind not in "iu":
        raise TypeError(f"model must return an integer array, not dtype {approx.dtype}")
    if approx.dtype != np.uint64 or approx.max() < (1 << 63):
        approx = approx.astype(np.int64)
    return exact, approx


def error_metrics(model, width, signed=False, *, distribution=None, exhaustive_limit=2**24,
                  samples=1_000_000, seed=0, chunk_size=1 << 20, progress=None):
    """Measure the error of an approximate multiplier against the exact product.

    Every ordered pair ``(a, b)`` is evaluated if there are at most ``exhaustive_limit`` of
    them: all ``4**width`` pairs for uniform operands, or the pairs of values with non-zero
    probability under ``distribution``, each weighted by ``p(a) * p(b)`` so that every mean is
    a weighted mean. Otherwise ``samples`` pairs are drawn from the distribution (uniform by
    default) and each counts once. Pairs are evaluated ``chunk_size`` at a time, so memory stays
    bounded (12-bit operands, 2**24 pairs, need some hundred megabytes at the default).

    The sample depends only on ``seed`` and ``samples``, not on ``chunk_size``: pairs are drawn
    in blocks of 65,536, block ``k`` from ``numpy.random.SeedSequence(seed, spawn_key=(k,))``.

    Up to 26-bit operands (products below 2**53) the results are exact to float64 precision:
    ER, MED, MAE%, NMED and bias come from exact integer sums, MRED and MSE from float64 sums
    of exactly represented terms. Above 26 bits, error distances are rounded to float64 before
    MSE, MRED, WCE and WCRE are formed, so these carry float64 rounding; ER, MED and bias stay
    exact sums.

    Parameters
    ----------
    model : callable
        ``model(a, b)`` takes two int64 arrays of operand values (signed values for signed
        designs; ``a`` is the first operand, which matters for non-commutative designs) and
        returns the approximate products as an integer array of the same shape. For 32-bit
        unsigned operands the products need uint64 (``a * b`` in int64 would overflow).
    width : int
        Operand width in bits, 1 to 32.
    signed : bool
        Whether operands and products are two's complement.
    distribution : OperandDistribution or None
        Operand distribution with the same ``width`` and ``signed``; None for uniform.
    exhaustive_limit : int
        Largest number of pairs evaluated exhaustively; the default covers 12-bit operands.
    samples : int
        Number of random pairs when not exhaustive.
    seed : int or None
        Seed of the sample. None draws fresh entropy, which is then reported in the result so
        that the sample can be repeated.
    chunk_size : int
        Pairs per model call, 1 to 2**30.
    progress : callable or None
        ``progress(done_pairs, total_pairs)``, called after each chunk.

    Returns
    -------
    ErrorMetrics
        The metrics, with the number of pairs, whether they were exhaustive and the seed (None
        when exhaustive).

    Raises
    ------
    ValueError
        If ``width``, ``exhaustive_limit``, ``samples``, ``seed`` or ``chunk_size`` is out of
        range, if ``distribution`` does not match ``width`` and ``signed``, or if ``model``
        returns an array of the wrong shape.
    TypeError
        If ``signed`` is not a bool, ``distribution`` is not an :class:`OperandDistribution`,
        or ``model`` returns a non-integer array.
    """
    width = _check_width(width)
    signed = _check_signed(signed)
    exhaustive_limit = _check_count("exhaustive_limit", exhaustive_limit, 0)
    samples = _check_count("samples", samples, 1)
    chunk_size = _check_count("chunk_size", chunk_size, 1)
    if chunk_size > _MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be at most {_MAX_CHUNK_SIZE}, not {chunk_size!r}")
    if seed is not None:
        seed = _check_count("seed", seed, 0)
    if distribution is not None:
        if not isinstance(distribution, OperandDistribution):
            raise TypeError(f"distribution must be an OperandDistribution or None, "
                            f"not {distribution!r}")
        if (distribution.width, distribution.signed) != (width, signed):
            raise ValueError(f"distribution must describe {_describe(width, signed)} operands, "
                             f"not {_describe(distribution.width, distribution.signed)}")

    support = _support(width, signed, distribution)
    total = 1 << (2 * width) if support is None else support[0].size * support[2].size
    exhaustive = total <= exhaustive_limit
    if exhaustive:
        chunks = _exhaustive_chunks(width, signed, support, chunk_size)
        seed = None
    else:
        total = samples
        if seed is None:
            seed = int(np.random.SeedSequence().entropy)
        if support is None:
            def draw(n, rng):
                return _uniform_sample(width, signed, n, rng)
        else:
            draw = distribution.sample
        chunks = _sampled_chunks(draw, samples, seed, chunk_size)

    accumulator = _Accumulator()
    for a, b, weights in chunks:
        exact, approx = _evaluate(model, a, b, width, signed)
        accumulator.add(exact, approx, weights)
        if progress is not None:
            progress(accumulator.pairs, total)
    return accumulator.result(width, signed, exhaustive, seed)
