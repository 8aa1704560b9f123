"""Checks of emitted Verilog with third-party tools: Verilator lint and Icarus simulation.

These are slow, independent cross-checks of the netlist evaluator: Icarus Verilog simulates the
very text :func:`dcim.eda.verilog.emit_verilog` writes, with an event-driven simulator written
by other people, so an error in Yosys's synthesis or in our gate evaluator cannot hide there.
"""

import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ..eda import tools
from ..eda.verilog import emit_verilog, is_verilog_identifier, resolve_design

__all__ = ["LintError", "SimulationError", "lint_verilog", "simulate_icarus"]

_WARNING = re.compile(r"^%(Warning|Error)[-:]")


class LintError(tools.ToolError):
    """Verilator reported warnings or errors.

    Members
    -------
    warnings : list of str
        The first line of each message, e.g. ``"%Warning-WIDTH: top.v:7:19: ..."``.
    """

    def __init__(self, command, returncode, tail, log_path, warnings):
        super().__init__(command, returncode, tail, log_path)
        self.warnings = list(warnings)
        self.args = (f"verilator --lint-only -Wall reported {len(self.warnings)} message(s); "
                     f"log kept at {self.log_path}:\n" + "\n".join(self.warnings),)


class SimulationError(RuntimeError):
    """The simulation ran but produced output that cannot be read as products."""


def _is_path(path_or_text):
    if isinstance(path_or_text, os.PathLike):
        return True
    return "\n" not in path_or_text and path_or_text.endswith((".v", ".sv"))


def lint_verilog(path_or_text, *, top, workdir=None):
    """Run ``verilator --lint-only -Wall`` on one Verilog file.

    Parameters
    ----------
    path_or_text : path-like or str
        A path (a ``PathLike``, or a one-line string ending in ``.v``/``.sv``), or Verilog text.
    top : str
        The top module.
    workdir : path-like or None
        Where the linted copy and ``lint.log`` are kept; a temporary directory by default.

    Returns
    -------
    str
        Verilator's output (empty when clean).

    Raises
    ------
    LintError
        If Verilator reports any warning or error; lists them and names the kept log.
    ToolNotFoundError
        If Verilator is missing.
    """
    if not is_verilog_identifier(top):
        raise ValueError(f"top must be a Verilog identifier, not {top!r}")
    text = Path(path_or_text).read_text() if _is_path(path_or_text) else path_or_text
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="dcim-lint-") as temporary:
            return _lint(text, top, Path(temporary), keep_log=False)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    return _lint(text, top, workdir, keep_log=True)


def _module_files(text, top):
    """``{file name: text}`` with each module of ``text`` in a file named after it.

    Verilator's DECLFILENAME wants each module in a file of its own name; that is about how a
    caller names files, not about the Verilog, so the text is linted as such files. Text that
    is not a plain sequence of distinct modules is linted as one ``<top>.v``.
    """
    ends = [match.end() for match in re.finditer(r"\bendmodule\b[^\n]*\n?", text)]
    pieces = [text[start:end] for start, end in zip([0, *ends], [*ends, len(text)],
                                                     strict=True)]
    files = {}
    for piece in pieces[:-1]:
        names = re.findall(r"^\s*module\s+([A-Za-z_][A-Za-z0-9_$]*)", piece, re.MULTILINE)
        if len(names) != 1 or f"{names[0]}.v" in files:
            return {f"{top}.v": text}
        files[f"{names[0]}.v"] = piece
    if not files:
        return {f"{top}.v": text}
    last = next(reversed(files))
    files[last] += pieces[-1]
    return files


def _lint(text, top, workdir, *, keep_log):
    files = _module_files(text, top)
    for file_name, part in files.items():
        (workdir / file_name).write_text(part)
    command = ["verilator", "--lint-only", "-Wall", "--top-module", top, *files]
    log_path = workdir / "lint.log" if keep_log else None
    try:
        return tools.run_tool(command, cwd=workdir, log_path=log_path)
    except tools.ToolError as error:
        output = Path(error.log_path).read_text()
        warnings = [line for line in output.splitlines() if _WARNING.match(line)]
        raise LintError(error.command, error.returncode, error.tail, error.log_path,
                        warnings or [error.tail]) from None


def _port_info(component):
    info = {}
    for path, member, value in component.signature.flatten(component):
        shape = value.shape()
        info["__".join(map(str, path))] = (shape.width, shape.signed, member.flow.name)
    return info


def _operand_bits(name, values, width, signed):
    values = np.asarray(values)
    if values.ndim != 1 or values.dtype.kind not in "iu":
        raise ValueError(f"{name} must be a one-dimensional integer array")
    low, high = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)
    if len(values) and (int(values.min()) < low or int(values.max()) > high):
        raise ValueError(f"{name} has values outside {low}..{high} "
                         f"({'signed' if signed else 'unsigned'} {width} bits)")
    return [int(v) & ((1 << width) - 1) for v in values.tolist()]


