import numpy as np
import pytest

from dcim.spice import Corner
from dcim.spice.cell_check import FunctionCheck, check_function, input_patterns
from dcim.spice.cells import STANDARD_CELLS, Cell, StaticStage, TransmissionGate, series

COMBINATIONAL = [kind for kind, cell in STANDARD_CELLS.items() if not cell.is_sequential]


def test_input_patterns_put_the_first_input_first():
    patterns = input_patterns(3)
    assert patterns.shape == (3, 8)
    np.testing.assert_array_equal(patterns[:, 1], [False, False, True])
    np.testing.assert_array_equal(patterns[:, 4], [True, False, False])


@pytest.mark.parametrize("kind", COMBINATIONAL)
def test_standard_cell_matches_its_function(kind):
    check = check_function(STANDARD_CELLS[kind])
    assert isinstance(check, FunctionCheck)
    assert check.passed, check.mismatches
    assert check.patterns == 2 ** len(STANDARD_CELLS[kind].inputs)
    assert check.worst_high > 0.99 and check.worst_low < 0.01


def test_combinational_cells_at_the_slow_corner():
    corner = Corner("SS", 0.9, 100.0)
    for kind in ("MUX2", "FA", "XNOR2"):
        check = check_function(STANDARD_CELLS[kind], corner)
        assert check.passed and check.corner == corner and check.worst_high > 0.89


def test_flip_flop_captures_on_the_rising_edge_and_holds():
    check = check_function(STANDARD_CELLS["DFF"])
    assert check.passed, check.mismatches
    assert check.patterns == 15


def test_a_wrong_function_is_caught():
    nand = STANDARD_CELLS["NAND2"]
    claimed_and = Cell("AND2", nand.inputs, (("ZN", "(A1 & A2)"),), nand.stages)
    check = check_function(claimed_and)
    assert not check.passed
    assert {(pattern, pin, expected) for pattern, pin, expected, _ in check.mismatches} == {
        (0, "ZN", False), (1, "ZN", False), (2, "ZN", False), (3, "ZN", True)}


def test_a_level_between_the_rails_is_caught():
    # Two always-on transmission gates fight whenever A and B differ.
    fight = Cell("FIGHT", ("A", "B"), (("Z", "A"),),
                 (TransmissionGate("ta", "A", "Z", "vdd", "gnd"),
                  TransmissionGate("tb", "B", "Z", "vdd", "gnd")))
    check = check_function(fight)
    assert [mismatch[:3] for mismatch in check.mismatches] == [(1, "Z", False), (2, "Z", True)]
    assert 0.2 < check.worst_high < 0.8 and 0.2 < check.worst_low < 0.8


def test_reference_and_argument_errors():
    nand = STANDARD_CELLS["NAND2"]
    assert check_function(nand, reference=lambda p: ~(p[0] & p[1])[None]).passed
    with pytest.raises(ValueError, match=r"reference must return shape \(1, 4\)"):
        check_function(nand, reference=lambda p: p)
    with pytest.raises(ValueError, match="corner must be a dcim.spice.Corner"):
        check_function(nand, "TT")
    with pytest.raises(ValueError, match="cell must be a dcim.spice.cells.Cell"):
        check_function(StaticStage("g", "y", series("a", "b")))
