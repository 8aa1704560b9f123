import csv
import fcntl
import io
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from dcim.arith import MULTIPLIER_KINDS
from dcim.arith.tree_multiplier import ExactKind
from dcim.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*argv):
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_compressors_prints_each_truth_table_and_error_statistics():
    code, text = run("compressors")
    assert code == 0
    assert "acci1" in text and "0 1 1 2 1 2 2 3 1 2 2 3 2 3 3 3" in text
    # acci1 errs only on 1111: probability (1/4)^4 = 0.00391 at P(1) = 1/4.
    line = next(line for line in text.splitlines() if line.startswith("acci1"))
    assert "0.00391" in line


def test_compressors_json():
    code, text = run("compressors", "--json")
    records = {r["name"]: r for r in json.loads(text)}
    assert records["sabetz"]["truth_table"][0] == 1
    assert records["exact42"]["error_rate"] == 0.0


def test_mult_prints_metrics_and_compressor_counts(tmp_path):
    verilog = tmp_path / "m.v"
    code, text = run("mult", "--width", "6", "--kind", "approx", "--option", "compressor=ha",
                     "--verilog", str(verilog))
    assert code == 0
    assert "compressors per column" in text and " ha" in text
    assert "MRED" in text and "all 4,096 pairs" in text
    assert "module mul6u_approx_haxw" in verilog.read_text()


def test_mult_from_design_file_as_json():
    code, text = run("mult", "designs/mul8u_exact_dadda.toml", "--json")
    data = json.loads(text)
    assert data["design"]["name"] == "mul8u_exact"
    assert data["metrics"]["er"] == 0.0


def test_mult_option_values_are_typed():
    code, text = run("mult", "--kind", "drum", "--option", "k=4", "--json")
    assert json.loads(text)["design"]["name"] == "mul8u_drum_k4"


@pytest.mark.parametrize(("argv", "message"), [
    (["mult", "--width", "40"], "width must be 2 to 32, not 40"),
    (["mult", "--kind", "drum", "--option", "k=99"], "k must be at most width"),
    (["mult", "missing.toml"], "design file 'missing.toml' does not exist"),
    (["verify", "missing.toml"], "design file 'missing.toml' does not exist"),
    (["mult", "designs/mul8u_exact_dadda"], "design file 'designs/mul8u_exact_dadda' must be "
                                             "a .toml file; give the name with its suffix"),
    (["mult", "README.md"], "design file 'README.md' must be a .toml file; not '.md'"),
    (["mult", "designs"], "design file 'designs' must be a .toml file"),
    (["mult", "designs.toml"], "design file 'designs.toml' does not exist"),
])
def test_mult_errors_are_reported_without_traceback(argv, message, capsys):
    code, _ = run(*argv)
    assert code == 2
    assert message in capsys.readouterr().err


def test_bad_option_syntax_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        run("mult", "--option", "k")
    assert "key=value" in capsys.readouterr().err


def _read_until(fd, pattern, deadline):
    """Text read from ``fd`` until ``pattern`` matches or ``deadline`` (monotonic) passes."""
    text = ""
    while not re.search(pattern, text) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                text += os.read(fd, 4096).decode(errors="replace")
            except OSError:   # the terminal's other end closed: the process ended
                break
    return text


