"""Tests for dcim.arith.metrics: definitions by hand, published Mitchell figures, sampling."""

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dcim.arith.metrics import ErrorMetrics, OperandDistribution, error_metrics

# Derandomised and without an example database, so that runs repeat and leave no files.
SETTINGS = settings(deadline=None, max_examples=25, derandomize=True, database=None)
METRIC_NAMES = ("er", "med", "nmed", "mae_percent", "mred", "wce", "wcre", "mse", "bias")


def exact(a, b):
    return a * b


def plus_one(a, b):
    return a * b + 1


def mitchell(a, b):
    """Mitchell's logarithmic multiplier with an ideal antilogarithm, in integers."""
    # frexp gives the exact leading-one position of integers below 2**53.
    ka = np.frexp(np.maximum(a, 1))[1].astype(np.int64) - 1
    kb = np.frexp(np.maximum(b, 1))[1].astype(np.int64) - 1
    fa = a - (1 << ka)
    fb = b - (1 << kb)
    t = (fa << kb) + (fb << ka)
    base = 1 << (ka + kb)
    product = np.where(t >= base, 2 * t, base + t)
    return np.where((a == 0) | (b == 0), 0, product)


def reference_metrics(model, a_values, b_values, weights=None, *, signed=False, width):
    """The definitions evaluated pair by pair with Python fractions."""
    total, wrong, ed_sum, error_sum, square_sum = 0, 0, 0, 0, 0
    relative_sum, relative_total, wce, wcre = 0, 0, 0, Fraction(0)
    a = np.repeat(np.asarray(a_values, dtype=np.int64), len(b_values))
    b = np.tile(np.asarray(b_values, dtype=np.int64), len(a_values))
    approx = model(a, b)
    weights = [1] * a.size if weights is None else weights
    rows = zip(a.tolist(), b.tolist(), approx.tolist(), weights, strict=True)
    for x, y, p, weight in rows:
        w = Fraction(weight)
        ed = abs(p - x * y)
        total += w
        wrong += w * (ed != 0)
        ed_sum += w * ed
        error_sum += w * (p - x * y)
        square_sum += w * ed * ed
        wce = max(wce, ed)
        if x * y:
            relative_sum += w * Fraction(ed, abs(x * y))
            relative_total += w
            wcre = max(wcre, Fraction(ed, abs(x * y)))
    med = ed_sum / total
    max_product = 2 ** (2 * width - 2) if signed else (2 ** width - 1) ** 2
    return {
        "er": wrong / total, "med": med, "nmed": med / max_product,
        "mae_percent": 100 * med / 2 ** (2 * width),
        # Relative errors are undefined when every product is zero.
        "mred": relative_sum / relative_total if relative_total else math.nan,
        "wce": wce, "wcre": wcre if relative_total else math.nan,
        "mse": square_sum / total, "bias": error_sum / total,
    }


def assert_metrics(metrics, expected, rel=1e-12, scale=0.0):
    """Compare to ``rel`` relative error, or ``rel * scale`` absolute (for means near zero)."""
    for name, value in expected.items():
        assert getattr(metrics, name) == pytest.approx(float(value), rel=rel, abs=rel * scale,
                                                       nan_ok=True), name


# Exact multiplier ----------------------------------------------------------------------------

@pytest.mark.parametrize("signed", [False, True])
def test_exact_model_is_exact(signed):
    metrics = error_metrics(exact, 8, signed)
    assert metrics.is_exact
    assert all(getattr(metrics, name) == 0 for name in METRIC_NAMES)
    assert metrics.exhaustive and metrics.pairs == 65536 and metrics.seed is None
    assert (metrics.width, metrics.signed) == (8, signed)


@pytest.mark.parametrize("signed", [False, True])
def test_exact_model_at_32_bits(signed):
    def model(a, b):
        # 32-bit unsigned products need uint64.
        return a.astype(np.uint64) * b.astype(np.uint64) if not signed else a * b

    metrics = error_metrics(model, 32, signed, samples=5000)
    assert metrics.is_exact and not metrics.exhaustive and metrics.pairs == 5000


# Published figures ---------------------------------------------------------------------------

def test_mitchell_8x8_published_figures():
    metrics = error_metrics(mitchell, 8)
    assert metrics.exhaustive and metrics.pairs == 65536
    assert round(100 * metrics.mred, 3) == 3.788
    assert round(100 * metrics.wcre, 2) == 11.11
    # Mitchell's multiplier never overestimates, so the bias is exactly minus the MED.
    assert round(metrics.bias) == -606
    assert metrics.bias == -metrics.med
    assert not metrics.is_exact


