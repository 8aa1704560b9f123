"""``dcim macro``, ``dcim simulate`` and ``dcim verify`` of macro designs, through main()."""

import io
import json
import os
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest

from dcim.cli import main
from dcim.macro import MacroSpec, SimulationResult
from dcim.macro import check as check_module

ROOT = Path(__file__).resolve().parents[2]
BITSERIAL = str(ROOT / "designs" / "macro_r16_bitserial_acci1.toml")
SMALL = MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=4)


def run(*argv):
    out = io.StringIO()
    code = main([str(arg) for arg in argv], out=out)
    return code, out.getvalue()


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    SMALL.to_toml(path)
    return path


# -- dcim macro ------------------------------------------------------------------------------

def test_macro_describes_the_design_without_synthesis():
    code, text = run("macro", BITSERIAL)
    assert code == 0
    spec = MacroSpec.from_toml(BITSERIAL)
    assert f"name: {spec.name}" in text
    assert "rows: 16" in text and "cols: 4" in text and "datapath: bitserial" in text
    assert f"latency: {spec.latency}" in text and f"interval: {spec.interval}" in text
    assert f"macs_per_cycle: {spec.throughput}" in text
    assert "acci1" in text and f"tree_width: {spec.tree_width}" in text
    assert "add --ppa" in text and "um2" not in text


def test_macro_json(small):
    code, text = run("macro", small, "--json")
    design = json.loads(text)["design"]
    assert code == 0 and design["name"] == SMALL.name and design["macs_per_cycle"] == 8.0
    assert "ppa" not in json.loads(text)


def test_macro_ppa_prints_the_area_split_and_the_table(tmp_path):
    pdk_root = os.environ.get("DCIM_PDK_ROOT") or str(ROOT.parent / "shared" / "pdk")
    path = tmp_path / "tiny.toml"
    MacroSpec(rows=2, cols=2, weight_bits=2, act_bits=2).to_toml(path)
    code, text = run("macro", path, "--ppa", "--pdk-root", pdk_root, "--json")
    data = json.loads(text)
    assert code == 0
    split = data["area_split_um2"]
    assert set(split) == {"storage", "arithmetic", "control"}
    assert sum(split.values()) == pytest.approx(data["ppa"]["area_um2"], rel=1e-6)
    code, text = run("macro", path, "--ppa", "--pdk-root", pdk_root)   # cached now
    assert code == 0 and "area split (nangate45, corner typ)" in text
    assert "storage:" in text and "pJ/MAC" in text and "dcim_r2c2" in text


def test_macro_writes_lint_clean_verilog(small, tmp_path):
    path = tmp_path / "out" / "macro.v"
    code, text = run("macro", small, "--verilog", path)
    assert code == 0 and f"verilog: {path} (lint-clean, hierarchical)" in text
    written = path.read_text()
    assert re.findall(r"^module (\w+)", written, re.MULTILINE) == [
        SMALL.mult.name, f"{SMALL.name}_tree", f"{SMALL.name}_lane", f"{SMALL.name}_col",
        f"{SMALL.name}_ctrl",
        SMALL.name]
    code, _ = run("macro", small, "--verilog", path)
    assert code == 2 and path.read_text() == written
    code, text = run("macro", small, "--verilog", path, "--flat", "--force", "--json")
    assert code == 0 and json.loads(text)["verilog"] == str(path)
    assert re.findall(r"^module (\w+)", path.read_text(), re.MULTILINE) == [SMALL.name]