@pytest.mark.slow
def test_ctrl_c_stops_a_long_verify_promptly():
    # Standard error is a terminal, as for a user, so that the progress display is shown.
    terminal, child_end = pty.openpty()
    fcntl.ioctl(child_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    # A job started in the background of a script inherits SIGINT ignored, and Python then
    # keeps ignoring it: restore the default, as a terminal gives the user.
    process = subprocess.Popen([sys.executable, "-m", "dcim.cli", "verify", "--width", "14"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=child_end, cwd=ROOT,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(child_end)
    try:
        # tqdm's bar: elapsed<left, the time left estimated from the rate so far.
        shown = _read_until(terminal, r"checking mul14u_exact.*\d\d:\d\d<\d\d:\d\d",
                            time.monotonic() + 120)
        assert re.search(r"\d\d:\d\d<\d\d:\d\d", shown), f"no time left shown: {shown!r}"
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        code = process.wait(timeout=30)
        elapsed = time.monotonic() - sent
        rest = _read_until(terminal, "interrupted", time.monotonic() + 2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(terminal)
        printed = process.stdout.read()
        process.stdout.close()
    assert code == 130, (code, rest)
    assert elapsed < 2, f"took {elapsed:.1f} s to stop after Ctrl-C"
    assert "Traceback" not in rest and "dcim verify: interrupted" in rest
    assert printed == b""


def test_verify_refuses_a_width_out_of_reach_before_synthesis(monkeypatch, capsys):
    from dcim.eda import tools

    def no_tools(*args, **kwargs):
        raise AssertionError("synthesis ran before the width check")

    monkeypatch.setattr(tools, "run_tool", no_tools)
    code, _ = run("verify", "--width", "30")
    assert code == 2
    assert "exhaustive check of 30-bit operands" in capsys.readouterr().err


def test_progress_stays_off_when_stderr_is_not_a_terminal(capsys):
    # 16.8 million pairs: long enough (over half a second) that a terminal would see a bar.
    code, text = run("mult", "--width", "12", "--kind", "mitchell")
    assert code == 0 and "all 16,777,216 pairs" in text
    assert capsys.readouterr().err == ""


def test_mult_refuses_to_write_verilog_over_its_design_file(tmp_path, monkeypatch, capsys):
    design = tmp_path / "victim.toml"
    design.write_text((ROOT / "designs" / "mul8u_exact_dadda.toml").read_text())
    before = design.read_text()
    monkeypatch.chdir(tmp_path)
    for target in ("victim.toml", "./victim.toml", str(design)):
        code, _ = run("mult", "victim.toml", "--no-metrics", "--verilog", target, "--force")
        assert code == 2
        assert (f"--verilog {str(Path(target))!r} is the input file 'victim.toml'; refusing "
                f"to write over an input") in capsys.readouterr().err
    assert design.read_text() == before


def test_mult_replaces_an_existing_verilog_file_only_with_force(tmp_path, capsys):
    verilog = tmp_path / "m.v"
    verilog.write_text("keep me\n")
    code, _ = run("mult", "--width", "4", "--no-metrics", "--verilog", str(verilog))
    assert code == 2
    assert f"--verilog {str(verilog)!r} already exists; give --force" in capsys.readouterr().err
    assert verilog.read_text() == "keep me\n"
    code, text = run("mult", "--width", "4", "--no-metrics", "--verilog", str(verilog),
                     "--force")
    assert code == 0 and "module mul4u_exact" in verilog.read_text()


def _fake_demo(monkeypatch):
    """Stand-in for the demo (minutes long): writes one file of its own, like the real one."""
    import dcim.demo

    def run_demo(folder, out):
        (folder / "mul8u_exact.v").write_text("module mul8u_exact; endmodule\n")
        return 0

    monkeypatch.setattr(dcim.demo, "run_demo", run_demo)


def test_demo_writes_again_into_its_own_folder(tmp_path, monkeypatch):
    _fake_demo(monkeypatch)
    folder = tmp_path / "demo-out"
    assert run("demo", "--out", str(folder))[0] == 0
    (folder / "notes.txt").write_text("mine\n")   # the user's own file beside the demo's
    assert run("demo", "--out", str(folder))[0] == 0
    assert (folder / "notes.txt").read_text() == "mine\n"


def test_demo_refuses_a_folder_it_did_not_write_without_force(tmp_path, monkeypatch, capsys):
    _fake_demo(monkeypatch)
    (tmp_path / "mul8u_exact.v").write_text("my own design\n")
    code, _ = run("demo", "--out", str(tmp_path))
    assert code == 2
    assert (f"--out {str(tmp_path)!r} holds files that dcim demo did not write; give --force"
            in capsys.readouterr().err)
    assert (tmp_path / "mul8u_exact.v").read_text() == "my own design\n"
    assert run("demo", "--out", str(tmp_path), "--force")[0] == 0
    assert "endmodule" in (tmp_path / "mul8u_exact.v").read_text()
    code, _ = run("demo", "--out", str(tmp_path / "mul8u_exact.v"))
    assert code == 2 and "is a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "named"), [
    (["--width", "4"], "--width"),
    (["--kind", "drum"], "--kind"),
    (["--signed"], "--signed"),
    (["--option", "k=4"], "--option"),
    (["--width", "8", "--kind", "exact"], "--width, --kind"),
])
@pytest.mark.parametrize("command", ["mult", "verify"])
def test_design_flags_beside_a_design_file_are_refused(command, flags, named, capsys):
    code, _ = run(command, "designs/mul8u_exact_dadda.toml", *flags)
    assert code == 2
    assert (f"{named} cannot be combined with a design file, which fixes the design"
            in capsys.readouterr().err)


def test_a_repeated_option_is_refused_naming_both_values(capsys):
    code, _ = run("mult", "--kind", "drum", "--option", "k=4", "--option", "k=5", "--json")
    assert code == 2
    assert "--option k is given twice, as 4 and 5; give it once" in capsys.readouterr().err


def test_the_defaults_still_apply_without_a_design_file():
    code, text = run("mult", "--no-metrics", "--json")
    assert code == 0 and json.loads(text)["design"]["name"] == "mul8u_exact"


@pytest.mark.parametrize("argv", [["compressors"], ["mult", "--width", "4", "--json"]])
def test_a_closed_pipe_ends_quietly_with_141(argv):
    # The reader closes its end at once, as `head` does after its lines: every write fails.
    process = subprocess.Popen([sys.executable, "-m", "dcim.cli", *argv], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    err = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=120) == 141
    assert err == ""



def _csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_compressors_csv_has_the_json_figures():
    _, text = run("compressors", "--csv")
    rows = {row["name"]: row for row in _csv_rows(text)}
    _, as_json = run("compressors", "--json")
    for record in json.loads(as_json):
        row = rows[record["name"]]
        assert float(row["error_rate"]) == record["error_rate"]
        assert json.loads(row["truth_table"]) == record["truth_table"]
        assert row["description"] == record["description"]   # commas and quotes survive


def test_mult_csv_is_one_row_of_design_and_metrics():
    code, text = run("mult", "--kind", "drum", "--option", "k=4", "--csv")
    assert code == 0
    (row,) = _csv_rows(text)
    assert row["design.name"] == "mul8u_drum_k4" and row["metrics.exhaustive"] == "True"
    assert 0 < float(row["metrics.mred"]) < 0.1


def test_json_and_csv_exclude_each_other(capsys):
    with pytest.raises(SystemExit):
        run("compressors", "--json", "--csv")
    assert "not allowed with argument" in capsys.readouterr().err


def test_csv_rows_take_the_union_of_columns():
    from dcim.report import write_csv

    out = io.StringIO()
    write_csv([{"design": "a, b", "metrics": {"mred": 0.5}, "cells": 3},
               {"design": "y", "metrics": None, "cells": 4, "groups": [1, 2]}], out)
    assert out.getvalue().splitlines() == ['design,metrics.mred,cells,groups',
                                           '"a, b",0.5,3,', 'y,,4,"[1, 2]"']


class _TreeKind(ExactKind):
    """A kind registered by a user that reuses the tree multipliers' options."""

    name = "mytree"


@pytest.fixture
def user_kind(monkeypatch):
    monkeypatch.setitem(MULTIPLIER_KINDS, "mytree", _TreeKind())


def test_help_lists_the_registered_kinds_and_their_options(user_kind, capsys):
    for command in ("mult", "verify", "compare"):
        with pytest.raises(SystemExit):
            run(command, "--help")
        text = capsys.readouterr().out
        assert "approx, drum, exact, log, mitchell, mytree" in " ".join(text.split())
        assert re.search(r"^  drum +k \[6\]$", text, re.M)
        assert re.search(r"^  mytree +partial_products \[array\], tree \[dadda\]", text, re.M)
        assert re.search(r"^  log +\(no options\)$", text, re.M)
    assert "(--option KIND.KEY=VALUE;" in text   # compare's form


def test_help_lists_the_corners(capsys):
    with pytest.raises(SystemExit):
        run("synth", "--help")
    assert "typ, fast, slow for nangate45" in " ".join(capsys.readouterr().out.split())


def test_a_new_tree_kind_shows_its_compressors_without_an_edit_of_the_cli(user_kind):
    code, text = run("mult", "--kind", "mytree", "--width", "4", "--no-metrics")
    assert code == 0 and "compressors per column" in text and "full_adder" in text