def test_mitchell_matches_fractions():
    values = range(64)
    assert_metrics(error_metrics(mitchell, 6), reference_metrics(mitchell, values, values,
                                                                  width=6))


# Hand-computed cases -------------------------------------------------------------------------

def test_plus_one_unsigned_by_hand():
    metrics = error_metrics(plus_one, 2)
    # Non-zero products of 1..3 times 1..3: 1 2 3 2 4 6 3 6 9, so sum 1/P = 121/36.
    assert_metrics(metrics, {
        "er": 1, "med": 1, "wce": 1, "bias": 1, "mse": 1, "nmed": Fraction(1, 9),
        "mae_percent": Fraction(100, 16), "mred": Fraction(121, 36) / 9, "wcre": 1,
    })
    assert metrics.pairs == 16


def test_minus_one_signed_by_hand():
    metrics = error_metrics(lambda a, b: a * b - 1, 2, True)
    # Values -2..1; non-zero |P| over a, b in {-2, -1, 1}: 4, 2, 2, 2, 1, 1, 2, 1, 1.
    assert_metrics(metrics, {
        "er": 1, "med": 1, "wce": 1, "bias": -1, "mse": 1, "nmed": Fraction(1, 4),
        "mae_percent": Fraction(100, 16), "mred": Fraction(25, 4) / 9, "wcre": 1,
    })


def test_signed_values_reach_the_model():
    # Off by one only where the signed product is negative: 2 * 8 * 7 of 256 pairs at 4 bits.
    metrics = error_metrics(lambda a, b: np.where(a * b < 0, a * b + 1, a * b), 4, True)
    assert metrics.er == 112 / 256
    assert metrics.bias == 112 / 256
    assert metrics.wce == 1


@SETTINGS
@given(width=st.integers(1, 6), signed=st.booleans(), offset=st.integers(-1000, 1000))
@example(width=1, signed=False, offset=0)
@example(width=1, signed=True, offset=-1)
@example(width=6, signed=True, offset=1000)
def test_constant_offset(width, signed, offset):
    metrics = error_metrics(lambda a, b: a * b + offset, width, signed)
    assert metrics.er == (offset != 0)
    assert metrics.med == metrics.wce == abs(offset)
    assert metrics.bias == offset
    assert metrics.mse == offset ** 2
    assert metrics.is_exact == (offset == 0)


@SETTINGS
@given(width=st.integers(1, 4), signed=st.booleans(), data=st.data())
def test_random_table_model_matches_fractions(width, signed, data):
    low = -(1 << (width - 1)) if signed else 0
    size = 1 << width
    error_table = np.array(data.draw(st.lists(st.integers(-2 ** 20, 2 ** 20),
                                              min_size=size * size, max_size=size * size)))

    def model(a, b):
        return a * b + error_table[(a - low) * size + (b - low)]

    values = range(low, low + size)
    expected = reference_metrics(model, values, values, signed=signed, width=width)
    assert_metrics(error_metrics(model, width, signed), expected)


# Wide operands and the integer paths ---------------------------------------------------------

def test_uint64_products_at_32_bits():
    def model(a, b):
        return a.astype(np.uint64) * b.astype(np.uint64) + np.uint64(1)

    metrics = error_metrics(model, 32, samples=3000)
    assert (metrics.er, metrics.med, metrics.bias, metrics.mse) == (1, 1, 1, 1)


def test_signed_32_bit_extremes():
    metrics = error_metrics(lambda a, b: a * b - 1, 32, True, samples=3000)
    assert (metrics.er, metrics.med, metrics.bias, metrics.wce) == (1, 1, -1, 1)


def test_products_beyond_int64_differences_stay_exact():
    # Differences of these outputs overflow int64, so the Python-int path is taken.
    big = 2 ** 63 - 1
    metrics = error_metrics(lambda a, b: np.full(a.shape, big, dtype=np.int64), 4)
    values = np.arange(16)
    mean_product = Fraction(int(values.sum()) ** 2, 256)
    assert metrics.med == float(big - mean_product)
    assert metrics.bias == float(big - mean_product)
    assert metrics.wce == float(big)


def test_sum_of_large_errors_is_exact():
    # 2**20 errors of 2**50 in one chunk: their sum overflows int64 and their squares too.
    metrics = error_metrics(lambda a, b: a * b + (1 << 50), 10)
    assert metrics.med == metrics.bias == metrics.wce == 2.0 ** 50
    assert metrics.mse == 2.0 ** 100


# Sampling ------------------------------------------------------------------------------------

