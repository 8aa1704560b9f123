"""Cycle-accurate simulation of a :class:`~dcim.macro.DCiMMacro` through its ports.

:func:`simulate` writes a weight matrix through the write port, streams activation vectors,
and collects the results with the cycle count; :func:`simulate_program` runs any sequence of
writes, activation beats and resets. Both drive the macro through one testbench protocol,
whatever the engine:

* ``"amaranth"``: Amaranth's Python simulator. No tools to install, no compile step; fine
  for small macros (it evaluates the gate-level trees net by net).
* ``"verilator"``: the macro's hierarchical Verilog (:func:`dcim.macro.verilog.macro_verilog`)
  and a SystemVerilog testbench compiled by Verilator into a native binary, with the lane and
  the multiplier as hierarchical blocks compiled once each. Compiling takes 15 to 35 seconds,
  running is fast: this is the engine for rows=64 macros and long streams.
* ``"iverilog"``: the same Verilog and testbench run by Icarus Verilog (the fallback when
  Verilator is missing; far slower on large macros).
* ``"auto"`` (default): Verilator when the spec's model is already compiled; else Amaranth
  when its estimated time is below a Verilator build's; else Verilator, else Icarus
  Verilog, else Amaranth.

Compiled simulators are cached on disk in :func:`cache_dir` under the spec's name and a hash
of the spec, the generator sources, Amaranth's version and the tool's version, so each design
is compiled once.

The protocol, cycle by cycle (cycle 0 is the first after reset): the testbench presents the
next operation of the program (a write on ``write``, an activation beat on ``act``, or a reset
of the ``sync`` domain that lasts one cycle); a write or beat is presented only in cycles
whose bit of ``valid_pattern`` is 1, and it is consumed in the cycle its handshake
completes. ``result.ready`` is bit ``cycle % len(ready_pattern)`` of ``ready_pattern`` (0
during resets). The run ends in the first cycle in which the program is consumed and ``busy``
is low; that cycle's number is the reported cycle count.
"""

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import amaranth
import numpy as np
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from ..checks import check_integer_range
from .macro import DCiMMacro
from .model import check_operands, result_dtype, wrap
from .spec import MacroSpec

__all__ = ["ENGINES", "SimulationResult", "cache_dir", "simulate", "simulate_program"]

