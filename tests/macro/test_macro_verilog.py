"""Verilog of the macro: the hierarchical text the simulators compile, and the lint-clean
text of dcim.flow.emit_verilog, hierarchical by default and flat on request."""

import re

import numpy as np
import pytest
from amaranth.back import verilog
from macro_helpers import operands, require

from dcim.eda import tools
from dcim.eda.verilog import emit_verilog
from dcim.macro import DCiMMacro, MacroSpec, sim, simulate_program
from dcim.macro.datapath import BitserialLane, MultiplierLane
from dcim.macro.verilog import macro_blocks, macro_verilog
from dcim.verify.hdl import lint_verilog

PORTS = {"clk", "rst", "write__valid", "write__ready", "write__payload", "act__valid",
         "act__ready", "act__payload", "result__valid", "result__ready", "result__payload",
         "busy"}


def _modules(text):
    """The modules defined in ``text``, but Amaranth's wrappers (escaped names like
    ``\\top.lane0``), one per submodule."""
    return re.findall(r"^module ([A-Za-z_]\S*?)\s*\(", text, flags=re.MULTILINE)


def _ports(text, module):
    header = re.search(rf"^module {re.escape(module)}\s*\(([^;]*)\);", text, re.MULTILINE)
    return {port.strip() for port in header.group(1).split(",")}


def _blocks(spec):
    """The module names of a macro's blocks, in the order they are written."""
    mult = [spec.mult.name] if spec.datapath == "multiplier" else []
    return [*mult, f"{spec.name}_tree", f"{spec.name}_lane", f"{spec.name}_col",
            f"{spec.name}_ctrl"]


def test_hierarchical_verilog_of_the_multiplier_datapath(tmp_path):
    spec = MacroSpec(rows=6, cols=4, weight_bits=4, act_bits=4, mult="mitchell", col_mux=2)
    text = macro_verilog(spec, tmp_path / "macro.v")
    assert (tmp_path / "macro.v").read_text() == text
    assert _modules(text) == [*_blocks(spec), spec.name]
    assert _ports(text, spec.name) == PORTS
    assert _ports(text, f"{spec.name}_lane") == {"weights", "acts", "sum"}
    assert _ports(text, f"{spec.name}_tree") == {"terms", "sum"}
    assert _ports(text, f"{spec.name}_ctrl") == {
        "clk", "rst", "write_valid", "write_mask", "write_ready", "write_en", "act__valid",
        "act__ready", "act__payload", "result__valid", "result__ready", "result__payload",
        "busy", "acts", "group", "sums__0", "sums__1"}
    assert _ports(text, spec.mult.name) == {"a", "b", "p"}
    assert _ports(text, f"{spec.name}_col") == {
        "clk", "rst", "addr", "data", "en", *(f"weights__{row}" for row in range(spec.rows))}
    # Each block is written once and instantiated: two lanes, six multipliers and one tree
    # per lane, a weight column per column, one controller.
    for module, count in ((f"{spec.name}_lane", 2), (spec.mult.name, 6),
                          (f"{spec.name}_tree", 1), (f"{spec.name}_col", 4),
                          (f"{spec.name}_ctrl", 1)):
        assert len(re.findall(rf"^\s*{re.escape(module)}\s", text, re.MULTILINE)) == count


def test_hierarchical_verilog_of_the_bitserial_datapath():
    spec = MacroSpec(rows=3, cols=2, weight_bits=2, act_bits=3, datapath="bitserial")
    text = macro_verilog(DCiMMacro(spec=spec))
    assert _modules(text) == [*_blocks(spec), spec.name]
    assert spec.mult.name not in _modules(text)
    assert _ports(text, f"{spec.name}_lane") == {"weights", "bits", "sum"}
    assert {"bits", "sums__0", "sums__1"} <= _ports(text, f"{spec.name}_ctrl")


def test_flat_verilog_has_the_same_ports():
    spec = MacroSpec(rows=2, cols=2, weight_bits=2, act_bits=2)
    text = verilog.convert(spec.component(), name=spec.name, emit_src=False)
    assert _ports(text, spec.name) == PORTS


@pytest.mark.parametrize("spec", [
    MacroSpec(rows=5, cols=2, weight_bits=4, act_bits=3, mult="log"),
    MacroSpec(rows=6, cols=2, weight_bits=3, act_bits=3, mult="approx",
              assignment={"columns": {"0": "acci1", "1": "kong2"}}),
    MacroSpec(rows=5, cols=2, weight_bits=4, act_bits=3, datapath="bitserial", signed=False,
              assignment={"columns": {"0": "acci1", "1": "acci1"}}),
], ids=["log", "approx", "bitserial"])
def test_lanes_are_lint_clean(spec):
    """The datapath lanes (multipliers and adder tree) are clean under -Wall today."""
    require("verilator")
    lane = (MultiplierLane if spec.datapath == "multiplier" else BitserialLane)(spec)
    name = f"{spec.name}_lane"
    assert lint_verilog(emit_verilog(lane, name=name), top=name) == ""


