"""approx_matmul against sums of the design's own products, bit for bit: every kind, widths 2
to 12, signed, unsigned and sign-magnitude; torch against NumPy; macros against their model;
and every validation error."""

import copy

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dcim.arith import (
    MULTIPLIER_KINDS,
    CompressorAssignment,
    MultiplierSpec,
    register_multiplier_kind,
)
from dcim.macro import DCiMMacro, MacroSpec
from dcim.nn import approx_matmul, product_table
from dcim.nn import matmul as matmul_module
from dcim.nn import operands as operands_module

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None)


def make_spec(kind, width, signed, k=None):
    """The kind's default options, with a DRUM ``k`` that fits ``width`` and ``signed``."""
    if kind != "drum":
        return MultiplierSpec(width, signed=signed, kind=kind)
    k = min(width, 6 if k is None else k)
    if signed and width > 2 and k == 2:
        k = 3
    return MultiplierSpec(width, signed=signed, kind=kind, options={"k": k})


def reference(spec, x, w):
    """``sum_k p(w[k, n], x[m, k])`` from broadcast model calls, independently of dcim.nn."""
    products = spec.model(w[None, :, :], x[:, :, None]).astype(np.int64)
    return products.sum(axis=1)


def sign_magnitude_reference(spec, x, w):
    magnitudes = spec.model(np.abs(w)[None, :, :], np.abs(x)[:, :, None]).astype(np.int64)
    negative = (w[None, :, :] < 0) != (x[:, :, None] < 0)
    return np.where(negative, -magnitudes, magnitudes).sum(axis=1)


def draw_operands(spec, seed, m, k, n, extremes, low=None):
    rng = np.random.default_rng(seed)
    lowest, high = spec.operand_range
    low = lowest if low is None else low
    if extremes:
        choices = np.array(sorted({low, low + 1, 0, 1, high - 1, high}))
        return rng.choice(choices, (m, k)), rng.choice(choices, (k, n))
    return rng.integers(low, high + 1, (m, k)), rng.integers(low, high + 1, (k, n))


shapes = dict(m=st.integers(1, 6), k=st.integers(1, 9), n=st.integers(1, 5))


@SETTINGS
@given(kind=st.sampled_from(sorted(MULTIPLIER_KINDS)), width=st.integers(2, 12),
       signed=st.booleans(), drum_k=st.integers(2, 12), seed=st.integers(0, 2**32 - 1),
       extremes=st.booleans(), **shapes)
@example(kind="mitchell", width=8, signed=False, drum_k=2, seed=0, extremes=True, m=3, k=9, n=2)
@example(kind="drum", width=8, signed=True, drum_k=4, seed=1, extremes=True, m=2, k=4, n=3)
def test_equals_sum_of_model_products(kind, width, signed, drum_k, seed, extremes, m, k, n):
    spec = make_spec(kind, width, signed, drum_k)
    x, w = draw_operands(spec, seed, m, k, n, extremes)
    got = approx_matmul(x, w, spec)
    assert isinstance(got, np.ndarray) and got.dtype == np.int64 and got.shape == (m, n)
    assert np.array_equal(got, reference(spec, x, w))
    tensor = approx_matmul(torch.from_numpy(x), torch.from_numpy(w), spec)
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.int64
    assert np.array_equal(tensor.numpy(), got)


@SETTINGS
@given(kind=st.sampled_from(sorted(MULTIPLIER_KINDS)), width=st.integers(2, 10),
       seed=st.integers(0, 2**32 - 1), extremes=st.booleans(), **shapes)
def test_sign_magnitude_on_unsigned_designs(kind, width, seed, extremes, m, k, n):
    spec = make_spec(kind, width, False)
    high = spec.operand_range[1]
    x, w = draw_operands(spec, seed, m, k, n, extremes, low=-high)
    expected = sign_magnitude_reference(spec, x, w)
    assert np.array_equal(approx_matmul(x, w, spec), expected)
    assert np.array_equal(approx_matmul(x, w, spec, sign_magnitude=True), expected)


def test_sign_magnitude_negates_mixed_signs_even_for_zero_magnitudes():
    # p(0, b) is not 0 for every design: the sign is the operands' sign bits, as in hardware.
    spec = make_spec("mitchell", 4, False)
    x, w = np.array([[-3, 3]]), np.array([[0], [0]])
    expected = -int(spec.model(0, 3)) + int(spec.model(0, 3))
    assert approx_matmul(x, w, spec)[0, 0] == expected
    one_sided = np.array([[-3, -5]])
    assert approx_matmul(one_sided, w, spec)[0, 0] == -int(spec.model(0, 3) + spec.model(0, 5))


