import itertools

import numpy as np
import pytest

from dcim.spice.cells import (
    CELL_GENERATORS,
    NANGATE45_X1_AREAS,
    STANDARD_CELLS,
    Cell,
    StaticStage,
    area_model_fit,
    liberty_function,
    parallel,
    series,
    stack_height,
)


def _patterns(count):
    return np.array(list(itertools.product((False, True), repeat=count))).T


@pytest.mark.parametrize("kind", [k for k, c in STANDARD_CELLS.items() if not c.is_sequential])
def test_stages_implement_the_liberty_function(kind):
    cell = STANDARD_CELLS[kind]
    patterns = _patterns(len(cell.inputs))
    values = dict(zip(cell.inputs, patterns, strict=True))
    for (pin, function), output in zip(cell.functions, cell.evaluate(patterns), strict=True):
        np.testing.assert_array_equal(output, liberty_function(function, values), err_msg=pin)


def test_the_set_is_complete_and_has_nangate_pins():
    assert set(STANDARD_CELLS) == {"INV", "NAND2", "NOR2", "AOI21", "OAI21", "XOR2", "XNOR2",
                                   "MUX2", "FA", "HA", "DFF"}
    assert STANDARD_CELLS["AOI21"].pins == ("A", "B1", "B2", "ZN", "vdd", "gnd")
    assert STANDARD_CELLS["FA"].outputs == ("CO", "S")
    assert STANDARD_CELLS["DFF"].is_sequential and STANDARD_CELLS["DFF"].clock == "CK"
    counts = {kind: cell.transistor_count for kind, cell in STANDARD_CELLS.items()}
    assert counts == {"INV": 2, "NAND2": 4, "NOR2": 4, "AOI21": 6, "OAI21": 6, "XOR2": 10,
                      "XNOR2": 10, "MUX2": 12, "FA": 28, "HA": 16, "DFF": 26}


def test_pull_up_is_the_dual_or_the_mirror():
    nand = STANDARD_CELLS["NAND2"]
    pmos = [t for t in nand.transistors() if t[1] == "p"]
    assert {(t[2], t[4]) for t in pmos} == {("ZN", "vdd")}  # two PMOS in parallel
    nmos = [t for t in nand.transistors() if t[1] == "n"]
    assert nmos[0][2] == "ZN" and nmos[-1][4] == "gnd" and nmos[0][4] == nmos[1][2]
    # The mirror adder's carry pull-up is two deep, its dual would be three.
    carry = STANDARD_CELLS["FA"].stages[0]
    assert carry.pull_up == "mirror" and stack_height(carry.pull_down) == 2
    with pytest.raises(ValueError, match="mirror pull-up needs a self-dual function"):
        StaticStage("g", "y", series("a", "b"), pull_up="mirror")


def test_x1_defaults_and_resizing():
    inverter = STANDARD_CELLS["INV"]
    assert inverter.name == "INV_n415_p630"
    widths = {t[0]: t[5] for t in inverter.transistors()}
    assert widths == {"g_n0": 415e-9, "g_p0": 630e-9}
    assert {line.split()[7] for line in inverter.netlist("c_", {})} == {"l=5e-08"}
    bigger = CELL_GENERATORS["INV"](nmos_width=830e-9, pmos_width=1.26e-6)
    assert bigger.gate_columns == 2 and bigger.area == pytest.approx(2 * 0.266e-12 * 1.5)
    resized = STANDARD_CELLS["XOR2"].resized({"nor": (300e-9, 450e-9)})
    assert resized.stages[0].nmos_width == 300e-9 and resized.name != STANDARD_CELLS["XOR2"].name
    with pytest.raises(ValueError, match=r"has no stages \['bad'\]"):
        inverter.resized({"bad": (1e-7, 1e-7)})


@pytest.mark.parametrize("width", [50e-9, 1.0, float("nan"), "415n", True])
def test_bad_widths_are_named(width):
    with pytest.raises(ValueError, match=r"nmos_width must be a width in metres between 90 nm"):
        CELL_GENERATORS["NAND2"](nmos_width=width)


def test_bad_cells_are_rejected():
    with pytest.raises(ValueError, match=r"stage 'g' reads \['c'\], which no input"):
        Cell("X", ("a",), (("y", "!a"),), (StaticStage("g", "y", series("a", "c")),))
    with pytest.raises(ValueError, match=r"outputs \['z'\] are not driven"):
        Cell("X", ("a",), (("z", "!a"),), (StaticStage("g", "y", "a"),))
    with pytest.raises(ValueError, match="needs at least two parts"):
        parallel("a")


def test_area_model_against_nangate45():
    fit = area_model_fit()
    assert set(fit) == set(NANGATE45_X1_AREAS)
    errors = {kind: model / nangate - 1 for kind, (model, nangate) in fit.items()}
    # Single- and two-stage cells fit exactly; the multi-stage ones are smaller than
    # Nangate45's (which adds wiring tracks), the flip-flop most.
    assert all(abs(errors[kind]) < 1e-9 for kind in ("INV", "NAND2", "AOI21", "XOR2", "MUX2"))
    assert -0.11 < errors["FA"] < 0 and -0.11 < errors["HA"] < 0
    assert -0.25 < errors["DFF"] < 0


@pytest.mark.parametrize(("text", "expected"), [
    ("!(A & B)", [1, 1, 1, 0]), ("A B", [0, 0, 0, 1]), ("A' + B", [1, 1, 0, 1]),
    ("(A ^ B)", [0, 1, 1, 0]), ("A * !B | 0", [0, 0, 1, 0]), ("!A ^ B", [1, 0, 0, 1]),
    ("A | B & 1", [0, 1, 1, 1]), ("A ^ B & B", [0, 1, 0, 0]), ("!A B + A !B", [0, 1, 1, 0])])
def test_liberty_function(text, expected):
    a, b = _patterns(2)
    np.testing.assert_array_equal(liberty_function(text, {"A": a, "B": b}), np.array(expected,
                                                                                     bool))


@pytest.mark.parametrize(("text", "message"), [("(A & B", "unbalanced"), ("A & C", "names 'C'"),
                                               ("A $ B", "cannot read"), ("A B)", "unexpected")])
def test_liberty_function_errors(text, message):
    a, b = _patterns(2)
    with pytest.raises(ValueError, match=message):
        liberty_function(text, {"A": a, "B": b})
