import json

import numpy as np
import pytest

from dcim.arith import MultiplierSpec
from dcim.flow.activity import MappedNetlist
from dcim.flow.synthesis import synthesize
from dcim.spice import Corner
from dcim.spice.cells import Cell
from dcim.spice.liberty_char import TableGrid
from dcim.spice.library import (
    LIBRARY_CELLS,
    build_pdk,
    compare_libraries,
    compressor_cell_name,
    compressor_cells,
    compressor_multiplier,
)
from dcim.spice.path_check import check_critical_path, sensitizing_ties

GRID = TableGrid(slews=(10e-12, 80e-12), loads=(1e-15, 8e-15))
# What synthesis of a small multiplier needs, and the PDK's tie, buffer and output-load cells.
SMALL = ("INV_X1", "BUF_X1", "NAND2_X1", "NOR2_X1", "AOI21_X1", "OAI21_X1", "XOR2_X1",
         "XNOR2_X1", "DFF_X1", "LOGIC0_X1", "LOGIC1_X1")
APPROX = MultiplierSpec(8, kind="approx", options={"compressor": "acci1"})


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return build_pdk(tmp_path_factory.mktemp("pdk"), grid=GRID,
                     cells={name: LIBRARY_CELLS[name] for name in SMALL},
                     extra_cells=compressor_cells(["acci1"]), name="small45")


def test_the_library_holds_the_cell_set_at_drive_strengths():
    for name in ("INV_X1", "INV_X4", "BUF_X2", "NAND2_X2", "NOR2_X2", "AOI21_X1", "OAI21_X1",
                 "XOR2_X1", "XNOR2_X1", "MUX2_X1", "FA_X1", "HA_X1", "DFF_X1", "LOGIC0_X1",
                 "LOGIC1_X1"):
        assert isinstance(LIBRARY_CELLS[name], Cell)
    # X2 doubles the output stage, which the area model folds into more columns.
    assert LIBRARY_CELLS["INV_X2"].area > LIBRARY_CELLS["INV_X1"].area
    assert LIBRARY_CELLS["INV_X1"].area == pytest.approx(0.532e-12)


@pytest.mark.slow
def test_build_writes_a_pdk_the_flow_reads(build):
    assert build.pdk.name == "small45" and build.liberty.is_file()
    library = build.pdk.library("typ")
    assert set(library.cells) == {*SMALL, "CMP_acci1_X1"}
    assert build.pdk.output_load_farads("typ") == pytest.approx(
        next(c for c in build.cells if c.name == "DFF_X1").pin_capacitance["D"], rel=1e-5)


@pytest.mark.slow
def test_compressor_cells_are_kept_in_synthesis_and_compute_right(build):
    design = compressor_multiplier(APPROX, ["acci1"])
    report = synthesize(design, pdk=build.pdk)
    cell = compressor_cell_name("acci1")
    # The tree places acci1 in every column it can; each is one instance of the cell.
    from dcim.arith.tree_multiplier import tree_plan

    assert report.cells[cell] == tree_plan(APPROX).totals()["acci1"] > 0
    assert f"{cell} " in report.netlist
    module = json.loads(report.netlist_json_path.read_text())["modules"][report.top]
    netlist = MappedNetlist(module, build.pdk.library("typ"))
    a, b = np.meshgrid(np.arange(256), np.arange(256))
    got = netlist.simulate({"a": a.ravel(), "b": b.ravel()})["p"]
    assert np.array_equal(got, APPROX.model(a.ravel(), b.ravel()))
    # The same multiplier mapped from gates alone has no compressor cell.
    plain = synthesize(APPROX, pdk=build.pdk)
    assert cell not in plain.cells


# A sizing off the X1 defaults (the inner stages at the X1 drivers' widths, as
# size_compressor's front has them): it must be this cell that synthesis places.
SIZED_WIDTHS = {"inner_nmos": 415e-9, "inner_pmos": 630e-9, "driver_nmos": 600e-9,
                "driver_pmos": 900e-9}


@pytest.mark.slow
def test_a_sized_compressor_cell_reaches_the_netlist_and_computes_right(tmp_path):
    from dcim.spice.compressor_cells import compressor_cell
    from dcim.spice.compressor_sizing import sized_cell

    cell = sized_cell("acci1", SIZED_WIDTHS)
    default = compressor_cell("acci1")
    assert cell.area > default.area and cell.subcircuit() != default.subcircuit()
    name = compressor_cell_name("acci1")
    sized = build_pdk(tmp_path, grid=GRID, cells={name: LIBRARY_CELLS[name] for name in SMALL},
                      extra_cells={name: cell}, name="sized45")
    library = sized.pdk.library("typ")
    assert library.cells[name].area == pytest.approx(cell.area * 1e12, rel=1e-3)
    report = synthesize(compressor_multiplier(APPROX, ["acci1"]), pdk=sized.pdk)
    assert report.cells[name] > 0 and f"{name} " in report.netlist
    module = json.loads(report.netlist_json_path.read_text())["modules"][report.top]
    a, b = np.meshgrid(np.arange(256), np.arange(256))
    got = MappedNetlist(module, library).simulate({"a": a.ravel(), "b": b.ravel()})["p"]
    assert np.array_equal(got, APPROX.model(a.ravel(), b.ravel()))