@pytest.mark.parametrize("kind", sorted(MULTIPLIER_KINDS))
@pytest.mark.parametrize("signed", [False, True])
def test_8_bit_table_paths_on_larger_shapes(kind, signed):
    spec = make_spec(kind, 8, signed)
    x, w = draw_operands(spec, 7, 40, 70, 9, False)
    assert np.array_equal(approx_matmul(x, w, spec), reference(spec, x, w))


def test_wide_weight_tables_run_in_parts():
    # 200 positions of 64 columns: 12.5 MB of float32 tables, summed in two parts.
    spec = make_spec("log", 8, False)
    x, w = draw_operands(spec, 8, 5, 200, 64, False)
    assert np.array_equal(approx_matmul(x, w, spec), reference(spec, x, w))


@pytest.mark.parametrize("k, bound, expected", [(72, 65025, 72), (576, 65025, 192),
                                                (600, 65025, 208), (10, 1 << 30, 10)])
def test_parts_are_balanced_and_exact(k, bound, expected):
    dtype, part = matmul_module._float_parts(k, bound)
    assert part == expected
    assert part * bound < matmul_module._EXACT_FLOAT[dtype]
    assert dtype == (torch.float32 if bound < 1 << 16 else torch.float64)


def test_float64_and_parts_when_float32_sums_could_round(monkeypatch):
    spec = make_spec("mitchell", 8, False)
    x = np.full((3, 600), 255)
    w = np.full((600, 2), 255)
    w[::7] = 3
    # 600 * 255**2 exceeds 2**24: float64 holds the sum; force parts of 100 too.
    expected = reference(spec, x, w)
    assert np.array_equal(approx_matmul(x, w, spec), expected)
    monkeypatch.setattr(matmul_module, "_EXACT_FLOAT", {torch.float32: 1 << 20,
                                                        torch.float64: 100 * 65536})
    assert np.array_equal(approx_matmul(x, w, spec), expected)
    assert np.array_equal(approx_matmul(x, w, make_spec("drum", 8, False)),
                          reference(make_spec("drum", 8, False), x, w))


@pytest.mark.parametrize("precision", ["medium", "high"])
def test_reduced_float32_matmul_precision_uses_float64(precision):
    spec = make_spec("drum", 8, False, 4)
    x, w = draw_operands(spec, 3, 5, 30, 4, False)
    torch.set_float32_matmul_precision(precision)
    try:
        assert not operands_module.ieee_float32_gemm(torch.device("cpu"))
        assert matmul_module._float_parts(30, 1 << 16, False)[0] == torch.float64
        assert np.array_equal(approx_matmul(x, w, spec), reference(spec, x, w))
    finally:
        torch.set_float32_matmul_precision("highest")
    assert operands_module.ieee_float32_gemm(torch.device("cpu"))
    assert matmul_module._float_parts(30, 1 << 16)[0] == torch.float32


@pytest.mark.parametrize("kind, signed", [("exact", False), ("drum", True), ("drum", False)])
def test_low_rank_designs_take_the_factored_path(kind, signed):
    # exact: E = 0; DRUM: its table is f(a) * g(b), of rank 1.
    plan = matmul_module._plan(make_spec(kind, 8, signed), False)
    assert plan.factors is not None
    u, v, d, _ = plan.factors
    assert np.array_equal(u.astype(object).dot(v.astype(object)),
                          (plan.table - plan.factors[3] * np.outer(
                              np.arange(plan.low, plan.low + 256),
                              np.arange(plan.low, plan.low + 256))).astype(object) * d)


def test_high_rank_design_takes_the_gather_path():
    assert matmul_module._plan(make_spec("mitchell", 8, False), False).factors is None


def test_table_cached_per_design_and_registries():
    spec = make_spec("log", 6, True)
    first = matmul_module._plan(spec, False)
    assert matmul_module._plan(spec, False) is first
    assert first is not matmul_module._plan(make_spec("log", 6, False), False)
    # Re-registering a kind (another object, perhaps another model) gives another table.
    original = MULTIPLIER_KINDS["log"]
    register_multiplier_kind(copy.copy(original), replace=True)
    try:
        assert matmul_module._plan(spec, False) is not first
    finally:
        register_multiplier_kind(original, replace=True)
    assert matmul_module._plan(spec, False) is first


