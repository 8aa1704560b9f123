import io
import json

import pytest

from dcim.arith import MultiplierSpec
from dcim.cli import main
from dcim.macro import MacroSpec


def run(argv):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def test_synth_prints_a_ppa_table(pdk_root, tmp_path, capsys):
    design = tmp_path / "m.toml"
    MultiplierSpec(4, kind="log").to_toml(design)
    code, text = run(["synth", str(design), "--pdk-root", str(pdk_root)])
    assert code == 0
    assert "mul4u_log" in text and "pJ/multiply" in text and "critical path" in text
    assert "synthesis of mul4u_log" in capsys.readouterr().err  # progress on stderr
    code, text = run(["synth", str(design), "--pdk-root", str(pdk_root), "--json",
                      "--activity", "0.3"])
    data = json.loads(text)
    assert code == 0 and data["power_method"] == "vectorless" and data["activity"] == 0.3
    assert data["metrics"]["mred"] > 0


def test_synth_errors_name_the_problem(pdk_root, tmp_path, capsys):
    design = tmp_path / "m.toml"
    MultiplierSpec(4).to_toml(design)
    code, _ = run(["synth", str(design), "--pdk-root", str(pdk_root), "--corner", "hot"])
    assert code == 2
    assert "corner must be one of typ, fast, slow, not 'hot'" in capsys.readouterr().err


def test_compare_prints_one_table(pdk_root):
    code, text = run(["compare", "--width", "4", "--kinds", "exact,mitchell",
                      "--pdk-root", str(pdk_root)])
    assert code == 0
    lines = text.splitlines()
    assert any(line.startswith("mul4u_mitchell") for line in lines)
    assert any(line.startswith("mul4u_yosys") for line in lines)
    code, text = run(["compare", "--width", "4", "--kinds", "exact", "--no-yosys",
                      "--pdk-root", str(pdk_root), "--json"])
    assert [row["design"] for row in json.loads(text)] == ["mul4u_exact"]


def test_readme_flow_commands_run(pdk_root, monkeypatch):
    import re
    import shlex
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    monkeypatch.setenv("DCIM_PDK_ROOT", str(pdk_root))
    lines = re.findall(r"^dcim (synth|compare)(.*?)(?:#.*)?$", (root / "README.md").read_text(),
                       re.M)
    assert len(lines) == 2
    for command, arguments in lines:
        code, text = run([command, *shlex.split(arguments)])
        assert code == 0 and "pJ/multiply" in text


@pytest.mark.parametrize(("options", "message"), [
    (["--activity", "-1"], "--activity must be a number of toggles per cycle from 0 to 2, "
                           "not -1.0"),
    (["--clock", "0"], "--clock must be a positive, finite number of nanoseconds, not 0.0"),
    (["--clock", "inf"], "--clock must be a positive, finite number of nanoseconds, not inf"),
    (["--corner", "hot"], "corner must be one of typ, fast, slow, not 'hot'"),
    (["--activity", "0.5", "--operands", "uniform"], "give either --activity or --operands"),
])
@pytest.mark.parametrize("command", ["synth", "compare"])
def test_flow_options_are_checked_before_synthesis(pdk_root, tmp_path, monkeypatch, capsys,
                                                   command, options, message):
    from dcim.eda import tools

    def no_tools(*args, **kwargs):
        raise AssertionError("a tool ran before the options were checked")

    design = tmp_path / "m.toml"
    MultiplierSpec(4, kind="log").to_toml(design)
    monkeypatch.setattr(tools, "run_tool", no_tools)
    code, _ = run([command, str(design), "--pdk-root", str(pdk_root), "--no-cache", *options])
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--width", "4"], "--width cannot be combined with a design file"),
    (["--kinds", "log"], "--kinds cannot be combined with a design file"),
    (["--signed", "--no-yosys"], "--signed, --no-yosys cannot be combined with a design file"),
    (["--top", "x"], "--top 'x' names the top module of a Verilog design, but no Verilog"),
])
def test_compare_refuses_flags_that_its_design_files_would_ignore(pdk_root, flags, message,
                                                                  capsys):
    code, _ = run(["compare", "designs/mul8u_exact_dadda.toml", "--pdk-root", str(pdk_root),
                   *flags])
    assert code == 2
    assert message in capsys.readouterr().err


def test_synth_refuses_top_for_a_design_file(pdk_root, capsys):
    code, _ = run(["synth", "designs/mul8u_exact_dadda.toml", "--top", "x",
                   "--pdk-root", str(pdk_root)])
    assert code == 2
    assert "--top 'x' names the top module of a Verilog design" in capsys.readouterr().err


@pytest.mark.parametrize(("path", "message"), [
    ("missing.toml", "design file 'missing.toml' does not exist"),
    ("missing.v", "design file 'missing.v' does not exist"),
    ("README.md", "design file 'README.md' must be a .toml or .v or .sv file; not '.md'"),
    ("designs/mul8u_exact_dadda", "design file 'designs/mul8u_exact_dadda' must be a .toml or "
                                  ".v or .sv file; give the name with its suffix"),
])
@pytest.mark.parametrize("command", ["synth", "compare"])
def test_design_files_are_checked_up_front(pdk_root, command, path, message, capsys):
    code, _ = run([command, path, "--pdk-root", str(pdk_root)])
    assert code == 2
    assert message in capsys.readouterr().err


