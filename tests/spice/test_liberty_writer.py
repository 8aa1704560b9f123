import subprocess

import pytest

from dcim.flow.liberty import read_liberty
from dcim.spice import Corner
from dcim.spice.liberty_char import TableGrid, characterize_cell
from dcim.spice.liberty_writer import liberty_text, write_liberty
from dcim.spice.library import LIBRARY_CELLS

# Every test reads the characterized cells (about a minute when not cached).
pytestmark = pytest.mark.slow

GRID = TableGrid(slews=(10e-12, 80e-12), loads=(1e-15, 8e-15))
TYPICAL = Corner("TT", 1.1, 25.0)
# ABC crashed mapping to INV, NAND2 and FA alone; with a buffer and both constants it maps.
NAMES = ("INV_X1", "NAND2_X1", "FA_X1", "DFF_X1", "LOGIC1_X1", "BUF_X1", "LOGIC0_X1")

NETLIST = """\
module tiny (a, b, c, clk, s, q);
  input a, b, c, clk;
  output s, q;
  wire n1, co, one;
  NAND2_X1 u1 (.A1(a), .A2(b), .ZN(n1));
  FA_X1 u2 (.A(n1), .B(c), .CI(one), .S(s), .CO(co));
  LOGIC1_X1 u3 (.Z(one));
  DFF_X1 u4 (.D(co), .CK(clk), .Q(q));
endmodule
"""


@pytest.fixture(scope="module")
def cells():
    return [characterize_cell(LIBRARY_CELLS[name], TYPICAL, grid=GRID, name=name)
            for name in NAMES]


@pytest.fixture(scope="module")
def liberty(cells, tmp_path_factory):
    return write_liberty(tmp_path_factory.mktemp("lib") / "ours.lib", "ours", cells, TYPICAL)


def test_flow_reader_reads_it_back(liberty, cells):
    library = read_liberty(liberty)
    assert set(library.cells) == set(NAMES)
    assert library.cell("NAND2_X1").area == pytest.approx(cells[1].area * 1e12)
    assert library.cell("NAND2_X1").pins["ZN"].function.replace(" ", "") == "!(A1&A2)"
    assert library.cell("NAND2_X1").pins["A1"].capacitance == pytest.approx(
        cells[1].pin_capacitance["A1"] * 1e15, rel=1e-5)
    assert library.cell("DFF_X1").is_sequential
    assert not library.cell("FA_X1").is_sequential
    assert library.capacitance_unit == pytest.approx(1e-15)


def test_yosys_reads_it_and_maps_flip_flops_to_it(liberty):
    folder = liberty.parent
    (folder / "register.v").write_text(
        "module register (input clk, input d, output reg q);\n"
        "  always @(posedge clk) q <= ~d;\nendmodule\n")
    script = (f"read_liberty -lib {liberty.name}; read_verilog register.v; synth -top register; "
              f"dfflibmap -liberty {liberty.name}; abc -liberty {liberty.name}; "
              f"select -assert-count 1 t:DFF_X1; select -assert-count 0 t:$_DFF_P_")
    result = subprocess.run(["yosys", "-q", "-p", script], cwd=folder, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_opensta_times_a_netlist_with_it(liberty, cells):
    folder = liberty.parent
    (folder / "tiny.v").write_text(NETLIST)
    (folder / "tiny.tcl").write_text(
        f"read_liberty {liberty.name}\nread_verilog tiny.v\nlink_design tiny\n"
        "create_clock -name clk -period 1 [get_ports clk]\n"
        "set_input_delay 0 -clock clk [get_ports {a b c}]\n"
        "set_output_delay 0 -clock clk [all_outputs]\nset_load 2 [all_outputs]\n"
        "report_checks -to s -digits 4\nreport_checks -to u4/D -digits 4\nexit\n")
    result = subprocess.run(["sta", "-no_splash", "-exit", "tiny.tcl"], cwd=folder,
                            capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Error" not in output, output
    assert "u2/S (FA_X1)" in output and "library setup time" in output
    # OpenSTA reads the setup table: its setup time lies within the table's values.
    setup = -float(next(line.split()[0] for line in output.splitlines()
                        if line.strip().endswith("library setup time")))
    flop = next(cell for cell in cells if cell.constraints)
    table = [value * 1e9 for constraint in flop.constraints
             if constraint.timing_type == "setup_rising"
             for rows in (constraint.rise, constraint.fall) for row in rows for value in row]
    assert min(table) - 1e-4 <= setup <= max(table) + 1e-4, (setup, table)
    arrival = float(next(line.split()[0] for line in output.splitlines()
                         if line.strip().endswith("data arrival time")))
    # Two gates between a port and the output: tens of picoseconds at 1.1 V.
    nand = cells[1].arc("A1", "ZN").cell_fall[0][0] * 1e9
    assert nand < arrival < 0.3


def test_text_states_units_thresholds_and_tables(cells):
    text = liberty_text("ours", cells, TYPICAL)
    for line in ('time_unit : "1ns";', "capacitive_load_unit (1, ff);",
                 "slew_lower_threshold_pct_rise : 30;", "nom_voltage : 1.1;",
                 "lu_table_template (delay_2x2)", "ff (IQ, IQN) {",
                 "timing_type : setup_rising;", "timing_sense : negative_unate;",
                 "variable_1 : related_pin_transition;", "rise_constraint (constraint_2x2_",
                 'when : "!A1 & A2";'):
        assert line in text
    # The full adder's sum follows A when B and CI agree and inverts it when they differ:
    # two conditional unate arcs, timing and internal power alike.
    adder = text[text.index("cell (FA_X1)"):text.index("cell (DFF_X1)")]
    for condition in ("(!B & !CI) | (B & CI)", "(!B & CI) | (B & !CI)"):
        assert adder.count(f'when : "{condition}";') == 2


def test_bad_libraries_are_refused(cells):
    with pytest.raises(ValueError, match="library_name must be letters"):
        liberty_text("our lib", cells, TYPICAL)
    with pytest.raises(ValueError, match="must hold at least one cell"):
        liberty_text("ours", [], TYPICAL)
    with pytest.raises(ValueError, match="was characterized at tt_1v10_25c, not at the "
                                         "library's corner tt_1v00_25c"):
        liberty_text("ours", cells, Corner())
    with pytest.raises(ValueError, match=r"unique names, not \['INV_X1'\]"):
        liberty_text("ours", [cells[0], cells[0]], TYPICAL)
    with pytest.raises(ValueError, match="must hold CharacterizedCell objects"):
        liberty_text("ours", ["INV_X1"], TYPICAL)
    with pytest.raises(ValueError, match="default_wire_load must name one of"):
        liberty_text("ours", cells, TYPICAL, default_wire_load="5K")