def test_sampled_path_is_seeded():
    first = error_metrics(mitchell, 16, samples=20_000, seed=1)
    assert not first.exhaustive and first.pairs == 20_000 and first.seed == 1
    assert error_metrics(mitchell, 16, samples=20_000, seed=1) == first
    assert error_metrics(mitchell, 16, samples=20_000, seed=2) != first


def test_sample_independent_of_chunk_size():
    reference = error_metrics(mitchell, 16, samples=100_000, seed=3)
    chunked = error_metrics(mitchell, 16, samples=100_000, seed=3, chunk_size=7_777)
    assert dataclasses.replace(chunked, mred=reference.mred) == reference
    assert chunked.mred == pytest.approx(reference.mred, rel=1e-12)


def test_sampled_approximates_exhaustive():
    exhaustive = error_metrics(mitchell, 8)
    sampled = error_metrics(mitchell, 8, exhaustive_limit=0, samples=200_000, seed=5)
    assert not sampled.exhaustive and sampled.pairs == 200_000
    for name in ("er", "med", "mred", "mse", "bias"):
        assert getattr(sampled, name) == pytest.approx(getattr(exhaustive, name), rel=0.02)
    assert sampled.wce <= exhaustive.wce
    assert sampled.wcre == pytest.approx(exhaustive.wcre, rel=1e-12)


def test_seed_none_reports_entropy():
    first = error_metrics(mitchell, 16, samples=1000, seed=None)
    assert isinstance(first.seed, int)
    assert error_metrics(mitchell, 16, samples=1000, seed=first.seed) == first


# Operand distributions -----------------------------------------------------------------------

def one_hot(width, index):
    hist = np.zeros(1 << width)
    hist[index] = 1
    return hist


def test_single_pair_distribution():
    distribution = OperandDistribution.from_histograms(one_hot(8, 3), one_hot(8, 5), width=8,
                                                       signed=False)
    metrics = error_metrics(mitchell, 8, distribution=distribution)
    # Mitchell: 3 * 5 -> 14.
    assert_metrics(metrics, {"er": 1, "med": 1, "wce": 1, "bias": -1, "mse": 1,
                             "mred": Fraction(1, 15), "wcre": Fraction(1, 15)})
    assert metrics.exhaustive and metrics.pairs == 1


def test_weighted_distribution_by_hand():
    b_hist = np.zeros(256)
    b_hist[5], b_hist[6] = 1, 3
    distribution = OperandDistribution.from_histograms(one_hot(8, 3), b_hist, width=8,
                                                       signed=False)
    metrics = error_metrics(mitchell, 8, distribution=distribution)
    # Mitchell: 3 * 5 -> 14 (weight 1/4), 3 * 6 -> 16 (weight 3/4); larger errors elsewhere
    # have zero probability and do not count as worst cases.
    assert_metrics(metrics, {
        "er": 1, "med": 1.75, "bias": -1.75, "mse": 3.25, "wce": 2,
        "mred": Fraction(1, 4) / 15 + Fraction(3, 4) * 2 / 18, "wcre": Fraction(1, 9),
    })
    assert metrics.pairs == 2


@SETTINGS
@given(a_hist=st.lists(st.integers(0, 5), min_size=16, max_size=16),
       b_hist=st.lists(st.integers(0, 5), min_size=16, max_size=16), signed=st.booleans())
def test_weighted_distribution_matches_fractions(a_hist, b_hist, signed):
    a_hist[0] += 1
    b_hist[-1] += 1
    distribution = OperandDistribution.from_histograms(a_hist, b_hist, width=4, signed=signed)
    low = -8 if signed else 0
    a_values = [low + i for i, w in enumerate(a_hist) if w]
    b_values = [low + i for i, w in enumerate(b_hist) if w]
    weights = [Fraction(a_hist[x - low] * b_hist[y - low], sum(a_hist) * sum(b_hist))
               for x in a_values for y in b_values]

    def model(a, b):
        return a * b + (a ^ b) % 3 - 1

    expected = reference_metrics(model, a_values, b_values, weights, signed=signed, width=4)
    # Weighted means are float64 sums, so a bias of zero comes out as a rounding residue.
    assert_metrics(error_metrics(model, 4, signed, distribution=distribution), expected,
                   scale=1 + expected["mse"])


@pytest.mark.parametrize("signed", [False, True])
def test_uniform_histogram_equals_default(signed):
    ones = np.ones(256)
    distribution = OperandDistribution.from_histograms(ones, 3 * ones, width=8, signed=signed)
    assert distribution == OperandDistribution.uniform(8, signed)
    assert hash(distribution) == hash(OperandDistribution.uniform(8, signed))
    assert (error_metrics(mitchell, 8, signed, distribution=distribution)
            == error_metrics(mitchell, 8, signed))


