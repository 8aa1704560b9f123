"""The audit's bad-input classes thrown at the command line by hypothesis.

Every command line drawn here (wrong types, out-of-range values, malformed and unknown TOML,
hostile names and paths, missing files and missing tools) must end in a clear error or a
correct result: an exit status of 0, 1 or 2 with a one-line message, never a traceback, a
hang, or a change to any file outside the output and cache folders.
"""

import hashlib
import io
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcim.cli import main

HOSTILE_NAME = "x; exec -- touch F"
PDK_ROOT = Path(os.environ.get("DCIM_PDK_ROOT")
                or Path(__file__).resolve().parents[2] / "shared" / "pdk")
TOOL_VARIABLES = ("DCIM_YOSYS", "DCIM_STA", "DCIM_VERILATOR", "DCIM_IVERILOG", "DCIM_VVP")

# Input files of every kind a user can hand over by mistake, and two good designs.
INPUTS = {
    "mul.toml": "[multiplier]\nwidth = 4\nkind = \"log\"\n",
    "macro.toml": "[macro]\nrows = 2\ncols = 2\nweight_bits = 2\nact_bits = 2\n",
    "both.toml": "[multiplier]\nwidth = 4\n[macro]\nrows = 2\n",
    "unknown.toml": "[multiplier]\nwidth = 4\ncolour = \"red\"\n",
    "options5.toml": "[multiplier]\nwidth = 4\nkind = \"drum\"\noptions = 5\n",
    "broken.toml": "[multiplier\nwidth = ",
    "empty.toml": "",
    "listkind.toml": "[multiplier]\nwidth = 4\nkind = [\"log\"]\n",
    "huge.toml": "[multiplier]\nwidth = 99999999999999999999\n",
    "halfadder.toml": "[multiplier]\nwidth = 8\nkind = \"approx\"\n"
                      "[multiplier.options]\ncompressor = \"half_adder\"\n",
    "stage999.toml": "[multiplier]\nwidth = 8\nkind = \"approx\"\n"
                     "[multiplier.options.assignment.columns]\n4 = \"acci1\"\n"
                     "[[multiplier.options.assignment.overrides]]\n"
                     "stage = 999\ncolumn = 4\ncompressor = \"acci1\"\n",
    "notes.txt": "[multiplier]\nwidth = 4\n",
    "inj.v": "module x(input a, output b); assign b = a; endmodule\n",
    "escaped.v": "module \\evil$name (input a, output b); assign b = a; endmodule\n",
    "hostile [dir] $x }é/mul.toml": "[multiplier]\nwidth = 3\n",
}
BINARY = {"binary.toml": bytes(range(256))}
PATHS = [*INPUTS, *BINARY, "missing.toml", "folder.toml", "missing.v", "", "-"]

VALUES = {
    "--width": ["0", "-1", "3", "4", "33", "abc", "1e3", "99999999999999999999"],
    "--kind": ["log", "['log']", "nope", "drum", "approx", "", "exact"],
    "--option": ["k=4", "k=-1", "k", "=", "k=[1,2]", "compressor=half_adder", "columns=999",
                 "drum.k=3", "nope.k=1", "k=4", "tree=wallace"],
    "--corner": ["hot", "typ", "slow", ""],
    "--clock": ["inf", "nan", "-1", "1e-6", "0", "5", "x"],
    "--activity": ["-1", "3", "nan", "0.2"],
    "--operands": ["gaussian", "missing.npy", "uniform", "notes.txt"],
    "--verilog": ["mul.toml", "out/m.v", "out/hostile [dir] $x }é.v", "inj.v"],
    "--top": [HOSTILE_NAME, "x", "1x", "x}"],
    "--engine": ["bogus", "amaranth", "verilator"],
    "--vectors": ["0", "-3", "2", "x"],
    "--seed": ["-1", "0", "x"],
    "--samples": ["0", "-5", "100"],
    "--pdk": ["nope", "42", "notes.txt", "broken.toml", "nangate45"],
    "--pdk-root": ["42", "/nonexistent/pdk", "folder.toml"],
    "--kinds": ["log,drum", "nope", ",", "exact"],
    "--p-one": ["2", "-0.5", "nan", "0.3"],
    "--weights": ["missing.npy", "notes.txt"],
    "--activations": ["missing.npy", "notes.txt"],
}
FLAGS = ["--json", "--csv", "--force", "--no-metrics", "--signed", "--no-cache", "--ppa",
         "--no-yosys"]
