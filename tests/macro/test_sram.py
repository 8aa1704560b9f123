"""The hard SRAM array: spec, analytical views, Liberty and LEF."""

import re
import shutil

import pytest
from amaranth.back import verilog

from dcim.eda.blocks import block_order, is_block
from dcim.flow.liberty import read_liberty
from dcim.macro import MacroSpec, array_signature
from dcim.macro.sram import (
    FREEPDK45,
    SramArraySpec,
    SramInstance,
    array_pins,
    check_lef,
    column_group,
    lef_text,
    liberty_text,
    openram_area,
    openram_organization,
    sram_views,
)

# OpenRAM 1.2.48, FreePDK45, TT 1.0 V 25 C (the project's reference notes): analytical areas
# of (word_size, num_words), and its SPICE clock-to-data-out delays (sim_data/sim_data.csv,
# smallest slew and load) of arrays without a column mux, as (rows, bits per row, ns).
OPENRAM_AREAS = {(8, 16): 2310.0, (8, 64): 3136.0, (32, 256): 16004.0}
OPENRAM_DELAYS = [(8, 16, 0.21), (16, 4, 0.25401), (256, 8, 0.44856), (16, 12, 0.28398),
                  (32, 32, 0.39809), (32, 18, 0.34287)]


@pytest.mark.parametrize(("word_size", "num_words"), sorted(OPENRAM_AREAS))
def test_model_reproduces_openram_areas(word_size, num_words):
    assert openram_area(num_words, word_size) == pytest.approx(
        OPENRAM_AREAS[word_size, num_words], rel=0.01)


def test_openram_organization_follows_its_rule():
    assert openram_organization(16, 8) == (8, 16, 2)
    assert openram_organization(64, 8) == (16, 32, 4)
    assert openram_organization(256, 32) == (64, 128, 4)


@pytest.mark.parametrize(("rows", "bits", "delay"), OPENRAM_DELAYS)
def test_read_delay_within_35_percent_of_openram(rows, bits, delay):
    views = sram_views(SramArraySpec(rows=rows, cols=bits, weight_bits=1))
    assert views.read_delay_ns == pytest.approx(delay, rel=0.35)


def test_bitcell_sizes_from_openram_cells():
    assert FREEPDK45.cell_6t_um2 == pytest.approx(0.948, abs=0.001)
    # The 8T cell lies between the 6T cell and the 10T cell_2rw (1.175 x 1.495 um).
    assert FREEPDK45.cell_6t_um2 < FREEPDK45.cell_8t_um2 < 1.175 * 1.495


def test_spec_is_a_block_with_a_stable_name():
    spec = SramArraySpec.for_macro(MacroSpec(rows=64, cols=8))
    assert spec == SramArraySpec(rows=64, cols=8, weight_bits=8, signed=True)
    assert spec.name == "sram64x8w8s_8t"
    assert SramArraySpec(product="nor").name == "sram64x8w8s_8t_nor"
    assert is_block(spec) and spec.blocks() == () and block_order(spec) == (spec,)
    assert hash(spec) == hash(SramArraySpec())


@pytest.mark.parametrize(("keyword", "value", "match"), [
    ("rows", 0, "rows must be an int from 1 to 1024, not 0"),
    ("cols", 2.0, "cols must be an int from 1 to 4096"),
    ("weight_bits", True, "weight_bits must be an int"),
    ("signed", 1, "signed must be True or False"),
    ("product", "xor", "product must be one of none, nor, and, not 'xor'"),
])
def test_bad_parameters(keyword, value, match):
    with pytest.raises(ValueError, match=match):
        SramArraySpec(**{keyword: value})


def test_bad_views_arguments():
    with pytest.raises(TypeError, match="spec must be an SramArraySpec"):
        sram_views(MacroSpec())
    with pytest.raises(TypeError, match="technology must be an SramTechnology"):
        sram_views(SramArraySpec(), technology="freepdk45")
    with pytest.raises(TypeError, match="views must be an SramViews"):
        liberty_text(SramArraySpec())
    with pytest.raises(TypeError, match="spec must be an SramArraySpec"):
        SramInstance(MacroSpec())