ENGINES = ("auto", "amaranth", "verilator", "iverilog")
MAX_PATTERN = 64
_TESTBENCH_VERSION = "2"   # bump when the testbench text changes its behaviour
# "auto" runs Amaranth's simulator when it would take less than a Verilator build (about
# 20 s). Its time grows with the bit products of the lanes (rows * lanes * width**2, or
# rows * lanes * weight_bits bit-serially): measured, about 0.5 ms each to elaborate and 7 us
# each per simulated cycle (a rows=64, cols=8, 8-bit macro: 17 s to elaborate, 4 cycles/s).
_AMARANTH_ELABORATE = 5e-4
_AMARANTH_CYCLE = 7e-6
_AUTO_SECONDS = 20.0


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation returns.

    Members
    -------
    results : array
        :func:`simulate`: shape (n, cols) (or (cols,) for one vector), like the model.
        :func:`simulate_program`: shape (number of results, cols).
    cycles : int
        Cycles from the end of reset until the macro is idle after the program.
    act_cycles : tuple of int
        The cycle in which each activation beat was accepted.
    result_cycles : tuple of int
        The cycle in which each result was taken.
    engine : str
        The engine that ran.
    """

    results: np.ndarray
    cycles: int
    act_cycles: tuple
    result_cycles: tuple
    engine: str


def _spec_of(macro):
    if isinstance(macro, DCiMMacro):
        return macro.spec
    if isinstance(macro, MacroSpec):
        return macro
    raise TypeError(f"macro must be a DCiMMacro or a MacroSpec, not {macro!r}")


def _pattern(parameter, pattern):
    if pattern is None:
        return (1,)
    if isinstance(pattern, str):
        if not re.fullmatch(r"[01]+", pattern):
            raise ValueError(f"{parameter} must be a string of 0 and 1, not {pattern!r}")
        bits = tuple(int(char) for char in pattern)
    else:
        bits = pattern
    try:
        bits = tuple(int(bool(bit)) for bit in bits)
    except TypeError:
        raise TypeError(f"{parameter} must be a sequence of 0 and 1, not {pattern!r}") from None
    if not 1 <= len(bits) <= MAX_PATTERN or not any(bits):
        raise ValueError(f"{parameter} must have 1 to {MAX_PATTERN} bits with at least one 1, "
                         f"not {pattern!r}")
    return bits


# -- packing payloads --------------------------------------------------------------------

def _pack(values, width):
    """Pack integers (two's complement allowed) into one int, element 0 lowest."""
    mask = (1 << width) - 1
    word = 0
    for index, value in enumerate(values):
        word |= (int(value) & mask) << (index * width)
    return word


def _offsets(layout):
    return {name: field.offset for name, field in layout}


def _encode(spec, operation):
    """Turn a program operation into ``(kind, packed payload)``: 0 write, 1 act, 2 reset."""
    if not isinstance(operation, tuple) or not operation:
        raise ValueError(f"program operation must be a non-empty tuple, not {operation!r}")
    kind = operation[0]
    if kind == "reset" and len(operation) == 1:
        return 2, 0
    if kind == "write" and len(operation) in (3, 4):
        row, values = operation[1], np.asarray(operation[2])
        mask = operation[3] if len(operation) == 4 else (1 << spec.cols) - 1
        if not (isinstance(row, int | np.integer) and 0 <= row < spec.rows):
            raise ValueError(f"write row must be an int from 0 to {spec.rows - 1}, not {row!r}")
        if values.shape != (spec.cols,):
            raise ValueError(f"write values must have shape ({spec.cols},), "
                             f"not {values.shape!r}")
        offsets = _offsets(spec.write_layout)
        payload = (int(row) << offsets["addr"]
                   | _pack(values, spec.weight_bits) << offsets["data"]
                   | (int(mask) & ((1 << spec.cols) - 1)) << offsets["mask"])
        return 0, payload
    if kind == "act" and len(operation) in (2, 4):
        values = np.asarray(operation[1])
        first, last = operation[2:] if len(operation) == 4 else (True, True)
        if values.shape != (spec.rows,):
            raise ValueError(f"act values must have shape ({spec.rows},), "
                             f"not {values.shape!r}")
        offsets = _offsets(spec.act_layout)
        payload = (_pack(values, spec.act_bits) << offsets["data"]
                   | int(bool(first)) << offsets["first"] | int(bool(last)) << offsets["last"])
        return 1, payload
    raise ValueError(f"program operation must be ('write', row, values[, mask]), "
                     f"('act', values[, first, last]) or ('reset',), not {operation!r}")


def _check_values(spec, label, values, bits):
    check_integer_range(label, values, *spec.value_range(bits), spec.name)


def _decode(spec, words):
    """Unpack raw result words into an (n, cols) array of the model's dtype."""
    width = spec.acc_width
    mask = (1 << width) - 1
    values = [[(word >> (col * width)) & mask for col in range(spec.cols)] for word in words]
    array = np.array(values, dtype=object).reshape(len(words), spec.cols)
    return wrap(array, width, spec.signed).astype(result_dtype(spec))


# -- the engines -------------------------------------------------------------------------

@dataclass
class _Trace:
    words: list
    result_cycles: list
    act_cycles: list
    cycles: int


def _run_amaranth(macro, program, ready, valid, max_cycles):
    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.macro = macro
    trace = _Trace([], [], [], 0)
    result_payload = macro.result.payload.as_value()
    write_payload = macro.write.payload.as_value()
    act_payload = macro.act.payload.as_value()

    async def testbench(ctx):
        pointer = 0
        for cycle in range(max_cycles + 1):
            kind, payload = program[pointer] if pointer < len(program) else (None, 0)
            present = bool(valid[cycle % len(valid)])
            ctx.set(domain.rst, kind == 2)
            ctx.set(macro.write.valid, kind == 0 and present)
            ctx.set(macro.act.valid, kind == 1 and present)
            if kind == 0:
                ctx.set(write_payload, payload)
            elif kind == 1:
                ctx.set(act_payload, payload)
            taking = kind != 2 and bool(ready[cycle % len(ready)])
            ctx.set(macro.result.ready, taking)
            if kind is None and not ctx.get(macro.busy):
                trace.cycles = cycle
                return
            if taking and ctx.get(macro.result.valid):
                trace.words.append(ctx.get(result_payload))
                trace.result_cycles.append(cycle)
            if kind == 2 or (kind == 0 and present and ctx.get(macro.write.ready)):
                pointer += 1
            elif kind == 1 and present and ctx.get(macro.act.ready):
                trace.act_cycles.append(cycle)
                pointer += 1
            await ctx.tick()
        trace.cycles = None

    simulator = Simulator(top)
    simulator.add_clock(1e-8)
    simulator.add_testbench(testbench)
    simulator.run()
    return trace


_TESTBENCH = """\
// dcim testbench v{version}: the protocol of dcim.macro.sim, for Verilator and Icarus Verilog.
// All file I/O is in the clocked block, and every variable that lives across cycles is read
// there before it is written: Verilator 5.006 otherwise turns some into (wrong) locals.
module dcim_tb (input wire clk);
  localparam integer WP = {write_width};
  localparam integer AP = {act_width};
  localparam integer RP = {result_width};
  localparam integer OP = {op_width};
  reg rst = 1'b0;
  reg write_valid = 1'b0;
  reg [WP-1:0] write_payload = {{WP{{1'b0}}}};
  reg act_valid = 1'b0;
  reg [AP-1:0] act_payload = {{AP{{1'b0}}}};
  reg result_ready = 1'b0;
  wire write_ready, act_ready, result_valid, busy;
  wire [RP-1:0] result_payload;

  {module} dut (
    .clk(clk), .rst(rst),
    .write__valid(write_valid), .write__ready(write_ready), .write__payload(write_payload),
    .act__valid(act_valid), .act__ready(act_ready), .act__payload(act_payload),
    .result__valid(result_valid), .result__ready(result_ready),
    .result__payload(result_payload), .busy(busy)
  );

  integer fin = 0, fout = 0, cycle = -2, kind = 3, status = 0;
  integer ready_len = 1, valid_len = 1, max_cycles = 0;
  reg [63:0] ready_bits = 64'd1, valid_bits = 64'd1;
  reg [OP-1:0] payload = {{OP{{1'b0}}}};
  reg [8*4096-1:0] in_path, out_path;
  reg consumed;

  task next_op;
    begin
      status = $fscanf(fin, "%d %h\\n", kind, payload);
      if (status != 2) kind = 3;
    end
  endtask

  task drive;  // the inputs of cycle `cycle`
    begin
      rst <= (cycle < 0) || (kind == 2);
      write_valid <= (cycle >= 0) && (kind == 0) && valid_bits[cycle % valid_len];
      act_valid <= (cycle >= 0) && (kind == 1) && valid_bits[cycle % valid_len];
      write_payload <= payload[WP-1:0];
      act_payload <= payload[AP-1:0];
      result_ready <= (cycle >= 0) && (kind != 2) && ready_bits[cycle % ready_len];
    end
  endtask

  // Reset for two clock edges. The change at time 0, in the non-blocking region, starts the
  // `always @*` processes of Amaranth's Verilog in event-driven simulators.
  initial rst <= 1'b1;

  always @(posedge clk) begin
    if (fin == 0) begin
      // First edge: the end of the first reset cycle. Open the files, read the header.
      if (!$value$plusargs("in=%s", in_path) || !$value$plusargs("out=%s", out_path)) begin
        $display("dcim_tb: needs +in=<program> +out=<trace>");
        $finish;
      end
      fin = $fopen(in_path, "r");
      fout = $fopen(out_path, "w");
      status = $fscanf(fin, "%d %h %d %h %d\\n", ready_len, ready_bits, valid_len, valid_bits,
                       max_cycles);
      next_op;
    end else if (cycle >= 0) begin
      // The cycle that ends now: record transfers and move along the program.
      if (kind == 3 && !busy) begin
        $fwrite(fout, "E %0d\\n", cycle);
        $fclose(fout);
        $finish;
      end else if (cycle >= max_cycles) begin
        $fwrite(fout, "T %0d\\n", cycle);
        $fclose(fout);
        $finish;
      end
      if (result_valid && result_ready) $fwrite(fout, "R %0d %h\\n", cycle, result_payload);
      consumed = (kind == 2) || (kind == 0 && write_valid && write_ready)
                 || (kind == 1 && act_valid && act_ready);
      if (kind == 1 && consumed) $fwrite(fout, "A %0d\\n", cycle);
      if (consumed) next_op;
    end
    if (fin != 0) begin
      cycle = cycle + 1;
      drive;
    end
  end
endmodule
"""

_IVERILOG_TOP = """\
module dcim_tb_top;
  reg clk = 1'b0;
  always #5 clk = ~clk;
  dcim_tb tb (.clk(clk));
endmodule
"""

_VERILATOR_MAIN = """\
#include "Vdcim_tb.h"
#include "verilated.h"

int main(int argc, char **argv) {
    VerilatedContext *context = new VerilatedContext;
    context->commandArgs(argc, argv);
    Vdcim_tb *top = new Vdcim_tb{context};
    top->clk = 0;
    top->eval();
    while (!context->gotFinish()) {
        top->clk = 1;
        top->eval();
        top->clk = 0;
        top->eval();
    }
    top->final();
    delete top;
    delete context;
    return 0;
}
"""


def _testbench(spec):
    widths = {"write_width": spec.write_layout.size, "act_width": spec.act_layout.size,
              "result_width": spec.result_layout.size}
    return _TESTBENCH.format(version=_TESTBENCH_VERSION, module=spec.name,
                             op_width=max(widths["write_width"], widths["act_width"]), **widths)


def cache_dir():
    """Where compiled simulators are kept: ``macro-sim`` in :func:`dcim.eda.cache.cache_dir`."""
    from ..eda.cache import cache_dir as flow_cache_dir

    return flow_cache_dir() / "macro-sim"


@cache
def _source_fingerprint():
    """A hash of the generators' sources: a cached simulator is stale once they change."""
    digest = hashlib.sha256(amaranth.__version__.encode())
    package = Path(__file__).resolve().parent.parent
    for path in sorted([*package.glob("arith/*.py"), *package.glob("macro/*.py")]):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# One translation unit per model, optimised model code, lightly optimised initialisation.
_MAKE = ("VM_PARALLEL_BUILDS=0", "OPT_FAST=-O2", "OPT_SLOW=-O0", "OPT_GLOBAL=-O1")
_RUNTIME_OBJECTS = ("verilated.o", "verilated_threads.o", "verilated_dpi.o")


def _digest(*parts):
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()[:16]


def _build_dir(spec, engine, text):
    """Where the simulator of ``spec`` for ``engine`` built from Verilog ``text`` is cached.

    The key is the Verilog itself, not the spec: a compressor re-registered under the same
    name changes the circuit but not the spec's TOML.
    """
    from ..eda import tools

    tool = "verilator" if engine == "verilator" else "iverilog"
    digest = _digest(_TESTBENCH_VERSION, engine, tools.tool_version(tool), _source_fingerprint(),
                     _MAKE, _testbench(spec), hashlib.sha256(text.encode()).hexdigest())
    return cache_dir() / f"{spec.name}-{engine}-{digest}"


def _built(spec, engine):
    from .verilog import macro_verilog

    return (_build_dir(spec, engine, macro_verilog(spec)) / "done").exists()


def _build(spec, engine):
    """Compile (or find in the cache) the simulator of ``spec``; returns its directory."""
    from ..eda import tools
    from ..eda.cache import publish, staging_folder
    from .verilog import macro_verilog

    tools.find_tool("verilator" if engine == "verilator" else "iverilog")
    if engine == "iverilog":
        tools.find_tool("vvp")
    text = macro_verilog(spec)
    final = _build_dir(spec, engine, text)
    if not (final / "done").exists():
        # The staging folder goes on any exit, Ctrl-C included: no half-built simulator is
        # ever found in the cache.
        with staging_folder(final) as work, _make_safe_folder(work) as build:
            _compile(spec, engine, build, tools, text)
            if build != work:
                shutil.copytree(build, work, dirs_exist_ok=True, symlinks=True)
            (work / "done").write_text("")
            publish(work, final)
            if not (final / "done").exists():
                raise RuntimeError(f"the simulator build folder {str(final)!r} exists but is "
                                   f"incomplete; delete it and run again")
    return final


_MAKE_SAFE = re.compile(r"[A-Za-z0-9_./+-]+")


@contextlib.contextmanager
def _make_safe_folder(folder):
    """``folder`` itself when ``make`` can build in it, else a temporary folder that can.

    Verilator's generated makefiles break on paths with spaces, ``$`` or non-ASCII letters,
    which many users' home folders (and so their caches) have; the built simulator does not
    depend on where it was built, so it is built elsewhere and copied.
    """
    if _MAKE_SAFE.fullmatch(str(Path(folder).resolve())):
        yield folder
        return
    for base in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
        if _MAKE_SAFE.fullmatch(str(Path(base).resolve())) and os.access(base, os.W_OK):
            with tempfile.TemporaryDirectory(prefix="dcim-build-", dir=base) as build:
                yield Path(build)
            return
    raise RuntimeError(f"Verilator cannot build in {str(folder)!r} (its makefiles break on "
                       f"spaces, $ and non-ASCII letters) and no plain temporary folder is "
                       f"writable; set TMPDIR to one")


def _compile(spec, engine, work, tools, text=None):
    """Build the simulator of ``spec`` in ``work``, from ``text`` (default: macro_verilog)."""
    from .verilog import macro_verilog

    if text is None:
        text = macro_verilog(spec)
    (work / "tb.sv").write_text(_testbench(spec))
    if engine == "verilator":
        # Verilator writes C++ for every instance of a module; a rows=64, cols=8 macro has 512
        # multipliers, which take minutes to compile. Hierarchical verilation compiles each
        # marked module once and links its instances to it.
        for module in _hier_blocks(spec):
            text = re.sub(rf"(\bmodule {re.escape(module)}\b[^;]*;)",
                          r"\1\n  /*verilator hier_block*/", text, count=1)
        (work / "macro.v").write_text(text)
        (work / "main.cpp").write_text(_VERILATOR_MAIN)
        tools.run_tool(
            ["verilator", "--cc", "--exe", "--hierarchical", "--top-module", "dcim_tb",
             "-Wno-fatal", "-Wno-lint", "-Wno-style", "--x-assign", "fast",
             "--x-initial", "fast", "-O3", "--Mdir", "obj", "-o", "../simulator",
             "tb.sv", "macro.v", "main.cpp"],
            cwd=work, log_path=work / "verilate.log", timeout=3600)
        # Verilator's run-time library is the same for every design: compile it once.
        runtime = cache_dir() / f"runtime-{_digest(tools.tool_version('verilator'), _MAKE)}"
        for library in _RUNTIME_OBJECTS:
            if (runtime / library).exists():
                shutil.copy2(runtime / library, work / "obj" / library)
        jobs = str(max(1, min(4, os.cpu_count() or 1)))
        tools.run_tool(["make", "-C", "obj", "-f", "Vdcim_tb.mk", "-j", jobs, *_MAKE],
                       cwd=work, log_path=work / "build.log", timeout=3600)
        if not all((runtime / library).exists() for library in _RUNTIME_OBJECTS):
            staging = Path(tempfile.mkdtemp(prefix=".runtime-", dir=runtime.parent))
            for library in _RUNTIME_OBJECTS:
                shutil.copy2(work / "obj" / library, staging / library)
            try:
                staging.rename(runtime)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work / "obj", ignore_errors=True)
    else:
        (work / "macro.v").write_text(text)
        (work / "top.sv").write_text(_IVERILOG_TOP)
        tools.run_tool(["iverilog", "-g2012", "-s", "dcim_tb_top", "-o", "simulator.vvp",
                        "top.sv", "tb.sv", "macro.v"],
                       cwd=work, log_path=work / "build.log", timeout=3600)


