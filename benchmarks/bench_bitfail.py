"""The bit-failure probability of the 6T and 8T bitcells per corner, per mode.

    python -m benchmarks bitfail

OpenRAM's FreePDK45 sizing (``Bitcell6T()``, ``Bitcell8T()``), the default failure criteria
(hold SNM 0.2 V, read SNM 0.1 V, write margin 0.15 V) and mismatch (Pelgrom, 1.2 mV um), at
the corners of ``bit_failure_corners()``: the five processes at 1.0 V and 25 C, TT at 0.6 to
1.1 V and at 0 and 100 C. For each mode: the method (MC or IS), the probability, its
relative standard error, the equivalent sigma, the simulations and the seconds; then the
bit's failure probability (the modes' union, estimated together where two modes or more
have failures: ``estimate_combined_failure``), its sigma, its margin evaluations and
seconds, and beside it the union bound and the lower bound (the largest mode). Target
relative standard error 10 %, seed 0, presamples of 30, budgets of ``BUDGETS`` evaluations
per mode and ``COMBINED_SAMPLES`` samples of the union. A ``0`` is a mode in which the search
saw no failure: beyond its reach (some 12 sigma), not measured. ``DCIM_BENCH_BITFAIL_CELLS``
(``6t,8t`` by default) picks the cells, so that they can run as two processes. Results are
cached (kind ``bit-failure``): a second run reads them.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.report import format_table  # noqa: E402
from dcim.spice import BITCELLS, bit_failure_table  # noqa: E402

__all__ = ["BUDGETS", "COMBINED_SAMPLES", "OPTIONS", "main"]

BUDGETS = {"hold": 600, "read": 1200, "write": 1500}
COMBINED_SAMPLES = 2000
OPTIONS = {"max_simulations": BUDGETS, "combined_samples": COMBINED_SAMPLES,
           "presample_size": 30, "target_rse": 0.1, "seed": 0}
"""What both benchmarks pass to :func:`~dcim.spice.bit_failure_table`: ``nn_bitfail`` reads the
same cache entries."""


def _probability(mode):
    if mode.probability == 0.0:
        return "0 (unseen)"
    return f"{mode.probability:.2g} +-{100 * mode.relative_standard_error:.0f}%"


def main():
    kinds = os.environ.get("DCIM_BENCH_BITFAIL_CELLS", "6t,8t").split(",")
    unknown = sorted(set(kinds) - set(BITCELLS))
    if unknown:
        sys.exit(f"DCIM_BENCH_BITFAIL_CELLS must name cells of {sorted(BITCELLS)}, not {unknown}")
    for cell in (BITCELLS[kind]() for kind in kinds):
        start = time.perf_counter()
        rows = []
        for result in bit_failure_table(cell, **OPTIONS):
            row = [result.corner.name]
            for mode in result.modes:
                row += [f"{mode.method} {_probability(mode)}", f"{mode.sigma:.2f}",
                        mode.simulations, f"{mode.seconds:.0f}"]
            bit = result.combined
            row += [f"{bit.method} {_probability(bit)}", f"{bit.sigma:.2f}", bit.simulations,
                    f"{bit.seconds:.0f}", f"{result.union_bound:.2g}",
                    f"{result.lower_bound:.2g}"]
            rows.append(row)
            print(f"# {cell.name} {result.corner.name}: {result.probability:.3g}"
                  f"{' (cached)' if result.cached else ''}", file=sys.stderr, flush=True)
        print(f"\n### {cell.name} ({time.perf_counter() - start:.0f} s)\n")
        header = ["corner"]
        for mode in ("hold", "read", "write"):
            header += [f"{mode} p", "sigma", "sims", "s"]
        header += ["bit p", "sigma", "sims", "s", "union bound", "lower bound"]
        print(format_table(header, rows), flush=True)


if __name__ == "__main__":
    main()
