"""Regression tests of the audit's trust defects: content-keyed caches, no injection into tool
scripts, any cache path, failure logs that stay, no partial entries, checks before work."""

import os
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from dcim.arith import COMPRESSORS, Compressor, MultiplierSpec, register_compressor
from dcim.eda import cache, tools
from dcim.eda.verilog import emit_verilog
from dcim.flow import ppa, synthesize
from dcim.flow.analysis import TimingViolationWarning, analyze_timing
from dcim.flow.design import VerilogDesign, load_design, resolve_design
from dcim.flow.pdk import load_pdk
from dcim.flow.sta import run_sta, tcl_port
from dcim.macro import MacroSpec, simulate

EXACT_TABLE = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 3]
SATURATING_TABLE = [0, 1, 1, 2, 1, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2]


@pytest.fixture
def my42():
    """Registers compressor ``my42`` through a test and removes it afterwards."""
    def register(table):
        register_compressor(Compressor.from_truth_table("my42", table), replace=True)
    yield register
    COMPRESSORS.pop("my42", None)


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DCIM_CACHE_DIR", str(folder))
    return folder


def test_a_reregistered_compressor_is_never_served_the_old_netlist(my42, pdk_root):
    my42(EXACT_TABLE)
    spec = MultiplierSpec(6, kind="approx", options={"compressor": "my42", "columns": 6})
    first = synthesize(spec, pdk_root=pdk_root)
    my42(SATURATING_TABLE)
    second = synthesize(spec, pdk_root=pdk_root)
    assert first.design == second.design  # same name, other circuit
    assert not second.cached and second.key != first.key
    # The stored netlist was made from the new circuit's Verilog, not the old one's.
    assert (second.folder / "design.v").read_text() == emit_verilog(spec)
    assert (first.folder / "design.v").read_text() != emit_verilog(spec)
    again = synthesize(spec, pdk_root=pdk_root)
    assert again.cached and again.key == second.key


def test_a_reregistered_compressor_rebuilds_the_macro_simulator(my42, own_cache):
    my42(EXACT_TABLE)
    spec = MacroSpec(rows=4, cols=1, weight_bits=2, act_bits=2, signed=False,
                     assignment={"columns": {"2": "my42", "3": "my42"}})
    rng = np.random.default_rng(3)
    weights = rng.integers(0, 4, size=(4, 1))
    activations = rng.integers(0, 4, size=(24, 4))
    for table in (EXACT_TABLE, SATURATING_TABLE):
        my42(table)
        result = simulate(spec, weights, activations, engine="iverilog")
        assert np.array_equal(result.results, spec.model(weights, activations))
    assert len(list((own_cache / "macro-sim").glob(f"{spec.name}-iverilog-*"))) == 2


@pytest.mark.parametrize("top", ["x; exec -- touch F", "a b", "1abc", "x}", "\\esc", ""])
def test_top_and_names_must_be_identifiers(top):
    text = "module x(input a, output b); assign b = a; endmodule\n"
    with pytest.raises(ValueError, match="top must be a Verilog identifier"):
        VerilogDesign(text, top)
    with pytest.raises(ValueError, match="name must be a Verilog identifier"):
        VerilogDesign(text, "x", name="../../x")


def test_cli_refuses_a_command_in_the_top_name(tmp_path, pdk_root):
    design = tmp_path / "inj.v"
    design.write_text("module x(input a, output b); assign b = a; endmodule\n")
    marker = tmp_path / "F"
    completed = subprocess.run(
        [sys.executable, "-m", "dcim.cli", "synth", str(design), "--top",
         f"x; exec -- touch {marker}"], capture_output=True, text=True, cwd=tmp_path,
        env=dict(os.environ, DCIM_CACHE_DIR=str(tmp_path / "cache"), DCIM_PDK_ROOT=str(pdk_root)),
        timeout=300)
    assert completed.returncode == 2
    assert "top must be a Verilog identifier" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not marker.exists()


HOSTILE = "dir with space $HOME [exec touch F] } {é"


