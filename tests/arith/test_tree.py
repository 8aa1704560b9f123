import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcim.arith import CompressorAssignment, MultiplierSpec, plan_reduction
from dcim.arith.compressor import APPROXIMATE_42
from dcim.arith.logic import NumpyLogic, bits_from_words, words_from_bits
from dcim.arith.tree import check_assignment, live_bits, reduce_columns
from dcim.arith.tree_multiplier import tree_model, tree_plan


def _all_pairs(spec):
    low, high = spec.operand_range
    a, b = np.meshgrid(np.arange(low, high + 1), np.arange(low, high + 1))
    return a.ravel(), b.ravel()


@pytest.mark.parametrize("width", range(2, 9))
@pytest.mark.parametrize("is_signed", [False, True])
@pytest.mark.parametrize(("method", "schedule", "adder"), [
    ("array", "dadda", "behavioral"), ("array", "wallace", "ripple"),
    ("booth4", "dadda", "ripple"), ("booth4", "wallace", "behavioral")])
def test_exact_tree_bit_level_equals_product_exhaustively(width, is_signed, method, schedule,
                                                          adder):
    spec = MultiplierSpec(width, is_signed, "exact", {
        "partial_products": method, "tree": schedule, "final_adder": adder})
    a, b = _all_pairs(spec)
    assert np.array_equal(tree_model(spec, a, b), a * b)


@pytest.mark.parametrize("is_signed", [False, True])
@pytest.mark.parametrize("method", ["array", "booth4"])
def test_exact_tree_bit_level_at_16_bits_on_a_million_pairs(is_signed, method):
    spec = MultiplierSpec(16, is_signed, "exact", {"partial_products": method})
    low, high = spec.operand_range
    rng = np.random.default_rng(16)
    a = rng.integers(low, high + 1, 1_000_000)
    b = rng.integers(low, high + 1, 1_000_000)
    assert np.array_equal(tree_model(spec, a, b), a * b)


def test_dadda_8x8_uses_the_textbook_cells():
    plan = tree_plan(MultiplierSpec(8))
    assert plan.stages == 4
    assert plan.totals() == {"full_adder": 35, "half_adder": 7}


def test_wallace_is_never_slower_than_dadda():
    for width in (4, 8, 12, 16):
        dadda = tree_plan(MultiplierSpec(width, options={"tree": "dadda"}))
        wallace = tree_plan(MultiplierSpec(width, options={"tree": "wallace"}))
        assert wallace.stages <= dadda.stages


@settings(max_examples=60, deadline=None)
@given(heights=st.lists(st.integers(0, 12), min_size=1, max_size=12),
       schedule=st.sampled_from(["dadda", "wallace"]),
       compressor=st.sampled_from([None, "exact42"]),
       seed=st.integers(0, 2**32 - 1))
def test_any_exact_reduction_adds_correctly(heights, schedule, compressor, seed):
    assignment = (CompressorAssignment.uniform(compressor, len(heights))
                  if compressor else None)
    plan = plan_reduction(heights, schedule=schedule, assignment=assignment)
    assert all(len(column) <= 2 for column in plan.final_columns)
    rng = np.random.default_rng(seed)
    logic = NumpyLogic((64,))
    columns = [[rng.integers(0, 2, 64).astype(bool) for _ in range(h)] for h in heights]
    total = sum(np.sum(column, axis=0, dtype=np.uint64) << np.uint64(k) if column else 0
                for k, column in enumerate(columns))
    expected = np.asarray(total, dtype=np.uint64) & np.uint64((1 << len(heights)) - 1)
    result = words_from_bits(reduce_columns(plan, logic, columns), (64,))
    assert np.array_equal(result, np.broadcast_to(expected, (64,)))


@settings(max_examples=60, deadline=None)
@given(heights=st.lists(st.integers(0, 12), min_size=1, max_size=10),
       schedule=st.sampled_from(["dadda", "wallace"]), every=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1))
def test_pipeline_registers_delay_every_path_alike(heights, schedule, every, seed):
    """Registers between stages cut every path once: the sum comes out n cycles later.

    The 64 lanes of the NumPy logic are successive cycles; a register delays by one.
    """
    plan = plan_reduction(heights, schedule=schedule)
    stages = tuple(range(every - 1, plan.stages, every))
    rng = np.random.default_rng(seed)
    logic = NumpyLogic((64,))
    columns = [[rng.integers(0, 2, 64).astype(bool) for _ in range(h)] for h in heights]
    seen = []

    def register(stage, values):
        seen.append((stage, len(values)))
        return [np.roll(np.broadcast_to(value, (64,)), 1) for value in values]

    plain = words_from_bits(reduce_columns(plan, logic, columns), (64,))
    delayed = words_from_bits(reduce_columns(plan, logic, columns, register_stages=stages,
                                             register=register), (64,))
    assert [stage for stage, _ in seen] == list(stages)
    assert all(count == len(live_bits(plan, stage)) for stage, count in seen)
    assert np.array_equal(delayed[len(stages):], plain[:64 - len(stages)])