def _hier_blocks(spec):
    """The modules Verilator compiles once each: the lane, and its multiplier."""
    blocks = [f"{spec.name}_lane"]
    if spec.datapath == "multiplier":
        blocks.append(spec.mult.name)
    return blocks


def _run_compiled(spec, engine, program, ready, valid, max_cycles, directory=None):
    from ..eda import tools

    if directory is None:
        directory = _build(spec, engine)
    with tempfile.TemporaryDirectory(prefix="dcim-sim-") as workdir:
        program_path = Path(workdir, "program.txt")
        trace_path = Path(workdir, "trace.txt")
        lines = [f"{len(ready)} {_bits_hex(ready)} {len(valid)} {_bits_hex(valid)} "
                 f"{max_cycles}"]
        lines += [f"{kind} {payload:x}" for kind, payload in program]
        program_path.write_text("\n".join(lines) + "\n")
        plus = [f"+in={program_path}", f"+out={trace_path}"]
        if engine == "verilator":
            command = [str(directory / "simulator"), *plus]
        else:
            command = ["vvp", "-n", str(directory / "simulator.vvp"), *plus]
        tools.run_tool(command, cwd=workdir, timeout=3600)
        trace = _Trace([], [], [], None)
        for line in trace_path.read_text().splitlines():
            fields = line.split()
            if fields[0] == "R":
                trace.result_cycles.append(int(fields[1]))
                trace.words.append(int(fields[2], 16))
            elif fields[0] == "A":
                trace.act_cycles.append(int(fields[1]))
            elif fields[0] == "E":
                trace.cycles = int(fields[1])
    return trace