@pytest.mark.parametrize(("argv", "message"), [
    (["--flat"], "--flat: only used with --verilog"),
    (["--force"], "--force: only used with --verilog"),
    (["--corner", "fast"], "--corner: only used with --ppa"),
    (["--pdk-root", "/x", "--clock", "5"], "--clock, --pdk-root: only used with --ppa"),
    (["--no-cache"], "--no-cache: only used with --ppa"),
])
def test_macro_refuses_flow_options_without_ppa(small, argv, message, capsys):
    code, _ = run("macro", small, *argv)
    assert code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(("name", "text", "message"), [
    ("m.txt", "[macro]\nrows = 4\n", "design file '.*m.txt' must be a .toml file; not '.txt'"),
    ("m.toml", "[macro\nrows = 4\n", "m.toml is not a valid TOML file"),
    ("m.toml", "[multiplier]\nwidth = 8\n", "design file '.*m.toml' has no \\[macro\\] table"),
    ("m.toml", "[multiplier]\nwidth = 8\n[macro]\nrows = 4\n",
     "has both a \\[multiplier\\] and a \\[macro\\] table"),
    ("m.toml", "[macro]\nrows = 3000\n", "rows must be from 1 to 1024, not 3000"),
    ("m.toml", "[macro]\nrowz = 4\n", "unknown keys \\['rowz'\\]"),
])
@pytest.mark.parametrize("command", ["macro", "simulate"])
def test_bad_design_files_are_named(tmp_path, command, name, text, message, capsys):
    path = tmp_path / name
    path.write_text(text)
    code, _ = run(command, path)
    error = capsys.readouterr().err
    assert code == 2 and f"dcim {command}: error:" in error
    assert re.search(message, error), error
    assert "PosixPath" not in error


def test_a_missing_design_file_is_named(tmp_path, capsys):
    code, _ = run("macro", tmp_path / "nope.toml")
    assert code == 2 and "nope.toml' does not exist" in capsys.readouterr().err
    (tmp_path / "folder.toml").mkdir()
    code, _ = run("macro", tmp_path / "folder.toml")
    assert code == 2 and "folder.toml' is a folder, not a file" in capsys.readouterr().err


# -- dcim simulate ---------------------------------------------------------------------------

def test_simulate_random_operands(small):
    code, text = run("simulate", small, "--engine", "amaranth", "--vectors", "5", "--seed", "2")
    assert code == 0
    assert f"{SMALL.name}: 5 vectors (random, seed 2)" in text
    assert "0 mismatches against the model; engine amaranth" in text


def test_simulate_json_on_icarus():
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog is not installed (apt-get install iverilog)")
    code, text = run("simulate", BITSERIAL, "--engine", "iverilog", "--vectors", "3", "--json")
    data = json.loads(text)
    assert code == 0 and data["ok"] and data["engine"] == "iverilog" and data["vectors"] == 3
    assert data["cycles"] > 3 * MacroSpec.from_toml(BITSERIAL).interval


def test_simulate_given_operands(small, tmp_path):
    np.save(tmp_path / "w.npy", np.array([[7, -8]] * 4))
    np.save(tmp_path / "a.npy", np.array([[-8, 7, 1, 0], [7, 7, 7, 7]]))
    code, text = run("simulate", small, "--engine", "amaranth", "--weights",
                     tmp_path / "w.npy", "--activations", tmp_path / "a.npy", "--json")
    data = json.loads(text)
    assert code == 0 and data["ok"] and data["vectors"] == 2
    assert data["operands"].endswith("a.npy")


def test_simulate_exits_1_on_a_mismatch(small, monkeypatch):
    real = check_module.simulate

    def off_by_one(spec, weights, activations, **options):
        outcome = real(spec, weights, activations, **options)
        return SimulationResult(outcome.results + 1, outcome.cycles, outcome.act_cycles,
                                outcome.result_cycles, outcome.engine)

    monkeypatch.setattr(check_module, "simulate", off_by_one)
    code, text = run("simulate", small, "--engine", "amaranth", "--vectors", "2")
    assert code == 1
    assert "4 mismatches" in text and "mismatch: vector 0 column 0" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["--vectors", "0"], "vectors must be at least 1, not 0"),
    (["--seed", "-3"], "seed must be at least 0, not -3"),
    (["--weights", "w.npy"], "give both --weights and --activations, or neither"),
    (["--weights", "w.npy", "--activations", "a.npy", "--vectors", "3"],
     "--vectors and --seed draw random operands"),
    (["--weights", "w.npy", "--activations", "nope.npy"],
     "--activations file '.*nope.npy' does not exist"),
])
def test_simulate_errors_name_the_parameter(small, tmp_path, argv, message, capsys,
                                            monkeypatch):
    np.save(tmp_path / "w.npy", np.zeros((4, 2), int))
    monkeypatch.chdir(tmp_path)
    code, _ = run("simulate", small, "--engine", "amaranth", *argv)
    error = capsys.readouterr().err
    assert code == 2 and re.search(message, error), error


