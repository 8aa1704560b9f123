import numpy as np
import pytest

from dcim.arith import MultiplierSpec
from dcim.flow import (
    ToolNotFoundError,
    VerilogDesign,
    analysis,
    analyze_power,
    analyze_timing,
    synthesize,
)
from dcim.flow.analysis import critical_path_points, timing_and_block_activity
from dcim.flow.sta import parse_path_points


def test_timing_of_a_combinational_design(mul4):
    timing = analyze_timing(mul4)
    assert 0.1 < timing.critical_path_ns < 2.0
    assert timing.min_period_ns == pytest.approx(timing.critical_path_ns, abs=1e-3)
    assert timing.fmax_mhz == pytest.approx(1e3 / timing.min_period_ns)
    assert timing.startpoint.startswith(("a[", "b[")) and timing.endpoint.startswith("p[")
    assert timing.slack_ns == pytest.approx(timing.clock_ns - timing.critical_path_ns, abs=1e-3)
    assert analyze_timing(mul4).cached


def test_the_critical_path_points_follow_the_timing_report(mul4):
    timing = analyze_timing(mul4)
    points = critical_path_points(mul4)
    assert (points[0].cell, points[-1].cell) == ("in", "out")
    assert (points[0].pin, points[-1].pin) == (timing.startpoint, timing.endpoint)
    assert points[-1].arrival_ns == pytest.approx(timing.critical_path_ns, abs=1e-4)
    arrivals = [point.arrival_ns for point in points]
    assert arrivals == sorted(arrivals)
    # Each cell appears as an input pin, then its output pin, which alone carries a load.
    cells = points[1:-1]
    for driven, driving in zip(cells[::2], cells[1::2], strict=True):
        assert driven.pin.rpartition("/")[0] == driving.pin.rpartition("/")[0]
        assert driven.load_ff is None and 0.1 < driving.load_ff < 100
    assert points[0].load_ff > 0 and points[-1].load_ff is None
    assert all(0 < point.slew_ns < 1 for point in points)


REPORT = """Startpoint: b[5] (input port clocked by core_clock)
Endpoint: p[14] (output port clocked by core_clock)

Fanout       Cap      Slew     Delay      Time   Description
------------------------------------------------------------------------------------
                   0.0000    0.0000    0.0000   clock core_clock (rise edge)
                             0.0000    0.0000 ^ input external delay
                   0.0132    0.0133    0.0133 ^ b[5] (in)
    4   10.1406                                 b[5] (net)
                   0.0132    0.0000    0.0133 ^ _400_/A2 (NAND2_X2)
                   0.0112    0.0193    0.0325 v _400_/ZN (NAND2_X2)
    1    1.0458                                 p[14] (net)
                   0.0112    0.0000    0.0326 v p[14] (out)
                                       0.0326   data arrival time
"""


def test_a_path_report_is_read_pin_by_pin():
    points = parse_path_points(REPORT)
    assert [(point.pin, point.cell, point.rising) for point in points] == [
        ("b[5]", "in", True), ("_400_/A2", "NAND2_X2", True), ("_400_/ZN", "NAND2_X2", False),
        ("p[14]", "out", False)]
    assert [point.load_ff for point in points] == [10.1406, None, 1.0458, None]
    assert points[2].slew_ns == 0.0112 and points[2].arrival_ns == 0.0325


@pytest.mark.parametrize("function", [analyze_timing, analyze_power, critical_path_points,
                                      timing_and_block_activity])
def test_analysis_refuses_what_is_not_a_synthesis(function):
    arguments = (None,) if function is timing_and_block_activity else ()
    with pytest.raises(TypeError, match="synthesis must be a SynthesisReport .*, not 'mul4'"):
        function("mul4", *arguments)


def test_a_report_without_a_path_is_refused():
    with pytest.raises(ValueError, match="OpenSTA's report holds no timing path"):
        parse_path_points("No paths found.")
    with pytest.raises(ValueError, match="a net line precedes every pin"):
        parse_path_points(REPORT.replace("0.0132    0.0133    0.0133 ^ b[5] (in)", ""))
    # A pin line in another layout (Cap on the pin's own line) is not skipped silently.
    with pytest.raises(ValueError, match="cannot read a pin of OpenSTA's path report"):
        parse_path_points(REPORT.replace("       0.0112    0.0193    0.0325 v _400_/ZN",
                                         "7.22   0.0112    0.0193    0.0325 v _400_/ZN"))