def _bits_hex(bits):
    return f"{sum(bit << index for index, bit in enumerate(bits)):x}"


@cache
def _available(tool):
    from ..eda import tools

    try:
        tools.find_tool(tool)
    except tools.ToolNotFoundError:
        return False
    return True


def _choose(spec, engine, cycles):
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(map(repr, ENGINES))}, "
                         f"not {engine!r}")
    if engine != "auto":
        return engine
    if _available("verilator") and _built(spec, "verilator"):
        return "verilator"
    width = spec.mult.width ** 2 if spec.datapath == "multiplier" else spec.weight_bits
    size = spec.rows * spec.lanes * width
    if size * (_AMARANTH_ELABORATE + _AMARANTH_CYCLE * cycles) <= _AUTO_SECONDS:
        return "amaranth"
    if _available("verilator"):
        return "verilator"
    if _available("iverilog") and _available("vvp"):
        return "iverilog"
    return "amaranth"


def simulate_program(macro, program, *, engine="auto", ready_pattern=None, valid_pattern=None,
                     max_cycles=None):
    """Run a program of port operations on ``macro``, cycle by cycle.

    Parameters
    ----------
    macro : DCiMMacro or MacroSpec
    program : sequence of tuple
        ``("write", row, values[, mask])``: write ``values`` (one weight per column) into
        ``row``, only the columns whose ``mask`` bit is set (default: all).
        ``("act", values[, first, last])``: an activation beat (one value per row; both
        flags default to true).
        ``("reset",)``: reset the macro's ``sync`` domain for one cycle.
    engine : str
        One of :data:`ENGINES` (see the module documentation).
    ready_pattern, valid_pattern : str, sequence of 0/1 or None
        Periodic patterns (1 to 64 bits, at least one 1) of ``result.ready`` and of the
        cycles in which the testbench may present an operation; ``None`` means always.
    max_cycles : int or None
        Give up (``RuntimeError``) after this many cycles; ``None`` allows generously more
        than the program needs.

    Returns
    -------
    SimulationResult
        ``results`` holds every result taken, in order, shape (count, cols).

    Raises
    ------
    ValueError, TypeError
        For malformed operations or parameters, naming them.
    ToolNotFoundError
        If the engine's simulator is not installed (the message says how to install it).
    RuntimeError
        If the macro does not finish within ``max_cycles``.
    """
    spec = _spec_of(macro)
    ready = _pattern("ready_pattern", ready_pattern)
    valid = _pattern("valid_pattern", valid_pattern)
    encoded = []
    for operation in program:
        kind, payload = _encode(spec, operation)
        if kind == 0:
            _check_values(spec, "write values", operation[2], spec.weight_bits)
        elif kind == 1:
            _check_values(spec, "act values", operation[1], spec.act_bits)
        encoded.append((kind, payload))
    if max_cycles is None:
        slowdown = len(ready) / sum(ready) * len(valid) / sum(valid)
        max_cycles = int(100 + 2 * slowdown * (len(encoded) * (spec.interval + 2)
                                               + spec.latency))
    elif isinstance(max_cycles, bool) or not isinstance(max_cycles, int) or max_cycles < 1:
        raise ValueError(f"max_cycles must be a positive int or None, not {max_cycles!r}")
    writes = sum(kind == 0 for kind, _ in encoded)
    chosen = _choose(spec, engine, writes + (len(encoded) - writes) * spec.interval)
    if chosen == "amaranth":
        component = macro if isinstance(macro, DCiMMacro) else DCiMMacro(spec=spec)
        trace = _run_amaranth(component, encoded, ready, valid, max_cycles)
    else:
        trace = _run_compiled(spec, chosen, encoded, ready, valid, max_cycles)
    if trace.cycles is None:
        raise RuntimeError(f"{spec.name} did not finish the program within {max_cycles} "
                           f"cycles ({len(trace.words)} results so far)")
    return SimulationResult(_decode(spec, trace.words), trace.cycles, tuple(trace.act_cycles),
                            tuple(trace.result_cycles), chosen)


