"""flip_weight_bits: identity at rate 0, every bit flipped at rate 1 (exact values, both
encodings, exhaustive over small widths), flip rates within binomial bounds, determinism by
seed, torch and NumPy in and out, and every validation error."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dcim.nn import WeightFaults, flip_weight_bits
from dcim.nn.faults import MAX_FAULT_BITS

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None)


def stored_range(bits, encoding):
    if encoding == "twos":
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return -(2 ** bits - 1), 2 ** bits - 1


def stored_bits(value, bits, encoding):
    """The cells of one weight as a string, most significant first."""
    if encoding == "twos":
        return format(value % 2 ** bits, f"0{bits}b")
    return ("1" if value < 0 else "0") + format(abs(value), f"0{bits}b")


@pytest.mark.parametrize("encoding", ["twos", "sign-magnitude"])
@pytest.mark.parametrize("bits", [1, 2, 3, 5, 8])
def test_rate_0_is_the_identity_and_rate_1_flips_every_cell(bits, encoding):
    low, high = stored_range(bits, encoding)
    w = np.arange(low, high + 1)
    assert np.array_equal(flip_weight_bits(w, bits=bits, encoding=encoding, rate=0, seed=3), w)
    flipped = flip_weight_bits(w, bits=bits, encoding=encoding, rate=1, seed=3)
    assert flipped.dtype == np.int64
    for before, after in zip(w.tolist(), flipped.tolist(), strict=True):
        cells = stored_bits(before, bits, encoding)
        complement = "".join("1" if c == "0" else "0" for c in cells)
        if encoding == "twos":
            expected = int(complement, 2) - (2 ** bits if complement[0] == "1" else 0)
        else:
            magnitude = int(complement[1:], 2)
            expected = -magnitude if complement[0] == "1" else magnitude
        assert after == expected, (before, cells)


def test_rate_1_in_closed_form():
    w = np.array([-128, -1, 0, 1, 127])
    assert flip_weight_bits(w, bits=8, encoding="twos", rate=1, seed=0).tolist() == [
        127, 0, -1, -2, -128]
    w = np.array([-255, -1, 0, 1, 255])
    assert flip_weight_bits(w, bits=8, encoding="sign-magnitude", rate=1, seed=0).tolist() == [
        0, 254, -255, -254, 0]


def cells(values, bits, encoding):
    """The stored cells of each weight, as booleans, least significant first (a
    sign-magnitude weight's sign cell last)."""
    if encoding == "twos":
        return (values[:, None] & 2 ** bits - 1) >> np.arange(bits) & 1 == 1
    magnitudes = np.abs(values)[:, None] >> np.arange(bits) & 1 == 1
    return np.concatenate([magnitudes, (values < 0)[:, None]], axis=1)


@pytest.mark.parametrize("encoding", ["twos", "sign-magnitude"])
@pytest.mark.parametrize("rate", [1e-4, 0.003, 0.05, 0.5])
def test_the_flip_rate_is_within_binomial_bounds_per_cell(encoding, rate):
    bits, count = 6, 200_000
    low, high = stored_range(bits, encoding)
    w = np.random.default_rng(0).integers(low, high + 1, count)
    flipped = flip_weight_bits(w, bits=bits, encoding=encoding, rate=rate, seed=11)
    changed = cells(w, bits, encoding) != cells(flipped, bits, encoding)
    columns = [changed[:, position] for position in range(bits)]
    if encoding == "sign-magnitude":
        # A zero magnitude reads as +0 whatever its sign cell, so the sign cell is seen where
        # the magnitude read back is not zero (its flip is independent of that).
        seen = flipped != 0
        assert seen.mean() > 0.9
        columns.append(changed[seen, bits])
    # Per cell position, and over all cells: within 5 binomial deviations.
    for column in columns:
        deviation = math.sqrt(column.size * rate * (1 - rate))
        assert abs(column.sum() - column.size * rate) < 5 * deviation + 1
    total = sum(column.size for column in columns)
    flips = sum(int(column.sum()) for column in columns)
    assert abs(flips - total * rate) < 5 * math.sqrt(total * rate * (1 - rate)) + 1


@SETTINGS
@given(bits=st.integers(1, 12), encoding=st.sampled_from(["twos", "sign-magnitude"]),
       rate=st.floats(0, 1), seed=st.integers(0, 2 ** 32), size=st.integers(0, 50))
def test_faults_stay_in_range_and_repeat_by_seed(bits, encoding, rate, seed, size):
    low, high = stored_range(bits, encoding)
    w = np.random.default_rng(seed).integers(low, high + 1, (size, 3))
    first = flip_weight_bits(w, bits=bits, encoding=encoding, rate=rate, seed=seed)
    assert first.shape == w.shape and first.dtype == np.int64
    assert ((first >= low) & (first <= high)).all()
    assert np.array_equal(first, flip_weight_bits(w, bits=bits, encoding=encoding, rate=rate,
                                                  seed=seed))


def test_other_seeds_give_other_faults_and_tensors_stay_tensors():
    w = np.random.default_rng(1).integers(-127, 128, (64, 64))
    a = flip_weight_bits(w, bits=8, encoding="twos", rate=0.01, seed=0)
    b = flip_weight_bits(w, bits=8, encoding="twos", rate=0.01, seed=1)
    assert not np.array_equal(a, b) and not np.array_equal(a, w)
    tensor = flip_weight_bits(torch.from_numpy(w).to(torch.int16), bits=8, encoding="twos",
                              rate=0.01, seed=0)
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.int64
    assert np.array_equal(tensor.numpy(), a)
    assert flip_weight_bits([[1, -2]], bits=4, encoding="twos", rate=0, seed=0).tolist() == [
        [1, -2]]


def test_weight_faults_config():
    faults = WeightFaults(1e-3, seed=4)
    assert faults.name == "faults_p0.001_seed4" and WeightFaults(0.5).name == "faults_p0.5"
    assert WeightFaults.from_dict(faults.to_dict()) == faults
    assert hash(WeightFaults(np.float64(0.25), np.int64(2))) == hash(WeightFaults(0.25, 2))
    w = np.arange(-7, 8)
    assert np.array_equal(faults.apply(w, bits=4, encoding="twos"),
                          flip_weight_bits(w, bits=4, encoding="twos", rate=1e-3, seed=4))
    assert WeightFaults(1 / 3).name == f"faults_p{1 / 3!r}"


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"bits": 0}, ValueError, rf"bits must be from 1 to {MAX_FAULT_BITS}, not 0"),
    ({"bits": 33}, ValueError, rf"bits must be from 1 to {MAX_FAULT_BITS}, not 33"),
    ({"bits": 4.0}, TypeError, r"bits must be an int, not 4.0"),
    ({"encoding": "ones"}, ValueError, r"encoding must be one of 'twos', 'sign-magnitude', "
                                       r"not 'ones'"),
    ({"rate": 1.5}, ValueError, r"rate must be from 0 to 1, not 1.5"),
    ({"rate": -0.1}, ValueError, r"rate must be from 0 to 1, not -0.1"),
    ({"rate": math.nan}, ValueError, r"rate must be from 0 to 1, not nan"),
    ({"rate": "0.1"}, TypeError, r"rate must be a number, not '0.1'"),
    ({"seed": -1}, ValueError, r"seed must be from 0 to \d+, not -1"),
    ({"w": np.array([8])}, ValueError, r"w must lie in \[-8, 7\] for 4-bit twos weights, not 8"),
    ({"w": np.array([0, -16]), "encoding": "sign-magnitude"}, ValueError,
     r"w must lie in \[-15, 15\] for 4-bit sign-magnitude weights, not -16"),
    ({"w": np.array([0.5])}, TypeError, r"w must hold integers, not float64"),
    ({"w": torch.zeros(2)}, TypeError, r"w must hold integers, not torch.float32"),
    ({"w": [[1], [1, 2]]}, ValueError, r"w must be an array of integers"),
    ({"w": np.array([2 ** 64 - 1], np.uint64)}, ValueError, r"w holds 18446744073709551615, "
                                                           r"beyond int64"),
])
def test_invalid_arguments(kwargs, error, match):
    arguments = {"w": np.zeros(3, np.int64), "bits": 4, "encoding": "twos", "rate": 0.1,
                 "seed": 0, **kwargs}
    with pytest.raises(error, match=match):
        flip_weight_bits(**arguments)


def test_invalid_weight_faults():
    with pytest.raises(ValueError, match=r"rate must be from 0 to 1, not 2.0"):
        WeightFaults(2.0)
    with pytest.raises(TypeError, match=r"rate must be a number, not True"):
        WeightFaults(True)
    with pytest.raises(TypeError, match=r"seed must be an int, not 0.5"):
        WeightFaults(0.1, 0.5)
    with pytest.raises(ValueError, match=r"weight faults description has unknown keys "
                                         r"\['p'\]; it takes \['rate', 'seed'\]"):
        WeightFaults.from_dict({"rate": 0.1, "p": 1})
    with pytest.raises(TypeError, match=r"weight faults description must be a table, not 0.1"):
        WeightFaults.from_dict(0.1)
