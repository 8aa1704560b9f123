"""Tests of dcim/arith/logarithmic.py: Mitchell's and OpenACM's logarithmic multipliers."""

import itertools
import math
import random
from fractions import Fraction

import numpy as np
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

from dcim.arith.logarithmic import LogOptions, MitchellOptions, leading_one_model
from dcim.arith.multiplier import MultiplierSpec

HYPOTHESIS = settings(max_examples=100, deadline=None, database=None)


# Independent scalar references in Python integers and exact fractions.

def mitchell_reference(x, y, fraction_bits=None):
    if x == 0 or y == 0:
        return 0
    ka, kb = x.bit_length() - 1, y.bit_length() - 1
    xa, xb = Fraction(x - 2**ka, 2**ka), Fraction(y - 2**kb, 2**kb)
    if fraction_bits is not None:
        scale = 2**fraction_bits
        xa, xb = Fraction(math.floor(xa * scale), scale), Fraction(math.floor(xb * scale), scale)
    if xa + xb < 1:
        return math.floor(2**(ka + kb) * (1 + xa + xb))
    return math.floor(2**(ka + kb + 1) * (xa + xb))


def log_reference(x, y):
    if x == 0 or y == 0:
        return 0
    kx, ky = x.bit_length() - 1, y.bit_length() - 1
    qx, qy = x - 2**kx, y - 2**ky
    larger, smaller = max(qx, qy), min(qx, qy)
    # Nearest power of two, ties up: compare against 1.5 times the leading one.
    lead = max(larger.bit_length() - 1, 0)
    nearest = 2**(lead + 1) if 2 * larger >= 3 * 2**lead else 2**lead
    return 2**(kx + ky) + qx * 2**ky + qy * 2**kx + smaller * nearest


def signed_reference(reference, x, y, **options):
    magnitude = reference(abs(x), abs(y), **options)
    return -magnitude if (x < 0) != (y < 0) else magnitude


def random_operands(spec, count, rng):
    low, high = spec.operand_range
    corners = [low, high, 0, 1, low + 1, high - 1]
    return [(rng.choice(corners) if rng.random() < 0.2 else rng.randint(low, high),
             rng.choice(corners) if rng.random() < 0.2 else rng.randint(low, high))
            for _ in range(count)]


MITCHELL_OPTIONS = [None] + [{"fraction_bits": bits} for bits in range(1, 8)]


# Leading-one detection

def test_leading_one_model_matches_bit_length():
    values = [0, 1, 2, 3, 255, 256, 2**31, 2**32 - 1] + list(range(1000))
    expected = [max(v.bit_length() - 1, 0) for v in values]
    assert leading_one_model(np.array(values, dtype=np.uint64), 32).tolist() == expected


# Mitchell model

def test_mitchell_8x8_published_figures():
    spec = MultiplierSpec(8, False, "mitchell")
    mred, wcre, bias, _ = error_figures(spec)
    assert round(100 * mred, 3) == 3.788
    assert round(100 * wcre, 2) == 11.11
    assert bias < 0 and round(bias) == -606
    a, b = all_pairs(spec)
    assert (spec.model(a, b) <= a * b).all()


@pytest.mark.parametrize("width", range(2, 9))
@pytest.mark.parametrize("is_signed", [False, True])
def test_mitchell_all_fraction_bits_is_ideal_mitchell(width, is_signed):
    ideal = MultiplierSpec(width, is_signed, "mitchell")
    full = MultiplierSpec(width, is_signed, "mitchell", {"fraction_bits": width - 1})
    a, b = all_pairs(ideal)
    assert (ideal.model(a, b) == full.model(a, b)).all()


def test_mitchell_never_over_estimates_and_fraction_bits_trade_accuracy():
    mreds = []
    for options in MITCHELL_OPTIONS:
        spec = MultiplierSpec(8, False, "mitchell", options)
        a, b = all_pairs(spec)
        assert (spec.model(a, b) <= a * b).all(), spec.name
        mreds.append(error_figures(spec)[0])
    # fraction_bits 1..7, then None (= 7): more bits, smaller error.
    by_bits = mreds[1:]
    assert all(x > y for x, y in itertools.pairwise(by_bits))
    assert mreds[0] == by_bits[-1]


def test_mitchell_signed_rounds_towards_zero():
    spec = MultiplierSpec(6, True, "mitchell", {"fraction_bits": 3})
    a, b = all_pairs(spec)
    product, exact = spec.model(a, b), a * b
    assert (np.abs(product) <= np.abs(exact)).all()
    assert (np.sign(product) * np.sign(exact) >= 0).all()


