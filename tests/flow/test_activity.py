import json

import numpy as np
import pytest

from dcim.arith import MultiplierSpec
from dcim.flow import load_pdk, synthesize
from dcim.flow.activity import MappedNetlist, Stimulus, pack_bits, unpack_bits


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
