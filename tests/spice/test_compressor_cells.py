import numpy as np
import pytest

from dcim.arith.compressor import COMPRESSORS, Compressor
from dcim.spice.cell_check import check_function, input_patterns
from dcim.spice.cells import liberty_function
from dcim.spice.compressor_cells import (
    MAX_STACK,
    characterize_compressor,
    compressor_cell,
    stack_heights,
)

# 2C + S for abcd = 0000 ... 1111, from /work/shared/reference/approximate-arithmetic.md.
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


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_mapped_stages_compute_the_compressor(name):
    compressor = COMPRESSORS[name]
    cell = compressor_cell(compressor)
    patterns = input_patterns(compressor.n_inputs)
    np.testing.assert_array_equal(cell.evaluate(patterns), compressor.evaluate(patterns))
    values = dict(zip(cell.inputs, patterns, strict=True))
    for (pin, function), row in zip(cell.functions, compressor.evaluate(patterns), strict=True):
        np.testing.assert_array_equal(liberty_function(function, values), row, err_msg=pin)
    assert max(stack_heights(cell)) <= MAX_STACK
    assert cell.kind == f"CMP_{name}" and cell.outputs == tuple(n for n, _ in compressor.outputs)


def test_mapping_follows_the_definition_not_a_table():
    # A compressor of the user's own gets its cell the same way.
    mine = Compressor.from_function("mine", ("a", "b", "c", "d"), (("s", 0), ("carry", 1)),
                                    lambda a, b, c, d: (~(a & b) ^ (c | d), a & ~d))
    cell = compressor_cell(mine)
    patterns = input_patterns(4)
    np.testing.assert_array_equal(cell.evaluate(patterns), mine.evaluate(patterns))
    # The half adder maps onto XOR2's composition and a NAND2 with an inverter.
    kinds = [stage.name.rstrip("0123456789") for stage in compressor_cell("half_adder").stages]
    assert kinds == ["nor", "aoi", "g", "inv"]


def test_constant_and_wire_outputs():
    sabetz = compressor_cell("sabetz")
    assert [type(stage).__name__ for stage in sabetz.stages][0] == "TieHigh"
    assert dict(sabetz.functions)["s"] == "1"
    akbar1 = compressor_cell("akbar1")
    assert dict(akbar1.functions)["carry"] == "d"
    assert akbar1.stages[-1].output == "carry" and akbar1.stages[-1].pull_down != "d"


def test_widths_and_errors():
    cell = compressor_cell("momeni")
    drivers = [stage for stage in cell.stages if stage.output in cell.outputs]
    assert {(stage.nmos_width, stage.pmos_width) for stage in drivers} == {(415e-9, 630e-9)}
    first = cell.stages[0].name
    resized = compressor_cell("momeni", widths={first: (300e-9, 500e-9)})
    assert resized.stages[0].nmos_width == 300e-9 and resized.area >= cell.area
    with pytest.raises(ValueError, match="compressor must be a Compressor or one of"):
        compressor_cell("nonesuch")


@pytest.mark.parametrize("name", sorted(REFERENCE_TABLES))
def test_simulated_cell_matches_the_truth_table(name):
    compressor = COMPRESSORS[name]
    check = check_function(compressor_cell(name), reference=compressor.evaluate)
    assert check.passed, check.mismatches
    table = [int(v) for v in REFERENCE_TABLES[name].split()]
    assert list(compressor.truth_table()) == table


@pytest.mark.slow
def test_exact_compressor_simulates_all_32_patterns():
    compressor = COMPRESSORS["exact42"]
    check = check_function(compressor_cell(compressor), reference=compressor.evaluate)
    assert check.passed and check.patterns == 32


@pytest.mark.slow
def test_characterize_reports_area_delay_energy():
    report = characterize_compressor("akbar1")
    assert report.matches_truth_table
    assert report.table == tuple(COMPRESSORS["akbar1"].truth_table())
    assert report.transistors == compressor_cell("akbar1").transistor_count
    assert 10e-12 < report.worst_delay < 200e-12
    assert 1e-15 < report.energy < 50e-15
    assert 1e-9 < report.timing.leakage_power < 1e-6
    assert report.timing.transitions == 4 * 2 ** 4
