import numpy as np
import pytest
from amaranth.sim import Simulator

from dcim.arith import COMPRESSORS, Compressor, register_compressor
from dcim.arith.compressor import APPROXIMATE_42

# Value 2C+S for abcd = 0000 .. 1111, from ../shared/reference/approximate-arithmetic.md.
REFERENCE_TABLES = {
    "acci1": "0 1 1 2 1 2 2 3 1 2 2 3 2 3 3 3",
    "kong2": "0 1 1 3 1 2 2 3 1 2 2 3 2 3 3 3",
    "antonio": "0 1 1 2 1 2 2 3 1 2 2 3 2 3 2 3",
    "momeni": "1 1 1 1 1 2 2 3 1 2 2 3 1 3 3 3",
    "ha": "0 1 1 1 1 2 2 2 1 2 2 2 2 3 3 3",
    "akbar1": "0 3 1 2 1 3 1 3 1 3 1 3 0 3 1 2",
    "akbar2": "0 1 1 2 1 1 1 3 1 1 1 3 2 3 3 2",
    "sabetz": "1 1 1 3 1 1 1 3 1 3 3 3 1 3 3 3",
}


@pytest.mark.parametrize("name", sorted(REFERENCE_TABLES))
def test_truth_table_equals_reference(name):
    expected = np.array(REFERENCE_TABLES[name].split(), dtype=np.int64)
    assert np.array_equal(COMPRESSORS[name].truth_table(), expected)


def test_all_eight_approximate_compressors_are_registered():
    assert set(APPROXIMATE_42) == set(REFERENCE_TABLES)
    for name in APPROXIMATE_42:
        assert not COMPRESSORS[name].is_exact


@pytest.mark.parametrize("name", ["half_adder", "full_adder", "exact42"])
def test_exact_counters_count_ones(name):
    compressor = COMPRESSORS[name]
    assert compressor.is_exact
    assert compressor.error_stats() == (0.0, 0.0)


def test_exact42_cout_is_independent_of_cin():
    compressor = COMPRESSORS["exact42"]
    patterns = np.arange(32)
    bits = np.array([(patterns >> (4 - i)) & 1 for i in range(5)], dtype=bool)
    s, c, cout = compressor.evaluate(bits)
    assert np.array_equal(s + 2 * (c.astype(int) + cout), bits.sum(axis=0))
    assert np.array_equal(cout[0::2], cout[1::2])  # cin is the last, least significant input


def test_error_stats_weight_inputs_by_p_one():
    # acci1 errs only on 1111, probability (1/4)^4, by one.
    error_rate, mean_error = COMPRESSORS["acci1"].error_stats(0.25)
    assert error_rate == pytest.approx(0.25 ** 4)
    assert mean_error == pytest.approx(0.25 ** 4)
    assert COMPRESSORS["acci1"].error_stats(0.0) == (0.0, 0.0)
    with pytest.raises(ValueError, match=r"p_one must be a probability in \[0, 1\], not 1.5"):
        COMPRESSORS["acci1"].error_stats(1.5)


def _simulate(compressor, patterns):
    dut = compressor.component()
    results = []

    async def testbench(ctx):
        for pattern in patterns:
            for i, name in enumerate(compressor.inputs):
                ctx.set(getattr(dut, name), (pattern >> (compressor.n_inputs - 1 - i)) & 1)
            results.append(sum(ctx.get(getattr(dut, name)) << weight
                               for name, weight in compressor.outputs))

    sim = Simulator(dut)
    sim.add_testbench(testbench)
    sim.run()
    return np.array(results)


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_component_matches_truth_table(name):
    compressor = COMPRESSORS[name]
    patterns = range(2 ** compressor.n_inputs)
    assert np.array_equal(_simulate(compressor, patterns), compressor.truth_table())


def test_user_compressor_from_truth_table_works_in_hardware_and_model():
    table = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 2]  # exact but 1111 -> 2
    compressor = Compressor.from_truth_table("user_test_42", table)
    assert compressor.truth_table().tolist() == table
    assert np.array_equal(_simulate(compressor, range(16)), table)


def test_user_compressor_is_usable_in_a_multiplier_by_name():
    from dcim.arith import MultiplierSpec

    table = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 3]
    register_compressor(Compressor.from_truth_table("user_like_acci1", table), replace=True)
    try:
        ours = MultiplierSpec(8, kind="approx", options={"compressor": "user_like_acci1"})
        theirs = MultiplierSpec(8, kind="approx", options={"compressor": "acci1"})
        a, b = np.meshgrid(np.arange(256), np.arange(256))
        assert np.array_equal(ours.model(a, b), theirs.model(a, b))
    finally:
        # Later tests see dcim's own registries (results keyed across processes need them).
        COMPRESSORS.pop("user_like_acci1", None)


def test_truth_table_errors_name_the_problem():
    with pytest.raises(ValueError, match="must have 16 entries for 4 inputs, not 3"):
        Compressor.from_truth_table("bad_len", [0, 1, 2])
    with pytest.raises(ValueError, match="value 9 for pattern 1 cannot be produced"):
        Compressor.from_truth_table("bad_value", [0, 9] + [0] * 14)
    with pytest.raises(ValueError, match="compressor name must be a lower-case identifier, "
                                         "not 'Bad Name'"):
        Compressor.from_truth_table("Bad Name", [0] * 16)
    with pytest.raises(ValueError, match="already registered"):
        register_compressor(Compressor.from_truth_table("acci1", [0] * 16))


def test_function_with_wrong_output_count_is_rejected():
    with pytest.raises(ValueError, match="must return a tuple of 2 bits"):
        Compressor.from_function("bad_outputs", ("a", "b"), (("s", 0), ("c", 1)),
                                 lambda a, b: (a,))


def test_output_weights_are_plain_ints():
    from dcim.arith.compressor import _half_adder

    compressor = Compressor.from_function("np_ha", ("a", "b"),
                                          (("s", np.int64(0)), ("c", np.uint8(1))), _half_adder)
    assert compressor.outputs == (("s", 0), ("c", 1))
    assert [type(weight) for _, weight in compressor.outputs] == [int, int]
    for weight in (True, 1.0, 4, -1):
        with pytest.raises(ValueError, match=f"weight of compressor output 'c' must be 0..3, "
                                             f"not {weight!r}"):
            Compressor.from_function("bad", ("a", "b"), (("s", 0), ("c", weight)), _half_adder)
