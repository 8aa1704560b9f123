"""The end-to-end demonstration that ``dcim demo`` runs (and the README's first command).

It walks a new user through the framework in the order a design is made: the compressors, the
8-bit multipliers with their error metrics, their exhaustive verification against the golden
models through the synthesized gate netlists, and lint-clean Verilog.
"""

from pathlib import Path

from .arith import COMPRESSORS, MultiplierSpec
from .flow.verilog import emit_verilog
from .report import format_table
from .verify.hdl import lint_verilog
from .verify.netlist import GateNetlist, check_exhaustive

__all__ = ["DEMO_MULTIPLIERS", "run_demo"]

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
    out.write("\nDemo finished: " + ("all checks passed" if not failures else
                                     f"{failures} designs FAILED their checks") + "\n")
    return 0 if not failures else 1
