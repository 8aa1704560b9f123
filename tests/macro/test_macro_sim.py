"""The macro's hardware in Amaranth's simulator: random configurations against the golden
model, timing against latency and throughput, back-pressure, passes, rewrites and reset."""

import numpy as np
import pytest
from amaranth.back import rtlil
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from macro_helpers import extremes, operands

from dcim.arith import COMPRESSORS, MULTIPLIER_KINDS, CompressorAssignment, MultiplierSpec
from dcim.arith.compressor import APPROXIMATE_42
from dcim.eda.tools import ToolNotFoundError
from dcim.macro import (
    DCiMMacro,
    MacroSpec,
    WeightArray,
    array_signature,
    simulate,
    simulate_program,
)

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def tree_is_exact(spec):
    return all(COMPRESSORS[cell.compressor].is_exact for cell in spec.tree_plan.cells)


def _multiplier(draw, kind, width, signed):
    if kind == "drum":
        k = draw(st.integers(3, width)) if width >= 3 else width
        return MultiplierSpec(width=width, signed=signed, kind="drum", options={"k": k})
    if kind == "approx":
        return MultiplierSpec(width=width, signed=signed, kind="approx", options={
            "compressor": draw(st.sampled_from(APPROXIMATE_42)),
            "columns": draw(st.integers(0, 2 * width))})
    return MultiplierSpec(width=width, signed=signed, kind=kind)


@st.composite
def specs(draw):
    """Small macros of every datapath, signedness, multiplier kind and adder tree."""
    datapath = draw(st.sampled_from(["multiplier", "bitserial"]))
    signed = draw(st.booleans())
    weight_bits, act_bits = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    lanes, col_mux = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kind = "exact"
    if datapath == "multiplier":
        kind = draw(st.sampled_from(sorted(MULTIPLIER_KINDS)))
    width = max(2, weight_bits, act_bits) + draw(st.integers(0, 1))
    spec = MacroSpec(rows=draw(st.integers(1, 6)), cols=lanes * col_mux,
                     weight_bits=weight_bits, act_bits=act_bits, signed=signed,
                     datapath=datapath, col_mux=col_mux,
                     mult=_multiplier(draw, kind, width, signed),
                     tree=draw(st.sampled_from(["dadda", "wallace"])),
                     pipeline=draw(st.sampled_from([0, 0, 1, 2, 3])))
    if draw(st.booleans()):
        compressor = draw(st.sampled_from((*APPROXIMATE_42, "exact42")))
        columns = draw(st.integers(1, min(4, spec.tree_width)))
        spec = spec.replace(assignment=CompressorAssignment.uniform(compressor, columns))
    if draw(st.booleans()):
        spec = spec.replace(acc_width=spec.dot_width + draw(st.integers(0, 3)))
    return spec


@SETTINGS
@given(spec=specs(), n=st.integers(0, 3), passes=st.integers(1, 2),
       ready=st.sampled_from([None, "0001", "01", "0011", "1110"]),
       valid=st.sampled_from([None, "10", "110"]), seed=st.integers(0, 2**32 - 1))
@example(spec=MacroSpec(rows=3, cols=2, weight_bits=2, act_bits=3, signed=True,
                        datapath="bitserial"), n=1, passes=1, ready=None, valid=None, seed=0)
@example(spec=MacroSpec(rows=1, cols=1, weight_bits=1, act_bits=1, signed=True), n=1,
         passes=2, ready=None, valid=None, seed=0)
@example(spec=MacroSpec(rows=5, cols=4, weight_bits=4, act_bits=4, signed=False, mult="log",
                        col_mux=2), n=2, passes=1, ready="01", valid="10", seed=1)
