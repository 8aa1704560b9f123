"""Tests for dcim/flow/block_timing.py: timing one instance of each block in full."""

import json
import re

import pytest

from dcim.eda import cache
from dcim.flow import analyze_power, analyze_timing, macro_stimulus, synthesize
from dcim.flow.analysis import _electrical_key
from dcim.flow.block_timing import LOAD_SUFFIX, load_netlist
from dcim.flow.design import macro_design
from dcim.flow.pdk import load_pdk
from dcim.macro import MacroSpec

SPEC = MacroSpec(rows=8, cols=4, weight_bits=4, act_bits=4, mult="log")


@pytest.fixture(scope="module")
def macro(pdk_root):
    return synthesize(macro_design(SPEC, storage="ff"), pdk_root=pdk_root)


def _modules(report):
    return json.loads(report.modules_json_path.read_text())["modules"]


def test_all_instances_but_the_first_are_their_loads(macro, pdk_root):
    library = load_pdk("nangate45", pdk_root).library(macro.corner)
    modules = _modules(macro)
    text = load_netlist(macro.netlist_path.read_text(), modules, macro.top, library)
    lane, column = f"{SPEC.name}_lane", f"{SPEC.name}_col"
    top = text[text.index(f"module {macro.top}("):]
    for block in (lane, column):
        assert len(re.findall(rf"^  {block} ", top, re.M)) == 1
        assert len(re.findall(rf"^  {block}{LOAD_SUFFIX} ", top, re.M)) == SPEC.cols - 1
    # The lane's load is the loads of its multipliers (its inputs reach no other cell); a
    # multiplier's load is the cells its inputs drive, each a cell of the multiplier.
    lane_load = re.search(rf"^module {lane}{LOAD_SUFFIX}\(.*?^endmodule", text, re.M | re.S)[0]
    assert re.findall(r"^  (\S+) ", lane_load, re.M).count(
        f"{SPEC.mult.name}{LOAD_SUFFIX}") == SPEC.rows
    assert f"{SPEC.name}_tree" not in lane_load
    mult = modules[SPEC.mult.name]
    mult_load = re.search(rf"^module {SPEC.mult.name}{LOAD_SUFFIX}\(.*?^endmodule", text,
                          re.M | re.S)[0]
    cells = len(re.findall(r"^  \S+ \S+ \($", mult_load, re.M))
    assert 0 < cells < len(mult["cells"])
    with pytest.raises(ValueError, match="top must be a module of the netlist, not 'nope'"):
        load_netlist("module other(a);\nendmodule\n", {"nope": {"cells": {}}}, "nope",
                     library)


@pytest.mark.slow
@pytest.mark.parametrize("storage", ["ff", "sram"])
def test_timing_by_block_agrees_with_the_whole_design(pdk_root, storage):
    report = synthesize(macro_design(SPEC, storage=storage), pdk_root=pdk_root)
    by_block = analyze_timing(report)
    whole = analyze_timing(report, by_block=False)
    assert not whole.cached
    # The top's cells after each lane are its own (abc maps each accumulator its own way),
    # and only the first lane's are timed after a lane's paths: by block is at most a few %
    # short (-2.2 % here with flip-flops), never long.
    assert by_block.critical_path_ns <= whole.critical_path_ns + 1e-4
    assert by_block.critical_path_ns == pytest.approx(whole.critical_path_ns, rel=0.03)
    assert by_block.startpoint == whole.startpoint
    assert analyze_timing(report, by_block=True).cached


def test_whole_design_timing_leaves_power_per_block_its_own_slews(pdk_root, tmp_path,
                                                                  monkeypatch):
    # Power per block reads the slews and loads dumped on the netlist of timing by block; a
    # whole-hierarchy timing run times another netlist, so it must not store that dump.
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path / "cache"))
    report = synthesize(SPEC, pdk_root=pdk_root)
    pdk = load_pdk("nangate45", pdk_root)
    analyze_timing(report, by_block=False)
    assert cache.load("timing", _electrical_key(report, pdk)) is None
    stimulus = macro_stimulus(SPEC, lanes=3, beats=4)
    after_whole = analyze_power(report, operands=stimulus)
    assert cache.load("timing", _electrical_key(report, pdk)) is not None
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path / "other"))
    report = synthesize(SPEC, pdk_root=pdk_root)
    analyze_timing(report)
    assert cache.load("timing", _electrical_key(report, pdk)) is not None
    after_by_block = analyze_power(report, operands=stimulus)
    assert after_whole.internal_w == pytest.approx(after_by_block.internal_w, rel=1e-12)
    assert after_whole.switching_w == pytest.approx(after_by_block.switching_w, rel=1e-12)


def test_by_block_needs_a_design_of_blocks(mul4, macro):
    assert analyze_timing(mul4).critical_path_ns > 0
    with pytest.raises(ValueError, match="by_block=True needs a design synthesized block by "
                                         "block"):
        analyze_timing(mul4, by_block=True)
    with pytest.raises(TypeError, match="by_block must be True, False or None, not 'yes'"):
        analyze_timing(macro, by_block="yes")