def test_views_add_up():
    spec = SramArraySpec(rows=64, cols=8, weight_bits=8)
    views = sram_views(spec)
    assert views.area_um2 == pytest.approx(views.array_area_um2 + views.row_periphery_um2
                                           + views.column_periphery_um2
                                           + views.control_area_um2)
    assert views.array_area_um2 == pytest.approx(FREEPDK45.cell_8t_um2 * 64 * 64)
    assert views.width_um * views.height_um == pytest.approx(views.area_um2)
    assert views.area_per_bit_um2 == pytest.approx(views.area_um2 / 4096)
    assert views.leakage_w > views.leakage_per_bit_w * 4096 > 0
    assert views.compute_energy_per_cycle_pj == pytest.approx(
        views.compute_energy_per_bit_pj * 4096)
    # A row write swings the bit lines fully, a read by 0.1 V.
    assert views.write_energy_pj > views.read_energy_pj > 0
    assert views.read_delay_ns > views.write_delay_ns > 0
    assert views.as_dict()["name"] == spec.name


def test_product_gate_costs_area_energy_and_leakage():
    plain = sram_views(SramArraySpec())
    nor = sram_views(SramArraySpec(product="nor"))
    gate = sram_views(SramArraySpec(product="and"))
    assert nor.bitcell_area_um2 == pytest.approx(plain.bitcell_area_um2 + 0.798)
    assert gate.bitcell_area_um2 > nor.bitcell_area_um2
    assert nor.compute_energy_per_bit_pj > plain.compute_energy_per_bit_pj
    assert nor.leakage_per_bit_w > plain.leakage_per_bit_w


def test_larger_arrays_cost_more():
    small = sram_views(SramArraySpec(rows=16))
    large = sram_views(SramArraySpec(rows=256))
    assert large.area_um2 > small.area_um2
    assert large.area_per_bit_um2 < small.area_per_bit_um2  # periphery amortised
    assert large.read_delay_ns > small.read_delay_ns
    assert large.write_energy_pj > small.write_energy_pj


def test_component_and_instance_have_the_array_signature():
    spec = SramArraySpec(rows=4, cols=2, weight_bits=3, signed=False)
    model = spec.component()
    assert model.signature == array_signature(spec)
    assert "module model" in verilog.convert(model, name="model", emit_src=False)
    instance = SramInstance(spec)
    assert instance.signature == array_signature(spec)
    text = verilog.convert(instance, name="wrapper", emit_src=False)
    assert re.search(rf"^\s*{spec.name} \\instance\s", text, re.M)
    for name, _, _ in array_pins(spec):
        assert f".{name}(" in text


def test_liberty_reads_back():
    spec = SramArraySpec(rows=4, cols=2, weight_bits=4)
    views = sram_views(spec)
    path = _write(liberty_text(views), spec.name + ".lib")
    library = read_liberty(path)
    cell = library.cell(spec.name)
    assert cell.area == pytest.approx(views.area_um2, rel=1e-4)
    assert cell.cell_leakage * library.leakage_unit == pytest.approx(views.leakage_w,
                                                                     rel=1e-4)
    expected = {name if width == 1 else f"{name}[{index}]"
                for name, _, width in array_pins(spec) for index in range(width)}
    assert set(cell.pins) == expected
    assert cell.pins["weights__3[7]"].direction == "output"
    assert cell.pins["addr[1]"].capacitance == pytest.approx(views.input_capacitance_f
                                                             / library.capacitance_unit)
    clock_energy = cell.pins["clk"].internal_power[0].rise.lookup()
    assert clock_energy * library.energy_unit == pytest.approx(
        views.compute_energy_per_cycle_pj * 1e-12, rel=1e-4)