def test_random_configurations_match_the_model(spec, n, passes, ready, valid, seed):
    rng = np.random.default_rng(seed)
    depth = spec.rows * passes - int(rng.integers(0, spec.rows)) if passes > 1 else spec.rows
    # Extreme operands first (0, the maximum, the most negative), then n random vectors.
    weights, activations = extremes(spec, n, rng, depth)
    outcome = simulate(spec, weights, activations, engine="amaranth", ready_pattern=ready,
                       valid_pattern=valid)
    assert outcome.engine == "amaranth"
    assert np.array_equal(outcome.results, spec.model(weights, activations))
    narrow = passes > 1 and spec.acc_width == spec.dot_width   # may wrap across passes
    if spec.mult.kind == "exact" and tree_is_exact(spec) and not narrow:
        assert np.array_equal(outcome.results, activations @ weights)


@pytest.mark.parametrize("spec", [
    MacroSpec(rows=4, cols=3, weight_bits=3, act_bits=3),
    MacroSpec(rows=4, cols=4, weight_bits=3, act_bits=3, col_mux=4, mult="log"),
    MacroSpec(rows=3, cols=2, weight_bits=3, act_bits=5, datapath="bitserial"),
    MacroSpec(rows=3, cols=4, weight_bits=2, act_bits=3, datapath="bitserial", col_mux=2,
              signed=False),
    # Pipelined lanes: every tree stage registered, every second one, the terms alone.
    MacroSpec(rows=6, cols=3, weight_bits=3, act_bits=3, pipeline=1),
    MacroSpec(rows=6, cols=4, weight_bits=3, act_bits=3, col_mux=2, mult="log", pipeline=2),
    MacroSpec(rows=6, cols=2, weight_bits=3, act_bits=3, pipeline=9),
    MacroSpec(rows=5, cols=4, weight_bits=3, act_bits=4, datapath="bitserial", col_mux=2,
              pipeline=1),
])
def test_latency_and_throughput_match_the_cycle_count(spec):
    n = 6
    weights, activations = operands(spec, np.random.default_rng(5), n)
    outcome = simulate(spec, weights, activations, engine="amaranth")
    assert np.array_equal(outcome.results, activations @ weights)
    # Weights take one cycle per row, then vectors are accepted once per interval.
    assert outcome.act_cycles == tuple(spec.rows + k * spec.interval for k in range(n))
    assert all(done - accepted == spec.latency
               for accepted, done in zip(outcome.act_cycles, outcome.result_cycles,
                                             strict=True))
    assert outcome.cycles == outcome.result_cycles[-1] + 1
    steady = outcome.result_cycles[-1] - outcome.result_cycles[0]
    assert spec.rows * spec.cols * (n - 1) / steady == spec.throughput
    macro = DCiMMacro(spec=spec)
    assert (macro.latency, macro.throughput) == (spec.latency, spec.throughput)
    simulate(macro, weights, activations, engine="amaranth")   # and the component itself


@pytest.mark.parametrize("datapath", ["multiplier", "bitserial"])
@pytest.mark.parametrize("pipeline", [0, 1])
def test_back_pressure_throttles_and_loses_nothing(datapath, pipeline):
    spec = MacroSpec(rows=4, cols=2, weight_bits=3, act_bits=3, datapath=datapath,
                     pipeline=pipeline)
    weights, activations = operands(spec, np.random.default_rng(6), 8)
    free = simulate(spec, weights, activations, engine="amaranth")
    pressed = simulate(spec, weights, activations, engine="amaranth", ready_pattern="00001")
    assert np.array_equal(pressed.results, free.results)
    assert np.array_equal(pressed.results, activations @ weights)
    assert all(cycle % 5 == 4 for cycle in pressed.result_cycles)
    # Results are taken at most once per 5 cycles, so the stream slows to that rate once
    # the pipeline (input, lanes, tree and result registers) is full.
    assert pressed.cycles > free.cycles
    in_flight = 3 + spec.lane_latency
    assert pressed.act_cycles[-1] - pressed.act_cycles[0] >= 5 * (8 - in_flight)