def test_product_table_rows_are_weights():
    spec = make_spec("drum", 6, False, 3)
    table = product_table(spec)
    assert table.shape == (64, 64)
    assert table[50, 3] == spec.model(50, 3) and table[3, 50] == spec.model(3, 50)
    sm, low = product_table(spec, sign_magnitude=True, with_low=True)
    assert low == -63 and sm.shape == (127, 127)
    assert sm[-5 - low, 7 - low] == -spec.model(5, 7)


def test_empty_dimensions_give_zeros():
    spec = make_spec("exact", 4, False)
    assert approx_matmul(np.zeros((0, 3), int), np.zeros((3, 2), int), spec).shape == (0, 2)
    out = approx_matmul(np.zeros((2, 0), int), np.zeros((0, 2), int), spec)
    assert np.array_equal(out, np.zeros((2, 2)))


def test_accepts_narrow_integer_dtypes():
    spec = make_spec("log", 8, False)
    x = np.array([[200, 3]], dtype=np.uint8)
    w = torch.tensor([[7], [250]], dtype=torch.uint8)
    expected = reference(spec, x.astype(np.int64), w.numpy().astype(np.int64))
    assert np.array_equal(approx_matmul(x, w, spec), expected)


# -- macros -------------------------------------------------------------------------------

MACROS = [
    MacroSpec(rows=4, cols=3, weight_bits=4, act_bits=4, signed=True),
    MacroSpec(rows=4, cols=2, weight_bits=5, act_bits=3, signed=False, mult="log"),
    MacroSpec(rows=8, cols=2, weight_bits=6, act_bits=6, signed=False,
              mult={"kind": "drum", "options": {"k": 3}}),
    MacroSpec(rows=4, cols=3, weight_bits=3, act_bits=4, signed=False, datapath="bitserial"),
    MacroSpec(rows=8, cols=2, weight_bits=4, act_bits=4, signed=True, datapath="bitserial",
              assignment=CompressorAssignment.uniform("acci1", 5)),
    MacroSpec(rows=8, cols=2, weight_bits=5, act_bits=5, signed=True,
              assignment=CompressorAssignment.uniform("kong2", 6)),
    MacroSpec(rows=4, cols=1, weight_bits=4, act_bits=4, signed=True, acc_width=11),
]


@pytest.mark.parametrize("spec", MACROS, ids=lambda spec: spec.name)
@pytest.mark.parametrize("passes", [1, 3])
def test_macro_equals_its_model(spec, passes):
    rng = np.random.default_rng(passes)
    depth = spec.rows * passes
    x = rng.integers(*spec.value_range(spec.act_bits), endpoint=True, size=(6, depth))
    w = rng.integers(*spec.value_range(spec.weight_bits), endpoint=True,
                     size=(depth, spec.cols))
    expected = spec.model(w, x)
    assert np.array_equal(approx_matmul(x, w, spec), expected)
    tensor = approx_matmul(torch.from_numpy(x), torch.from_numpy(w), spec)
    assert np.array_equal(tensor.numpy(), expected)


@pytest.mark.parametrize("spec", [MACROS[0], MACROS[2], MACROS[3], MACROS[6]],
                         ids=lambda spec: spec.name)
def test_exact_tree_macros_take_the_table_path(monkeypatch, spec):
    from dcim.macro import model

    rng = np.random.default_rng(6)
    depth = 3 * spec.rows - 1
    x = rng.integers(*spec.value_range(spec.act_bits), endpoint=True, size=(50, depth))
    w = rng.integers(*spec.value_range(spec.weight_bits), endpoint=True,
                     size=(depth, 2 * spec.cols + 1))
    expected = approx_matmul(x, w, spec)
    padded = np.pad(w, ((0, 0), (0, spec.cols - 1)))
    tiles = [spec.model(padded[:, c:c + spec.cols], x) for c in range(0, w.shape[1], spec.cols)]
    assert np.array_equal(expected, np.concatenate(tiles, axis=1)[:, :w.shape[1]])

    def refuse(*args):
        raise AssertionError("the exact tree's macro model was called")

    monkeypatch.setattr(model, "macro_model", refuse)
    assert np.array_equal(approx_matmul(x, w, spec), expected)


