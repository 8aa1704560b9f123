"""The flow with the weight array as the hard SRAM macro (``macro_design(storage="sram")``)."""

import re
from pathlib import Path

import pytest

from dcim.flow import analyze_power, check_orfs_export, export_orfs, ppa, synthesize
from dcim.flow.design import macro_design, resolve_design
from dcim.flow.orfs import config_files
from dcim.macro import MacroSpec
from dcim.macro.sram import SramArraySpec, SramTechnology, check_lef, sram_views

SPEC = MacroSpec(rows=2, cols=2, weight_bits=2, act_bits=2)
ARRAY = SramArraySpec.for_macro(SPEC)


@pytest.fixture(scope="module")
def sram_macro(pdk_root):
    return synthesize(macro_design(SPEC, storage="sram"), pdk_root=pdk_root)


def test_design_names_and_blocks():
    design = macro_design(SPEC, storage="sram")
    assert design.name == f"{SPEC.name}_sram" and design.top == SPEC.name
    array = design.blocks[-1]
    assert array.name == ARRAY.name and array.macro == sram_views(ARRAY)
    # The hard array is the default; flip-flops are asked for (or a synthesis in one run).
    assert macro_design(SPEC) == design or macro_design(SPEC).name == design.name
    assert resolve_design(SPEC).name == design.name
    flip_flops = macro_design(SPEC, storage="ff")
    assert flip_flops.name == resolve_design(SPEC, storage="ff").name == SPEC.name
    assert all(block.macro is None for block in flip_flops.blocks)
    with pytest.raises(ValueError, match="storage must be one of ff, sram, not 'dram'"):
        resolve_design(SPEC, storage="dram")


def test_an_array_too_large_for_its_pins_is_groups_of_columns():
    # 128 x 8 weights of 8 bits are more compute ports than one array's outline has pins
    # for: the array is two arrays of 4 columns, each an instance of one hard macro.
    spec = MacroSpec(rows=128, cols=8, act_bits=2)
    design = macro_design(spec, storage="sram")
    group = SramArraySpec.for_columns(spec, 4)
    assert design.blocks[-1].name == group.name
    assert design.blocks[-1].macro == sram_views(group)
    assert all(block.name != f"{spec.name}_col" for block in design.blocks)
    text = design.block_verilog()
    assert len(re.findall(rf"^\s*{group.name} ", text, re.M)) == 2


@pytest.mark.parametrize(("arguments", "error", "match"), [
    ((SPEC,), ValueError, "storage must be one of ff, sram, not 'dram'"),
    (("not a spec",), TypeError, "spec must be a MacroSpec"),
])
def test_bad_macro_design(arguments, error, match):
    with pytest.raises(error, match=match):
        macro_design(*arguments, storage="dram")


def test_array_is_the_hard_macro(sram_macro, tiny_macro):
    views = sram_views(ARRAY)
    assert sram_macro.cells[ARRAY.name] == 1
    assert sram_macro.groups["storage"] == pytest.approx(views.area_um2)
    facts = sram_macro.macros[ARRAY.name]
    assert facts["area_um2"] == pytest.approx(views.area_um2) and facts["instances"] == 1
    check_lef(Path(facts["lef"]).read_text(), views)
    # The rest of the macro is the same logic as with flip-flop storage.
    _, flip_flops = tiny_macro
    assert sram_macro.groups["arithmetic"] == pytest.approx(flip_flops.groups["arithmetic"])
    assert sram_macro.sequential_cells < flip_flops.sequential_cells
    assert sram_macro.area_um2 == pytest.approx(sum(sram_macro.groups.values()))


def test_a_hard_macro_needs_block_by_block_synthesis(pdk_root):
    with pytest.raises(ValueError, match="hierarchical must be True or None, not False"):
        synthesize(macro_design(SPEC, storage="sram"), pdk_root=pdk_root, hierarchical=False)


def test_ppa_reports_storage_per_bit(pdk_root):
    report = ppa(macro_design(SPEC, storage="sram"), pdk_root=pdk_root)
    views = sram_views(ARRAY)
    assert report.storage_bits == 8
    assert report.storage_area_per_bit_um2 == pytest.approx(views.area_um2 / 8)
    assert sum(report.area_split.values()) == pytest.approx(1.0)
    assert report.as_dict()["hard_macros"] == [ARRAY.name]
    # Timing runs through the macro's Liberty.
    assert report.delay_ns > 0
    # Power from data: the array priced from its views, its simulation model not at all.
    assert report.power.method == "data"
    array = report.power.checks["macros"][ARRAY.name]
    period = report.power.clock_ns * 1e-9
    assert array["leakage_w"] == pytest.approx(views.leakage_w)
    assert array["compute_w"] == pytest.approx(views.compute_energy_per_cycle_pj * 1e-12
                                               / period)
    assert array["writes_per_cycle"] == 0.0  # the weights are written before the window
    assert report.power.leakage_w > views.leakage_w
    assert report.power.internal_w > array["compute_w"]