@pytest.mark.parametrize("spec", [
    MacroSpec(rows=3, cols=4, weight_bits=3, act_bits=3, col_mux=2),
    MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=3, mult="log", signed=False,
              assignment={"columns": {"0": "acci1", "1": "acci1"}}),
    MacroSpec(rows=3, cols=4, weight_bits=2, act_bits=3, datapath="bitserial", col_mux=4),
], ids=["exact", "log", "bitserial"])
def test_flat_macro_is_lint_clean(spec):
    """The whole macro (registers, memory, lanes) as one module: emit_verilog's flat option."""
    require("verilator")
    text = emit_verilog(spec, hierarchical=False)
    assert _modules(text) == [spec.name]
    assert _ports(text, spec.name) == PORTS
    assert lint_verilog(text, top=spec.name) == ""


@pytest.mark.parametrize("spec", [
    MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=3, mult="log", signed=False,
              assignment={"columns": {"0": "acci1", "1": "acci1"}}),
    MacroSpec(rows=3, cols=4, weight_bits=2, act_bits=3, datapath="bitserial", col_mux=2),
    MacroSpec(rows=6, cols=4, weight_bits=3, act_bits=3, col_mux=2, mult="log", pipeline=2),
    MacroSpec(rows=3, cols=4, weight_bits=2, act_bits=3, datapath="bitserial", pipeline=1),
], ids=["log", "bitserial", "log-p2", "bitserial-p1"])
def test_lint_clean_verilog_simulates_like_the_component(spec, tmp_path):
    """The text emit_verilog writes runs the testbench protocol exactly as the component."""
    require("iverilog")
    rng = np.random.default_rng(18)
    weights, xs = operands(spec, rng, 5)
    program = [("write", row, weights[row]) for row in range(spec.rows)]
    program += [("act", x) for x in xs[:3]] + [("act", xs[3], True, False), ("reset",)]
    program += [("act", xs[4], False, True)]
    reference = simulate_program(spec, program, engine="amaranth", ready_pattern="101")
    encoded = [sim._encode(spec, operation) for operation in program]
    sim._compile(spec, "iverilog", tmp_path, tools, text=emit_verilog(spec))
    trace = sim._run_compiled(spec, "iverilog", encoded, (1, 0, 1), (1,), 1000,
                              directory=tmp_path)
    assert trace.cycles == reference.cycles
    assert tuple(trace.act_cycles) == reference.act_cycles
    assert tuple(trace.result_cycles) == reference.result_cycles
    assert np.array_equal(sim._decode(spec, trace.words), reference.results)


HIERARCHICAL = [
    MacroSpec(rows=3, cols=4, weight_bits=3, act_bits=3, col_mux=2),
    MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=3, mult="log", signed=False,
              assignment={"columns": {"0": "acci1", "1": "acci1"}}),
    MacroSpec(rows=5, cols=3, weight_bits=4, act_bits=4, mult="mitchell"),
    MacroSpec(rows=6, cols=2, weight_bits=3, act_bits=3, mult="approx",
              assignment={"columns": {"0": "acci1", "1": "kong2"}}),
    MacroSpec(rows=3, cols=4, weight_bits=2, act_bits=3, datapath="bitserial", col_mux=4),
    MacroSpec(rows=5, cols=2, weight_bits=4, act_bits=3, datapath="bitserial", signed=False,
              assignment={"columns": {"0": "acci1", "1": "acci1"}}),
    MacroSpec(rows=6, cols=4, weight_bits=3, act_bits=3, col_mux=2, pipeline=2),
    MacroSpec(rows=5, cols=2, weight_bits=3, act_bits=3, datapath="bitserial", pipeline=1),
]
HIERARCHICAL_IDS = ["exact-cm2", "log-u-approx-tree", "mitchell", "approx-mult-tree",
                    "bitserial-cm4", "bitserial-u-approx-tree", "pipelined", "bitserial-p1"]


def _instances(text, module, instantiated):
    """Instances of ``instantiated`` inside the definition of ``module``."""
    body = re.search(rf"^module {re.escape(module)} \(.*?^endmodule", text,
                     re.MULTILINE | re.DOTALL).group(0)
    return re.findall(rf"^  {re.escape(instantiated)} (\w+) \(", body, re.MULTILINE)