def test_macro_wraps_like_its_model():
    spec = MACROS[-1]
    x = np.full((1, 36), -8)
    w = np.full((36, 1), -8)
    assert approx_matmul(x, w, spec)[0, 0] == spec.model(w, x)[0, 0] != 64 * 36


def test_macro_depth_not_a_multiple_of_rows_and_wide_n():
    spec = MACROS[5]
    rng = np.random.default_rng(4)
    x = rng.integers(-16, 16, (5, 11))
    w = rng.integers(-16, 16, (11, 5))
    got = approx_matmul(x, w, spec)
    # Columns are independent: N = 5 runs as three tiles of the macro's two columns.
    padded = np.pad(w, ((0, 0), (0, 1)))
    tiles = [spec.model(padded[:, c:c + 2], x) for c in (0, 2, 4)]
    assert np.array_equal(got, np.concatenate(tiles, axis=1)[:, :5])


def test_macro_component_is_accepted():
    macro = DCiMMacro(rows=4, cols=2, weight_bits=4, act_bits=4, mult="log")
    x = np.array([[1, -2, 3, -4]])
    w = np.array([[5, -6], [7, -8], [1, 2], [3, 4]])
    assert np.array_equal(approx_matmul(x, w, macro), macro.model(w, x))


def test_unsigned_macro_runs_signed_operands_as_four_sign_quadrants():
    spec = MACROS[1]
    rng = np.random.default_rng(5)
    x = rng.integers(-7, 8, (4, 8))
    w = rng.integers(-31, 32, (8, 2))

    def run(xs, ws):
        return spec.model(np.clip(ws, 0, None), np.clip(xs, 0, None)).astype(np.int64)

    expected = run(x, w) + run(-x, -w) - run(-x, w) - run(x, -w)
    assert np.array_equal(approx_matmul(x, w, spec), expected)


# -- validation -----------------------------------------------------------------------------

SPEC = MultiplierSpec(4, signed=False, kind="log")


def test_out_of_range_operands_name_the_array_and_value():
    with pytest.raises(ValueError, match=r"x must lie in \[0, 15\] for mul4u_log, not 16"):
        approx_matmul(np.array([[1, 16]]), np.ones((2, 1), int), SPEC)
    with pytest.raises(ValueError, match=r"w must lie in \[-8, 7\] for mul4s_log, not 9"):
        approx_matmul(np.ones((1, 2), int), np.array([[9], [1]]),
                      MultiplierSpec(4, signed=True, kind="log"))
    with pytest.raises(ValueError, match=r"w must lie in \[-15, 15\] for mul4u_log, not -16"):
        approx_matmul(np.ones((1, 2), int), np.array([[-16], [1]]), SPEC)
    macro = MACROS[1]
    with pytest.raises(ValueError, match=r"x must lie in \[0, 7\] for dcim_r4c2_w5a3u.*not 8"):
        approx_matmul(np.full((1, 4), 8), np.ones((4, 2), int), macro)


def test_refused_negatives_name_the_array_and_value():
    with pytest.raises(ValueError, match=r"w must lie in \[0, 15\] for mul4u_log without "
                                         r"sign_magnitude, not -3"):
        approx_matmul(np.ones((1, 2), int), np.array([[-3], [1]]), SPEC, sign_magnitude=False)
    with pytest.raises(ValueError, match=r"x must lie .* without sign_magnitude, not -1"):
        approx_matmul(torch.tensor([[-1, 2]]), torch.ones((2, 1), dtype=torch.int64), SPEC,
                      sign_magnitude=False)


def test_unsigned_macro_refuses_negatives_without_sign_magnitude():
    with pytest.raises(ValueError, match=r"w must lie in \[0, 31\] for dcim_r4c2_w5a3u\w* "
                                         r"without sign_magnitude, not -4"):
        approx_matmul(np.ones((1, 4), int), np.array([[1, 2], [-4, 1], [0, 0], [1, 1]]),
                      MACROS[1], sign_magnitude=False)
    with pytest.raises(ValueError, match=r"w must lie in \[-31, 31\] for dcim_r4c2_w5a3u\w*, "
                                         r"not 32"):
        approx_matmul(np.full((1, 4), -1), np.full((4, 2), 32), MACROS[1])