def test_result_is_held_while_not_ready():
    """Stream rule: once valid, a result stays valid and unchanged until it is taken."""
    spec = MacroSpec(rows=2, cols=2, weight_bits=3, act_bits=3)
    macro = DCiMMacro(spec=spec)
    weights = [[1, -2], [3, -4]]
    vectors = [[1, 1], [2, -1], [-3, 2], [3, 3]]
    write_offsets = {name: field.offset for name, field in spec.write_layout}
    act_offsets = {name: field.offset for name, field in spec.act_layout}

    def pack(values, width):
        return sum((int(v) & ((1 << width) - 1)) << (width * k) for k, v in enumerate(values))

    seen = []

    async def testbench(ctx):
        for row, values in enumerate(weights):
            ctx.set(macro.write.valid, 1)
            ctx.set(macro.write.payload.as_value(),
                    row << write_offsets["addr"] | pack(values, 3) << write_offsets["data"]
                    | 3 << write_offsets["mask"])
            await ctx.tick()
        ctx.set(macro.write.valid, 0)
        pending = list(vectors)
        held = None
        for cycle in range(80):
            ready = cycle % 7 == 6
            ctx.set(macro.result.ready, ready)
            ctx.set(macro.act.valid, bool(pending))
            if pending:
                ctx.set(macro.act.payload.as_value(),
                        pack(pending[0], 3) << act_offsets["data"]
                        | 1 << act_offsets["first"] | 1 << act_offsets["last"])
            valid = ctx.get(macro.result.valid)
            payload = ctx.get(macro.result.payload.as_value())
            if held is not None:
                assert valid and payload == held, "a valid result changed before it was taken"
            held = payload if valid and not ready else None
            if valid and ready:
                seen.append(payload)
            if pending and ctx.get(macro.act.ready):
                pending.pop(0)
            await ctx.tick()

    simulator = Simulator(macro)
    simulator.add_clock(1e-8)
    simulator.add_testbench(testbench)
    simulator.run()
    width = spec.acc_width
    decoded = [[(word >> (width * c)) & ((1 << width) - 1) for c in range(2)] for word in seen]
    decoded = [[v - (1 << width) if v >> (width - 1) else v for v in row] for row in decoded]
    assert decoded == (np.array(vectors) @ np.array(weights)).tolist()


@pytest.mark.parametrize("datapath", ["multiplier", "bitserial"])
@pytest.mark.parametrize("pipeline", [0, 1])
def test_weight_rewrite_between_beats(datapath, pipeline):
    spec = MacroSpec(rows=3, cols=2, weight_bits=4, act_bits=3, datapath=datapath, col_mux=2,
                     pipeline=pipeline)
    rng = np.random.default_rng(7)
    first, x = operands(spec, rng, 1)
    second, _ = operands(spec, rng, 1)
    x = x[0]
    program = [("write", row, first[row]) for row in range(3)]
    program.append(("act", x))
    # Issued right behind the beat: the write must wait until the array has been read.
    program += [("write", row, second[row]) for row in range(3)]
    program.append(("act", x))
    # A masked write changes column 1 of row 0 only.
    program += [("write", 0, np.array([-8, 7]), 0b10), ("act", x)]
    third = second.copy()
    third[0, 1] = 7
    outcome = simulate_program(spec, program, engine="amaranth")
    expected = np.stack([x @ first, x @ second, x @ third])
    assert np.array_equal(outcome.results, expected)


@pytest.mark.parametrize("datapath", ["multiplier", "bitserial"])
@pytest.mark.parametrize("pipeline", [0, 2])
def test_accumulation_across_passes(datapath, pipeline):
    spec = MacroSpec(rows=4, cols=3, weight_bits=3, act_bits=3, datapath=datapath,
                     pipeline=pipeline)
    rng = np.random.default_rng(8)
    weights, activations = operands(spec, rng, 3, depth=11)
    outcome = simulate(spec, weights, activations, engine="amaranth")
    assert np.array_equal(outcome.results, activations @ weights)
    assert len(outcome.act_cycles) == 3 * 3     # three passes per vector
    # The same weights, three beats accumulated by hand: first, middle, last.
    w, xs = operands(spec, rng, 3)
    program = [("write", row, w[row]) for row in range(4)]
    program += [("act", xs[0], True, False), ("act", xs[1], False, False),
                ("act", xs[2], False, True), ("act", xs[0], False, True)]
    outcome = simulate_program(spec, program, engine="amaranth")
    total = xs.sum(axis=0) @ w
    assert np.array_equal(outcome.results, np.stack([total, total + xs[0] @ w]))


