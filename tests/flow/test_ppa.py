import json

import pytest

from dcim.arith import MultiplierSpec
from dcim.flow import analyze_timing, compare, ppa, ppa_table, yosys_multiplier
from dcim.flow.design import macro_design
from dcim.macro import DCiMMacro, MacroSpec


def test_ppa_with_accuracy(pdk_root):
    report = ppa(MultiplierSpec(4, kind="mitchell"), pdk_root=pdk_root, operands="uniform")
    assert report.metrics["mred"] > 0 and report.metrics["nmed"] > 0
    assert report.power.method == "data"
    assert report.area_delay_product == pytest.approx(report.area_um2 * report.delay_ns)
    assert report.ops_per_operation == 1
    assert report.tops_per_w == pytest.approx(1 / report.energy_per_op_pj)
    data = json.loads(json.dumps(report.as_dict(), default=str))
    assert data["design"] == "mul4u_mitchell" and data["operation"] == "multiply"


def test_compare_and_table(pdk_root):
    calls = []
    reports = compare([MultiplierSpec(4), yosys_multiplier(4)], pdk_root=pdk_root,
                      progress=lambda done, total: calls.append((done, total)))
    assert [r.design for r in reports] == ["mul4u_exact", "mul4u_yosys"]
    assert calls == [(0, 2), (1, 2), (2, 2)]
    assert reports[0].metrics["mred"] == 0 and reports[1].metrics is None
    assert all(report.power.method == "data" for report in reports)  # the default
    table = ppa_table(reports)
    assert "mul4u_yosys" in table and "pJ/multiply" in table and "MRED" in table
    assert "TOPS" not in table


def test_macro_area_split_and_energy_per_mac(tiny_macro, pdk_root):
    spec, _ = tiny_macro
    report = ppa(DCiMMacro(spec=spec), pdk_root=pdk_root, operands="uniform")
    groups = report.synthesis.groups
    assert set(groups) == {"storage", "arithmetic", "control"}
    assert sum(groups.values()) == pytest.approx(report.area_um2)
    assert all(area > 0 for area in groups.values())
    assert report.synthesis.clock_port == "clk"
    assert report.power.operation == "MAC" and report.power.ops_per_cycle == spec.throughput
    assert report.energy_per_op_pj == pytest.approx(
        report.power.total_w * report.power.clock_ns * 1e3 / spec.throughput)
    # Figures of merit, two operations per MAC: TOPS/W from the energy, TOPS/mm^2 at fmax.
    assert report.ops_per_operation == 2
    assert report.tops_per_w == pytest.approx(2 / report.energy_per_op_pj)
    macs_per_second = spec.throughput * 1e3 / report.delay_ns * 1e6
    assert report.tops_per_mm2 == pytest.approx(
        2 * macs_per_second / 1e12 / (report.area_um2 / 1e6))
    assert report.as_dict()["tops_per_mm2"] == report.tops_per_mm2
    table = ppa_table([report])
    assert "TOPS/W" in table and f"{report.tops_per_w:.3g}" in table
    vectorless = ppa(spec, pdk_root=pdk_root, activity=0.5)
    assert vectorless.power.method == "vectorless" and vectorless.power.total_w > 0


def test_hierarchical_and_flat_macros_agree(pdk_root):
    # 64 multipliers in 4 lanes: small enough to synthesize in one run as well.
    # In one run the array is flip-flops, so block by block it is too, for the comparison.
    spec = MacroSpec(rows=16, cols=4, weight_bits=2, act_bits=2)
    hier = ppa(macro_design(spec, storage="ff"), pdk_root=pdk_root)
    flat = ppa(spec, pdk_root=pdk_root, hierarchical=False)
    assert hier.synthesis.hierarchical and not flat.synthesis.hierarchical
    assert hier.synthesis.blocks == {f"{spec.name}_lane": 4, f"{spec.name}_tree": 4,
                                     f"{spec.name}_col": 4, spec.mult.name: 64}
    assert hier.power.method == flat.power.method == "data"
    # Block by block, abc sizes a weight column's drivers without seeing the multipliers
    # they drive (1,099 against 1,168 um2 of storage here): 2.2 % smaller in all.
    assert hier.area_um2 == pytest.approx(flat.area_um2, rel=0.03)
    assert hier.delay_ns == pytest.approx(flat.delay_ns, rel=0.05)
    assert hier.power.total_w == pytest.approx(flat.power.total_w, rel=0.05)
    assert hier.synthesis.buffers == flat.synthesis.buffers == 0
    # By default the array is the hard SRAM macro, the lanes the same blocks. (At 128 bits
    # its periphery makes it larger than the flip-flops: BENCHMARKS.md, sram.)
    sram = ppa(spec, pdk_root=pdk_root)
    assert sram.design == f"{spec.name}_sram" and sram.synthesis.macros
    assert sram.synthesis.groups["arithmetic"] == hier.synthesis.groups["arithmetic"]
    (array,) = sram.synthesis.macros.values()
    assert sram.synthesis.groups["storage"] == pytest.approx(array["area_um2"])
    with pytest.raises(TypeError, match="hierarchical must be True, False or None, not 1"):
        ppa(spec, pdk_root=pdk_root, hierarchical=1)


