import numpy as np
import pytest

from dcim.flow.liberty import (
    LibertyError,
    Table,
    compile_function,
    parse_function,
    read_liberty,
    unateness,
)

ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def truth(text, names):
    """The function's truth table over ``names`` (row r: bit i of r is names[i])."""
    pins, evaluate = compile_function(text)
    rows = 1 << len(names)
    patterns = {name: np.uint64(sum(1 << r for r in range(rows) if r >> i & 1))
                for i, name in enumerate(names)}
    value = int(evaluate(*(patterns[pin] for pin in pins))) if pins else int(evaluate())
    return [value >> r & 1 for r in range(rows)]


@pytest.mark.parametrize("text, names, expected", [
    ("!((A1 & A2) | B)", ["A1", "A2", "B"], [1, 1, 1, 0, 0, 0, 0, 0]),
    ("(A ^ B)", ["A", "B"], [0, 1, 1, 0]),
    ("A B' + C", ["A", "B", "C"], [0, 1, 0, 0, 1, 1, 1, 1]),
    ("(A&!B) | (!A&B)", ["A", "B"], [0, 1, 1, 0]),
    ("A * B + !A * C", ["A", "B", "C"], [0, 0, 0, 1, 1, 0, 1, 1]),
    ("A ^ B & C", ["A", "B", "C"], [0, 0, 0, 0, 0, 1, 1, 0]),  # XOR binds before AND
])
def test_functions_follow_liberty_precedence(text, names, expected):
    assert truth(text, names) == expected


def test_constant_functions_and_errors():
    pins, evaluate = compile_function("1")
    assert pins == () and evaluate() == ONES
    assert parse_function("0") == ("const", 0)
    with pytest.raises(LibertyError, match="missing"):
        parse_function("(A & B")
    with pytest.raises(LibertyError, match="empty"):
        parse_function("  ")


def test_unateness():
    assert unateness("!((A1 & A2) | B)", "B") == "negative"
    assert unateness("((A1 & A2) | B)", "A1") == "positive"
    assert unateness("(A ^ B)", "A") == "non"
    assert unateness("A", "B") == "none"


def test_table_interpolates_and_extrapolates_bilinearly():
    table = Table(("input_transition_time", "total_output_net_capacitance"),
                  (np.array([0.0, 1.0]), np.array([0.0, 2.0])),
                  np.array([[0.0, 2.0], [1.0, 3.0]]))
    assert table.lookup(slew=0.5, load=1.0) == pytest.approx(1.5)
    assert table.lookup(slew=2.0, load=4.0) == pytest.approx(6.0)  # beyond both axes
    np.testing.assert_allclose(table.lookup(slew=np.array([0.0, 1.0]), load=0.0), [0.0, 1.0])


def test_libraries_read_with_their_units(pdk_root):
    nangate = read_liberty(pdk_root / "nangate45" / "nangate45_typ.lib.gz")
    assert nangate.capacitance_unit == pytest.approx(1e-15)
    assert nangate.voltage == pytest.approx(1.1)
    assert nangate.energy_unit == pytest.approx(1e-15)  # fF x V^2: femtojoules
    xor = nangate.cell("XOR2_X1")
    assert xor.area == pytest.approx(1.596)
    assert xor.pins["Z"].function == "(A ^ B)"
    assert {(power.related_pin, power.when) for power in xor.pins["Z"].internal_power} == {
        ("A", "!B"), ("A", "B"), ("B", "!A"), ("B", "A")}
    assert len(xor.leakage) == 4
    assert nangate.cell("DFF_X1").sequential["next_state"] == "D"
    with pytest.raises(LibertyError, match="not in library"):
        nangate.cell("NO_SUCH_CELL")
    sky = read_liberty(pdk_root / "sky130hd" / "sky130hd_tt.lib.gz")
    assert sky.capacitance_unit == pytest.approx(1e-12)
    assert sky.voltage == pytest.approx(1.8)


def test_missing_liberty_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.lib"):
        read_liberty(tmp_path / "nothing.lib")