def test_simulate_refuses_an_unknown_engine(small, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run("simulate", small, "--engine", "spice")
    assert exit_info.value.code == 2
    assert "invalid choice: 'spice'" in capsys.readouterr().err


# -- dcim verify -----------------------------------------------------------------------------

def test_verify_simulates_a_macro_design(small):
    code, text = run("verify", small, "--engine", "amaranth", "--vectors", "4")
    assert code == 0
    assert f"{SMALL.name}: 4 vectors (random, seed 0)" in text and "0 mismatches" in text


def test_verify_of_a_macro_checks_the_extremes(small, monkeypatch):
    seen = {}
    real = check_module.simulate

    def spy(spec, weights, activations, **options):
        seen["activations"] = activations
        return real(spec, weights, activations, **options)

    monkeypatch.setattr(check_module, "simulate", spy)
    code, text = run("verify", small, "--engine", "amaranth")
    assert code == 0 and "64 vectors" in text
    assert seen["activations"][:3].tolist() == [[0] * 4, [7] * 4, [-8] * 4]


def test_verify_of_a_macro_fails_on_a_mismatch(small, monkeypatch):
    real = check_module.simulate

    def off_by_one(spec, weights, activations, **options):
        outcome = real(spec, weights, activations, **options)
        return SimulationResult(outcome.results - 1, outcome.cycles, outcome.act_cycles,
                                outcome.result_cycles, outcome.engine)

    monkeypatch.setattr(check_module, "simulate", off_by_one)
    code, text = run("verify", small, "--engine", "amaranth", "--vectors", "1")
    assert code == 1 and "2 mismatches" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["--width", "16"], "multiplier options (--width) do not apply"),
    (["--signed", "--kind", "log"], "multiplier options (--signed, --kind) do not"),
    (["--option", "k=4"], "multiplier options (--option) do not apply"),
])
def test_verify_of_a_macro_refuses_multiplier_options(small, argv, message, capsys):
    code, _ = run("verify", small, *argv)
    error = capsys.readouterr().err
    assert code == 2 and message in error and "small.toml', which describes a macro" in error


def test_verify_keeps_checking_multiplier_designs():
    code, text = run("verify", "--width", "4")
    assert code == 0 and "256 vectors, 0 mismatches" in text


def test_verify_refuses_macro_options_for_a_multiplier(capsys):
    code, _ = run("verify", "--width", "4", "--engine", "amaranth", "--seed", "1")
    error = capsys.readouterr().err
    assert code == 2 and "--engine, --seed only apply to macro designs" in error


def test_the_readme_macro_commands_run(monkeypatch):
    pdk_root = os.environ.get("DCIM_PDK_ROOT") or str(ROOT.parent / "shared" / "pdk")
    monkeypatch.setenv("DCIM_PDK_ROOT", pdk_root)
    monkeypatch.chdir(ROOT)
    lines = re.findall(r"^dcim ((?:macro|simulate|verify) designs/macro_\S+.*?)\s*(?:#.*)?$",
                       (ROOT / "README.md").read_text(), re.M)
    assert len(lines) == 4
    for line in lines:
        code, text = run(*shlex.split(line))
        assert code == 0, line
        assert ("0 mismatches" in text) if line.split()[0] != "macro" else ("latency" in text)