@pytest.mark.parametrize("datapath", ["multiplier", "bitserial"])
@pytest.mark.parametrize("pipeline", [0, 2])
def test_reset_in_the_middle_of_a_computation(datapath, pipeline):
    spec = MacroSpec(rows=3, cols=2, weight_bits=3, act_bits=4, datapath=datapath,
                     pipeline=pipeline)
    rng = np.random.default_rng(9)
    weights, before = operands(spec, rng, 5)
    _, after = operands(spec, rng, 3)
    program = [("write", row, weights[row]) for row in range(3)]
    program += [("act", x) for x in before] + [("reset",)] + [("act", x) for x in after]
    # A beat that continues the last sum (first=False) still works after the reset.
    program += [("act", after[0], False, True)]
    outcome = simulate_program(spec, program, engine="amaranth", ready_pattern="011")
    expected_before = before @ weights
    expected_after = np.concatenate([after @ weights, [(after[2] + after[0]) @ weights]])
    kept = len(outcome.results) - len(expected_after)
    assert 0 <= kept < len(before), "the beat in flight at the reset must be lost"
    assert np.array_equal(outcome.results[:kept], expected_before[:kept])
    # The weights survive the reset: the array is SRAM, not registers.
    assert np.array_equal(outcome.results[kept:], expected_after)


def test_reset_discards_a_partial_sum():
    spec = MacroSpec(rows=2, cols=2, weight_bits=3, act_bits=3)
    weights = np.array([[1, 2], [3, -4]])
    x, y = np.array([2, 1]), np.array([-1, 3])
    program = [("write", 0, weights[0]), ("write", 1, weights[1]),
               ("act", x, True, False), ("reset",), ("act", y, False, True)]
    outcome = simulate_program(spec, program, engine="amaranth")
    assert np.array_equal(outcome.results, [y @ weights])


def test_program_with_no_results():
    spec = MacroSpec(rows=2, cols=1, weight_bits=2, act_bits=2)
    outcome = simulate_program(spec, [("write", 0, [1])], engine="amaranth")
    assert outcome.results.shape == (0, 1) and outcome.cycles == 1


class _ArrayPlatform:
    """A platform that supplies its own weight array, as a flow with a hard macro would."""

    def __init__(self, array):
        self.array = array
        self.asked = []

    def get_dcim_array(self, spec):
        self.asked.append(spec)
        return self.array


def test_platform_hook_supplies_the_array():
    spec = MacroSpec(rows=2, cols=2, weight_bits=2, act_bits=2)
    platform = _ArrayPlatform(WeightArray(spec))
    text = rtlil.convert(DCiMMacro(spec=spec), platform=platform)
    assert platform.asked == [spec]
    assert "memory" in text

    # Simulation with the platform's array: build the fragment with the platform first.
    from amaranth.hdl import Fragment
    macro = DCiMMacro(spec=spec)
    platform = _ArrayPlatform(WeightArray(spec))
    top = Module()
    top.domains.sync = ClockDomain("sync")
    top.submodules.macro = macro
    simulator = Simulator(Fragment.get(top, platform))
    simulator.add_clock(1e-8)
    simulator.run_until(1e-7)
    assert platform.asked == [spec]


def test_platform_hook_must_match_the_signature():
    spec = MacroSpec(rows=2, cols=2, weight_bits=2, act_bits=2)
    other = MacroSpec(rows=4, cols=2, weight_bits=2, act_bits=2)
    assert array_signature(spec) != array_signature(other)
    array = WeightArray(other)
    with pytest.raises(TypeError, match=r"platform.get_dcim_array must return a component "
                                        r"with signature"):
        rtlil.convert(DCiMMacro(spec=spec), platform=_ArrayPlatform(array))
    rtlil.convert(array)   # used, so that Amaranth does not warn about it