def test_live_bits_after_the_last_stage_are_the_final_adders():
    plan = plan_reduction([3, 3, 3, 2])
    final = sorted(bit for column in plan.final_columns for bit in column)
    assert live_bits(plan, plan.stages - 1) == final
    # Before any compressor runs, every input is still to be read.
    assert live_bits(plan, -1) == list(range(sum(plan.input_heights)))


def test_or_columns_or_instead_of_add():
    plan = plan_reduction([3, 3, 1], or_columns=2)
    logic = NumpyLogic((1,))
    one, zero = logic.const(1), logic.const(0)
    bits = reduce_columns(plan, logic, [[one, one, zero], [zero, zero, zero], [one]])
    assert words_from_bits(bits, (1,))[0] == 0b101


def test_assignment_counts_compressors_per_column():
    spec = MultiplierSpec(8, kind="approx", options={"compressor": "acci1", "columns": 8})
    counts = tree_plan(spec).compressor_counts()
    assert len(counts) == 16
    assert all(not any(name in APPROXIMATE_42 for name in count) for count in counts[8:])
    assert sum(count["acci1"] for count in counts) > 0


def test_per_stage_override_wins():
    assignment = CompressorAssignment(columns={6: "acci1", 7: "acci1"},
                                      overrides={(0, 7): "full_adder"})
    plan = plan_reduction([1, 2, 3, 4, 5, 6, 7, 8, 7, 6, 5, 4, 3, 2, 1, 0],
                          assignment=assignment)
    assert not any(c.compressor == "acci1" for c in plan.cells if (c.stage, c.column) == (0, 7))
    assert any(c.compressor == "acci1" for c in plan.cells if c.column == 6)
    assert assignment.compressor_for(0, 7) == "full_adder"
    assert assignment.compressor_for(1, 7) == "acci1"


