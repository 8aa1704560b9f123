"""Compiled simulation: the engines agree cycle for cycle, and rows=64 macros of every
multiplier kind match the golden model."""

import numpy as np
import pytest
from macro_helpers import extremes, operands, require

from dcim.arith import MULTIPLIER_KINDS, CompressorAssignment
from dcim.macro import DCiMMacro, MacroSpec, simulate, simulate_program
from dcim.macro.sim import cache_dir


def _program(spec, rng):
    """Writes, streamed beats, passes, a masked rewrite and a reset, in one program."""
    weights, xs = operands(spec, rng, 6)
    other, _ = operands(spec, rng, 1)
    program = [("write", row, weights[row]) for row in range(spec.rows)]
    program += [("act", x) for x in xs[:3]]
    program += [("act", xs[3], True, False), ("act", xs[4], False, True)]
    program += [("write", 0, other[0], 0b01), ("act", xs[5])]
    program += [("act", xs[0]), ("reset",), ("act", xs[1], False, True), ("act", xs[2])]
    return program


SMALL = [
    MacroSpec(rows=5, cols=4, weight_bits=4, act_bits=3, mult="log", col_mux=2,
              assignment=CompressorAssignment.uniform("kong2", 4)),
    MacroSpec(rows=3, cols=2, weight_bits=3, act_bits=4, signed=False, datapath="bitserial",
              assignment=CompressorAssignment.uniform("acci1", 2)),
    MacroSpec(rows=6, cols=4, weight_bits=3, act_bits=3, col_mux=2, pipeline=2),
    MacroSpec(rows=5, cols=2, weight_bits=3, act_bits=3, datapath="bitserial", pipeline=1),
]


@pytest.mark.slow
@pytest.mark.parametrize("spec", SMALL, ids=["multiplier", "bitserial", "multiplier-p2",
                                             "bitserial-p1"])
def test_engines_agree_cycle_for_cycle(spec):
    require("verilator")
    require("iverilog")
    program = _program(spec, np.random.default_rng(11))
    runs = {engine: simulate_program(spec, program, engine=engine, ready_pattern="1101",
                                     valid_pattern="11110")
            for engine in ("amaranth", "verilator", "iverilog")}
    reference = runs["amaranth"]
    # Beats in flight at the reset are lost: more of them the longer the pipeline.
    assert len(reference.results) >= (6 if spec.lane_latency < 2 else 5)
    for engine, outcome in runs.items():
        assert outcome.engine == engine
        assert np.array_equal(outcome.results, reference.results), engine
        assert outcome.cycles == reference.cycles, engine
        assert outcome.act_cycles == reference.act_cycles, engine
        assert outcome.result_cycles == reference.result_cycles, engine


@pytest.mark.slow
def test_compiled_models_are_cached():
    require("verilator")
    spec = SMALL[0]     # built by the test above when the whole module runs
    weights, activations = operands(spec, np.random.default_rng(12), 4)
    first = simulate(spec, weights, activations, engine="verilator")
    builds = sorted(path.name for path in cache_dir().glob(f"{spec.name}-verilator-*"))
    assert len(builds) == 1
    again = simulate(spec, weights, activations, engine="auto")
    assert again.engine == "verilator"      # auto takes a model that is already built
    assert np.array_equal(first.results, again.results)
    assert np.array_equal(again.results, spec.model(weights, activations))


KINDS = sorted(MULTIPLIER_KINDS)


@pytest.mark.slow
@pytest.mark.parametrize("mult, datapath, assignment", [
    *((kind, "multiplier", None) for kind in KINDS),
    ("exact", "bitserial", None),
    ("exact", "bitserial", CompressorAssignment.uniform("acci1", 4)),
    ("log", "multiplier", CompressorAssignment.uniform("momeni", 8)),
])
def test_rows64_every_kind(mult, datapath, assignment):
    """Directed rows=64 tests: one lane serving 8 columns, in Amaranth's simulator."""
    spec = MacroSpec(rows=64, cols=8, mult=mult, datapath=datapath, col_mux=8,
                     assignment=assignment)
    weights, activations = extremes(spec, 2, np.random.default_rng(13))
    outcome = simulate(spec, weights, activations, engine="amaranth")
    assert np.array_equal(outcome.results, spec.model(weights, activations))
    if mult == "exact" and assignment is None:
        assert np.array_equal(outcome.results, activations @ weights)
    assert outcome.cycles == 64 + (len(activations) - 1) * spec.interval + spec.latency + 1


FIRST_LINE = MacroSpec(rows=64, mult="log")     # the user's first line, as a spec


@pytest.mark.slow
def test_first_line_of_user_code():
    require("verilator")
    macro = DCiMMacro(rows=64, mult="log")
    assert macro.spec == FIRST_LINE
    weights, activations = extremes(macro.spec, 10, np.random.default_rng(16))
    outcome = simulate(macro, weights, activations)
    assert outcome.engine == "verilator"     # "auto" compiles a macro this large
    assert np.array_equal(outcome.results, macro.model(weights, activations))
    assert outcome.result_cycles[0] - outcome.act_cycles[0] == macro.latency


@pytest.mark.slow
@pytest.mark.parametrize("spec", [
    MacroSpec(rows=64, cols=8),
    MacroSpec(rows=64, cols=8, datapath="bitserial"),
    FIRST_LINE,
], ids=["exact", "bitserial", "log"])
def test_rows64_cols8_many_vectors(spec):
    """A full rows=64, cols=8, 8-bit macro (8 lanes) on a thousand vectors, in Verilator."""
    require("verilator")
    n = 1000
    weights, activations = extremes(spec, n - 3, np.random.default_rng(14))
    outcome = simulate(spec, weights, activations, engine="verilator",
                       ready_pattern="1" * 15 + "0")
    assert np.array_equal(outcome.results, spec.model(weights, activations))
    if spec.mult.kind == "exact" and spec.assignment is None:
        assert np.array_equal(outcome.results, activations @ weights)
    accepted = np.diff(outcome.act_cycles)
    assert accepted.min() == spec.interval     # full rate whenever results are taken


@pytest.mark.slow
def test_rows64_matrix_larger_than_the_macro():
    require("verilator")
    spec = FIRST_LINE   # the model built for the tests above
    weights, activations = operands(spec, np.random.default_rng(15), 20, depth=150)
    outcome = simulate(spec, weights, activations, engine="verilator")
    assert np.array_equal(outcome.results, spec.model(weights, activations))
    assert len(outcome.act_cycles) == 20 * 3