def test_uniform_distribution_samples_like_default():
    distribution = OperandDistribution.uniform(16, False)
    assert (error_metrics(mitchell, 16, distribution=distribution, samples=5000)
            == error_metrics(mitchell, 16, samples=5000))


def test_sampling_from_distribution():
    distribution = OperandDistribution.from_samples([1, 2, 2, 2], [7, 7, 3], width=4,
                                                    signed=False)
    a, b = distribution.sample(40_000, np.random.default_rng(0))
    assert a.dtype == b.dtype == np.int64
    assert set(a.tolist()) == {1, 2} and set(b.tolist()) == {3, 7}
    assert np.mean(a == 1) == pytest.approx(0.25, abs=0.01)
    assert np.mean(b == 7) == pytest.approx(2 / 3, abs=0.01)
    metrics = error_metrics(mitchell, 4, distribution=distribution, exhaustive_limit=0,
                            samples=20_000)
    assert not metrics.exhaustive and metrics.pairs == 20_000
    exhaustive = error_metrics(mitchell, 4, distribution=distribution)
    assert exhaustive.pairs == 4
    assert metrics.med == pytest.approx(exhaustive.med, rel=0.05)


def test_from_samples_counts():
    unsigned = OperandDistribution.from_samples(np.array([[0, 1], [1, 3]]), [2], width=2,
                                                signed=False)
    assert unsigned.a_weights == (0.25, 0.5, 0.0, 0.25)
    assert unsigned.b_weights == (0.0, 0.0, 1.0, 0.0)
    signed = OperandDistribution.from_samples([-2, -2, 1, 1.0], [-1], width=2, signed=True)
    # Index 0 holds the most negative value.
    assert signed.a_weights == (0.5, 0.0, 0.0, 0.5)
    assert signed.b_weights == (0.0, 1.0, 0.0, 0.0)
    np.testing.assert_array_equal(signed.values, [-2, -1, 0, 1])
    np.testing.assert_array_equal(signed.a_probabilities, [0.5, 0.0, 0.0, 0.5])
    assert not signed.a_probabilities.flags.writeable


@SETTINGS
@given(signed=st.booleans(), data=st.data())
def test_from_samples_matches_bincount(signed, data):
    low = -16 if signed else 0
    a = data.draw(st.lists(st.integers(low, low + 31), min_size=1, max_size=50))
    b = data.draw(st.lists(st.integers(low, low + 31), min_size=1, max_size=50))
    distribution = OperandDistribution.from_samples(a, b, width=5, signed=signed)
    expected = np.bincount(np.array(a) - low, minlength=32) / len(a)
    np.testing.assert_allclose(distribution.a_probabilities, expected, rtol=1e-15)
    assert math.fsum(distribution.b_weights) == pytest.approx(1, rel=1e-15)
    rebuilt = OperandDistribution(5, signed, distribution.a_weights, distribution.b_weights)
    assert rebuilt == distribution and hash(rebuilt) == hash(distribution)


# Validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"a_hist": [1, -1, 0, 0]}, ValueError, r"a_hist must be finite and non-negative, not -1"),
    ({"b_hist": [1, math.nan, 0, 0]}, ValueError, r"b_hist must be finite.*not nan"),
    ({"a_hist": [1, 1, 1]}, ValueError, r"a_hist must have 4 entries .* not shape \(3,\)"),
    ({"b_hist": [0, 0, 0, 0]}, ValueError, r"b_hist must have a non-zero sum"),
    ({"width": 0}, ValueError, r"width must be an integer from 1 to 16.*not 0"),
    ({"width": 17}, ValueError, r"width must be .* not 17"),
    ({"signed": 1}, TypeError, r"signed must be a bool, not 1"),
])
def test_from_histograms_validation(kwargs, error, match):
    arguments = {"a_hist": [1, 1, 1, 1], "b_hist": [1, 1, 1, 1], "width": 2, "signed": False}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        OperandDistribution.from_histograms(**arguments)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"a_samples": [0, 4]}, r"a_samples must lie in 0\.\.3 for 2-bit unsigned operands, not 4"),
    ({"b_samples": [-3], "signed": True},
     r"b_samples must lie in -2\.\.1 for 2-bit signed operands, not -3"),
    ({"a_samples": [-1]}, r"a_samples must lie in 0\.\.3 .* not -1"),
    ({"b_samples": []}, r"b_samples must not be empty"),
    ({"a_samples": [0.5]}, r"a_samples must hold integers, not 0\.5"),
    ({"b_samples": ["x"]}, r"b_samples must hold integers"),
])
def test_from_samples_validation(kwargs, match):
    arguments = {"a_samples": [0], "b_samples": [1], "width": 2, "signed": False}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        OperandDistribution.from_samples(**arguments)