@pytest.mark.parametrize("call, error, message", [
    (lambda s: simulate(s, np.zeros((4, 2), int), np.zeros((1, 4), int)), ValueError,
     r"weights must have shape \(rows, 3\)"),
    (lambda s: simulate(s, np.zeros((4, 3), int), np.zeros((2, 5), int)), ValueError,
     r"activations must have shape \(n, 4\) or \(4,\) to match weights of shape \(4, 3\), "
     r"not \(2, 5\)"),
    (lambda s: simulate(s, np.zeros((4, 3), int), np.zeros(4, int), engine="spice"),
     ValueError, r"engine must be one of 'auto', 'amaranth', 'verilator', 'iverilog', "
                 r"not 'spice'"),
    (lambda s: simulate(s, np.zeros((4, 3), int), np.zeros(4, int), ready_pattern="0"),
     ValueError, r"ready_pattern must have 1 to 64 bits with at least one 1, not '0'"),
    (lambda s: simulate(s, np.zeros((4, 3), int), np.zeros(4, int), valid_pattern="1x"),
     ValueError, r"valid_pattern must be a string of 0 and 1, not '1x'"),
    (lambda s: simulate(s, np.zeros((4, 3), int), np.zeros(4, int), max_cycles=0),
     ValueError, r"max_cycles must be a positive int or None, not 0"),
    (lambda s: simulate("macro", np.zeros((4, 3), int), np.zeros(4, int)), TypeError,
     r"macro must be a DCiMMacro or a MacroSpec, not 'macro'"),
    (lambda s: simulate_program(s, [("write", 4, [0, 0, 0])]), ValueError,
     r"write row must be an int from 0 to 3, not 4"),
    (lambda s: simulate_program(s, [("write", 0, [0, 0])]), ValueError,
     r"write values must have shape \(3,\), not \(2,\)"),
    (lambda s: simulate_program(s, [("write", 0, [0, 0, 300])]), ValueError,
     r"write values must lie in \[-128, 127\] .*, not 300"),
    (lambda s: simulate_program(s, [("act", [0, 0, 0])]), ValueError,
     r"act values must have shape \(4,\), not \(3,\)"),
    (lambda s: simulate_program(s, [("load", 0)]), ValueError,
     r"program operation must be \('write', row, values\[, mask\]\)"),
])
def test_invalid_simulation_parameters(call, error, message):
    with pytest.raises(error, match=message):
        call(MacroSpec(rows=4, cols=3))


def test_timeout():
    spec = MacroSpec(rows=2, cols=1, weight_bits=2, act_bits=2)
    with pytest.raises(RuntimeError, match=r"did not finish the program within 3 cycles"):
        simulate(spec, [[1], [1]], [[1, 1]], engine="amaranth", max_cycles=3)


def test_missing_tool_says_how_to_install(monkeypatch):
    monkeypatch.setenv("DCIM_VERILATOR", "/nonexistent/verilator")
    with pytest.raises(ToolNotFoundError, match=r"apt-get install verilator"):
        simulate(MacroSpec(rows=2, cols=1), [[1], [1]], [[1, 1]], engine="verilator")


@pytest.mark.parametrize("datapath", ["multiplier", "bitserial"])
def test_32_bit_operands_with_an_approximate_tree(datapath):
    """Sums beyond 64 bits: the model switches to Python integers, the hardware agrees."""
    spec = MacroSpec(rows=2, cols=1, weight_bits=32, act_bits=32, datapath=datapath,
                     assignment=CompressorAssignment.uniform("acci1", 8))
    assert spec.acc_width > 64
    weights, activations = extremes(spec, 1, np.random.default_rng(17))
    outcome = simulate(spec, weights, activations, engine="amaranth")
    expected = spec.model(weights, activations)
    assert expected.dtype == object
    assert outcome.results.tolist() == expected.tolist()
