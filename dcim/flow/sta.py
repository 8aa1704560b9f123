"""Static timing and power analysis with OpenSTA.

Every analysis runs Debian's ``sta`` (OpenSTA 2.0.17, a 2019 snapshot) on the synthesized
netlist (flat, or each block once for a design assembled from blocks: ``link_design`` links the
hierarchy) with one Tcl script: read the corner's Liberty file, link the netlist, read
the constraints written by :func:`constraints` (the same SDC that the OpenROAD hand-off
ships), apply the PDK's wire-load model, then report. Scripts stop at the first Tcl error and
the run fails with :class:`~dcim.eda.tools.ToolError` pointing at the kept log.

Units: OpenSTA reports in the library's units (nanoseconds for both supported libraries);
the report objects here use nanoseconds, watts and farads.
"""

import math
import os
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from ..eda import cache, tools

__all__ = ["PATH_FIELDS_TCL", "STA_ERROR_MARK", "PathPoint", "TimingPath", "constraints",
           "link_inputs", "parse_path_points", "run_sta", "tcl_port", "tcl_word"]

STA_ERROR_MARK = "DCIM-STA-ERROR:"
CLOCK_NAME = "core_clock"


def constraints(*, period_ns, clock_port, inputs, library, pdk, corner):
    """The SDC constraints of a design: one clock, ideal I/O timing, PDK drive and load.

    Parameters
    ----------
    period_ns : float
        Clock period.
    clock_port : str or None
        The clock input; ``None`` makes a virtual clock (combinational designs), against
        which input-to-output paths are timed.
    inputs : list of str
        The other input ports.
    library : Library
        The corner's parsed Liberty library (for its capacitance unit).
    pdk : Pdk
    corner : str

    Returns
    -------
    str
        SDC text: input and output delays of zero (the whole period is available to the
        design), every input driven by the PDK's driver cell, every output loaded by the
        PDK's output load.
    """
    load = pdk.output_load_farads(corner) / library.capacitance_unit
    cell, pin = tcl_word("driver cell", pdk.driver[0]), tcl_word("driver pin", pdk.driver[1])
    target = f"[get_ports {tcl_port(clock_port)}]" if clock_port else ""
    lines = [
        f"# Constraints written by dcim.flow ({pdk.name}, corner {corner}).",
        f"create_clock -name {CLOCK_NAME} -period {period_ns:.6g} {target}".rstrip(),
    ]
    if inputs:
        ports = " ".join(tcl_port(name) for name in inputs)
        lines += [f"set_input_delay 0 -clock {CLOCK_NAME} [get_ports {{{ports}}}]",
                  f"set_driving_cell -lib_cell {cell} -pin {pin} [get_ports {{{ports}}}]"]
    lines += [f"set_output_delay 0 -clock {CLOCK_NAME} [all_outputs]",
              f"set_load {load:.6g} [all_outputs]"]
    return "\n".join(lines) + "\n"


_PORT_BIT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?")
_TCL_WORD = re.compile(r"[A-Za-z0-9_.+-]+")


def tcl_port(name):
    """A port or port bit (``a``, ``a[3]``) as one Tcl word, braced where it has brackets.

    Names come from synthesized netlists of identifier-named designs; anything that is not
    an identifier with an optional bit index is refused rather than quoted, so no name can
    end a brace and run Tcl.
    """
    if not isinstance(name, str) or not _PORT_BIT.fullmatch(name):
        raise ValueError(f"port name must be an identifier with an optional [bit], "
                         f"not {name!r}")
    return "{" + name + "}" if "[" in name else name


def tcl_word(parameter, value):
    """``value`` if it needs no quoting in Tcl (letters, digits, ``_ . + -``), else an error."""
    text = str(value)
    if not _TCL_WORD.fullmatch(text):
        raise ValueError(f"{parameter} must hold only letters, digits and _ . + -, "
                         f"not {value!r}")
    return text