@pytest.mark.slow
def test_compare_libraries_gives_both_sides(build, pdk_root):
    comparison = compare_libraries(MultiplierSpec(4), build.pdk, pdk_root=pdk_root)
    assert comparison.ours.library == "small45"
    assert comparison.reference.library == "nangate45"
    for ratio in (comparison.area_ratio, comparison.delay_ratio, comparison.power_ratio):
        assert 0.2 < ratio < 5
    # Cell for cell: Nangate45 keeps only the cells whose names the small library has.
    same = compare_libraries(MultiplierSpec(4), build.pdk, pdk_root=pdk_root, same_cells=True)
    assert same.reference.library == "nangate45 (same cells)"
    assert set(same.reference.cells) <= set(SMALL)
    assert not set(comparison.reference.cells) <= set(SMALL)
    assert same.ours == comparison.ours
    with pytest.raises(ValueError, match="same_cells must be True or False, not 'yes'"):
        compare_libraries(MultiplierSpec(4), build.pdk, pdk_root=pdk_root, same_cells="yes")


def test_ties_sensitize_a_cell_the_way_asked(build):
    cells = {cell.name: cell for cell in build.cells}
    nand = cells["NAND2_X1"]
    assert sensitizing_ties(nand, "A1", "ZN", input_rising=True, output_rising=False) \
        == [{"A2": True}]
    assert sensitizing_ties(nand, "A1", "ZN", input_rising=True, output_rising=True) == []
    xor = cells["XOR2_X1"]
    assert sensitizing_ties(xor, "A", "Z", input_rising=True, output_rising=True) \
        == [{"B": False}]
    assert sensitizing_ties(xor, "A", "Z", input_rising=False, output_rising=True) \
        == [{"B": True}]
    assert sensitizing_ties(cells["INV_X1"], "A", "ZN", input_rising=False,
                            output_rising=True) == [{}]
    aoi = cells["AOI21_X1"]  # ZN = !(A | B1 & B2)
    assert sensitizing_ties(aoi, "B1", "ZN", input_rising=True, output_rising=False) \
        == [{"A": False, "B2": True}]
    with pytest.raises(ValueError, match="input_pin 'C' is not an input of NAND2_X1"):
        sensitizing_ties(nand, "C", "ZN", input_rising=True, output_rising=False)
    with pytest.raises(ValueError, match="output_pin 'Z' is not an output of NAND2_X1"):
        sensitizing_ties(nand, "A1", "Z", input_rising=True, output_rising=False)


@pytest.mark.slow
def test_static_timing_on_our_library_agrees_with_ngspice_on_the_critical_path(build):
    check = check_critical_path(MultiplierSpec(4), build)
    assert check.library == "small45" and check.stages
    assert check.startpoint.startswith(("a[", "b[")) and check.endpoint.startswith("p[")
    assert {stage.cell for stage in check.stages} <= set(SMALL)
    assert sum(stage.sta_delay for stage in check.stages) == pytest.approx(check.sta_delay,
                                                                          rel=1e-3)
    # Our tables against our transistors: they interpolate a 2 x 2 grid here, so a few per
    # cent either way; every cell on its own within a fifth.
    assert 0.9 < check.ratio < 1.15
    assert all(0.8 < stage.sta_delay / stage.spice_delay < 1.25 for stage in check.stages)
    with pytest.raises(ValueError, match="build must be a LibraryBuild"):
        check_critical_path(MultiplierSpec(4), build.pdk)


def test_a_path_this_cannot_simulate_is_refused(build):
    from dcim.flow.sta import PathPoint
    from dcim.spice.path_check import _stages

    cells = {cell.name: cell for cell in build.cells}
    start, end = PathPoint("a[0]", "in", True, 0.01, 0.0, 2.0), PathPoint("p[0]", "out",
                                                                            False, 0.01, 0.1)
    nand_in = PathPoint("u1/A1", "NAND2_X1", True, 0.01, 0.0)
    nand_out = PathPoint("u1/ZN", "NAND2_X1", False, 0.01, 0.02, 1.0)
    flop = PathPoint("r1/Q", "DFF_X1", True, 0.01, 0.05, 1.0)
    with pytest.raises(ValueError, match="must run from an input port to an output port"):
        _stages((flop, nand_in, nand_out, end), cells)
    with pytest.raises(ValueError, match="must come in input-output pairs"):
        _stages((start, nand_in, nand_out, nand_in, end), cells)
    with pytest.raises(ValueError, match="are not one cell's input and output"):
        _stages((start, nand_in, PathPoint("u2/ZN", "NAND2_X1", False, 0.01, 0.02, 1.0),
                 end), cells)
    with pytest.raises(ValueError, match="cell 'AND9_X1' of the path is not in the library"):
        _stages((start, PathPoint("u1/A", "AND9_X1", True, 0.01, 0.0),
                 PathPoint("u1/Z", "AND9_X1", True, 0.01, 0.02, 1.0), end), cells)
    assert len(_stages((start, nand_in, nand_out, end), cells)) == 1


def test_bad_requests_are_refused(tmp_path):
    with pytest.raises(ValueError, match="cells must hold DFF_X1"):
        build_pdk(tmp_path, cells={name: LIBRARY_CELLS[name] for name in SMALL
                                   if name != "DFF_X1"})
    with pytest.raises(ValueError, match=r"extra_cells must not reuse standard cell names, "
                                         r"not \['INV_X1'\]"):
        build_pdk(tmp_path, extra_cells={"INV_X1": LIBRARY_CELLS["INV_X1"]})
    with pytest.raises(ValueError, match="compressors must name compressors of "
                                         "mul8u_approx_acci1xw's tree"):
        compressor_multiplier(APPROX, ["exact42"])
    with pytest.raises(ValueError, match="spec must be a tree multiplier"):
        compressor_multiplier(MultiplierSpec(8, kind="mitchell"), ["acci1"])
    with pytest.raises(ValueError, match="corner must be a dcim.spice.Corner, not 'TT'"):
        build_pdk(tmp_path, "TT")
    with pytest.raises(ValueError, match="grid must be a TableGrid"):
        build_pdk(tmp_path, Corner("TT", 1.1, 25.0), grid=((1e-12,), (1e-15,)))