def test_corners_order_delays(pdk_root):
    delays = {corner: analyze_timing(synthesize(MultiplierSpec(4), corner=corner,
                                                pdk_root=pdk_root)).critical_path_ns
              for corner in ("fast", "typ", "slow")}
    assert delays["fast"] < delays["typ"] < delays["slow"]


def test_vectorless_power(mul4):
    power = analyze_power(mul4, activity=0.2, clock_ns=1.0)
    assert power.method == "vectorless" and power.clock_ns == 1.0
    assert power.total_w == pytest.approx(power.internal_w + power.switching_w
                                          + power.leakage_w, rel=1e-5)
    assert power.energy_per_op_pj == pytest.approx(power.total_w * 1e-9 * 1e12)
    double = analyze_power(mul4, activity=0.4, clock_ns=1.0)
    assert double.dynamic_w == pytest.approx(2 * power.dynamic_w, rel=1e-3)
    idle = analyze_power(mul4, activity=0.0, clock_ns=1.0)
    assert idle.dynamic_w == 0 and idle.leakage_w == pytest.approx(power.leakage_w)
    every_net = analyze_power(mul4, activity=0.2, activity_model="global", clock_ns=1.0)
    assert every_net.total_w != power.total_w
    # Without a clock, power is given at the design's maximum frequency.
    assert analyze_power(mul4).clock_ns == pytest.approx(analyze_timing(mul4).min_period_ns)


def test_power_from_uniform_data_agrees_with_opensta_where_the_models_meet(mul4):
    power = analyze_power(mul4, operands="uniform", clock_ns=1.0)
    checks = power.checks
    assert power.method == "data" and power.cycles == 4096
    assert 0.2 < checks["mean_activity"] < 0.6
    # Same nets, same loads, same activity: switching power is OpenSTA's to the last digit.
    assert checks["switching_at_mean_activity_w"] == pytest.approx(
        checks["opensta_global"]["switching_w"], rel=1e-4)
    # Leakage weighted by the simulated states is close to OpenSTA's duty-0.5 average.
    assert power.leakage_w == pytest.approx(checks["opensta_inputs"]["leakage_w"], rel=0.1)
    # Measured switching is within a third of OpenSTA's at the mean activity.
    assert power.switching_w == pytest.approx(checks["opensta_global"]["switching_w"],
                                              rel=0.35)


def test_constant_operands_leave_only_leakage(mul4):
    power = analyze_power(mul4, operands={"a": np.full(64, 5), "b": np.full(64, 11)})
    assert power.internal_w == 0 and power.switching_w == 0
    assert power.total_w == power.leakage_w
    assert power.leakage_w == pytest.approx(power.checks["opensta_inputs"]["leakage_w"],
                                            rel=0.15)


def test_single_arc_cells_match_opensta_up_to_its_internal_power_rule(pdk_root):
    text = "module inv8 (a, y);\n input [7:0] a;\n output [7:0] y;\n assign y = ~a;\nendmodule\n"
    report = synthesize(VerilogDesign(text, "inv8"), pdk_root=pdk_root)
    power = analyze_power(report, operands="uniform", clock_ns=1.0)
    opensta = power.checks["opensta_inputs"]
    # Inverters pass the measured input activity on exactly, so OpenSTA sees the same
    # activity: switching agrees, and its internal power is twice ours because OpenSTA
    # 2.0.17 charges the rise and the fall energy on every transition (docs/flow.md).
    assert power.switching_w == pytest.approx(opensta["switching_w"], rel=0.01)
    assert 2 * power.internal_w == pytest.approx(opensta["internal_w"], rel=0.01)


def test_operands_in_several_forms(mul4):
    a = np.arange(256) % 16
    b = np.arange(256) // 16
    by_name = analyze_power(mul4, operands={"a": a, "b": b}, clock_ns=1.0)
    by_order = analyze_power(mul4, operands=(a, b), clock_ns=1.0)
    by_columns = analyze_power(mul4, operands=np.stack([a, b], axis=1), clock_ns=1.0)
    assert by_name.total_w == by_order.total_w == by_columns.total_w
    assert by_order.cached