def setup_script(*, liberty, netlist, top, sdc, wire_load, macro_libraries=()):
    """Tcl that loads a design into OpenSTA and applies its constraints.

    ``liberty``, ``netlist``, ``sdc`` and the Liberty files of hard macros in
    ``macro_libraries`` are file names in the analysis' working folder (see
    :func:`link_inputs`); no absolute path, which could hold spaces, ``$``, brackets or
    braces, is ever written into a script.
    """
    lines = [f"read_liberty {tcl_word('liberty', liberty)}"]
    lines += [f"read_liberty {tcl_word('macro liberty', name)}" for name in macro_libraries]
    lines += [f"read_verilog {tcl_word('netlist', netlist)}",
             f"link_design {tcl_word('top', top)}", f"read_sdc {tcl_word('sdc', sdc)}"]
    if wire_load:
        lines.append(f"set_wire_load_model -name {tcl_word('wire_load', wire_load)}")
    return "\n".join(lines)


def link_inputs(workdir, files):
    """Make ``files`` (``{name: path}``) visible in ``workdir`` under their plain names.

    A symbolic link where the file system allows one (Liberty files are megabytes), else a
    copy.
    """
    for name, source in files.items():
        target = Path(workdir) / name
        try:
            os.symlink(Path(source).resolve(), target)
        except OSError:
            shutil.copyfile(source, target)


def run_sta(body, *, workdir, log_name):
    """Run a Tcl script in OpenSTA; stop at its first error.

    Returns the combined output. Raises :class:`~dcim.eda.tools.ToolError` if any command
    fails, naming the log in a copy of ``workdir`` kept under the cache's ``failed`` folder
    (``workdir`` itself is usually temporary), and ``ToolNotFoundError`` if ``sta`` is
    missing.
    """
    workdir = Path(workdir)
    script = workdir / f"{log_name}.tcl"
    # OpenSTA reports a failing command and carries on; wrapping the script in a catch makes
    # the first error fatal so that a half-run analysis is never parsed as a result.
    script.write_text(
        "if {[catch {\n" + body + "\n} message]} {\n"
        f"  puts \"{STA_ERROR_MARK} $message\"\n  exit 1\n}}\nexit 0\n")
    log = workdir / f"{log_name}.log"
    try:
        output = tools.run_tool(["sta", "-no_init", "-no_splash", "-exit", script.name],
                                cwd=workdir, log_path=log)
    except tools.ToolError as error:
        kept = _keep(workdir, log_name, body)
        raise tools.ToolError(error.command, error.returncode, error.tail,
                              kept / log.name) from None
    if STA_ERROR_MARK in output:
        tail = "\n".join(output.splitlines()[-20:])
        kept = _keep(workdir, log_name, body)
        raise tools.ToolError(["sta", script.name], 1, tail, kept / log.name)
    return output


def _keep(workdir, log_name, body):
    # Linked Liberty files are left out: the PDK holds them, and the log names them.
    return cache.keep_failure(workdir, f"sta-{log_name}", cache.text_digest(body),
                              ignore=("*.lib",))


@dataclass(frozen=True)
class TimingPath:
    """The worst path of a timing report.

    Members
    -------
    startpoint, endpoint : str
    arrival_ns, required_ns, slack_ns : float
    points : tuple of (str, float, float)
        Each point of the path: description, incremental delay and arrival (ns).
    """

    startpoint: str
    endpoint: str
    arrival_ns: float
    required_ns: float
    slack_ns: float
    points: tuple


_NUMBER = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?|INF|-INF)"


