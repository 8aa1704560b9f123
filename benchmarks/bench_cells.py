"""Transistor-level cells: the area model against Nangate45, the compressor cells at TT, and a
compressor-sizing front.

    python -m benchmarks cells

Printed, in three tables:

1. Every standard cell of ``dcim.spice.cells.STANDARD_CELLS``: transistors, gate columns, the
   layout-model area beside Nangate45's X1 area (``nangate45_typ.lib``), and the error.
2. Every registered compressor's cell (``compressor_cell``, mapped from its own function) at TT,
   1.0 V, 25 C: transistors, area, whether the simulated truth table over every input pattern
   matches the compressor's, worst delay, energy per single-input transition and leakage
   (2 fF on each output, 20 ps input ramps), with the wall and CPU time of each.
3. ``size_compressor`` for each compressor of ``DCIM_BENCH_CELLS_SIZE`` (default ``akbar2``),
   ``DCIM_BENCH_CELLS_TRIALS`` trials (default 20; the first is the X1 sizing), seed 0, the
   function checked at the five corners of ``FUNCTION_CORNERS``, delay at SS 0.9 V 100 C and
   energy at TT: the feasible Pareto front beside the X1 sizing.

CPU time is the process's (ngspice runs in it, as a shared library) plus its children's.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.arith.compressor import COMPRESSORS  # noqa: E402
from dcim.spice.cells import NANGATE45_X1_AREAS, STANDARD_CELLS  # noqa: E402
from dcim.spice.compressor_cells import characterize_compressor  # noqa: E402
from dcim.spice.compressor_sizing import size_compressor  # noqa: E402

__all__ = ["main"]


def _cpu():
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _area_fit():
    header = f"{'cell':<7} {'T':>3} {'cols':>4} {'model um^2':>10} {'Nangate45':>9} {'error':>7}"
    print(header)
    print("-" * len(header))
    errors = []
    for kind, cell in STANDARD_CELLS.items():
        nangate = NANGATE45_X1_AREAS[kind]
        error = cell.area / nangate - 1
        errors.append(abs(error))
        print(f"{kind:<7} {cell.transistor_count:>3} {cell.gate_columns:>4} "
              f"{cell.area * 1e12:10.3f} {nangate * 1e12:9.3f} {error:+7.1%}")
    print(f"\nmean |error| {sum(errors) / len(errors):.1%}, largest {max(errors):.1%}\n")


def _compressors():
    header = (f"{'compressor':<11} {'T':>3} {'um^2':>6} {'table':>5} {'delay ps':>8} "
              f"{'worst arc':<22} {'E fJ':>6} {'leak nW':>7} {'wall s':>6} {'cpu s':>6}")
    print(header)
    print("-" * len(header))
    for name, compressor in COMPRESSORS.items():
        start, cpu = time.perf_counter(), _cpu()
        report = characterize_compressor(compressor)
        wall, cpu = time.perf_counter() - start, _cpu() - cpu
        matches = report.table == tuple(int(v) for v in compressor.truth_table())
        pin, pattern, output, edge = report.timing.worst_arc
        arc = f"{pin}@{pattern} -> {output} {edge}"
        print(f"{name:<11} {report.transistors:>3} {report.area * 1e12:6.3f} "
              f"{'ok' if matches and report.matches_truth_table else 'FAIL':>5} "
              f"{report.worst_delay * 1e12:8.1f} {arc:<22} {report.energy * 1e15:6.2f} "
              f"{report.timing.leakage_power * 1e9:7.1f} {wall:6.1f} {cpu:6.1f}")
    print()


def _row(label, point):
    widths = " ".join(f"{round(point.widths[name] * 1e9):>4}" for name in (
        "inner_nmos", "inner_pmos", "driver_nmos", "driver_pmos"))
    return (f"{label:<9} {widths}  {point.area * 1e12:6.3f} {point.delay * 1e12:8.1f} "
            f"{point.typical_delay * 1e12:7.1f} {point.energy * 1e15:6.2f} "
            f"{point.leakage_power * 1e9:7.1f}  {'yes' if point.feasible else 'no'}")


def _sizing(name, trials):
    start, cpu = time.perf_counter(), _cpu()
    result = size_compressor(name, n_trials=trials, seed=0)
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    print(f"### {name}: {trials} trials, function at "
          f"{', '.join(corner.name for corner in result.corners)}\n")
    header = (f"{'point':<9} {'in n  in p  drv n drv p (nm)':<23}  {'um^2':>6} {'SS ps':>8} "
              f"{'TT ps':>7} {'E fJ':>6} {'leak nW':>7}  feasible")
    print(header)
    print("-" * len(header))
    print(_row("X1", result.reference))
    for point in result.front:
        print(_row(f"trial {point.trial}", point))
    feasible = sum(point.feasible for point in result.trials)
    print(f"\ntrials {len(result.trials)} (failed {len(result.failed)}), feasible {feasible}, "
          f"front {len(result.front)}, ngspice runs {result.simulations}, "
          f"wall {wall:.1f} s, cpu {cpu:.1f} s\n")


def main():
    print(f"load average {os.getloadavg()[0]:.1f}\n")
    _area_fit()
    _compressors()
    trials = int(os.environ.get("DCIM_BENCH_CELLS_TRIALS", "20"))
    for name in os.environ.get("DCIM_BENCH_CELLS_SIZE", "akbar2").split():
        _sizing(name, trials)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