# Python's own words leaking through: a message with one of these names no parameter.
UNCLEAR = ("object is not", "unhashable type", "PosixPath(", "codec can't", "has no attribute",
           "index out of range", "object of type", "unsupported operand", "NoneType")
COMMANDS = [["compressors"], ["mult"], ["verify"], ["synth"], ["compare"], ["macro"],
            ["simulate"], ["cache", "info"], ["cache", "clear"], ["pdk", "check"], []]


@st.composite
def command_lines(draw):
    argv = list(draw(st.sampled_from(COMMANDS)))
    if draw(st.booleans()):
        argv.append(draw(st.sampled_from(PATHS)))
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 3)) == 0:
            argv.append(draw(st.sampled_from(FLAGS)))
        else:
            flag = draw(st.sampled_from(sorted(VALUES)))
            argv += [flag, draw(st.sampled_from(VALUES[flag]))]
    return argv


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(root, skip):
    """Every file under ``root`` but those in the ``skip`` folders, with its content hash."""
    files = {}
    for folder, _, names in os.walk(root):
        if any(Path(folder).is_relative_to(other) for other in skip):
            continue
        for name in names:
            path = Path(folder, name)
            files[path] = _digest(path)
    return files


@pytest.fixture(scope="module")
def playground(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli fuzz é")
    work = root / "work"
    for name, text in INPUTS.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    for name, data in BINARY.items():
        (work / name).write_bytes(data)
    (work / "folder.toml").mkdir()
    return root, work


def _run_and_check(argv, root, work, monkeypatch, capsys, *, tools_missing, pdk_configured):
    out_folder, cache = work / "out", root / "cache"
    monkeypatch.chdir(work)
    monkeypatch.setenv("DCIM_CACHE_DIR", str(cache))
    if any(command in argv for command in ("synth", "compare", "--ppa", "verify", "simulate")):
        # With the real tools these would run Yosys or build a simulator; the flow and macro
        # tests cover those results, and here the missing tools end them early (the
        # Amaranth engine still simulates, needing none).
        tools_missing = True
    for variable in TOOL_VARIABLES:
        if tools_missing:
            monkeypatch.setenv(variable, "no-such-dcim-tool")
        else:
            monkeypatch.delenv(variable, raising=False)
    if pdk_configured:
        monkeypatch.setenv("DCIM_PDK_ROOT", str(PDK_ROOT))
    else:
        monkeypatch.delenv("DCIM_PDK_ROOT", raising=False)
    before = _snapshot(root, skip=(out_folder, cache))
    try:
        status = main(argv, out=io.StringIO())
    except SystemExit as exit:  # argparse: usage errors, --help and --version
        status = exit.code
    stderr = capsys.readouterr().err
    assert status in (0, 1, 2), (argv, status, stderr)
    assert "Traceback" not in stderr, (argv, stderr)
    if status == 2:
        assert "error" in stderr.strip().splitlines()[-1].lower(), (argv, stderr)
        assert not any(phrase in stderr for phrase in UNCLEAR), (argv, stderr)
    after = _snapshot(root, skip=(out_folder, cache))
    assert after == before, (argv, set(after) ^ set(before))
    assert not (work / "F").exists() and not (root / "F").exists()
    shutil.rmtree(out_folder, ignore_errors=True)
    return status, stderr


@settings(max_examples=160, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(argv=command_lines(), tools_missing=st.booleans(), pdk_configured=st.booleans())
def test_every_command_line_ends_in_a_result_or_a_clear_error(
        argv, tools_missing, pdk_configured, playground, monkeypatch, capsys):
    root, work = playground
    _run_and_check(argv, root, work, monkeypatch, capsys, tools_missing=tools_missing,
                   pdk_configured=pdk_configured)


BAD_DESIGNS = ["both.toml", "unknown.toml", "options5.toml", "broken.toml", "empty.toml",
               "listkind.toml", "huge.toml", "halfadder.toml", "stage999.toml", "notes.txt",
               "binary.toml", "missing.toml", "folder.toml", "missing.v", ""]


@pytest.mark.parametrize("design", BAD_DESIGNS)
@pytest.mark.parametrize("command", ["mult", "verify", "synth", "macro", "simulate",
                                     "compare"])
def test_every_bad_design_file_is_refused_clearly(command, design, playground, monkeypatch,
                                                  capsys):
    root, work = playground
    status, stderr = _run_and_check([command, design], root, work, monkeypatch, capsys,
                                    tools_missing=True, pdk_configured=True)
    assert status == 2, (command, design, stderr)
