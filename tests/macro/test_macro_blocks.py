"""Tests for dcim/macro/blocks.py: the macro's blocks (lane, adder tree, weight column,
controller), their
names and what the writers and the flow make of them."""

import numpy as np
import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from dcim.eda.blocks import BlockPlatform, block_order, is_block
from dcim.eda.verilog import is_verilog_identifier
from dcim.macro import DCiMMacro, MacroSpec
from dcim.macro.blocks import ColumnSpec, ControllerSpec, LaneSpec, TreeSpec
from dcim.macro.datapath import AdderTree

SPECS = [
    MacroSpec(rows=3, cols=4, weight_bits=3, act_bits=3, col_mux=2),
    MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=3, mult="log", signed=False,
              assignment={"columns": {"0": "acci1", "1": "acci1"}}),
    MacroSpec(rows=3, cols=2, weight_bits=2, act_bits=3, datapath="bitserial"),
    MacroSpec(rows=5, cols=4, weight_bits=3, act_bits=3, col_mux=2, pipeline=1),
]
IDS = ["exact-cm2", "log-u-approx-tree", "bitserial", "pipelined-cm2"]


def _elaborated(component):
    """``component`` after elaboration (Amaranth warns about components never elaborated)."""
    Fragment.get(component, None)
    return component


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_each_spec_lists_its_distinct_sub_blocks(spec):
    lane, tree, ctrl = LaneSpec(spec), TreeSpec(spec), ControllerSpec(spec)
    column = ColumnSpec(spec)
    assert spec.blocks() == (lane, column, ctrl)
    assert lane.tree == tree
    if spec.datapath == "multiplier":
        assert lane.blocks() == (spec.mult, tree)
    else:
        assert lane.blocks() == (tree,)
    assert tree.blocks() == ctrl.blocks() == column.blocks() == spec.mult.blocks() == ()
    order = block_order(spec)
    assert order[-1] == spec and order[-2] == ctrl and order[-3] == column
    assert order[-4] == lane
    assert all(is_block(block) for block in order)
    # Clocked blocks have clk and rst; the datapath is combinational unless pipelined.
    assert spec.clocked and ctrl.clocked and column.clocked
    assert lane.clocked == tree.clocked == bool(spec.pipeline)
    assert not getattr(spec.mult, "clocked", False)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_names_are_identifiers_derived_from_the_macro_and_distinct(spec):
    order = block_order(spec)
    names = [block.name for block in order]
    assert len(set(names)) == len(names)
    assert all(is_verilog_identifier(name) for name in names)
    assert LaneSpec(spec).name == f"{spec.name}_lane"
    assert TreeSpec(spec).name == f"{spec.name}_tree"
    assert ControllerSpec(spec).name == f"{spec.name}_ctrl"
    assert ColumnSpec(spec).name == f"{spec.name}_col"


def test_names_follow_the_content():
    spec = SPECS[1]
    # Equal specs, however made, give equal blocks, hashes and names.
    again = MacroSpec.from_dict(spec.to_dict())
    assert block_order(again) == block_order(spec)
    assert {hash(block) for block in block_order(again)} == {hash(b) for b in block_order(spec)}
    # A change in the tree, or anywhere in the macro, renames every part; an unchanged
    # multiplier keeps its name.
    exact_tree = spec.replace(assignment=None)
    assert TreeSpec(exact_tree).name != TreeSpec(spec).name
    assert LaneSpec(exact_tree).name != LaneSpec(spec).name
    wider = spec.replace(cols=4)
    assert ControllerSpec(wider) != ControllerSpec(spec)
    assert ControllerSpec(wider).name != ControllerSpec(spec).name
    assert wider.mult == spec.mult
    # Parts of one macro are different blocks, even where their names share the macro's.
    assert LaneSpec(spec) != TreeSpec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_components_have_the_signatures_the_specs_state(spec):
    for block in block_order(spec)[:-1]:
        assert _elaborated(block.component()).signature == block.signature, block.name
    macro = spec.component()
    assert macro.signature == spec.signature
    assert macro.spec == spec


@pytest.mark.parametrize("pipeline", [0, 2])
def test_pipelined_lanes_and_trees_are_clocked_and_advance_with_the_controller(pipeline):
    spec = MacroSpec(rows=5, cols=2, weight_bits=3, act_bits=3, pipeline=pipeline)
    lane, tree, ctrl = LaneSpec(spec), TreeSpec(spec), ControllerSpec(spec)
    assert lane.clocked == tree.clocked == bool(pipeline)
    # Only the controller stays in its parent in the flow; pipelined lanes remain blocks.
    assert ctrl.clocked and ctrl.in_parent
    assert not hasattr(lane, "in_parent") and not hasattr(tree, "in_parent")
    for block, member in ((lane, "en"), (tree, "en"), (ctrl, "advance")):
        assert (member in block.signature.members) == bool(pipeline), block.name


def test_parts_need_a_macro_spec():
    for part in (LaneSpec, TreeSpec, ColumnSpec, ControllerSpec):
        with pytest.raises(TypeError, match="macro must be a MacroSpec, not 42"):
            part(42)