@pytest.mark.slow
def test_hierarchical_and_flat_log_macros_agree(pdk_root):
    # 64 8-bit log multipliers: the one run gives Yosys each multiplier's own text, as block
    # by block does (Amaranth's text of the same logic was mapped 3.5 % larger), so the two
    # agree once abc sizes the gates (the constraint file's buffer, upsize and dnsize).
    spec = MacroSpec(rows=16, cols=4, mult="log")
    hier = ppa(macro_design(spec, storage="ff"), pdk_root=pdk_root)
    flat = ppa(DCiMMacro(rows=16, cols=4, mult="log"), pdk_root=pdk_root, hierarchical=False)
    assert hier.synthesis.hierarchical and not flat.synthesis.hierarchical
    assert hier.area_um2 == pytest.approx(flat.area_um2, rel=0.02)
    # The weight columns are the same text both ways; abc sizes their drivers 1 % apart.
    assert hier.synthesis.groups["storage"] == pytest.approx(
        flat.synthesis.groups["storage"], rel=0.02)
    assert hier.delay_ns == pytest.approx(flat.delay_ns, rel=0.05)
    assert hier.power.total_w == pytest.approx(flat.power.total_w, rel=0.05)


def test_power_per_block_of_a_16_row_log_macro(pdk_root):
    # 64 log multipliers in 4 lanes: power per block against the flat expansion of the same
    # netlist (the one-run synthesis: test_hierarchical_and_flat_log_macros_agree).
    macro = DCiMMacro(rows=16, cols=4, mult="log")
    blocks = ppa(macro, pdk_root=pdk_root)
    flat = ppa(DCiMMacro(rows=16, cols=4, mult="log"), pdk_root=pdk_root, per_block=False)
    assert blocks.synthesis.key == flat.synthesis.key
    assert blocks.power.checks["blocks"]["mul8s_log"]["instances"] == 64
    assert blocks.power.total_w == pytest.approx(flat.power.total_w, rel=0.01)
    assert blocks.power.internal_w == pytest.approx(flat.power.internal_w, rel=0.01)
    assert blocks.power.switching_w == pytest.approx(flat.power.switching_w, rel=0.01)
    assert blocks.power.leakage_w == pytest.approx(flat.power.leakage_w, rel=1e-6)
    with pytest.raises(TypeError, match="per_block must be True, False or None, not 1"):
        ppa(macro, pdk_root=pdk_root, per_block=1)


def test_ppa_times_the_whole_hierarchy_when_asked(pdk_root):
    # On this macro timing by block is 2.2 % short (tests/flow/test_block_timing.py), so
    # the switch shows in the delay; power per block still comes from data either way.
    spec = MacroSpec(rows=8, cols=4, weight_bits=4, act_bits=4, mult="log")
    whole = ppa(spec, pdk_root=pdk_root, by_block=False)
    by_block = ppa(spec, pdk_root=pdk_root)
    assert whole.timing.critical_path_ns == pytest.approx(
        analyze_timing(whole.synthesis, by_block=False).critical_path_ns, rel=1e-9)
    assert by_block.timing.critical_path_ns < whole.timing.critical_path_ns
    assert whole.power.method == by_block.power.method == "data"
    with pytest.raises(TypeError, match="by_block must be True, False or None, not 'no'"):
        ppa(spec, pdk_root=pdk_root, by_block="no")
    with pytest.raises(ValueError, match="by_block=True needs a design synthesized block by "
                                         "block, and hierarchical=False"):
        ppa(spec, pdk_root=pdk_root, by_block=True, hierarchical=False)