@pytest.mark.parametrize("width", [8, 16, 31, 32])
@pytest.mark.parametrize("is_signed", [False, True])
@pytest.mark.parametrize("options", [None, {"fraction_bits": 5}])
def test_mitchell_model_matches_reference(width, is_signed, options):
    spec = MultiplierSpec(width, is_signed, "mitchell", options)
    pairs = random_operands(spec, 300, random.Random(width))
    a, b = zip(*pairs, strict=True)
    expected = [signed_reference(mitchell_reference, x, y, **(options or {}))
                for x, y in pairs]
    assert spec.model(list(a), list(b)).tolist() == expected


# OpenACM log model

@pytest.mark.parametrize(("a", "b", "expected"), [
    # 7 = 4+3, 5 = 4+1: 16 + 3*4 + 1*4 + min 1 * (max 3 -> 4) = 36 (exact 35).
    (7, 5, 36),
    # 13 = 8+5, 11 = 8+3: 64 + 40 + 24 + 3 * (5 = 0b101 -> 4) = 140 (exact 143).
    (13, 11, 140),
    # max(q) = 1: no bit below its leading one, 2**K = 1, exact.
    (3, 3, 9),
    # max(q) = 2 is a power of two: exact.
    (6, 6, 36),
    # A power of two: q = 0, exact.
    (128, 201, 128 * 201),
    # 255 = 128+127: 2**14 + 2 * 127*128 + 127 * (127 -> 128) = 65152 (exact 65025).
    (255, 255, 65152),
    (0, 255, 0),
    (255, 0, 0),
    (1, 1, 1),
])
def test_log_hand_examples(a, b, expected):
    assert MultiplierSpec(8, False, "log").model(a, b) == expected


def test_log_beats_mitchell_and_errs_both_ways():
    log = MultiplierSpec(8, False, "log")
    mitchell = MultiplierSpec(8, False, "mitchell")
    assert error_figures(log)[0] < error_figures(mitchell)[0]
    a, b = all_pairs(log)
    error = log.model(a, b) - a * b
    assert (error > 0).any() and (error < 0).any()


def test_log_error_bound():
    """Only qa*qb is approximated, by rounding max(qa, qb): error at most qa*qb/3."""
    spec = MultiplierSpec(8, False, "log")
    a, b = all_pairs(spec)
    a, b = a[(a > 0) & (b > 0)], b[(a > 0) & (b > 0)]
    qa = a - 2 ** leading_one_model(a, 8).astype(np.int64)
    qb = b - 2 ** leading_one_model(b, 8).astype(np.int64)
    assert (3 * np.abs(spec.model(a, b) - a * b) <= qa * qb).all()


@pytest.mark.parametrize("width", [8, 16, 31, 32])
@pytest.mark.parametrize("is_signed", [False, True])
def test_log_model_matches_reference(width, is_signed):
    spec = MultiplierSpec(width, is_signed, "log")
    pairs = random_operands(spec, 300, random.Random(width + 100))
    a, b = zip(*pairs, strict=True)
    expected = [signed_reference(log_reference, x, y) for x, y in pairs]
    assert spec.model(list(a), list(b)).tolist() == expected


# Range: every product fits the spec's product shape.

@pytest.mark.parametrize("width", range(2, 9))
@pytest.mark.parametrize("is_signed", [False, True])
def test_products_fit_product_shape(width, is_signed):
    options = [("mitchell", None), ("log", None)]
    options += [("mitchell", {"fraction_bits": bits}) for bits in range(1, width)]
    for kind, kind_options in options:
        spec = MultiplierSpec(width, is_signed, kind, kind_options)
        low, high = product_range(spec)
        product = spec.model(*all_pairs(spec))
        assert low <= product.min() and product.max() <= high, spec.name


# Hardware against the model

@st.composite
def mitchell_cases(draw):
    width = draw(st.integers(2, 10))
    is_signed = draw(st.booleans())
    bits = draw(st.one_of(st.none(), st.integers(1, width - 1)))
    spec = MultiplierSpec(width, is_signed, "mitchell", MitchellOptions(fraction_bits=bits))
    low, high = spec.operand_range
    operand = st.integers(low, high)
    return spec, draw(st.lists(st.tuples(operand, operand), min_size=1, max_size=40))


@st.composite
def log_cases(draw):
    width = draw(st.integers(2, 10))
    spec = MultiplierSpec(width, draw(st.booleans()), "log", LogOptions())
    low, high = spec.operand_range
    operand = st.integers(low, high)
    return spec, draw(st.lists(st.tuples(operand, operand), min_size=1, max_size=40))