def _tree_sums(spec, terms, stall=0):
    """The tree's sums of ``terms``, a row per cycle; ``stall`` idle cycles (``en`` low) after
    each row when pipelined, and the first ``lane_latency`` sums dropped."""
    tree = AdderTree(spec)
    sums = []

    async def bench(ctx):
        if not spec.pipeline:
            for row in terms:
                for index, value in enumerate(row):
                    ctx.set(tree.terms[index], int(value))
                sums.append(ctx.get(tree.sum))
            return
        for row in [*terms, *[terms[0]] * spec.lane_latency]:
            for index, value in enumerate(row):
                ctx.set(tree.terms[index], int(value))
            ctx.set(tree.en, 1)
            sums.append(ctx.get(tree.sum))
            await ctx.tick()
            ctx.set(tree.en, 0)
            if stall:
                await ctx.tick().repeat(stall)

    simulator = Simulator(tree)
    if spec.pipeline:
        simulator.add_clock(1e-6)
    simulator.add_testbench(bench)
    simulator.run()
    return np.array(sums[spec.lane_latency:])


def test_adder_tree_sums_its_terms():
    spec = MacroSpec(rows=5, cols=1, weight_bits=3, act_bits=3)
    low, high = -(1 << (spec.product_width - 1)), (1 << (spec.product_width - 1)) - 1
    rng = np.random.default_rng(5)
    terms = rng.integers(low, high + 1, size=(40, spec.rows))
    terms[0], terms[1] = low, high
    assert np.array_equal(_tree_sums(spec, terms), terms.sum(axis=1))


@pytest.mark.parametrize("pipeline,stall", [(1, 0), (2, 2), (9, 1)])
def test_pipelined_adder_tree_delivers_sums_lane_latency_advances_later(pipeline, stall):
    spec = MacroSpec(rows=5, cols=1, weight_bits=3, act_bits=3, pipeline=pipeline)
    rng = np.random.default_rng(6)
    low, high = -(1 << (spec.product_width - 1)), (1 << (spec.product_width - 1)) - 1
    terms = rng.integers(low, high + 1, size=(20, spec.rows))
    assert np.array_equal(_tree_sums(spec, terms, stall), terms.sum(axis=1))


def _macro_results(spec, platform, weights, xs):
    """Results of ``DCiMMacro(spec)`` elaborated on ``platform`` in Amaranth's simulator."""
    macro = DCiMMacro(spec=spec)
    fragment = Fragment.get(macro, platform)
    results = []

    async def bench(ctx):
        ctx.set(macro.result.ready, 1)
        for row in range(spec.rows):
            ctx.set(macro.write.payload.addr, row)
            ctx.set(macro.write.payload.data, [int(w) for w in weights[row]])
            ctx.set(macro.write.payload.mask, (1 << spec.cols) - 1)
            ctx.set(macro.write.valid, 1)
            await ctx.tick().until(macro.write.ready)
        ctx.set(macro.write.valid, 0)
        for x in xs:
            ctx.set(macro.act.payload.data, [int(v) for v in x])
            ctx.set(macro.act.payload.first, 1)
            ctx.set(macro.act.payload.last, 1)
            ctx.set(macro.act.valid, 1)
            await ctx.tick().until(macro.act.ready)
        ctx.set(macro.act.valid, 0)
        while len(results) < len(xs):
            await ctx.tick()

    async def collect(ctx):
        async for _, _, payload, valid in ctx.tick().sample(macro.result.payload,
                                                            macro.result.valid):
            if valid:
                results.append([payload[col] for col in range(spec.cols)])

    simulator = Simulator(fragment)
    simulator.add_clock(1e-6)
    simulator.add_testbench(bench)
    simulator.add_process(collect)
    simulator.run()
    return np.array(results)


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[2]], ids=["exact-cm2", "bitserial"])
def test_the_writers_flat_macro_computes_the_golden_model(spec):
    # On a flat BlockPlatform every block is its own component and the array is registers:
    # what emit_verilog(hierarchical=False) and the flow write.
    rng = np.random.default_rng(3)
    low, high = spec.value_range(spec.weight_bits)
    weights = rng.integers(low, high + 1, size=(spec.rows, spec.cols))
    low, high = spec.value_range(spec.act_bits)
    xs = rng.integers(low, high + 1, size=(4, spec.rows))
    got = _macro_results(spec, BlockPlatform(hierarchical=False), weights, xs)
    assert np.array_equal(got, spec.model(weights, xs))


def test_the_writers_array_is_a_column_block_per_column():
    spec = SPECS[0]
    fragment = Fragment.get(DCiMMacro(spec=spec), BlockPlatform())
    array = {name: sub for sub, name, _ in fragment.subfragments}["array"]
    columns = {name: sub for sub, name, _ in array.subfragments}
    assert sorted(columns) == sorted(f"col{col}" for col in range(spec.cols))
    # Each column is an instance of the one column block's module.
    kinds = {sub.subfragments[0][0].type for sub in columns.values()}
    assert kinds == {ColumnSpec(spec).name}


def test_column_array_needs_a_divisor_of_cols():
    from dcim.macro import ColumnArray

    spec = SPECS[0]
    for columns in (3, 0, True):
        with pytest.raises(ValueError, match=rf"columns must be a divisor of cols \(4\), "
                                             rf"not {columns!r}"):
            ColumnArray(spec, lambda: None, columns)