def parse_checks(text):
    """The worst path of ``report_checks -format full`` output, or ``None`` if none."""
    if "No paths found" in text or "Startpoint:" not in text:
        return None
    start = re.search(r"Startpoint:\s*(\S+)", text)
    end = re.search(r"Endpoint:\s*(\S+)", text)
    arrival = re.search(rf"{_NUMBER}\s+data arrival time", text)
    required = re.search(rf"{_NUMBER}\s+data required time", text)
    slack = re.search(rf"{_NUMBER}\s+slack", text)
    if not (arrival and required and slack):
        raise ValueError(f"cannot read OpenSTA's timing report:\n{text[-2000:]}")
    points = []
    body = text[text.index("Startpoint:"):arrival.start()]
    for match in re.finditer(rf"^\s*{_NUMBER}\s+{_NUMBER}\s+(?:[v^]\s+)?(.+?)\s*$", body,
                             re.M):
        points.append((match[3], _float(match[1]), _float(match[2])))
    return TimingPath(start[1], end[1], _float(arrival[1]), _float(required[1]),
                      _float(slack[1]), tuple(points))


PATH_FIELDS_TCL = ("set_cmd_units -time ns -capacitance fF\n"
                   "report_checks -path_delay max -format full -digits 4 "
                   "-fields {capacitance slew input_pins nets fanout}\n")
"""The Tcl of the worst path's report with each pin's slew and each net's load, in ns and fF,
for :func:`parse_path_points`."""


@dataclass(frozen=True)
class PathPoint:
    """One pin of a timing path, as :func:`parse_path_points` reads it.

    Members
    -------
    pin : str
        ``instance/pin``, or a port's name.
    cell : str
        The instance's cell, or ``"in"`` / ``"out"`` for a port.
    rising : bool
        The transition at the pin.
    slew_ns, arrival_ns : float
    load_ff : float or None
        For a driving pin (an output or an input port): the capacitance of the net it drives,
        pins and wire; ``None`` for a driven pin.
    """

    pin: str
    cell: str
    rising: bool
    slew_ns: float
    arrival_ns: float
    load_ff: float | None = None


_PIN_LINE = re.compile(rf"^\s*{_NUMBER}\s+{_NUMBER}\s+{_NUMBER}\s+([v^])\s+(\S+)\s+\((\S+)\)\s*$")
_EDGE_AND_CELL = re.compile(r"\s[v^]\s+\S+\s+\(\S+\)\s*$")
_NET_LINE = re.compile(rf"^\s*\d+\s+{_NUMBER}\s+\S+\s+\(net\)\s*$")


def parse_path_points(text):
    """The pins of the worst path in the output of :data:`PATH_FIELDS_TCL`, start to end.

    Raises
    ------
    ValueError
        If the report holds no path, or a net line follows no pin.
    """
    if "Startpoint:" not in text or "data arrival time" not in text:
        raise ValueError(f"OpenSTA's report holds no timing path:\n{text[-2000:]}")
    body = text[text.index("Startpoint:"):text.index("data arrival time")]
    points = []
    for line in body.splitlines():
        pin = _PIN_LINE.match(line)
        if not pin and _EDGE_AND_CELL.search(line):
            raise ValueError(f"cannot read a pin of OpenSTA's path report (run it with "
                             f"PATH_FIELDS_TCL's fields): {line!r}")
        if pin:
            points.append(PathPoint(pin[5], pin[6], pin[4] == "^", _float(pin[1]),
                                    _float(pin[3])))
            continue
        net = _NET_LINE.match(line)
        if net:
            if not points:
                raise ValueError(f"a net line precedes every pin in OpenSTA's report: {line!r}")
            points[-1] = replace(points[-1], load_ff=_float(net[1]))
    return tuple(points)


def parse_power(text):
    """``(internal, switching, leakage, total)`` in watts from ``report_power``."""
    match = re.search(rf"^Total\s+{_NUMBER}\s+{_NUMBER}\s+{_NUMBER}\s+{_NUMBER}", text, re.M)
    if match is None:
        raise ValueError(f"cannot read OpenSTA's power report:\n{text[-2000:]}")
    return tuple(_float(match[index]) for index in range(1, 5))


def _float(text):
    if text in ("INF", "-INF"):
        return math.copysign(math.inf, -1.0 if text.startswith("-") else 1.0)
    return float(text)