def test_flow_runs_in_a_hostile_cache_path(tmp_path, monkeypatch, pdk_root):
    folder = tmp_path / HOSTILE / "cache ü"
    monkeypatch.setenv("DCIM_CACHE_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    report = ppa(MultiplierSpec(3, signed=True), pdk_root=pdk_root)
    assert report.area_um2 > 0 and report.delay_ns > 0 and report.power.total_w > 0
    assert report.synthesis.folder.is_relative_to(folder)
    assert not list(tmp_path.rglob("F")) and not (Path.cwd() / "F").exists()
    vectorless = ppa(MultiplierSpec(3, signed=True), pdk_root=pdk_root, activity=0.3)
    assert vectorless.power.method == "vectorless"


def test_cache_entries_stay_inside_the_cache(own_cache):
    with pytest.raises(ValueError, match="cache key must be a hexadecimal digest"):
        cache.entry("synth", "../../x")
    with pytest.raises(ValueError, match="cache kind"):
        cache.entry("../x", "ab" * 32)
    with pytest.raises(ValueError, match="name must be a Verilog identifier"):
        resolve_design(VerilogDesign("module x(input a, output b); assign b = a; endmodule",
                                     "x", name="../../x"))


def test_sta_failure_log_is_kept_where_the_message_says(own_cache, tmp_path):
    workdir = tmp_path / "sta"
    workdir.mkdir()
    with pytest.raises(tools.ToolError) as caught:
        run_sta("read_liberty no_such.lib", workdir=workdir, log_name="timing")
    log = caught.value.log_path
    assert log.is_file() and log.is_relative_to(own_cache)
    assert str(log) in str(caught.value)
    assert "no_such.lib" in log.read_text()


def test_an_interrupted_store_leaves_no_partial_entry(own_cache, monkeypatch, tmp_path):
    source = tmp_path / "netlist.v"
    source.write_text("module x; endmodule\n")
    key = cache.cache_key(test="interrupt")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.shutil, "copyfile", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.store("synth", key, {"x": 1}, {"netlist.v": source})
    assert cache.load("synth", key) is None
    assert not [path for path in own_cache.rglob("*") if path.is_dir()
                and path.name.startswith(".")]


def test_cache_entries_are_shareable(own_cache):
    old = os.umask(0o022)
    try:
        folder = cache.store("timing", cache.cache_key(test="mode"), {"x": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755


def _no_tools(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a tool ran before the options were checked")
    monkeypatch.setattr(tools, "run_tool", refuse)


@pytest.mark.parametrize(("options", "message"), [
    ({"activity": -1}, "activity must be a number of toggles per cycle from 0 to 2, not -1"),
    ({"activity_model": "random"}, "activity_model must be one of inputs, global"),
    ({"operands": "gaussian"}, "operands must be 'uniform'"),
    ({"clock_ns": float("inf")}, "clock_ns must be a finite positive number"),
    ({"clock_ns": float("nan")}, "clock_ns must be a finite positive number"),
    ({"corner": "hot"}, "corner must be one of typ, fast, slow, not 'hot'"),
])
def test_ppa_checks_options_before_any_tool_runs(options, message, monkeypatch, pdk_root,
                                                 own_cache):
    _no_tools(monkeypatch)
    with pytest.raises(ValueError, match=message):
        ppa(MultiplierSpec(5, kind="mitchell"), pdk_root=pdk_root, **options)


def test_pdk_arguments_of_the_wrong_type_are_named():
    with pytest.raises(TypeError, match="pdk_root must be a folder path .* not 42"):
        load_pdk("nangate45", 42)
    with pytest.raises(TypeError, match="pdk must be a PDK name .* not 42"):
        load_pdk(42)


def test_an_impossible_clock_warns(pdk_root):
    with pytest.warns(TimingViolationWarning, match="clock_ns=1e-06 is shorter than"):
        report = ppa(MultiplierSpec(4), clock_ns=1e-6, pdk_root=pdk_root)
    assert report.as_dict()["timing_met"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        relaxed = ppa(MultiplierSpec(4), clock_ns=50.0, pdk_root=pdk_root)
    assert relaxed.as_dict()["timing_met"] is True


def test_json_slack_is_at_the_reported_clock(pdk_root):
    report = ppa(MultiplierSpec(4), pdk_root=pdk_root)
    data = report.as_dict()
    assert data["clock_ns"] == pytest.approx(report.delay_ns)
    assert data["slack_ns"] == pytest.approx(0.0, abs=1e-9)
    timed = analyze_timing(report.synthesis, 3.0)
    assert timed.slack_ns == pytest.approx(3.0 - report.delay_ns, abs=1e-3)
    assert data["tool_versions"]["sta"] == report.timing.sta_version != ""


def test_cached_runs_say_so(pdk_root):
    ppa(MultiplierSpec(4, kind="log"), pdk_root=pdk_root)
    said = []
    ppa(MultiplierSpec(4, kind="log"), pdk_root=pdk_root, progress=said.append)
    assert said == ["synthesis of mul4u_log: cached", "timing of mul4u_log: cached",
                    "power of mul4u_log: cached"]


@pytest.mark.parametrize(("text", "message"), [
    ("[multiplier]\nwidth = 4\n[macro]\nrows = 4\n", "both a \\[multiplier\\] and a \\[macro\\]"),
    ("[multiplier]\nwidth = 4\n[extra]\n", "holds \\[multiplier\\] and also 'extra'"),
    ("width = [\n", "is not a valid TOML file"),
    ("[other]\n", "neither a \\[multiplier\\] nor a \\[macro\\] table"),
    ("\udcff", "is not a TOML file: it is not UTF-8 text"),
])
def test_design_files_that_say_two_things_are_refused(tmp_path, text, message):
    path = tmp_path / "design.toml"
    path.write_bytes(text.encode(errors="surrogateescape"))
    with pytest.raises(ValueError, match=message):
        load_design(path)


def test_missing_design_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="cannot read TOML file .*nothing.toml: No such file"):
        load_design(tmp_path / "nothing.toml")


@pytest.mark.parametrize("name", ["a}", "a b", "a[1", "[exec x]"])
def test_tcl_port_names_are_refused_not_quoted(name):
    with pytest.raises(ValueError, match="port name must be an identifier"):
        tcl_port(name)
    assert tcl_port("a[3]") == "{a[3]}" and tcl_port("clk") == "clk"


def test_verilog_is_kept_across_processes_under_the_spec_and_dcims_source(my42, own_cache,
                                                                           monkeypatch):
    from dcim.arith.multiplier import registries_are_built_in
    from dcim.eda import verilog
    from dcim.flow import design

    assert registries_are_built_in(), "an earlier test left a compressor or kind registered"
    spec = MultiplierSpec(4, kind="exact")
    design._VERILOG_MEMO.clear()  # earlier tests of this process wrote it
    text = resolve_design(spec).verilog()
    assert cache.cache_info("verilog").entries == 1
    design._VERILOG_MEMO.clear()  # as in a new process

    def refuse(*args, **kwargs):
        raise AssertionError("the Verilog was written again")

    monkeypatch.setattr(verilog, "emit_verilog", refuse)
    assert resolve_design(spec).verilog() == text
    # A damaged stored text is not served.
    (entry,) = cache.cache_entries("verilog")
    (entry / "design.v").write_text("module broken;")
    design._VERILOG_MEMO.clear()
    with pytest.raises(AssertionError, match="written again"):
        resolve_design(spec).verilog()
    # Other dcim source: another key.
    monkeypatch.undo()
    monkeypatch.setenv("DCIM_CACHE_DIR", str(own_cache))
    monkeypatch.setattr(design, "_SOURCE_DIGEST", ["edited"])
    design._VERILOG_MEMO.clear()
    assert resolve_design(spec).verilog() == text
    assert cache.cache_info("verilog").entries == 2
    # A user's own compressor: nothing is kept (a new process could not tell it apart).
    my42(EXACT_TABLE)
    approx = MultiplierSpec(6, kind="approx", options={"compressor": "my42", "columns": 6})
    resolve_design(approx).verilog()
    assert cache.cache_info("verilog").entries == 2