@seed(20240601)
@HYPOTHESIS
@given(case=mitchell_cases())
@example(case=(MultiplierSpec(10, True, "mitchell"), [(-512, -512), (-512, 511), (511, 511)]))
@example(case=(MultiplierSpec(10, False, "mitchell", {"fraction_bits": 3}),
               [(1023, 1023), (0, 1023), (768, 768)]))
@example(case=(MultiplierSpec(2, True, "mitchell"), [(-2, -2), (-2, 1), (1, 1), (0, -2)]))
def test_mitchell_hardware_matches_model(case):
    spec, pairs = case
    check_hardware(spec, pairs + corner_pairs(spec))


@seed(20240602)
@HYPOTHESIS
@given(case=log_cases())
@example(case=(MultiplierSpec(10, True, "log"), [(-512, -512), (-512, 511), (511, 511)]))
@example(case=(MultiplierSpec(10, False, "log"), [(1023, 1023), (0, 1023), (767, 1023)]))
@example(case=(MultiplierSpec(2, False, "log"), [(3, 3), (2, 3), (0, 3)]))
def test_log_hardware_matches_model(case):
    spec, pairs = case
    check_hardware(spec, pairs + corner_pairs(spec))


@pytest.mark.parametrize(("kind", "options"), [
    ("mitchell", None), ("mitchell", {"fraction_bits": 1}), ("mitchell", {"fraction_bits": 2}),
    ("log", None),
])
@pytest.mark.parametrize("is_signed", [False, True])
def test_hardware_exhaustive_width_4(kind, options, is_signed):
    spec = MultiplierSpec(4, is_signed, kind, options)
    a, b = all_pairs(spec)
    check_hardware(spec, list(zip(a.tolist(), b.tolist(), strict=True)))


@pytest.mark.parametrize("width", [16, 32])
@pytest.mark.parametrize("is_signed", [False, True])
@pytest.mark.parametrize(("kind", "options"), [
    ("mitchell", None), ("mitchell", {"fraction_bits": 5}), ("log", None),
])
def test_hardware_wide_corners(width, is_signed, kind, options):
    spec = MultiplierSpec(width, is_signed, kind, options)
    pairs = corner_pairs(spec) + random_operands(spec, 40, random.Random(width))
    check_hardware(spec, pairs)


def test_hardware_has_named_nets():
    spec = MultiplierSpec(8, True, "mitchell")
    text = rtlil.convert(spec.component(), name=spec.name)
    assert f"module \\{spec.name}" in text
    for net in ("a_mag", "a_lead", "a_frac", "frac_sum", "exponent", "antilog", "p_signed"):
        assert f"\\{net}" in text, net
    spec = MultiplierSpec(8, False, "log")
    text = rtlil.convert(spec.component(), name=spec.name)
    for net in ("a_rest", "rest_max", "rest_max_lead", "rest_product", "log_sum"):
        assert f"\\{net}" in text, net


# Options, names and descriptions

@pytest.mark.parametrize(("options", "error", "message"), [
    ({"fraction_bits": 0}, ValueError, r"fraction_bits must be at least 1, not 0"),
    ({"fraction_bits": -3}, ValueError, r"fraction_bits must be at least 1, not -3"),
    ({"fraction_bits": "4"}, TypeError, r"fraction_bits must be an int, not '4'"),
    ({"fraction_bits": True}, TypeError, r"fraction_bits must be an int, not True"),
    ({"fraction_bits": 8}, ValueError,
     r"fraction_bits must be at most width - 1 = 7 for width 8, not 8"),
])
def test_mitchell_option_errors(options, error, message):
    with pytest.raises(error, match=message):
        MultiplierSpec(8, False, "mitchell", options)


def test_names_descriptions_and_toml():
    assert MultiplierSpec(8, False, "mitchell").name == "mul8u_mitchell"
    assert MultiplierSpec(8, True, "mitchell", {"fraction_bits": 4}).name == "mul8s_mitchell_frac4"
    assert MultiplierSpec(8, False, "log").name == "mul8u_log"
    assert MultiplierSpec(8, False, "mitchell").describe()["fraction_bits"] == 7
    assert MultiplierSpec(8, False, "mitchell", {"fraction_bits": 4}).describe()[
        "fraction_bits"] == 4
    assert "error" in MultiplierSpec(8, False, "log").describe()
    for spec in (MultiplierSpec(8, True, "mitchell", {"fraction_bits": 4}),
                 MultiplierSpec(8, False, "mitchell"), MultiplierSpec(6, True, "log")):
        assert MultiplierSpec.from_toml(spec.to_toml()) == spec