def test_assignment_round_trips_through_toml(tmp_path):
    assignment = CompressorAssignment(columns={0: "ha", 1: "ha", 2: "kong2"},
                                      overrides={(1, 5): "momeni"})
    path = tmp_path / "assignment.toml"
    assignment.to_toml(path)
    assert CompressorAssignment.from_toml(path) == assignment
    assert CompressorAssignment.from_toml(assignment.to_toml()) == assignment
    assert assignment.summary() == "ha0-1_kong22_momenis1c5"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"columns": {0: "nonesuch"}}, r"columns\[0\] names unknown compressor 'nonesuch'"),
    ({"columns": {-1: "acci1"}}, "columns key must be a non-negative int, not -1"),
    ({"overrides": {3: "acci1"}}, r"overrides key must be \(stage, column\), not 3"),
    ({"columns": {0: "half_adder"}}, "removes fewer than two bits.*one of acci1, "),
    ({"columns": {0: ["acci1"]}}, r"columns\[0\] must be a compressor name"),
])
def test_assignment_errors_name_the_parameter(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        CompressorAssignment(**kwargs)


def test_assignment_from_bad_toml():
    with pytest.raises(ValueError, match="column must be an integer, not 'x'"):
        CompressorAssignment.from_toml('columns = { x = "acci1" }')
    with pytest.raises(ValueError, match="unknown keys"):
        CompressorAssignment.from_toml('colums = { 0 = "acci1" }')


def test_reduce_columns_rejects_wrong_heights():
    plan = plan_reduction([2, 2])
    logic = NumpyLogic((1,))
    with pytest.raises(ValueError, match="the plan expects"):
        reduce_columns(plan, logic, [[logic.const(0)], []])
    with pytest.raises(ValueError, match="final_adder must be 'behavioral' or 'ripple'"):
        reduce_columns(plan, logic, [[logic.const(0)] * 2] * 2, final_adder="cla")


def test_bit_packing_round_trip():
    words = np.array([0, 1, 0xDEADBEEF, 2**63 + 5], dtype=np.uint64)
    assert np.array_equal(words_from_bits(bits_from_words(words, 64), words.shape), words)


def test_truncation_zeroes_low_product_bits():
    spec = MultiplierSpec(8, kind="approx", options={"columns": 0, "truncate": 5})
    a, b = _all_pairs(spec)
    product = spec.model(a, b)
    assert np.all(product & 0b11111 == 0)
    assert np.all(product <= a * b)
    exact_high = MultiplierSpec(8, kind="approx", options={"columns": 0})
    assert np.array_equal(exact_high.model(a, b), a * b)


def test_approximate_errors_stay_within_compressor_columns():
    for name in APPROXIMATE_42:
        spec = MultiplierSpec(6, kind="approx", options={"compressor": name, "columns": 3})
        a, b = _all_pairs(spec)
        error = np.abs(spec.model(a, b) - a * b)
        # Each wrong 4:2 output is off by at most 2 units of its column (3 columns, 2^2).
        assert error.max() < 2 ** 7, name


@pytest.mark.parametrize(("width", "is_signed"), list(itertools.product([3, 5], [False, True])))
def test_or_low_makes_low_bits_an_or(width, is_signed):
    spec = MultiplierSpec(width, is_signed, "approx", {"columns": 0, "or_low": 2})
    a, b = _all_pairs(spec)
    product = spec.model(a, b)
    assert product.shape == a.shape
    assert np.any(product != a * b)


def test_assignment_takes_numpy_integers():
    assignment = CompressorAssignment(columns={np.int64(3): "acci1"},
                                      overrides={(np.uint8(1), np.int32(5)): "ha"})
    assert assignment == CompressorAssignment(columns={3: "acci1"}, overrides={(1, 5): "ha"})
    assert hash(assignment) == hash(CompressorAssignment(columns={3: "acci1"},
                                                         overrides={(1, 5): "ha"}))
    assert [type(c) for c, _ in assignment.columns] == [int]
    assert CompressorAssignment.uniform("acci1", np.int64(2)) == \
        CompressorAssignment.uniform("acci1", 2)
    with pytest.raises(ValueError, match=r"columns key must be a non-negative int, not True"):
        CompressorAssignment(columns={True: "acci1"})


@pytest.mark.parametrize(("data", "error", "message"), [
    ({"overrides": [{"stage": 0, "column": 1, "compressor": "ha", "x": 1}]}, ValueError,
     "compressor override needs stage, column and compressor"),
    ({"overrides": [{"stage": 0, "column": 1, "compressor": "ha"}] * 2}, ValueError,
     "overrides stage 0, column 1 twice"),
    ({"overrides": [5]}, ValueError, "compressor override needs stage, column and compressor"),
    ({"overrides": "abc"}, TypeError, "overrides must be a list of tables"),
    ({"columns": {"٣": "ha"}}, ValueError, "column must be an integer, not '٣'"),
    ({"columns": {"-1": "ha"}}, ValueError, "column must be an integer, not '-1'"),
    ({"columns": {"1": ["ha"]}}, TypeError, r"columns\[1\] must be a compressor name"),
    ({"columns": []}, TypeError, "compressor assignment columns must be a table"),
])
def test_assignment_from_bad_dict(data, error, message):
    with pytest.raises(error, match=message):
        CompressorAssignment.from_dict(data)


HEIGHTS_8 = list(range(1, 9)) + list(range(7, 0, -1)) + [0]   # the 8x8 AND array
MIXED = {4: "momeni", 5: "momeni", 6: "kong2", 7: "kong2", 8: "acci1", 9: "acci1"}


@pytest.mark.parametrize(("overrides", "or_columns", "message"), [
    # designs/mul8u_approx_mixed.toml used to hold this one.
    ({(3, 9): "full_adder"}, 0, r"assignment override at stage 3, column 9 \('full_adder'\) "
                                r"places nothing new: stage 3 of column 9 holds 1 half_adder "
                                r"with or without it \(the column uses 'acci1' where it fits\)"),
    ({(999, 9): "full_adder"}, 0, r"override at stage 999, column 9 \('full_adder'\) places "
                                  r"nothing: the tree has only 4 stages \(0 to 3\)"),
    ({(1, 9): "acci1"}, 0, r"override at stage 1, column 9 \('acci1'\) places nothing new: "
                           r"stage 1 of column 9 holds 1 acci1"),
    ({(0, 12): "kong2"}, 0, r"override at stage 0, column 12 \('kong2'\) places nothing new"),
    ({(0, 1): "acci1"}, 2, r"override at stage 0, column 1 \('acci1'\) places nothing: column "
                           r"1 is OR-ed, not reduced"),
    ({(0, 16): "acci1"}, 0, r"assignment names column 16, beyond the 16 columns of the tree"),
])
def test_override_that_places_nothing_is_refused(overrides, or_columns, message):
    with pytest.raises(ValueError, match=message):
        check_assignment(CompressorAssignment(MIXED, overrides), HEIGHTS_8,
                         or_columns=or_columns)


def test_override_that_places_something_is_kept():
    assignment = CompressorAssignment(MIXED, {(2, 9): "full_adder"})
    checked, plan = check_assignment(assignment, HEIGHTS_8)
    assert checked == assignment
    assert plan == plan_reduction(HEIGHTS_8, assignment=assignment)
    assert plan.cells != plan_reduction(HEIGHTS_8, assignment=CompressorAssignment(MIXED)).cells
    with pytest.raises(ValueError, match="the tree has no stages"):
        check_assignment(CompressorAssignment(overrides={(0, 0): "acci1"}), [1, 2, 1])


def test_columns_entries_that_place_nothing_are_dropped():
    # Columns 0 and 1 never hold four bits; a full adder is what a column uses anyway.
    padded = CompressorAssignment({0: "acci1", 1: "acci1", 3: "full_adder", 7: "acci1"})
    checked, plan = check_assignment(padded, HEIGHTS_8)
    assert checked == CompressorAssignment({7: "acci1"})
    assert plan == plan_reduction(HEIGHTS_8, assignment=padded)
    assert plan.cells == plan_reduction(HEIGHTS_8, assignment=checked).cells
    empty, _ = check_assignment(CompressorAssignment({0: "acci1", 5: "ha"}), HEIGHTS_8,
                                or_columns=6)
    assert empty.is_empty
