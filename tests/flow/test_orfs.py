import json

import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from dcim.arith import MultiplierSpec
from dcim.flow import ToolNotFoundError, check_orfs_export, export_orfs, run_orfs
from dcim.flow.orfs import config_files, read_orfs_metrics


class Counter(wiring.Component):
    """A 4-bit counter with an enable: the smallest clocked design."""

    def __init__(self):
        super().__init__({"en": In(1), "count": Out(4)})

    def elaborate(self, platform):
        m = Module()
        value = Signal(4)
        with m.If(self.en):
            m.d.sync += value.eq(value + 1)
        m.d.comb += self.count.eq(value)
        return m


def test_export_of_a_combinational_design(pdk_root, tmp_path):
    export = export_orfs(MultiplierSpec(4), tmp_path / "mul4", pdk_root=pdk_root)
    assert export.platform == "nangate45"
    config = export.config.read_text()
    assert "export DESIGN_NAME = mul4u_exact" in config
    assert "export PLATFORM = nangate45" in config
    assert {path.name for path in config_files(export.config)} == {"mul4u_exact.v",
                                                                   "constraint.sdc"}
    sdc = export.sdc.read_text()
    assert "create_clock -name core_clock" in sdc and "[get_ports" in sdc
    assert "mul4u_exact" in export.readme.read_text()
    checks = check_orfs_export(export, pdk_root=pdk_root)
    assert len(checks) == 3 and "without warnings" in checks[-1]


def test_export_of_a_clocked_design(pdk_root, tmp_path):
    export = export_orfs(Counter(), tmp_path / "counter", clock_ns=2.5, pdk_root=pdk_root)
    assert "create_clock -name core_clock -period 2.5 [get_ports clk]" in export.sdc.read_text()
    check_orfs_export(export, pdk_root=pdk_root)


def test_check_finds_a_missing_file(pdk_root, tmp_path):
    export = export_orfs(MultiplierSpec(4), tmp_path / "mul4", pdk_root=pdk_root)
    export.verilog.unlink()
    with pytest.raises(ValueError, match="config.mk names files that do not exist"):
        check_orfs_export(export, pdk_root=pdk_root)


def test_running_needs_openroad_and_a_flow(pdk_root, tmp_path, monkeypatch):
    export = export_orfs(MultiplierSpec(4), tmp_path / "mul4", pdk_root=pdk_root)
    monkeypatch.setenv("DCIM_OPENROAD", "/nonexistent/openroad")
    with pytest.raises(ToolNotFoundError, match="OpenROAD-flow-scripts"):
        run_orfs(export)
    monkeypatch.setenv("DCIM_OPENROAD", "true")  # any executable stands in for openroad
    monkeypatch.delenv("DCIM_ORFS_FLOW", raising=False)
    with pytest.raises(FileNotFoundError, match="DCIM_ORFS_FLOW"):
        run_orfs(export)
    with pytest.raises(FileNotFoundError, match="not an OpenROAD-flow-scripts flow"):
        run_orfs(export, flow_dir=tmp_path)


def test_metrics_are_read_from_the_flow(tmp_path):
    folder = tmp_path / "logs" / "nangate45" / "mul4u_exact" / "base"
    folder.mkdir(parents=True)
    (folder / "6_report.json").write_text(json.dumps({
        "finish__design__instance__area": 123.5, "finish__timing__setup__ws": -0.01,
        "finish__power__total": 0.002, "other": 1}))
    report = read_orfs_metrics(tmp_path, "nangate45", "mul4u_exact")
    assert (report.area_um2, report.setup_slack_ns, report.power_w) == (123.5, -0.01, 0.002)
    assert "other" not in report.metrics


def test_export_refuses_a_path_make_cannot_use(tmp_path):
    with pytest.raises(ValueError, match="path must have no spaces .* not '.*with space"):
        export_orfs(MultiplierSpec(4), tmp_path / "with space")
