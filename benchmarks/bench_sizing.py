"""Bitcell sizing fronts against OpenRAM's sizing.

    python -m benchmarks sizing

For each kind of ``DCIM_BENCH_SIZING_KINDS`` (default ``6t 8t``), ``size_bitcell`` with
``DCIM_BENCH_SIZING_TRIALS`` trials (default 30; the first is OpenRAM's sizing), seed 0,
64 rows, the default constraint corners (FS 0.9 V 100 C, SF 0.9 V 0 C) and constraints.
Printed: the feasible Pareto front beside OpenRAM's sizing, with the objectives (area,
read delay and leakage at TT 1.0 V 25 C), the worst margins over the corners and the worst
first-order yield sigma; then the search's trials, feasible trials, ngspice runs, wall and
CPU time (process and children). Then the smallest front point and OpenRAM's sizing are
checked by importance sampling: hold and read SNM at their worst corner, the first-order
sigma beside the sampled equivalent sigma. A second run of the benchmark reads every
evaluation from the cache (``DCIM_CACHE_DIR``) and shows what a re-run costs.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.spice.sizing import size_bitcell, verify_yield  # noqa: E402

__all__ = ["main"]


def _cpu():
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _row(label, point):
    sizes = " ".join(f"{round(value * 1e9):>4}" for value in (
        point.cell.pull_down_width, point.cell.pull_up_width, point.cell.pass_gate_width,
        *([point.cell.read_driver_width, point.cell.read_access_width]
          if hasattr(point.cell, "read_driver_width") else [])))
    return (f"{label:<10} {sizes:<26} {point.area * 1e12:7.3f} {point.read_delay * 1e12:8.2f} "
            f"{point.leakage_power * 1e9:8.2f} {point.worst('hold_snm') * 1e3:7.1f} "
            f"{point.worst('read_snm') * 1e3:7.1f} {point.worst('write_margin') * 1e3:7.1f} "
            f"{point.yield_sigma:6.2f}  {'yes' if point.feasible else 'no'}")


def _front(kind, trials):
    start, cpu = time.perf_counter(), _cpu()
    result = size_bitcell(kind, n_trials=trials, seed=0, rows=64)
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    widths = "pd pu pg" + (" rd ra" if kind == "8t" else "") + " (nm)"
    header = (f"{'point':<10} {widths:<26} {'um^2':>7} {'read ps':>8} {'leak nW':>8} "
              f"{'hold mV':>7} {'read mV':>7} {'write mV':>7} {'sigma':>6}  feasible")
    print(f"### sram{kind}: {trials} trials, corners "
          f"{', '.join(corner.name for corner in result.corners)}\n")
    print(header)
    print("-" * len(header))
    print(_row("OpenRAM", result.reference))
    for point in result.front:
        print(_row(f"trial {point.trial}", point))
    feasible = sum(point.feasible for point in result.trials)
    print(f"\ntrials {len(result.trials)} (failed {len(result.failed)}), feasible {feasible}, "
          f"front {len(result.front)}, ngspice runs {result.simulations}, "
          f"wall {wall:.1f} s, cpu {cpu:.1f} s\n")
    return result


def _verify(result):
    header = (f"{'point':<10} {'cell':<40} {'margin':<9} {'corner':<14} {'1st-order':>9} "
              f"{'IS sigma':>8} {'P fail':>9} {'rel SE':>6} {'sims':>5} {'wall s':>6}")
    print(header)
    print("-" * len(header))
    smallest = min(result.front, key=lambda point: point.area) if result.front else None
    for label, point in (("OpenRAM", result.reference), ("smallest", smallest)):
        if point is None:
            continue
        start = time.perf_counter()
        for check in verify_yield(point, seed=1):
            estimate = check.estimate
            print(f"{label:<10} {check.cell:<40} {check.margin:<9} {check.corner.name:<14} "
                  f"{check.first_order_sigma:9.2f} {estimate.sigma:8.2f} "
                  f"{estimate.probability:9.2e} {estimate.relative_standard_error:6.1%} "
                  f"{estimate.simulations:5d} {time.perf_counter() - start:6.1f}")
            start = time.perf_counter()
    print()


def main():
    kinds = os.environ.get("DCIM_BENCH_SIZING_KINDS", "6t 8t").split()
    trials = int(os.environ.get("DCIM_BENCH_SIZING_TRIALS", "30"))
    for kind in kinds:
        result = _front(kind, trials)
        _verify(result)


if __name__ == "__main__":
    main()