def test_power_counts_the_writes_in_the_stimulus(sram_macro, pdk_root):
    from dcim.flow import Stimulus, macro_stimulus

    stimulus = macro_stimulus(SPEC, beats=4, lanes=4)
    # Measure from reset on (the first measured cycle is the reference that later cycles
    # are compared with, so it is not counted): the rows written are counted.
    loading = Stimulus(ports=stimulus.ports, measure=(0, stimulus.measure[1]))
    power = analyze_power(sram_macro, operands=loading, pdk_root=pdk_root,
                          cache_results=False)
    array = power.checks["macros"][ARRAY.name]
    cycles = loading.measure[1] - loading.measure[0] - 1
    # Both rows written with both columns enabled: 4 column writes per lane.
    assert array["writes_per_cycle"] == pytest.approx(4 / cycles)
    views = sram_views(ARRAY)
    assert array["write_w"] == pytest.approx(
        4 / cycles * views.write_energy_pj * 1e-12 / 2 / (power.clock_ns * 1e-9))
    # Per block, the array's simulation model is simulated in its place but not priced;
    # the flat netlist (per_block=False) counts the same writes at the macro's pins.
    assert ARRAY.name not in power.checks["blocks"]
    flat = analyze_power(sram_macro, operands=loading, pdk_root=pdk_root, per_block=False,
                         cache_results=False)
    assert flat.checks["macros"][ARRAY.name] == pytest.approx(array)


def test_orfs_export_with_the_array_macro(sram_macro, pdk_root, tmp_path):
    export = export_orfs(macro_design(SPEC, storage="sram"), tmp_path / "sram",
                         pdk_root=pdk_root)
    config = export.config.read_text()
    assert f"export ADDITIONAL_LEFS = $(DCIM_DESIGN_DIR)/macros/{ARRAY.name}.lef" in config
    assert f"export ADDITIONAL_LIBS = $(DCIM_DESIGN_DIR)/macros/{ARRAY.name}.lib" in config
    names = {path.name for path in config_files(export.config)}
    assert {f"{ARRAY.name}.lef", f"{ARRAY.name}.lib"} <= names
    verilog = export.verilog.read_text()
    assert f"module {SPEC.name}" in verilog and f"module {ARRAY.name}" not in verilog
    checks = check_orfs_export(export, pdk_root=pdk_root)
    assert len(checks) == 3 and "without warnings" in checks[-1]
    lef = (tmp_path / "sram" / "macros" / f"{ARRAY.name}.lef").read_text()
    assert check_lef(lef, sram_views(ARRAY)) > 0


def test_ppa_with_the_spice_views_of_the_array(pdk_root):
    from dcim.spice import Bitcell8T, Corner
    from dcim.spice.array_figures import bitcell_figures

    spec = MacroSpec(rows=4, cols=2, weight_bits=2, act_bits=2)
    array = SramArraySpec.for_macro(spec)
    technology = SramTechnology.from_bitcell(bitcell_figures(Bitcell8T(), Corner(),
                                                             rows=array.rows))
    design = macro_design(spec, technology=technology)
    views = sram_views(array, technology)
    assert design.blocks[-1].macro == views and views != sram_views(array)
    assert design.name.startswith(f"{spec.name}_sram_freepdk45_spice_tt")
    report = ppa(design, pdk_root=pdk_root)
    assert report.storage_area_per_bit_um2 == pytest.approx(views.area_um2 / views.bits)
    assert report.power.checks["macros"][array.name]["leakage_w"] == pytest.approx(
        views.leakage_w)
    assert report.delay_ns > 0


def test_a_technology_needs_sram_storage():
    with pytest.raises(ValueError, match="technology applies to storage 'sram' only"):
        macro_design(SPEC, storage="ff", technology=SramTechnology(name="other"))
    with pytest.raises(TypeError, match="technology must be an SramTechnology, not 'x'"):
        macro_design(SPEC, technology="x")
