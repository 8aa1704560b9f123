"""The NumPy golden model: exact configurations against the integer matrix product, the tree
walk against plain sums, passes, wrap-around, wide values and input validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from macro_helpers import extremes, operands

from dcim.arith import COMPRESSORS, CompressorAssignment, MultiplierSpec
from dcim.macro import MacroSpec, model
from dcim.macro.model import dot_model, macro_model, wrap

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None)


@SETTINGS
@given(rows=st.integers(1, 80), cols=st.integers(1, 5), weight_bits=st.integers(1, 10),
       act_bits=st.integers(1, 10), signed=st.booleans(),
       datapath=st.sampled_from(["multiplier", "bitserial"]), seed=st.integers(0, 2**32 - 1))
def test_exact_equals_integer_product(rows, cols, weight_bits, act_bits, signed, datapath,
                                      seed):
    spec = MacroSpec(rows=rows, cols=cols, weight_bits=weight_bits, act_bits=act_bits,
                     signed=signed, datapath=datapath)
    weights, activations = extremes(spec, 5, np.random.default_rng(seed))
    assert np.array_equal(macro_model(spec, weights, activations), activations @ weights)


@pytest.mark.parametrize("datapath", ["multiplier", "bitserial"])
def test_tree_walk_matches_sum_when_exact(monkeypatch, datapath):
    spec = MacroSpec(rows=23, cols=3, weight_bits=5, act_bits=4, datapath=datapath,
                     assignment=CompressorAssignment.uniform("exact42", 6))
    weights, activations = extremes(spec, 40, np.random.default_rng(1))
    shortcut = dot_model(spec, weights, activations)
    # Force the bit-level walk of the plan that approximate trees take.
    monkeypatch.setattr(model, "tree_is_exact", lambda spec: False)
    walked = dot_model(spec, weights, activations)
    assert np.array_equal(shortcut, walked)
    assert np.array_equal(walked, activations @ weights)


@pytest.mark.parametrize("datapath", ["multiplier", "bitserial"])
@pytest.mark.parametrize("signed", [False, True])
def test_approximate_tree_is_deterministic_and_approximate(datapath, signed):
    spec = MacroSpec(rows=32, cols=4, weight_bits=6, act_bits=6, signed=signed,
                     datapath=datapath, assignment=CompressorAssignment.uniform("acci1", 6))
    weights, activations = operands(spec, np.random.default_rng(2), 200)
    results = macro_model(spec, weights, activations)
    assert np.array_equal(results, macro_model(spec, weights, activations))
    error = results - activations @ weights
    assert np.any(error != 0)
    # Each approximate cell errs by at most its worst error distance at its column's weight;
    # bit-serially, every activation bit's tree errs so, shifted by the bit's weight.
    per_tree = sum(np.abs(COMPRESSORS[cell.compressor].truth_table()
                          - COMPRESSORS[cell.compressor].exact_table()).max() << cell.column
                   for cell in spec.tree_plan.cells)
    repeats = 2 ** spec.act_bits - 1 if datapath == "bitserial" else 1
    assert np.abs(error).max() <= per_tree * repeats


def test_approximate_multiplier_uses_weight_as_operand_a():
    mult = MultiplierSpec(width=8, signed=False, kind="drum", options={"k": 3})
    spec = MacroSpec(rows=1, cols=1, signed=False, mult=mult)
    weights, activations = np.array([[200]]), np.array([[7], [200]])
    expected = mult.model(200, np.array([7, 200]))
    assert np.array_equal(macro_model(spec, weights, activations)[:, 0], expected)


@pytest.mark.parametrize("datapath", ["multiplier", "bitserial"])
def test_passes_accumulate(datapath):
    spec = MacroSpec(rows=16, cols=3, weight_bits=4, act_bits=4, datapath=datapath,
                     assignment=CompressorAssignment.uniform("kong2", 5))
    rng = np.random.default_rng(3)
    weights, activations = operands(spec, rng, 7, depth=40)
    results = macro_model(spec, weights, activations)
    padded_w = np.pad(weights, ((0, 8), (0, 0)))
    padded_x = np.pad(activations, ((0, 0), (0, 8)))
    total = sum(macro_model(spec, padded_w[k:k + 16], padded_x[:, k:k + 16])
                for k in (0, 16, 32))
    assert np.array_equal(results, wrap(total, spec.acc_width, spec.signed))
    exact = spec.replace(assignment=None)
    assert np.array_equal(macro_model(exact, weights, activations), activations @ weights)


def test_accumulator_wraps_around():
    spec = MacroSpec(rows=4, cols=1, weight_bits=4, act_bits=4, signed=True, acc_width=11)
    assert spec.dot_width == 10
    weights = np.full((4 * 9, 1), -8)
    activations = np.full((1, 4 * 9), -8)
    exact = 64 * 4 * 9
    assert macro_model(spec, weights, activations)[0, 0] == (exact + 1024) % 2048 - 1024


def test_wide_operands_use_python_integers():
    spec = MacroSpec(rows=3, cols=2, weight_bits=32, act_bits=32, signed=True)
    low, high = spec.value_range(32)
    weights = np.array([[low, high], [high, low], [low, low]])
    activations = np.array([[low, low, low], [high, high, high], [0, 1, -1]])
    results = macro_model(spec, weights, activations)
    assert results.dtype == object
    expected = [[sum(int(activations[n, r]) * int(weights[r, c]) for r in range(3))
                 for c in range(2)] for n in range(3)]
    assert results.tolist() == expected
    unsigned = MacroSpec(rows=2, cols=1, weight_bits=32, act_bits=32, signed=False,
                         datapath="bitserial")
    top = 2**32 - 1
    assert macro_model(unsigned, [[top], [top]], [top, top]).tolist() == [2 * top * top]


def test_single_vector_gives_one_row_of_results():
    spec = MacroSpec(rows=4, cols=3)
    weights, activations = operands(spec, np.random.default_rng(4), 1)
    result = macro_model(spec, weights, activations[0])
    assert result.shape == (3,)
    assert np.array_equal(result, activations[0] @ weights)


@pytest.mark.parametrize("weights, activations, error, message", [
    (np.zeros((4, 2)), np.zeros((1, 4)), TypeError, r"weights must hold integers, not float64"),
    (np.zeros((4, 2), int), np.zeros((1, 4), int), ValueError,
     r"weights must have shape \(rows, 3\) with at least one row, not \(4, 2\)"),
    (np.zeros((4, 3), int), np.zeros((1, 5), int), ValueError,
     r"activations must have shape \(n, 4\) or \(4,\) to match weights of shape \(4, 3\), "
     r"not \(1, 5\)"),
    (np.zeros((4, 3), int), np.zeros((2, 1, 4), int), ValueError,
     r"activations must have shape \(n, 4\)"),
    (np.full((4, 3), 128), np.zeros((1, 4), int), ValueError,
     r"weights must lie in \[-128, 127\] for dcim_r4c3_w8a8s_mul8s_exact, not 128"),
    (np.zeros((4, 3), int), np.full((1, 4), -129), ValueError,
     r"activations must lie in \[-128, 127\] .*, not -129"),
    (np.zeros((0, 3), int), np.zeros((1, 0), int), ValueError, r"at least one row"),
    ([[2**70] * 3] * 4, np.zeros((1, 4), int), ValueError,
     r"weights must lie in \[-128, 127\] .*, not 1180591620717411303424"),
    (np.zeros((4, 3), int), [[0, 0, 0, -(2**70)]], ValueError,
     r"activations must lie in .*, not -1180591620717411303424"),
    (np.zeros((4, 3), int), [], ValueError, r"activations must have shape \(n, 4\) or \(4,\)"
                                            r".* not \(0,\)"),
    ([[1, 2, 3], [1]], np.zeros((1, 4), int), ValueError, r"weights must be an array of integ"),
])
def test_invalid_operands(weights, activations, error, message):
    spec = MacroSpec(rows=4, cols=3)
    with pytest.raises(error, match=message):
        macro_model(spec, weights, activations)
