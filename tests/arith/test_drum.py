"""Tests of dcim/arith/drum.py: the DRUM approximate multiplier."""

import itertools
import random

import pytest
from amaranth.back import rtlil
from hypothesis import example, given, seed, settings
from hypothesis import strategies as st
from kind_helpers import (
    all_pairs,
    check_hardware,
    corner_pairs,
    error_figures,
    product_range,
)

from dcim.arith.drum import DrumOptions
from dcim.arith.multiplier import MultiplierSpec

HYPOTHESIS = settings(max_examples=100, deadline=None, database=None)


def valid_ks(width, is_signed):
    # k == 2 overflows signed products unless it is the whole width (see DrumKind).
    low = 3 if is_signed and width > 2 else 2
    return range(low, width + 1)


def drum_reference(x, y, k):
    """DRUM on magnitudes in Python integers, straight from the paper's description."""
    def segment(value):
        if value < 2**k:
            return value, 0
        shift = value.bit_length() - k
        return (value >> shift) | 1, shift

    (sa, ta), (sb, tb) = segment(x), segment(y)
    return (sa * sb) << (ta + tb)


# Model

@pytest.mark.parametrize("width", range(2, 9))
@pytest.mark.parametrize("is_signed", [False, True])
def test_k_equal_to_width_is_exact(width, is_signed):
    spec = MultiplierSpec(width, is_signed, "drum", {"k": width})
    a, b = all_pairs(spec)
    assert (spec.model(a, b) == a * b).all()


@pytest.mark.parametrize("width", range(3, 9))
def test_operands_below_two_to_the_k_are_exact(width):
    for k in range(2, width):
        spec = MultiplierSpec(width, False, "drum", {"k": k})
        a, b = all_pairs(spec)
        small = (a < 2**k) & (b < 2**k)
        assert (spec.model(a[small], b[small]) == a[small] * b[small]).all(), spec.name
        assert (spec.model(a[~small], b[~small]) != a[~small] * b[~small]).any(), spec.name


def test_nearly_unbiased_compared_with_mitchell():
    mitchell = MultiplierSpec(8, False, "mitchell")
    _, _, mitchell_bias, mitchell_med = error_figures(mitchell)
    assert mitchell_bias == -mitchell_med          # one-sided: every error counts against
    mreds = []
    for k in range(2, 8):
        mred, _, bias, med = error_figures(MultiplierSpec(8, False, "drum", {"k": k}))
        mreds.append(mred)
        assert abs(bias) < abs(mitchell_bias) / 4, k
        if k <= 6:
            assert abs(bias) < med / 2, k
    assert all(x > y for x, y in itertools.pairwise(mreds))


@pytest.mark.parametrize("k", range(2, 8))
def test_worst_case_relative_error(k):
    """Each operand is within 2**-(k-1) of itself; at 8 bits both bounds are reached."""
    _, wcre, _, _ = error_figures(MultiplierSpec(8, False, "drum", {"k": k}))
    assert wcre == pytest.approx((1 + 2.0 ** (1 - k)) ** 2 - 1, rel=1e-12)


@pytest.mark.parametrize("width", [8, 16, 31, 32])
@pytest.mark.parametrize("is_signed", [False, True])
@pytest.mark.parametrize("k", [3, 6])
def test_model_matches_reference(width, is_signed, k):
    spec = MultiplierSpec(width, is_signed, "drum", {"k": k})
    low, high = spec.operand_range
    rng = random.Random(width * k)
    corners = [low, high, 0, 1, low + 1, high - 1, 2**k - 1, 2**k]
    values = [v for v in corners if low <= v <= high]
    pairs = list(itertools.product(values, repeat=2))
    pairs += [(rng.randint(low, high), rng.randint(low, high)) for _ in range(300)]
    a, b = zip(*pairs, strict=True)
    expected = []
    for x, y in pairs:
        magnitude = drum_reference(abs(x), abs(y), k)
        expected.append(-magnitude if (x < 0) != (y < 0) else magnitude)
    assert spec.model(list(a), list(b)).tolist() == expected


# Range

@pytest.mark.parametrize("width", range(2, 9))
@pytest.mark.parametrize("is_signed", [False, True])
def test_products_fit_product_shape(width, is_signed):
    for k in valid_ks(width, is_signed):
        spec = MultiplierSpec(width, is_signed, "drum", {"k": k})
        low, high = product_range(spec)
        product = spec.model(*all_pairs(spec))
        assert low <= product.min() and product.max() <= high, spec.name


