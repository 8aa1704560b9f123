"""The end-to-end demonstration that ``dcim demo`` runs (and the README's first command).

It walks a new user through the framework in the order a design is made: the compressors, the
8-bit multipliers with their error metrics, their exhaustive verification against the golden
models through the synthesized gate netlists, and lint-clean Verilog; then the user's first
line, ``DCiMMacro(rows=64, mult="log")``, simulated cycle by cycle against its golden model;
and it ends with a small macro's power, performance and area table.
"""

import time
from pathlib import Path

import numpy as np

from .arith import COMPRESSORS, MultiplierSpec
from .eda.verilog import emit_verilog
from .macro import DCiMMacro, MacroSpec, simulate
from .report import format_table
from .verify.hdl import lint_verilog
from .verify.netlist import GateNetlist, check_exhaustive

__all__ = ["DEMO_MACRO", "DEMO_MULTIPLIERS", "run_demo"]

DEMO_MULTIPLIERS = (
    MultiplierSpec(8, kind="exact"),
    MultiplierSpec(8, signed=True, kind="exact", options={"partial_products": "booth4"}),
    MultiplierSpec(8, kind="approx", options={"compressor": "acci1", "columns": 8}),
    MultiplierSpec(8, kind="mitchell"),
    MultiplierSpec(8, kind="log"),
    MultiplierSpec(8, kind="drum", options={"k": 4}),
)


def run_demo(out_dir, out):
    """Run the demonstration, writing Verilog to ``out_dir`` and text to ``out``.

    Returns 0 when every check passed, 1 otherwise (as a process exit status).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    out.write("1. Compressors: value 2C+S per input pattern, error rate and mean error distance "
              "for inputs that are 1 with probability 1/4 (AND partial products)\n\n")
    rows = []
    for name, compressor in COMPRESSORS.items():
        error_rate, mean_error = compressor.error_stats(0.25)
        rows.append([name, error_rate, mean_error,
                     " ".join(str(v) for v in compressor.truth_table()[:16])])
    out.write(format_table(["compressor", "ER", "MED", "2C+S for abcd = 0..15"], rows) + "\n")

    out.write("\n2. 8-bit multipliers, error metrics over all 65,536 operand pairs\n\n")
    rows = []
    for spec in DEMO_MULTIPLIERS:
        metrics = spec.metrics()
        rows.append([spec.name, 100 * metrics.er, 100 * metrics.mred, 100 * metrics.nmed,
                     100 * metrics.wcre, metrics.bias])
    out.write(format_table(["design", "ER %", "MRED %", "NMED %", "WCRE %", "bias"], rows)
              + "\n")

    out.write("\n3. Hardware against golden model: Yosys maps each design to gates, the "
              "bit-parallel evaluator checks every operand pair; Verilator lints the Verilog\n\n")
    failures = 0
    for spec in DEMO_MULTIPLIERS:
        path = out_dir / f"{spec.name}.v"
        emit_verilog(spec, path)
        lint_verilog(path, top=spec.name)
        netlist = GateNetlist.from_design(spec, workdir=out_dir / "yosys" / spec.name)
        report = check_exhaustive(spec, netlist=netlist)
        failures += not report.ok
        out.write(f"{spec.name}: {netlist.gate_count} gates, {report.vectors:,} vectors, "
                  f"{report.mismatches} mismatches, {report.seconds:.3f} s; "
                  f"lint-clean Verilog in {path}\n")
    failures += _macros(out_dir, out)
    failures += _macro_ppa(out_dir, out)
    out.write("\nDemo finished: " + ("all checks passed" if not failures else
                                     f"{failures} designs FAILED their checks") + "\n")
    return 0 if not failures else 1


DEMO_MACRO = MacroSpec(rows=8, cols=4, weight_bits=4, act_bits=4, mult="log")


def _macros(out_dir, out):
    """Step 4: the user's first line, DCiMMacro(rows=64, mult="log"), simulated cycle by
    cycle against its golden model; then a small macro's lint-clean Verilog."""
    macro = DCiMMacro(rows=64, mult="log")
    spec = macro.spec
    out.write(f"\n4. DCiMMacro(rows=64, mult=\"log\"): {spec.rows} x {spec.cols}, "
              f"{spec.weight_bits}-bit signed weights and activations, {spec.datapath} "
              f"datapath; latency {macro.latency} cycles, {macro.throughput:g} MACs per "
              f"cycle\n\n")
    rng = np.random.default_rng(2026)
    low, high = -(1 << (spec.weight_bits - 1)), (1 << (spec.weight_bits - 1)) - 1
    weights = rng.integers(low, high + 1, (spec.rows, spec.cols))
    activations = rng.integers(low, high + 1, (32, spec.rows))
    run = simulate(macro, weights, activations)
    expected = macro.model(weights, activations)
    mismatches = int(np.count_nonzero(run.results != expected))
    exact = int(np.count_nonzero(expected != activations @ weights))
    hierarchical = out_dir / f"{spec.name}.v"
    emit_verilog(macro, hierarchical)
    out.write(f"{spec.name}: 32 activation vectors simulated ({run.engine}, {run.cycles} "
              f"cycles): {mismatches} mismatches against the golden model; "
              f"{exact} of {expected.size} dot products differ from the exact matrix product "
              f"(the log multiplier's error); lint-clean hierarchical Verilog (multiplier, lane "
              f"and macro, each once) in {hierarchical}\n")

    small = DCiMMacro(spec=DEMO_MACRO)
    weights = rng.integers(-8, 8, (DEMO_MACRO.rows, DEMO_MACRO.cols))
    activations = rng.integers(-8, 8, (16, DEMO_MACRO.rows))
    small_run = simulate(small, weights, activations)
    small_mismatches = int(np.count_nonzero(small_run.results != small.model(weights,
                                                                              activations)))
    path = out_dir / f"{DEMO_MACRO.name}.v"
    emit_verilog(DEMO_MACRO, path, hierarchical=False)
    lint_verilog(path, top=DEMO_MACRO.name)
    out.write(f"{DEMO_MACRO.name}: 16 vectors simulated ({small_run.engine}), "
              f"{small_mismatches} mismatches; lint-clean flat Verilog in {path}\n")
    return int(mismatches > 0) + int(small_mismatches > 0)


def _macro_ppa(out_dir, out):
    """Step 5: the PPA of the user's first line, DCiMMacro(rows=64, mult="log"), on Nangate45
    (needs DCIM_PDK_ROOT), synthesized block by block."""
    from .flow import ppa, ppa_table

    macro = DCiMMacro(rows=64, mult="log")
    spec = macro.spec
    out.write(f"\n5. Power, performance and area of DCiMMacro(rows=64, mult=\"log\") "
              f"({spec.rows} rows x {spec.cols} columns, {spec.weight_bits}-bit, "
              f"{spec.mult.kind} multipliers): Yosys maps each distinct block to Nangate45 "
              f"cells once, OpenSTA times the whole macro, and a gate-level simulation of "
              f"random weights and activations gives its power\n\n")
    started = time.monotonic()
    report = ppa(macro, operands="uniform")
    seconds = time.monotonic() - started
    groups = report.synthesis.groups
    split = ", ".join(f"{name} {100 * area / report.area_um2:.1f} %"
                      for name, area in groups.items())
    blocks = ", ".join(f"{name} x{count}" for name, count in report.synthesis.blocks.items())
    out.write(f"area split: {split}; blocks: {blocks}; "
              f"{'read from the cache' if report.power.cached else 'measured'} in "
              f"{seconds:.0f} s\n\n")
    out.write(ppa_table([report]) + "\n")
    return 0