def test_power_errors(mul4):
    with pytest.raises(ValueError, match="either activity .* or operands"):
        analyze_power(mul4, activity=0.1, operands="uniform")
    with pytest.raises(ValueError, match="activity_model must be one of inputs, global"):
        analyze_power(mul4, activity_model="random")
    with pytest.raises(ValueError, match="activity must be a number .* not 3"):
        analyze_power(mul4, activity=3)
    with pytest.raises(ValueError, match="operands for port 'a' must fit in 4 bits, not 16"):
        analyze_power(mul4, operands={"a": [16, 1], "b": [1, 1]})
    with pytest.raises(ValueError, match="must give 2 columns"):
        analyze_power(mul4, operands=(np.arange(4),))
    with pytest.raises(ValueError, match="clock_ns must be a finite positive number"):
        analyze_power(mul4, clock_ns=0)


def test_missing_opensta_says_how_to_install(mul4, monkeypatch):
    monkeypatch.setenv("DCIM_STA", "/nonexistent/sta")
    with pytest.raises(ToolNotFoundError, match="apt-get install opensta"):
        analyze_timing(mul4, clock_ns=3.0)


def test_power_per_block_matches_the_flat_expansion(pdk_root):
    # A 4x2 log macro, assembled from blocks: the flat method simulates and prices each of
    # its cells in place; per block, each distinct block's cells are priced once at the
    # activity summed over its instances, with one instance's slews and loads.
    # (The SRAM array's pricing from its views: tests/flow/test_sram_flow.py.)
    from dcim.flow import macro_stimulus
    from dcim.flow.design import macro_design
    from dcim.macro import MacroSpec

    spec = MacroSpec(rows=4, cols=2, weight_bits=3, act_bits=3, mult="log")
    report = synthesize(macro_design(spec, storage="ff"), pdk_root=pdk_root)
    assert report.hierarchical
    timing = analyze_timing(report)
    stimulus = macro_stimulus(spec)
    blocks = analyze_power(report, operands=stimulus, timing=timing)
    flat = analyze_power(report, operands=stimulus, timing=timing, per_block=False)
    assert blocks.method == flat.method == "data" and blocks.cycles == flat.cycles
    assert blocks.activity == pytest.approx(flat.activity, rel=1e-9)
    assert blocks.leakage_w == pytest.approx(flat.leakage_w, rel=1e-6)
    assert blocks.internal_w == pytest.approx(flat.internal_w, rel=0.01)
    assert blocks.switching_w == pytest.approx(flat.switching_w, rel=0.01)
    parts = blocks.checks["blocks"]
    assert {name: part["instances"] for name, part in parts.items()} == {
        report.top: 1, f"{spec.name}_lane": 2, f"{spec.name}_tree": 2,
        f"{spec.name}_col": 2, spec.mult.name: 8}
    for figure in ("internal_w", "switching_w", "leakage_w"):
        assert sum(part[figure] for part in parts.values()) == pytest.approx(
            getattr(blocks, figure))
    # Only the flat method has OpenSTA's vectorless figures to compare with.
    assert "opensta_global" in flat.checks and "opensta_global" not in blocks.checks
    assert flat.checks["switching_at_mean_activity_w"] == pytest.approx(
        flat.checks["opensta_global"]["switching_w"], rel=1e-4)
    assert blocks.checks["switching_at_mean_activity_w"] == pytest.approx(
        flat.checks["switching_at_mean_activity_w"], rel=0.01)
    assert analyze_power(report, operands=stimulus, timing=timing).cached
    # Without the timing run's dump, power per block runs OpenSTA itself, to the same end.
    again = analyze_power(report, operands=stimulus, timing=timing, cache_results=False)
    assert again.total_w == pytest.approx(blocks.total_w, rel=1e-12)
    # Timed while the blocks are simulated: the same timing, and the same power from the
    # simulation kept for it.
    overlapped = timing_and_block_activity(report, stimulus, cache_results=False)
    assert overlapped.min_period_ns == timing.min_period_ns and not overlapped.cached
    assert analysis._SIMULATED
    again = analyze_power(report, operands=stimulus, timing=overlapped, cache_results=False)
    assert not analysis._SIMULATED and again.total_w == pytest.approx(blocks.total_w,
                                                                      rel=1e-12)
    with pytest.raises(TypeError, match="per_block must be True, False or None, not 'yes'"):
        analyze_power(report, operands=stimulus, per_block="yes")