def test_direct_construction_validation():
    with pytest.raises(ValueError, match=r"a_weights must have 2 entries"):
        OperandDistribution(1, False, (1.0,), (0.5, 0.5))
    with pytest.raises(TypeError, match=r"signed must be a bool, not 'yes'"):
        OperandDistribution.uniform(1, "yes")


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"width": 0}, ValueError, r"width must be an integer from 1 to 32, not 0"),
    ({"width": 33}, ValueError, r"width must be an integer from 1 to 32, not 33"),
    ({"width": 8.0}, ValueError, r"width must be .* not 8\.0"),
    ({"signed": 0}, TypeError, r"signed must be a bool, not 0"),
    ({"samples": 0}, ValueError, r"samples must be an integer of at least 1, not 0"),
    ({"chunk_size": 0}, ValueError, r"chunk_size must be .* not 0"),
    ({"chunk_size": 2 ** 31}, ValueError, r"chunk_size must be at most"),
    ({"exhaustive_limit": -1}, ValueError, r"exhaustive_limit must be .* not -1"),
    ({"seed": -1}, ValueError, r"seed must be .* not -1"),
    ({"distribution": "uniform"}, TypeError, r"distribution must be an OperandDistribution"),
    ({"distribution": OperandDistribution.uniform(4, True)}, ValueError,
     r"distribution must describe 4-bit unsigned operands, not 4-bit signed"),
])
def test_error_metrics_validation(kwargs, error, match):
    arguments = {"model": exact, "width": 4}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        error_metrics(**arguments)


def test_model_output_validation():
    with pytest.raises(ValueError, match=r"model must return an array of the operands' shape"):
        error_metrics(lambda a, b: (a * b)[:-1], 4)
    with pytest.raises(ValueError, match=r"model must return .* not \(\)"):
        error_metrics(lambda a, b: 0, 4)
    with pytest.raises(TypeError, match=r"model must return an integer array, not dtype float64"):
        error_metrics(lambda a, b: (a * b).astype(float), 4)


# Chunking and progress -----------------------------------------------------------------------

def test_progress_reports_every_chunk():
    calls = []
    error_metrics(mitchell, 8, chunk_size=10_000, progress=lambda done, total:
                  calls.append((done, total)))
    assert len(calls) == 7
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert calls[-1] == (65536, 65536)
    assert {total for _, total in calls} == {65536}


def test_progress_when_sampling():
    calls = []
    error_metrics(mitchell, 16, samples=2500, chunk_size=1000,
                  progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]


@pytest.mark.parametrize("signed", [False, True])
def test_chunk_size_does_not_change_results(signed):
    reference = error_metrics(mitchell, 8, signed)
    chunked = error_metrics(mitchell, 8, signed, chunk_size=1000)
    for name in METRIC_NAMES:
        assert getattr(chunked, name) == pytest.approx(getattr(reference, name), rel=1e-12)
    # Everything but the float sum of relative errors is exact.
    assert dataclasses.replace(chunked, mred=reference.mred) == reference


# Result object -------------------------------------------------------------------------------

def test_result_dict_and_table():
    metrics = error_metrics(mitchell, 8)
    fields = metrics.as_dict()
    assert list(fields) == [f.name for f in dataclasses.fields(ErrorMetrics)]
    assert fields["pairs"] == 65536 and fields["seed"] is None
    table = metrics.table()
    lines = table.splitlines()
    assert len(lines) == 11
    assert "8-bit unsigned" in lines[0] and "65,536" in lines[0]
    assert any(line.startswith("MRED") and "3.78783 %" in line for line in lines)
    assert any(line.startswith("bias") and "-606.398" in line for line in lines)
    sampled = error_metrics(mitchell, 16, samples=1000, seed=9).table()
    assert "1,000 sampled pairs (seed 9)" in sampled


def test_undefined_relative_metrics():
    # Every product is zero when a is always 0: MRED and WCRE are undefined.
    distribution = OperandDistribution.from_histograms(one_hot(2, 0), [1, 1, 1, 1], width=2,
                                                       signed=False)
    metrics = error_metrics(exact, 2, distribution=distribution)
    assert math.isnan(metrics.mred) and math.isnan(metrics.wcre)
    assert metrics.is_exact
