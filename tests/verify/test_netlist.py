import json
import os
import stat
import tempfile
from dataclasses import dataclass

import numpy as np
import pytest
from amaranth.hdl import Const, Fragment, Module, Mux, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator
from doubles import FakeSpec
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dcim.eda.tools import ToolError, ToolNotFoundError
from dcim.verify.netlist import (
    CheckReport,
    GateNetlist,
    NetlistError,
    check_against_model,
    check_exhaustive,
    planes_from_values,
    values_from_planes,
)


class Mixed(wiring.Component):
    """Several ports and operators, so that synthesis uses muxes and inverted gates."""

    def __init__(self):
        super().__init__({"x": In(signed(5)), "y": In(unsigned(3)), "s": In(1),
                          "q": Out(signed(7)), "r": Out(3), "t": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [
            self.q.eq(Mux(self.s, self.x - self.y, self.x >> self.y)),
            self.r.eq(Const(0b10110110, 8).bit_select(self.y, 3)),
            self.t.eq((self.x < -3) | ~(self.y.any() & self.s)),
        ]
        return m


@pytest.fixture(scope="module")
def netlist_of(tmp_path_factory):
    cache = {}

    def build(spec):
        if spec not in cache:
            workdir = tmp_path_factory.mktemp(spec.name)
            cache[spec] = GateNetlist.from_design(spec, workdir=workdir)
        return cache[spec]

    return build


def simulate_amaranth(component, inputs, outputs):
    """Evaluate a combinational component with the Amaranth simulator."""
    results = {port: [] for port in outputs}
    count = len(next(iter(inputs.values())))

    async def testbench(ctx):
        for index in range(count):
            for port, values in inputs.items():
                ctx.set(getattr(component, port), int(values[index]))
            for port in outputs:
                results[port].append(ctx.get(getattr(component, port)))

    simulator = Simulator(component)
    simulator.add_testbench(testbench)
    simulator.run()
    return {port: np.array(values, dtype=np.int64) for port, values in results.items()}


@pytest.mark.parametrize("is_signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("width", range(2, 9))
def test_exact_designs_pass_exhaustively(netlist_of, width, is_signed):
    spec = FakeSpec(width, is_signed)
    report = check_exhaustive(spec, netlist=netlist_of(spec))
    assert report.ok, report
    assert report.exhaustive
    assert report.vectors == 4 ** width
    assert report.design == spec.name
    report.raise_for_mismatch()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("spec", [FakeSpec(4, False, True), FakeSpec(4, True, True),
                                  FakeSpec(7, True, True)], ids=lambda spec: spec.name)
def test_wrong_design_is_caught_exhaustively(netlist_of, spec, threads):
    report = check_exhaustive(spec, netlist=netlist_of(spec), threads=threads,
                              chunk_size=64)
    assert not report.ok
    assert report.mismatches == 1
    assert report.examples == ((3, 5, 14, 15),)
    with pytest.raises(AssertionError, match=r"a=3 b=5: got 14, expected 15"):
        report.raise_for_mismatch()


def test_wrong_design_is_caught_on_given_vectors(netlist_of):
    spec = FakeSpec(6, False, True)
    report = check_against_model(spec, [1, 3, 3, 63], [5, 5, 4, 63],
                                 netlist=netlist_of(spec))
    assert (report.vectors, report.mismatches, report.examples) == (4, 1, ((3, 5, 14, 15),))
    assert not report.exhaustive


@dataclass(frozen=True)
class OverflowingModel(FakeSpec):
    """An exact design whose model is wrong at a=b=2 by more than the product port holds."""

    def model(self, a, b):
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        return a * b + ((a == 2) & (b == 2)) * (1 << (2 * self.width))

    @property
    def name(self):
        return FakeSpec(self.width, self.signed).name


@pytest.mark.parametrize("is_signed", [False, True], ids=["unsigned", "signed"])
def test_model_values_the_port_cannot_hold_are_mismatches(netlist_of, is_signed):
    spec = OverflowingModel(4, is_signed)
    netlist = netlist_of(FakeSpec(4, is_signed))
    report = check_exhaustive(spec, netlist=netlist)
    assert (report.mismatches, report.examples) == (1, ((2, 2, 4, 260),))
    report = check_against_model(spec, [2, 3], [2, 2], netlist=netlist)
    assert (report.mismatches, report.examples) == (1, ((2, 2, 4, 260),))


@settings(deadline=None, max_examples=25)
@given(data=st.data(), width=st.integers(2, 8), is_signed=st.booleans())
@example(data=None, width=8, is_signed=True)
def test_check_against_model_on_drawn_operands(netlist_of, data, width, is_signed):
    spec = FakeSpec(width, is_signed)
    low, high = spec.operand_range()
    if data is None:   # the extremes: zero, maximum and most negative
        a, b = [low, low, high, 0, high], [low, high, high, low, 0]
    else:
        operands = st.lists(st.integers(low, high), min_size=1, max_size=50)
        a = data.draw(operands)
        b = data.draw(st.lists(st.integers(low, high), min_size=len(a), max_size=len(a)))
    report = check_against_model(spec, a, b, netlist=netlist_of(spec))
    assert report.ok and report.vectors == len(a)


@pytest.mark.parametrize("is_signed", [False, True], ids=["unsigned", "signed"])
def test_evaluate_matches_amaranth_simulator(netlist_of, is_signed):
    spec = FakeSpec(8, is_signed)
    low, high = spec.operand_range()
    rng = np.random.default_rng(8)
    a = np.concatenate([[low, low, high, 0], rng.integers(low, high + 1, 300)])
    b = np.concatenate([[low, high, high, 0], rng.integers(low, high + 1, 300)])
    got = netlist_of(spec).evaluate({"a": a, "b": b})
    expected = simulate_amaranth(spec.component(), {"a": a, "b": b}, ["p"])
    np.testing.assert_array_equal(got["p"], expected["p"])
    assert got["p"].dtype == np.int64


def test_evaluate_matches_simulator_on_mixed_logic(tmp_path):
    netlist = GateNetlist.from_design(Mixed(), workdir=tmp_path)
    assert netlist.signed == {"x": True, "y": False, "s": False, "q": True, "r": False,
                              "t": False}
    rng = np.random.default_rng(5)
    inputs = {"x": rng.integers(-16, 16, 300), "y": rng.integers(0, 8, 300),
              "s": rng.integers(0, 2, 300)}
    got = netlist.evaluate(inputs)
    expected = simulate_amaranth(Mixed(), inputs, ["q", "r", "t"])
    for port in ("q", "r", "t"):
        np.testing.assert_array_equal(got[port], expected[port], err_msg=port)


def test_evaluate_words_uses_64_vectors_per_word(netlist_of):
    netlist = netlist_of(FakeSpec(5, False))
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 32, 640), rng.integers(0, 32, 640)
    planes = netlist.evaluate_words({"a": list(planes_from_values(a, 5)),
                                     "b": list(planes_from_values(b, 5))})
    assert len(planes["p"]) == 10 and planes["p"][0].shape == (10,)
    np.testing.assert_array_equal(values_from_planes(planes["p"]), a * b)
    with pytest.raises(ValueError, match="port 'a' needs 5 bit planes, not 4"):
        netlist.evaluate_words({"a": list(planes_from_values(a, 4)),
                                "b": list(planes_from_values(b, 5))})


def test_netlist_facts(netlist_of):
    netlist = netlist_of(FakeSpec(8, True))
    assert netlist.name == "mul8s_exact"
    assert netlist.inputs == {"a": 8, "b": 8} and netlist.outputs == {"p": 16}
    assert netlist.gate_count == sum(netlist.cell_counts.values()) > 100
    assert set(netlist.cell_counts) <= {"$_AND_", "$_NAND_", "$_OR_", "$_NOR_", "$_XOR_",
                                        "$_XNOR_", "$_ANDNOT_", "$_ORNOT_", "$_MUX_", "$_NOT_"}
    assert 0 < netlist.operation_count <= 2 * netlist.gate_count
    assert netlist.log_path.exists() and "JSON backend" in netlist.log_path.read_text()
    assert netlist.verilog_path.read_text().count("module mul8s_exact") == 1


def test_without_workdir_nothing_is_left_behind(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    created = []
    monkeypatch.setattr(tempfile, "mkdtemp", _recording(tempfile.mkdtemp, created))
    netlist = GateNetlist.from_design(FakeSpec(2, True))
    assert netlist.log_path is None and "JSON backend" in netlist.log
    assert created and list(tmp_path.iterdir()) == []


def _recording(function, calls):
    def wrapper(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)
    return wrapper


def test_evaluate_rejects_out_of_range_values(netlist_of):
    netlist = netlist_of(FakeSpec(4, True))
    with pytest.raises(ValueError, match="value 8 does not fit signed 4-bit port 'a'"):
        netlist.evaluate({"a": [8], "b": [0]})
    with pytest.raises(ValueError, match="inputs must include port 'b'"):
        netlist.evaluate({"a": [1]})


@pytest.mark.parametrize("width", [1, 7, 31, 32, 33, 64])
@pytest.mark.parametrize("is_signed", [False, True], ids=["unsigned", "signed"])
def test_planes_round_trip(width, is_signed):
    rng = np.random.default_rng(width)
    raw = rng.integers(0, 1 << 62, 200, dtype=np.int64).view(np.uint64) << np.uint64(2)
    raw ^= rng.integers(0, 4, 200).astype(np.uint64)
    if width < 64:
        raw &= np.uint64((1 << width) - 1)
    planes = planes_from_values(raw, width)
    for bit in range(width):
        reference = ((raw >> np.uint64(bit)) & np.uint64(1)).astype(np.uint8)
        packed = np.packbits(np.pad(reference, (0, 56)), bitorder="little").view(np.uint64)
        np.testing.assert_array_equal(planes[bit], packed)
    values = values_from_planes(planes, 200, signed=is_signed)
    if is_signed:
        expected = [int(v) - (1 << width) if int(v) >> (width - 1) else int(v) for v in raw]
    else:
        expected = [int(v) for v in raw]
    assert [int(v) for v in values] == expected


def _gate_netlist(cells, outputs, inputs=4):
    """A Yosys-style JSON netlist with input bits 2.. and the given cells and output bits."""
    return json.dumps({"modules": {"top": {
        "ports": {"a": {"direction": "input", "bits": list(range(2, 2 + inputs))},
                  "y": {"direction": "output", "bits": outputs}},
        "cells": {f"c{index}": cell for index, cell in enumerate(cells)},
        "netnames": {}}}})


_GATE_FUNCTIONS = {
    "$_BUF_": lambda a, b, c, d: a, "$_NOT_": lambda a, b, c, d: 1 - a,
    "$_AND_": lambda a, b, c, d: a & b, "$_NAND_": lambda a, b, c, d: 1 - (a & b),
    "$_OR_": lambda a, b, c, d: a | b, "$_NOR_": lambda a, b, c, d: 1 - (a | b),
    "$_XOR_": lambda a, b, c, d: a ^ b, "$_XNOR_": lambda a, b, c, d: 1 - (a ^ b),
    "$_ANDNOT_": lambda a, b, c, d: a & (1 - b), "$_ORNOT_": lambda a, b, c, d: a | (1 - b),
    "$_MUX_": lambda a, b, s, d: b if s else a, "$_NMUX_": lambda a, b, s, d: 1 - (b if s else a),
    "$_AOI3_": lambda a, b, c, d: 1 - ((a & b) | c),
    "$_OAI3_": lambda a, b, c, d: 1 - ((a | b) & c),
    "$_AOI4_": lambda a, b, c, d: 1 - ((a & b) | (c & d)),
    "$_OAI4_": lambda a, b, c, d: 1 - ((a | b) & (c | d)),
}
_PORTS = {"$_MUX_": "ABS", "$_NMUX_": "ABS", "$_AOI3_": "ABC", "$_OAI3_": "ABC",
          "$_AOI4_": "ABCD", "$_OAI4_": "ABCD", "$_BUF_": "A", "$_NOT_": "A"}


@pytest.mark.parametrize("inverted", [False, True], ids=["plain", "inverted-inputs"])
def test_every_gate_type(inverted):
    # Each gate reads the inputs directly or through NOT gates, which exercises the compiler's
    # polarity tracking (inverted inputs are folded into the gate, not computed).
    cells, outputs, next_bit = [], [], 100
    sources = [2, 3, 4, 5]
    if inverted:
        for index, bit in enumerate(sources):
            cells.append({"type": "$_NOT_", "connections": {"A": [bit], "Y": [50 + index]}})
        sources = [50, 51, 52, 53]
    for kind in _GATE_FUNCTIONS:
        ports = _PORTS.get(kind, "AB")
        connections = {port: [sources[index]] for index, port in enumerate(ports)}
        connections["Y"] = [next_bit]
        cells.append({"type": kind, "connections": connections})
        outputs.append(next_bit)
        next_bit += 1
    netlist = GateNetlist.from_json(_gate_netlist(cells, outputs), top="top")
    patterns = np.arange(16)
    got = netlist.evaluate({"a": patterns})["y"]
    for pattern in range(16):
        bits = [(pattern >> k) & 1 for k in range(4)]
        if inverted:
            bits = [1 - bit for bit in bits]
        for position, function in enumerate(_GATE_FUNCTIONS.values()):
            assert (int(got[pattern]) >> position) & 1 == function(*bits), (pattern, position)


def test_constants_x_and_z_evaluate_as_zero():
    cells = [{"type": "$_OR_", "connections": {"A": [2], "B": ["x"], "Y": [10]}},
             {"type": "$_XNOR_", "connections": {"A": ["z"], "B": ["1"], "Y": [11]}}]
    netlist = GateNetlist.from_json(_gate_netlist(cells, ["x", "1", "z", "0", 10, 11, 99], 1),
                                    top="top")
    got = netlist.evaluate({"a": [0, 1]})["y"]
    assert [int(v) for v in got] == [0b0000010, 0b0010010]


def test_flip_flops_are_rejected():
    cells = [{"type": "$_DFF_P_", "connections": {"C": [2], "D": [3], "Q": [10]}}]
    with pytest.raises(NetlistError, match=r"cell type \$_DFF_P_ is not supported"):
        GateNetlist.from_json(_gate_netlist(cells, [10]), top="top")


def test_loops_are_rejected():
    cells = [{"type": "$_AND_", "connections": {"A": [2], "B": [11], "Y": [10]}},
             {"type": "$_OR_", "connections": {"A": [10], "B": [3], "Y": [11]}}]
    with pytest.raises(NetlistError, match="combinational loop"):
        GateNetlist.from_json(_gate_netlist(cells, [11]), top="top")


def test_unknown_module_is_rejected():
    with pytest.raises(NetlistError, match="module 'other' is not in the netlist"):
        GateNetlist.from_json(_gate_netlist([], [2]), top="other")


def test_progress_threads_and_limit(netlist_of):
    spec = FakeSpec(8, False)
    calls = []
    full = check_exhaustive(spec, netlist=netlist_of(spec), chunk_size=1 << 12, threads=2,
                            progress=lambda done, total: calls.append((done, total)))
    assert full.ok and calls[0] == (0, 65536) and calls[-1] == (65536, 65536)
    assert len(calls) == 17 and calls == sorted(calls)
    calls.clear()
    part = check_exhaustive(spec, netlist=netlist_of(spec), chunk_size=1 << 12, limit=5000,
                            progress=lambda done, total: calls.append((done, total)))
    assert part.vectors == 8192 and not part.exhaustive and part.ok
    # The total is what this run checks, so that a progress display can reach its end.
    assert calls == [(0, 8192), (4096, 8192), (8192, 8192)]


@pytest.mark.parametrize("threads", [1, 2])
def test_an_interrupt_cancels_the_chunks_not_yet_started(netlist_of, monkeypatch, threads):
    from dcim.verify import netlist as module

    ran = []
    run_chunk = module._Exhaustive.run_chunk

    def counted(self, first):
        ran.append(first)
        return run_chunk(self, first)

    def interrupt(done, total):
        if done >= 4 << 10:
            raise KeyboardInterrupt

    monkeypatch.setattr(module._Exhaustive, "run_chunk", counted)
    spec = FakeSpec(8, False)
    with pytest.raises(KeyboardInterrupt):
        check_exhaustive(spec, netlist=netlist_of(spec), chunk_size=1 << 10, threads=threads,
                         progress=interrupt)
    # 64 chunks in all; after the fourth only those already queued (two per thread) may run.
    assert 4 <= len(ran) <= 4 + 2 * threads


def test_exhaustive_width_is_refused_before_synthesis(monkeypatch):
    from dcim.eda import tools

    def no_tools(*args, **kwargs):
        raise AssertionError("Yosys ran before the width check")

    monkeypatch.setattr(tools, "run_tool", no_tools)
    with pytest.raises(ValueError, match="exhaustive check of 25-bit operands needs 4\\*\\*25"):
        check_exhaustive(FakeSpec(25, False))
    component = FakeSpec(30, False).component()
    with pytest.raises(ValueError, match="exhaustive check of 30-bit operands"):
        check_exhaustive(component)
    Fragment.get(component, None)   # used after all, so that Amaranth does not warn
    with pytest.raises(ValueError, match="limit must be a positive number of vectors, not 0"):
        check_exhaustive(FakeSpec(4, False), limit=0)


def test_check_exhaustive_validates_arguments(netlist_of):
    spec = FakeSpec(4, False)
    with pytest.raises(ValueError, match="chunk_size must be a power of two of at least 64, "
                                         "not 100"):
        check_exhaustive(spec, netlist=netlist_of(spec), chunk_size=100)
    with pytest.raises(ValueError, match="threads must be at least 1, not 0"):
        check_exhaustive(spec, netlist=netlist_of(spec), threads=0)


def test_report_properties():
    report = CheckReport("d", vectors=100, mismatches=0, examples=(), seconds=0.5,
                         exhaustive=True)
    assert report.ok and report.vectors_per_second == 200
    report.raise_for_mismatch()
    assert "0 mismatches in 100 exhaustive vectors" in str(report)


def test_missing_yosys_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("DCIM_YOSYS", str(tmp_path / "no-such-yosys"))
    with pytest.raises(ToolNotFoundError, match="apt-get install yosys"):
        GateNetlist.from_design(FakeSpec(2, False), workdir=tmp_path)


def test_yosys_failure_points_at_the_kept_log(monkeypatch, tmp_path):
    # A wrapper that runs the real Yosys for Verilog emission but fails the synthesis script.
    from dcim.eda.tools import find_tool

    real = find_tool("yosys")
    fake = tmp_path / "fake-yosys"
    fake.write_text(f'#!/bin/sh\nif [ "$1" = "-s" ]; then echo "ERROR: boom"; exit 3; fi\n'
                    f'exec "{real}" "$@"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("DCIM_YOSYS", str(fake))
    workdir = tmp_path / "work"
    with pytest.raises(ToolError, match="exit code 3") as caught:
        GateNetlist.from_design(FakeSpec(2, False), workdir=workdir)
    assert caught.value.log_path == workdir / "mul2u_exact.yosys.log"
    assert "ERROR: boom" in caught.value.log_path.read_text()
    assert str(caught.value.log_path) in str(caught.value)
    assert os.path.exists(workdir / "mul2u_exact.v")