def test_sign_magnitude_argument_is_checked():
    with pytest.raises(ValueError, match="sign_magnitude applies to unsigned designs only, "
                                         "not to the signed mul4s_log"):
        approx_matmul(np.ones((1, 1), int), np.ones((1, 1), int),
                      MultiplierSpec(4, signed=True, kind="log"), sign_magnitude=True)
    with pytest.raises(TypeError, match="sign_magnitude must be a bool, not 1"):
        approx_matmul(np.ones((1, 1), int), np.ones((1, 1), int), SPEC, sign_magnitude=1)
    with pytest.raises(ValueError, match="sign_magnitude applies to unsigned designs only"):
        product_table(MultiplierSpec(4, signed=True), sign_magnitude=True)


@pytest.mark.parametrize("x_shape, w_shape", [((2, 3), (4, 1)), ((3,), (3, 1)),
                                              ((2, 3), (3,)), ((1, 2, 3), (3, 1))])
def test_shape_mismatch_names_both_shapes(x_shape, w_shape):
    pattern = (r"x must have shape \(M, K\) and w shape \(K, N\), not "
               + repr(x_shape).replace("(", r"\(").replace(")", r"\)")
               + " and " + repr(w_shape).replace("(", r"\(").replace(")", r"\)"))
    with pytest.raises(ValueError, match=pattern):
        approx_matmul(np.ones(x_shape, int), np.ones(w_shape, int), SPEC)


def test_non_integer_dtypes_name_the_array_and_dtype():
    with pytest.raises(TypeError, match="x must hold integers, not float64"):
        approx_matmul(np.ones((1, 1)), np.ones((1, 1), int), SPEC)
    with pytest.raises(TypeError, match="w must hold integers, not torch.float32"):
        approx_matmul(torch.ones((1, 1), dtype=torch.int64), torch.ones((1, 1)), SPEC)
    with pytest.raises(TypeError, match="w must hold integers, not torch.bool"):
        approx_matmul(np.ones((1, 1), int), torch.ones((1, 1), dtype=torch.bool), SPEC)
    with pytest.raises(TypeError, match="x must hold integers, not bool"):
        approx_matmul(np.ones((1, 1), bool), np.ones((1, 1), int), SPEC)
    with pytest.raises(ValueError, match="x must be an array of integers, not"):
        approx_matmul([[1], [1, 2]], np.ones((1, 1), int), SPEC)
    with pytest.raises(ValueError, match="w holds 18446744073709551615, beyond int64"):
        approx_matmul(np.ones((1, 1), int), np.array([[2**64 - 1]], dtype=np.uint64), SPEC)


def test_design_is_checked():
    with pytest.raises(TypeError, match="design must be a MultiplierSpec, MacroSpec or "
                                        "DCiMMacro, not 'mul4u'"):
        approx_matmul(np.ones((1, 1), int), np.ones((1, 1), int), "mul4u")
    with pytest.raises(ValueError, match="design.width must be at most 16 for approx_matmul, "
                                         "not 17"):
        approx_matmul(np.ones((1, 1), int), np.ones((1, 1), int), MultiplierSpec(17))
    with pytest.raises(ValueError, match="spec.width must be at most 8 for a product table, "
                                         "not 9"):
        product_table(MultiplierSpec(9))
    with pytest.raises(TypeError, match="spec must be a MultiplierSpec, not 3"):
        product_table(3)


# -- the layers' unchecked path and the weight-aware bounds -----------------------------------

@SETTINGS
@given(kind=st.sampled_from(sorted(MULTIPLIER_KINDS)), signed=st.booleans(),
       seed=st.integers(0, 2**32 - 1), extremes=st.booleans(), **shapes)
def test_unchecked_sums_of_float_activations_equal_matmul(kind, signed, seed, extremes, m, k,
                                                          n):
    spec = make_spec(kind, 8, signed)
    high = spec.operand_range[1]
    x, w = draw_operands(spec, seed, m, k, n, extremes, low=None if signed else -high)
    prepared = matmul_module.prepare_weights(torch.from_numpy(w), spec,
                                             sign_magnitude=not signed)
    expected = prepared.matmul(torch.from_numpy(x))
    for values in (torch.from_numpy(x), torch.from_numpy(x).to(torch.float32)):
        sums = prepared._sums(values)
        assert sums.shape == (m, n) and torch.equal(sums.to(torch.int64), expected)