def test_compare_skips_kinds_whose_defaults_do_not_fit_and_takes_kind_options(pdk_root,
                                                                              capsys):
    # DRUM's default k = 6 does not fit 4-bit operands: the default list leaves it out.
    code, text = run(["compare", "--width", "4", "--no-yosys", "--pdk-root", str(pdk_root),
                      "--json"])
    assert code == 0
    names = [row["design"] for row in json.loads(text)]
    assert names == [MultiplierSpec(4, kind=kind).name
                     for kind in ("approx", "exact", "log", "mitchell")]
    err = capsys.readouterr().err
    assert "dcim compare: skipped kind drum: its default options do not fit --width 4" in err
    assert "k must be at most width = 4, not 6" in err
    code, text = run(["compare", "--width", "4", "--kinds", "drum,exact", "--option",
                      "drum.k=3", "--no-yosys", "--pdk-root", str(pdk_root), "--json"])
    assert code == 0
    assert [row["design"] for row in json.loads(text)] == ["mul4u_drum_k3", "mul4u_exact"]
    assert "skipped" not in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--option", "k=3"], "--option k=3 must name its kind, as KIND.KEY=VALUE (e.g. drum.k=3)"),
    (["--option", "fast.k=3"], "--option fast.k: kind must be one of"),
    (["--kinds", "exact", "--option", "drum.k=3"],
     "--option drum.k: kind 'drum' is not compared (the kinds are exact)"),
    (["--kinds", "drum"], "k must be at most width = 4, not 6"),
    (["--option", "log.foo=1"], "options ['foo'] are unknown for kind 'log'"),
    (["--option", "drum.k=3", "--option", "drum.k=2"],
     "--option drum.k is given twice, as 3 and 2"),
])
def test_compare_kind_options_are_checked(pdk_root, monkeypatch, capsys, flags, message):
    from dcim.eda import tools

    def no_tools(*args, **kwargs):
        raise AssertionError("a tool ran before the options were checked")

    monkeypatch.setattr(tools, "run_tool", no_tools)
    code, _ = run(["compare", "--width", "4", "--pdk-root", str(pdk_root), *flags])
    assert code == 2
    assert message in capsys.readouterr().err


def test_synth_and_compare_write_csv(pdk_root, tmp_path):
    import csv

    design = tmp_path / "m.toml"
    MultiplierSpec(4, kind="log").to_toml(design)
    code, text = run(["synth", str(design), "--pdk-root", str(pdk_root), "--csv"])
    assert code == 0
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["design"] == "mul4u_log" and float(row["area_um2"]) > 0
    assert float(row["metrics.mred"]) > 0
    code, text = run(["compare", "--width", "4", "--kinds", "exact", "--pdk-root",
                      str(pdk_root), "--csv"])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["design"] for row in rows] == ["mul4u_exact", "mul4u_yosys"]
    assert rows[0]["metrics.mred"] == "0.0" and rows[1]["metrics.mred"] == ""


def test_synth_of_a_macro_block_by_block_or_flat(pdk_root, tmp_path):
    spec = MacroSpec(rows=2, cols=2, weight_bits=2, act_bits=2)
    design = tmp_path / "macro.toml"
    spec.to_toml(design)
    # Block by block, the array is the hard SRAM macro by default; in one run, flip-flops.
    code, text = run(["synth", str(design), "--pdk-root", str(pdk_root)])
    assert code == 0
    assert (f"synthesized block by block: {spec.name}_lane x2, {spec.name}_tree x2, "
            f"{spec.mult.name} x4, sram2x2w2s_8t x1") in text
    assert f"{spec.name}_sram" in text and "port buffers: 0 (0.0 um2)" in text
    code, text = run(["synth", str(design), "--pdk-root", str(pdk_root), "--flat"])
    assert code == 0 and "block by block" not in text and "port buffers: 0" in text
    assert f"{spec.name}_sram" not in text


def test_synth_of_a_macro_with_sram_storage(pdk_root, tmp_path):
    spec = MacroSpec(rows=4, cols=2, weight_bits=2, act_bits=2)
    design = tmp_path / "macro.toml"
    spec.to_toml(design)
    code, text = run(["synth", str(design), "--pdk-root", str(pdk_root), "--storage", "sram"])
    assert code == 0
    assert f"{spec.name}_sram" in text and "storage" in text
    code, ff = run(["synth", str(design), "--pdk-root", str(pdk_root), "--storage", "ff"])
    assert code == 0 and f"{spec.name}_sram" not in ff and f"{spec.name}_col x2" in ff


def test_synth_refuses_storage_for_a_multiplier(pdk_root, tmp_path, capsys):
    design = tmp_path / "mult.toml"
    MultiplierSpec(4).to_toml(design)
    code, _ = run(["synth", str(design), "--pdk-root", str(pdk_root), "--storage", "sram"])
    assert code == 2
    assert ("--storage sram applies to a macro design ([macro] in its TOML), not to "
            "'mul4u_exact'") in capsys.readouterr().err