def simulate(macro, weights, activations, *, engine="auto", ready_pattern=None,
             valid_pattern=None, max_cycles=None):
    """Load ``weights`` into ``macro``, stream ``activations``, and collect the results.

    With ``R <= rows`` weight rows, the weights are written once (rows beyond ``R`` are
    zero) and the vectors are streamed back to back. With more rows the matrix is computed
    in passes of ``rows`` rows, exactly as :meth:`DCiMMacro.model` assumes: for each vector,
    each pass rewrites the array and sends its slice of the vector, with ``first`` on the
    first pass and ``last`` on the final one.

    Parameters
    ----------
    macro : DCiMMacro or MacroSpec
    weights : int array of shape (R, cols)
    activations : int array of shape (n, R) or (R,)
    engine, ready_pattern, valid_pattern, max_cycles
        As for :func:`simulate_program`.

    Returns
    -------
    SimulationResult
        ``results`` has the shape and dtype of ``macro.model(weights, activations)``.

    Raises
    ------
    ValueError, TypeError
        For mismatched shapes or out-of-range values, naming the array.
    """
    spec = _spec_of(macro)
    weights, activations, vector = check_operands(spec, weights, activations)
    passes = weights.shape[0] // spec.rows
    program = []
    if passes == 1:
        program += [("write", row, weights[row]) for row in range(spec.rows)]
        program += [("act", x) for x in activations]
    else:
        for x in activations:
            for index in range(passes):
                rows = slice(index * spec.rows, (index + 1) * spec.rows)
                program += [("write", row, weights[rows][row]) for row in range(spec.rows)]
                program.append(("act", x[rows], index == 0, index == passes - 1))
    outcome = simulate_program(macro, program, engine=engine, ready_pattern=ready_pattern,
                               valid_pattern=valid_pattern, max_cycles=max_cycles)
    results = outcome.results[0] if vector else outcome.results
    return SimulationResult(results, outcome.cycles, outcome.act_cycles,
                            outcome.result_cycles, outcome.engine)