def test_weight_aware_bounds_keep_small_weights_in_one_float32_part():
    # 784 positions of at most 255 * 255 would split; trained weights mostly do not.
    spec = make_spec("exact", 8, False)
    w = np.full((784, 3), 20)
    w[0] = 255
    x = np.full((2, 784), 255)
    prepared = matmul_module.prepare_weights(w, spec)
    assert (prepared._run.dtype, prepared._run.part) == (torch.float32, 784)
    assert np.array_equal(prepared.matmul(x), reference(spec, x, w))
    bounds = torch.full((784, 3), 65025.0)
    assert matmul_module._weight_parts(bounds) == (torch.float32, 208)


def test_greedy_parts_keep_every_column_below_the_limit():
    bounds = torch.tensor([[3.0, 1.0], [3.0, 1.0], [1.0, 4.0], [2.0, 2.0]])
    assert matmul_module._greedy_parts(bounds, 10) == [slice(0, 4)]
    parts = matmul_module._greedy_parts(bounds, 7)
    assert parts == [slice(0, 2), slice(2, 4)]
    for part in parts:
        assert bool((bounds[part].sum(0) < 7).all())
    assert matmul_module._greedy_parts(bounds, 4) is None


def test_parts_of_float32_sums_add_exactly():
    parts = [torch.full((2,), 2.0**24 - 1), torch.full((2,), 2.0**24 - 1)]
    total = matmul_module._summed(parts)
    assert total.dtype == torch.float64 and int(total[0]) == 2 * (2**24 - 1)
    big = [torch.full((1,), 2.0**53 - 1, dtype=torch.float64)] * 2
    assert int(matmul_module._summed(big)[0]) == 2 * (2**53 - 1)


def window_sums(table, low, x, w, kernel, pads):
    """``sum table[w - low, x - low]`` over each window of ``x`` zero-padded by ``pads``
    (left, right, top, bottom): a convolution through any table, written with NumPy."""
    left, right, top, bottom = pads
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    batch, channels, height, width = x.shape
    kh, kw = kernel
    out = np.zeros((batch, w.shape[1], height - kh + 1, width - kw + 1), dtype=np.int64)
    for c in range(channels):
        for i in range(kh):
            for j in range(kw):
                window = x[:, c, i:i + out.shape[2], j:j + out.shape[3]]
                weights = w[(c * kh + i) * kw + j]
                out += table[weights[None, :, None, None] - low, window[:, None] - low]
    return out


@pytest.mark.parametrize("method", ["factors", "tables"])
def test_convolutions_pad_with_the_products_of_zero_activations(method):
    # p(w, 0) = 3 w here: padded zeros add their products, as the unfolded patches do.
    values = np.arange(-7, 8)
    rng = np.random.default_rng(9)
    table = (np.outer(values, values) + 3 * values[:, None] if method == "factors"
             else rng.integers(-60, 60, (15, 15)))
    plan = matmul_module._Plan(table, -7)
    assert (plan.factors is not None) == (method == "factors")
    if method == "factors":
        assert int(plan.factors[1][0][7]) != 0        # V[0]: the padding is not zero
    w = rng.integers(-7, 8, (2 * 2 * 3, 4))
    x = rng.integers(-7, 8, (3, 2, 5, 4))
    build = matmul_module._Factored if method == "factors" else matmul_module._Gathered
    run = build(plan, torch.from_numpy(w))
    for pads in [(1, 1, 1, 1), (0, 1, 1, 0), (0, 0, 0, 0)]:
        got = run.conv2d(torch.from_numpy(x).to(torch.float32), (2, 3), (1, 1), (1, 1), pads)
        assert torch.equal(got.to(torch.int64),
                           torch.from_numpy(window_sums(table, -7, x, w, (2, 3), pads)))


def test_the_device_argument_moves_the_operands():
    spec = MultiplierSpec(4, signed=True, kind="mitchell")
    x = np.arange(-8, 8).reshape(4, 4)
    w = np.arange(16).reshape(4, 4) % 8 - 4
    on_cpu = approx_matmul(torch.from_numpy(x), w, spec, device="cpu")
    assert isinstance(on_cpu, torch.Tensor) and on_cpu.device.type == "cpu"
    assert np.array_equal(on_cpu.numpy(), approx_matmul(x, w, spec))
    assert np.array_equal(approx_matmul(x, w, spec, device=torch.device("cpu")),
                          reference(spec, x, w))
    with pytest.raises(ValueError, match="device must be a torch device, not 'gpu0'"):
        approx_matmul(x, w, spec, device="gpu0")
