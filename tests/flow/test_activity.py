import json

import numpy as np
import pytest

from dcim.arith import MultiplierSpec
from dcim.flow import load_pdk, synthesize
from dcim.flow.activity import BlockNetlist, MappedNetlist, Stimulus, pack_bits, unpack_bits


def netlist_of(report, pdk_root):
    library = load_pdk("nangate45", pdk_root).library(report.corner)
    module = json.loads(report.netlist_json_path.read_text())["modules"][report.top]
    return MappedNetlist(module, library)


def test_pack_and_unpack_are_inverse():
    values = np.array([0, 5, -1, 7, 3] * 30)
    assert np.array_equal(unpack_bits(pack_bits(values, 3), len(values)), values & 7)


@pytest.mark.parametrize("kind", ["exact", "mitchell", "log", "drum"])
def test_mapped_netlist_computes_the_model(kind, pdk_root):
    spec = MultiplierSpec(4, kind=kind, options={"k": 3} if kind == "drum" else None)
    netlist = netlist_of(synthesize(spec, pdk_root=pdk_root), pdk_root)
    a, b = (grid.ravel() for grid in np.meshgrid(np.arange(16), np.arange(16)))
    assert np.array_equal(netlist.simulate({"a": a, "b": b})["p"], spec.model(a, b))


def test_counts_follow_the_operands(mul4, pdk_root):
    netlist = netlist_of(mul4, pdk_root)
    a = np.array([0, 1, 0, 1, 1, 1, 0])
    b = np.full(7, 15)
    counts = netlist.count({"a": a, "b": b})
    assert counts.cycles == 7 and counts.transitions == 6
    bit0, bit1 = netlist.inputs["a"][:2]
    assert counts.toggles[bit0] == 4 and counts.rises[bit0] == 2 and counts.ones[bit0] == 4
    assert counts.toggles[bit1] == 0
    assert all(counts.toggles[net] == 0 for net in netlist.inputs["b"])


def test_constant_operands_do_not_switch(mul4, pdk_root):
    counts = netlist_of(mul4, pdk_root).count({"a": np.full(100, 9), "b": np.full(100, 6)})
    assert counts.toggles.sum() == 0
    assert all(rises == falls == 0 for rises, falls in counts.power_counts.values())


def test_operands_must_cover_the_ports(mul4, pdk_root):
    netlist = netlist_of(mul4, pdk_root)
    with pytest.raises(ValueError, match="missing"):
        netlist.count({"a": np.arange(4)})
    with pytest.raises(ValueError, match="same length"):
        netlist.count({"a": np.arange(4), "b": np.arange(5)})


def test_clocked_netlists_need_a_stimulus(tiny_macro, pdk_root):
    _, report = tiny_macro
    netlist = netlist_of(report, pdk_root)
    assert netlist.flop_count == report.sequential_cells > 0
    with pytest.raises(ValueError, match="flip-flops"):
        netlist.count({name: np.zeros(4, dtype=int) for name in netlist.inputs})
    with pytest.raises(TypeError, match="Stimulus"):
        netlist.count_sequential({"rst": np.zeros((4, 1, 1))})
    with pytest.raises(ValueError, match="every input port but the clock"):
        netlist.count_sequential(Stimulus({"rst": np.zeros((4, 1, 1))}, (0, 4)))


def _signed(bits):
    width = bits.shape[-1]
    value = (bits.astype(np.int64) << np.arange(width)).sum(axis=-1)
    return np.where(value >= 1 << (width - 1), value - (1 << width), value)


def test_clocked_simulation_streams_the_macro(tiny_macro, pdk_root):
    from dcim.flow import macro_stimulus

    spec, report = tiny_macro
    netlist = netlist_of(report, pdk_root)
    rng = np.random.default_rng(3)
    weights = rng.integers(-2, 2, size=(2, 2))
    acts = rng.integers(-2, 2, size=(12, 2))
    stimulus = macro_stimulus(spec, {"weights": weights, "activations": acts}, lanes=3)
    outputs = netlist.simulate_sequential(stimulus)
    for lane in range(3):
        cycles = np.nonzero(outputs["result__valid"][:, lane, 0])[0]
        payload = outputs["result__payload"][cycles, lane].reshape(len(cycles), 2, -1)
        assert np.array_equal(_signed(payload), _expected(spec, weights, acts[lane::3]))
    counts = netlist.count_sequential(stimulus)
    start, stop = stimulus.measure
    assert counts.transitions == (stop - start - 1) * 3
    clock = netlist.inputs["clk"][0]
    assert counts.toggles[clock] == counts.transitions  # the clock switches every cycle


def _expected(spec, weights, acts):
    from dcim.macro.model import macro_model

    return macro_model(spec, weights, acts)


@pytest.fixture(scope="module")
def small_hierarchy(pdk_root):
    """A 4x2 log macro (flip-flop array) synthesized block by block: its modules, flat
    netlist and stimulus."""
    from dcim.flow import macro_stimulus
    from dcim.flow.design import macro_design
    from dcim.macro import MacroSpec

    spec = MacroSpec(rows=4, cols=2, weight_bits=3, act_bits=3, mult="log")
    report = synthesize(macro_design(spec, storage="ff"), pdk_root=pdk_root)
    modules = json.loads(report.modules_json_path.read_text())["modules"]
    library = load_pdk("nangate45", pdk_root).library(report.corner)
    return (spec, report, BlockNetlist(modules, report.top, library),
            netlist_of(report, pdk_root), macro_stimulus(spec, lanes=5, beats=6, seed=2))