_TESTBENCH = """\
`timescale 1ns / 1ps
module dcim_icarus_tb;
  localparam integer N = {count};
  reg [{width_ab}-1:0] vectors [0:N-1];
  reg [{width_a}-1:0] a;
  reg [{width_b}-1:0] b;
  wire [{width_p}-1:0] p;
  integer i;
  integer fd;
  {module} dut (.a(a), .b(b), .p(p));
  initial begin
    $readmemh("vectors.hex", vectors);
    fd = $fopen("products.hex", "w");
    for (i = 0; i < N; i = i + 1) begin
      {{a, b}} = vectors[i];
      #1;
      $fwrite(fd, "%h\\n", p);
    end
    $fclose(fd);
    $finish;
  end
endmodule
"""


def simulate_icarus(design, a, b, *, workdir=None):
    """Simulate the emitted Verilog of a multiplier with Icarus Verilog.

    Parameters
    ----------
    design : Elaboratable or spec
        A component with ports ``a``, ``b`` and ``p``, or a spec (see
        :func:`dcim.eda.verilog.emit_verilog`).
    a, b : array of int
        Operand values, signed for signed ports; at least one pair.
    workdir : path-like or None
        Where the Verilog, the testbench, the vector files and the logs are kept; a temporary
        directory (removed afterwards) by default.

    Returns
    -------
    ndarray
        The products, ``int64`` (signed if ``p`` is signed; ``uint64`` for a 64-bit unsigned
        ``p``).

    Raises
    ------
    ValueError
        If the ports or operand values do not fit.
    ToolNotFoundError, ToolError
        If Icarus Verilog (``iverilog``, ``vvp``) is missing or fails.
    SimulationError
        If a product has undefined (x or z) bits.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="dcim-icarus-") as temporary:
            return _simulate(design, a, b, Path(temporary))
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    return _simulate(design, a, b, workdir)


def _simulate(design, a, b, workdir):
    component, name = resolve_design(design)
    # Emitting first also elaborates the component, which Amaranth expects of every one made.
    emit_verilog(component, workdir / f"{name}.v", name=name)
    ports = _port_info(component)
    for port, flow in (("a", "In"), ("b", "In"), ("p", "Out")):
        if port not in ports or ports[port][2] != flow:
            raise ValueError(f"design {name!r} must have {flow.lower()}put port {port!r}")
    (width_a, signed_a, _), (width_b, signed_b, _) = ports["a"], ports["b"]
    width_p, signed_p, _ = ports["p"]
    a_bits = _operand_bits("a", a, width_a, signed_a)
    b_bits = _operand_bits("b", b, width_b, signed_b)
    if len(a_bits) != len(b_bits) or not a_bits:
        raise ValueError(f"a and b must be non-empty and of equal length, "
                         f"not {len(a_bits)} and {len(b_bits)}")
    raw = _run_icarus(name, workdir, a_bits, b_bits, width_a, width_b, width_p)
    if signed_p:
        half = 1 << (width_p - 1)
        return np.array([value - 2 * half if value & half else value for value in raw],
                        dtype=np.int64)
    return np.array(raw, dtype=np.uint64 if width_p == 64 else np.int64)


def _run_icarus(name, workdir, a_bits, b_bits, width_a, width_b, width_p):
    digits = -(-(width_a + width_b) // 4)
    (workdir / "vectors.hex").write_text(
        "".join(f"{(x << width_b) | y:0{digits}x}\n" for x, y in zip(a_bits, b_bits,
                                                                      strict=True)))
    (workdir / "dcim_icarus_tb.v").write_text(_TESTBENCH.format(
        count=len(a_bits), width_ab=width_a + width_b, width_a=width_a, width_b=width_b,
        width_p=width_p, module=name))
    tools.run_tool(["iverilog", "-g2012", "-o", "sim.vvp", "-s", "dcim_icarus_tb",
                    "dcim_icarus_tb.v", f"{name}.v"],
                   cwd=workdir, log_path=workdir / "iverilog.log")
    tools.run_tool(["vvp", "-n", "sim.vvp"], cwd=workdir, log_path=workdir / "vvp.log")
    lines = (workdir / "products.hex").read_text().split()
    if len(lines) != len(a_bits):
        raise SimulationError(f"expected {len(a_bits)} products from {workdir / 'vvp.log'}, "
                              f"got {len(lines)}")
    raw = []
    for index, line in enumerate(lines):
        if not re.fullmatch(r"[0-9a-fA-F]+", line):
            raise SimulationError(f"product {index} (a={a_bits[index]:#x}, "
                                  f"b={b_bits[index]:#x}) has undefined bits: {line}")
        raw.append(int(line, 16))
    return raw