@pytest.mark.parametrize("width", range(3, 9))
def test_rejected_signed_k2_would_overflow(width):
    """The configuration validate() rejects really overflows: |-2**(w-1)| squared."""
    magnitude = MultiplierSpec(width, False, "drum", {"k": 2})
    most_negative = 2 ** (width - 1)
    assert magnitude.model(most_negative, most_negative) > 2 ** (2 * width - 1) - 1
    with pytest.raises(ValueError, match=rf"k = 2 overflows a signed width-{width} drum"):
        MultiplierSpec(width, True, "drum", {"k": 2})


# Hardware against the model

@st.composite
def drum_cases(draw):
    width = draw(st.integers(2, 10))
    is_signed = draw(st.booleans())
    k = draw(st.sampled_from(valid_ks(width, is_signed)))
    spec = MultiplierSpec(width, is_signed, "drum", DrumOptions(k=k))
    low, high = spec.operand_range
    operand = st.integers(low, high)
    return spec, draw(st.lists(st.tuples(operand, operand), min_size=1, max_size=40))


@seed(20240603)
@HYPOTHESIS
@given(case=drum_cases())
@example(case=(MultiplierSpec(10, True, "drum", {"k": 3}),
               [(-512, -512), (-512, 511), (511, 511), (0, -512)]))
@example(case=(MultiplierSpec(10, False, "drum", {"k": 2}),
               [(1023, 1023), (0, 1023), (512, 768)]))
@example(case=(MultiplierSpec(2, True, "drum", {"k": 2}), [(-2, -2), (-2, 1), (1, 1)]))
@example(case=(MultiplierSpec(10, True, "drum", {"k": 10}), [(-512, -512), (-512, 511)]))
def test_hardware_matches_model(case):
    spec, pairs = case
    check_hardware(spec, pairs + corner_pairs(spec))


@pytest.mark.parametrize(("is_signed", "k"), [(is_signed, k) for is_signed in (False, True)
                                               for k in valid_ks(4, is_signed)])
def test_hardware_exhaustive_width_4(is_signed, k):
    spec = MultiplierSpec(4, is_signed, "drum", {"k": k})
    a, b = all_pairs(spec)
    check_hardware(spec, list(zip(a.tolist(), b.tolist(), strict=True)))


@pytest.mark.parametrize("width", [16, 32])
@pytest.mark.parametrize("is_signed", [False, True])
def test_hardware_wide_corners(width, is_signed):
    spec = MultiplierSpec(width, is_signed, "drum", {"k": 6})
    low, high = spec.operand_range
    rng = random.Random(width)
    pairs = corner_pairs(spec) + [(rng.randint(low, high), rng.randint(low, high))
                                  for _ in range(40)]
    check_hardware(spec, pairs)


def test_hardware_has_named_nets():
    spec = MultiplierSpec(8, True, "drum", {"k": 4})
    text = rtlil.convert(spec.component(), name=spec.name)
    assert f"module \\{spec.name}" in text
    for net in ("a_lead", "a_shift", "a_kept", "core_product", "shift_sum", "p_signed"):
        assert f"\\{net}" in text, net


# Options, names and descriptions

@pytest.mark.parametrize(("width", "is_signed", "options", "error", "message"), [
    (8, False, {"k": 1}, ValueError, r"k must be at least 2, not 1"),
    (8, False, {"k": 0}, ValueError, r"k must be at least 2, not 0"),
    (8, False, {"k": "4"}, TypeError, r"k must be an int, not '4'"),
    (8, False, {"k": 4.0}, TypeError, r"k must be an int, not 4.0"),
    (8, False, {"k": True}, TypeError, r"k must be an int, not True"),
    (8, False, {"k": 9}, ValueError, r"k must be at most width = 8, not 9"),
    (4, True, {"k": 6}, ValueError, r"k must be at most width = 4, not 6"),
    (8, True, {"k": 2}, ValueError,
     r"k = 2 overflows a signed width-8 drum multiplier: -2\*\*7 becomes magnitude 192"),
])
def test_option_errors(width, is_signed, options, error, message):
    with pytest.raises(error, match=message):
        MultiplierSpec(width, is_signed, "drum", options)


def test_signed_configurations_at_the_edge_are_accepted():
    assert MultiplierSpec(2, True, "drum", {"k": 2}).options.k == 2
    assert MultiplierSpec(8, True, "drum", {"k": 3}).options.k == 3


def test_names_descriptions_and_toml():
    assert MultiplierSpec(8, False, "drum", {"k": 4}).name == "mul8u_drum_k4"
    assert MultiplierSpec(8, True, "drum").name == "mul8s_drum_k6"
    assert MultiplierSpec(16, False, "drum", DrumOptions(k=6)).describe()["k"] == 6
    for spec in (MultiplierSpec(8, False, "drum", {"k": 4}), MultiplierSpec(12, True, "drum")):
        assert MultiplierSpec.from_toml(spec.to_toml()) == spec