def test_block_netlist_simulates_as_the_flat_netlist(small_hierarchy):
    spec, report, blocks, flat, stimulus = small_hierarchy
    lane, tree, mult = f"{spec.name}_lane", f"{spec.name}_tree", spec.mult.name
    column = f"{spec.name}_col"
    assert blocks.instances == {report.top: 1, lane: 2, tree: 2, column: 2, mult: 8}
    assert blocks.paths[column] == "array.col0.instance"
    assert blocks.paths[report.top] == "" and blocks.paths[lane] == "lane0.instance"
    assert blocks.paths[mult] == "lane0.instance/mul0.instance"
    assert blocks.paths[tree].startswith("lane0.instance/")
    assert blocks.flop_count == flat.flop_count == report.sequential_cells
    got, expected = blocks.simulate_sequential(stimulus), flat.simulate_sequential(stimulus)
    assert set(got) == set(expected)
    assert all(np.array_equal(got[name], expected[name]) for name in got)
    assert got["result__valid"].sum() > 0


def test_block_counts_are_the_sums_over_instances(small_hierarchy):
    # Every cell of a block, its counts summed over the block's instances, has exactly the
    # counts of those cells in the flat netlist.
    spec, _, blocks, flat, stimulus = small_hierarchy
    counts = blocks.count_sequential(stimulus)
    reference = flat.count_sequential(stimulus)
    index_of = {name: index for index, (name, _, _) in enumerate(flat.instances)}
    prefixes = {blocks.top: [""], f"{spec.name}_lane": ["lane0.instance/", "lane1.instance/"]}
    prefixes[spec.mult.name] = [f"{lane}mul{row}.instance/" for lane in prefixes[
        f"{spec.name}_lane"] for row in range(spec.rows)]
    prefixes[f"{spec.name}_col"] = [f"array.col{col}.instance/" for col in range(spec.cols)]
    tree_instance = blocks.paths[f"{spec.name}_tree"].split("/")[-1]
    prefixes[f"{spec.name}_tree"] = [f"{lane}{tree_instance}/"
                                     for lane in prefixes[f"{spec.name}_lane"]]
    for module, netlist in blocks.netlists.items():
        block = counts[module]
        assert block.transitions == reference.transitions * blocks.instances[module]
        for index, (name, cell, _) in enumerate(netlist.instances):
            flat_indices = [index_of[prefix + name] for prefix in prefixes[module]]
            for pin in cell.pins:
                total = np.sum([reference.pin_transitions.get((flat_index, pin), (0, 0))
                                for flat_index in flat_indices], axis=0)
                assert tuple(total) == tuple(block.pin_transitions.get((index, pin), (0, 0)))
                for group in range(len(cell.pins[pin].internal_power)):
                    key = (index, pin, group)
                    total = np.sum([reference.power_counts.get((flat_index, pin, group), (0, 0))
                                    for flat_index in flat_indices], axis=0)
                    assert tuple(total) == tuple(block.power_counts.get(key, (0, 0)))
            held = block.leakage_counts.get(index, {})
            for group, samples in held.items():
                assert samples == sum(reference.leakage_counts[flat_index].get(group, 0)
                                      for flat_index in flat_indices)


def test_block_netlist_is_checked(small_hierarchy, pdk_root):
    _, report, blocks, _, _ = small_hierarchy
    modules = json.loads(report.modules_json_path.read_text())["modules"]
    library = load_pdk("nangate45", pdk_root).library(report.corner)
    with pytest.raises(ValueError, match="top must be one of the modules"):
        BlockNetlist(modules, "nothing", library)
    # A parent alone cannot be simulated: its block instances need their netlists.
    top = MappedNetlist(modules[report.top], library,
                        {name: {port: (facts["direction"], len(facts["bits"]))
                                for port, facts in modules[name]["ports"].items()}
                         for name in blocks.netlists if name != report.top})
    with pytest.raises(ValueError, match="simulate it with a BlockNetlist"):
        top.simulate_sequential(macro_stimulus_of(report))


def macro_stimulus_of(report):
    return Stimulus({name: np.zeros((3, 1, width), dtype=np.uint8)
                     for name, width in report.inputs.items() if name != report.clock_port},
                    (0, 3))


def test_a_loop_through_a_block_is_refused(pdk_root):
    library = load_pdk("nangate45", pdk_root).library("typ")
    inner = {"ports": {"i": {"direction": "input", "bits": [2]},
                       "o": {"direction": "output", "bits": [3]}},
             "cells": {"u": {"type": "INV_X1", "connections": {"A": [2], "ZN": [3]}}}}
    outer = {"ports": {"y": {"direction": "output", "bits": [4]}},
             "cells": {"b": {"type": "inner", "connections": {"i": [5], "o": [4]}},
                       "g": {"type": "INV_X1", "connections": {"A": [4], "ZN": [5]}}}}
    # The loop runs through the inverter and the block (whose output hangs on its input).
    with pytest.raises(ValueError, match="combinational loop through 'g'"):
        BlockNetlist({"inner": inner, "outer": outer}, "outer", library)


def test_a_parent_alone_cannot_be_counted_combinationally(pdk_root):
    library = load_pdk("nangate45", pdk_root).library("typ")
    outer = {"ports": {"a": {"direction": "input", "bits": [2]},
                       "y": {"direction": "output", "bits": [3]}},
             "cells": {"b": {"type": "inner", "connections": {"i": [2], "o": [3]}}}}
    netlist = MappedNetlist(outer, library, {"inner": {"i": ("input", 1), "o": ("output", 1)}})
    assert [name for name, _ in netlist.block_instances["inner"]] == ["b"]
    with pytest.raises(ValueError, match="simulate it with a BlockNetlist"):
        netlist.simulate({"a": np.arange(2)})
