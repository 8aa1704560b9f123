import json

import pytest

from dcim.arith import MultiplierSpec
from dcim.flow import compare, ppa, ppa_table, yosys_multiplier
from dcim.macro import DCiMMacro


def test_ppa_with_accuracy(pdk_root):
    report = ppa(MultiplierSpec(4, kind="mitchell"), pdk_root=pdk_root, operands="uniform")
    assert report.metrics["mred"] > 0 and report.metrics["nmed"] > 0
    assert report.power.method == "data"
    assert report.area_delay_product == pytest.approx(report.area_um2 * report.delay_ns)
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
    vectorless = ppa(spec, pdk_root=pdk_root, activity=0.5)
    assert vectorless.power.method == "vectorless" and vectorless.power.total_w > 0
