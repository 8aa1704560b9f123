import time

import pytest

from dcim.arith import MultiplierSpec
from dcim.flow import SynthesisError, ToolNotFoundError, VerilogDesign, synthesize, yosys_multiplier


def test_report_of_a_small_multiplier(mul4):
    assert mul4.design == mul4.top == "mul4u_exact"
    assert mul4.area_um2 > 0 and mul4.cell_count == sum(mul4.cells.values())
    assert mul4.sequential_cells == 0 and mul4.clock_port is None
    assert mul4.inputs == {"a": 4, "b": 4} and mul4.outputs == {"p": 8}
    assert "module mul4u_exact" in mul4.netlist
    assert "Yosys" in mul4.log and mul4.log_path.is_file()
    assert mul4.tool_versions["yosys"].startswith("Yosys")
    assert mul4.tool_versions["yosys_path"]
    # Yosys's own area report agrees with the one computed from the Liberty areas.
    stat = (mul4.folder / "stat.txt").read_text()
    assert f"{mul4.area_um2:.3f}"[:-1] in stat


def test_results_are_cached(pdk_root):
    spec = MultiplierSpec(3)  # used by no other test
    first = synthesize(spec, pdk_root=pdk_root)
    started = time.monotonic()
    again = synthesize(spec, pdk_root=pdk_root)
    assert again.cached and not first.cached
    assert time.monotonic() - started < 1.0
    assert again.area_um2 == first.area_um2 and again.key == first.key
    other = synthesize(spec, corner="slow", pdk_root=pdk_root)
    assert other.key != first.key
    fresh = synthesize(spec, pdk_root=pdk_root, cache_results=False)
    assert not fresh.cached and fresh.area_um2 == first.area_um2


def test_clock_target_and_bad_clock(pdk_root):
    report = synthesize(MultiplierSpec(4), clock_ns=0.5, pdk_root=pdk_root)
    assert report.clock_ns == 0.5
    with pytest.raises(ValueError, match="clock_ns must be a finite positive number .* not -1"):
        synthesize(MultiplierSpec(4), clock_ns=-1, pdk_root=pdk_root)


def test_yosys_own_multiplier_and_verilog_designs(pdk_root):
    report = synthesize(yosys_multiplier(4), pdk_root=pdk_root)
    assert report.design == "mul4u_yosys" and report.outputs == {"p": 8}
    text = "module inv4 (a, y);\n input [3:0] a;\n output [3:0] y;\n assign y = ~a;\nendmodule\n"
    inverters = synthesize(VerilogDesign(text, "inv4"), pdk_root=pdk_root)
    assert inverters.cells == {"INV_X1": 4}
    with pytest.raises(ValueError, match="top must name a module"):
        VerilogDesign(text, "nope")


def test_failing_synthesis_keeps_the_log(pdk_root):
    text = "module broken (a, y);\n input a;\n output y;\n assign y = a &;\nendmodule\n"
    with pytest.raises(SynthesisError, match="log is kept at") as caught:
        synthesize(VerilogDesign(text, "broken"), pdk_root=pdk_root)
    assert caught.value.log_path.is_file()
    assert "syntax error" in caught.value.log_path.read_text()


def test_missing_yosys_says_how_to_install(pdk_root, monkeypatch):
    monkeypatch.setenv("DCIM_YOSYS", "/nonexistent/yosys")
    with pytest.raises(ToolNotFoundError, match="apt-get install yosys"):
        synthesize(MultiplierSpec(4), pdk_root=pdk_root)