@pytest.mark.skipif(shutil.which("yosys") is None, reason="needs Yosys")
def test_yosys_reads_the_liberty(tmp_path):
    from dcim.eda import tools

    spec = SramArraySpec(rows=4, cols=2, weight_bits=4)
    (tmp_path / "array.lib").write_text(liberty_text(sram_views(spec)))
    (tmp_path / "top.v").write_text(
        f"module top(input clk, input [1:0] addr, input [7:0] data, input [1:0] en, "
        f"output [7:0] w);\n  {spec.name} u(.clk(clk), .addr(addr), .data(data), .en(en), "
        f".weights__0(w));\nendmodule\n")
    output = tools.run_tool(["yosys", "-p", "read_liberty -lib array.lib; read_verilog top.v;"
                             " hierarchy -check -top top; stat"], cwd=tmp_path,
                            log_path=tmp_path / "yosys.log")
    assert re.search(rf"{spec.name}\s+1", output)


@pytest.mark.skipif(shutil.which("sta") is None, reason="needs OpenSTA")
def test_opensta_times_the_arcs(tmp_path):
    from dcim.flow.sta import run_sta

    spec = SramArraySpec(rows=4, cols=2, weight_bits=4)
    views = sram_views(spec)
    (tmp_path / "array.lib").write_text(liberty_text(views))
    (tmp_path / "top.v").write_text(
        f"module top(clk, addr, data, en, w);\n  input clk;\n  input [1:0] addr;\n"
        f"  input [7:0] data;\n  input [1:0] en;\n  output [7:0] w;\n"
        f"  {spec.name} u(.clk(clk), .addr(addr), .data(data), .en(en), .weights__0(w));\n"
        f"endmodule\n")
    output = run_sta("read_liberty array.lib\nread_verilog top.v\nlink_design top\n"
                     "create_clock -name c -period 1 [get_ports clk]\n"
                     "set_input_delay 0 -clock c [get_ports {addr data en}]\n"
                     "set_output_delay 0 -clock c [all_outputs]\n"
                     "report_checks -path_delay max -format full -digits 4\n"
                     "report_checks -path_delay min -to [get_pins u/addr[0]] -digits 4\n",
                     workdir=tmp_path, log_name="arcs")
    assert "Warning" not in output
    assert f"{views.write_delay_ns:.4f}" in output
    assert "library hold time" in output


def test_lef_is_consistent():
    spec = SramArraySpec(rows=64, cols=8, weight_bits=8)
    views = sram_views(spec)
    text = lef_text(views)
    assert check_lef(text, views) == 1 + 6 + 64 + 8 + 64 * 64
    assert f"SIZE {views.width_um:.3f}" in text or "SIZE " in text
    broken = text.replace("  PIN clk\n", "  PIN clock\n")
    with pytest.raises(ValueError, match="LEF pins differ"):
        check_lef(broken, views)
    with pytest.raises(ValueError, match="does not match the area"):
        check_lef(re.sub(r"SIZE ([0-9.]+)", "SIZE 1.000", text), views)


def test_lef_refuses_a_pin_limited_array():
    views = sram_views(SramArraySpec(rows=256, cols=64, weight_bits=8))
    with pytest.raises(ValueError, match="too many for pins on the boundary"):
        lef_text(views)


def _write(text, name):
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="dcim-sram-test-"))
    path = folder / name
    path.write_text(text)
    return path


def test_column_group_is_the_widest_array_whose_pins_fit():
    # 64 x 8 weights fit one array; 256 x 8 do not (2 x 4 columns do), and 256 x 64 need
    # groups of 4 columns, each of which has a LEF with every pin on its outline.
    assert column_group(MacroSpec(rows=64, cols=8)) == 8
    assert column_group(MacroSpec(rows=256, cols=8)) == 4
    wide = MacroSpec(rows=256, cols=64)
    columns = column_group(wide)
    assert columns == 4
    lef_text(sram_views(SramArraySpec.for_columns(wide, columns)))
    with pytest.raises(ValueError, match="too many for pins on the boundary"):
        lef_text(sram_views(SramArraySpec.for_columns(wide, 2 * columns)))