@pytest.mark.parametrize("spec", HIERARCHICAL, ids=HIERARCHICAL_IDS)
def test_hierarchical_macro_is_lint_clean_and_each_module_written_once(spec, tmp_path):
    require("verilator")
    text = emit_verilog(spec, tmp_path / "macro.v")
    assert (tmp_path / "macro.v").read_text() == text
    lane = f"{spec.name}_lane"
    # Each distinct module exactly once, the instantiated ones first.
    assert _modules(text) == [*_blocks(spec), spec.name]
    assert len(re.findall(r"^module ", text, re.MULTILINE)) == len(_blocks(spec)) + 1
    if spec.datapath == "multiplier":
        assert _ports(text, spec.mult.name) == {"a", "b", "p"}
        # Defined once, instantiated rows times in the lane, which the macro has lanes of.
        assert len(_instances(text, lane, spec.mult.name)) == spec.rows
    assert len(_instances(text, lane, f"{spec.name}_tree")) == 1
    assert _ports(text, spec.name) == PORTS
    assert len(_instances(text, spec.name, lane)) == spec.lanes
    assert len(_instances(text, spec.name, f"{spec.name}_ctrl")) == 1
    assert "lint_off" not in text
    assert lint_verilog(text, top=spec.name, workdir=tmp_path / "lint") == ""


def _icarus_results(spec, text, weights, xs, workdir):
    """Results of the macro Verilog ``text`` in Icarus, through the simulators' protocol."""
    program = [("write", row, weights[row]) for row in range(spec.rows)]
    program += [("act", x) for x in xs]
    encoded = [sim._encode(spec, operation) for operation in program]
    sim._compile(spec, "iverilog", workdir, tools, text=text)
    trace = sim._run_compiled(spec, "iverilog", encoded, (1, 1, 0), (1,), 2000,
                              directory=workdir)
    assert len(trace.words) == len(xs)
    return sim._decode(spec, trace.words)


@pytest.mark.slow
def test_rows_64_macro_is_512_instances_of_one_multiplier_and_matches_the_model(tmp_path):
    """DCiMMacro(rows=64, mult="log"): the user's first line, in Icarus against its model."""
    require("iverilog")
    macro = DCiMMacro(rows=64, mult="log")
    spec = macro.spec
    text = emit_verilog(macro)
    assert _modules(text) == [*_blocks(spec), spec.name]
    assert len(_instances(text, f"{spec.name}_lane", spec.mult.name)) == 64
    assert len(_instances(text, spec.name, f"{spec.name}_lane")) == 8
    rng = np.random.default_rng(64)
    weights, xs = operands(spec, rng, 4)
    weights[0], xs[0] = 127, -128
    assert np.array_equal(_icarus_results(spec, text, weights, xs, tmp_path),
                          spec.model(weights, xs))


def test_macro_blocks_lists_each_distinct_module_once():
    spec = MacroSpec(rows=3, cols=4, weight_bits=3, act_bits=3, col_mux=2)
    blocks = macro_blocks(spec)
    assert [block.module for block in blocks] == [*_blocks(spec), spec.name]
    flat = macro_blocks(spec, "top", hierarchical=False)
    assert [block.module for block in flat] == ["top"]
    for block in [*blocks, *flat]:
        verilog.convert(block.make(), name=block.module, platform=block.platform)
    with pytest.raises(TypeError, match="macro must be a DCiMMacro or a MacroSpec, not 42"):
        macro_blocks(42)
    with pytest.raises(TypeError, match="macro must be a DCiMMacro or a MacroSpec, not 42"):
        macro_verilog(42)


def test_hierarchical_names_and_options():
    spec = MacroSpec(rows=2, cols=2, weight_bits=2, act_bits=2)
    text = emit_verilog(DCiMMacro(spec=spec), name="my_macro")
    # The top takes the name; the blocks keep the names derived from the spec.
    assert _modules(text) == [*_blocks(spec), "my_macro"]
    with pytest.raises(ValueError, match="name must be a legal Verilog identifier, not 'wire'"):
        emit_verilog(spec, name="wire")
    with pytest.raises(ValueError, match="name must differ from the names of the design's "
                                         f"blocks, not '{spec.name}_lane'"):
        emit_verilog(spec, name=f"{spec.name}_lane")
    with pytest.raises(TypeError, match="hierarchical must be a bool, not 'yes'"):
        emit_verilog(spec, hierarchical="yes")


@pytest.mark.parametrize("spec", [HIERARCHICAL[0], HIERARCHICAL[3], HIERARCHICAL[4],
                                  HIERARCHICAL[5]],
                         ids=["exact-cm2", "approx-mult-tree", "bitserial-cm4",
                              "bitserial-u-approx-tree"])
def test_hierarchical_verilog_in_icarus_matches_the_golden_model(spec, tmp_path):
    """Icarus runs the hierarchical text through the simulators' testbench protocol."""
    require("iverilog")
    rng = np.random.default_rng(2026)
    weights, xs = operands(spec, rng, 12)
    weights[0], xs[0] = spec.value_range(spec.weight_bits)[1], spec.value_range(spec.act_bits)[0]
    assert np.array_equal(_icarus_results(spec, emit_verilog(spec), weights, xs, tmp_path),
                          spec.model(weights, xs))
