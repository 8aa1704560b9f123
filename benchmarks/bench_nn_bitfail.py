"""Accuracy of a small task's network at each corner's bit-error rate.

    python -m benchmarks nn_bitfail

The digits and MNIST-1D CNNs (training seed 0) on the exact signed 8-bit multiplier, with
every stored weight bit failing at the bit-error rate (:func:`~dcim.nn.bit_error_rate`, half
the bit's failure probability, the modes' union estimated together) of the OpenRAM 6T and 8T
cells at each corner of
``bit_failure_corners()``, as ``python -m benchmarks bitfail`` estimates them (read from its
cache, estimated now if missing, with the same settings). Five seeded fault draws per rate:
the mean accuracy, its spread (standard deviation) and the worst draw; then the same for a
sweep of rates, to show where the accuracy breaks.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_bitfail import OPTIONS  # noqa: E402
from dcim.arith import MultiplierSpec  # noqa: E402
from dcim.nn import accuracy_with_faults, bit_error_rate  # noqa: E402
from dcim.report import format_table  # noqa: E402
from dcim.spice import Bitcell6T, Bitcell8T, bit_failure_table  # noqa: E402

__all__ = ["main"]

TASKS = ("digits", "mnist1d")
TRIALS = 5
RATES = (1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2)
EXACT = MultiplierSpec(8, signed=True, kind="exact")


def _row(label, rate, result):
    return [label, f"{rate:.2g}", f"{100 * result.mean:.1f}", f"{100 * result.spread:.1f}",
            f"{100 * result.worst:.1f}"]


def main():
    failures = {cell.name: bit_failure_table(cell, **OPTIONS)
                for cell in (Bitcell6T(), Bitcell8T())}
    for task in TASKS:
        start = time.perf_counter()
        rows = []
        clean = None
        for cell, table in failures.items():
            results = accuracy_with_faults(EXACT, task, list(table), trials=TRIALS)
            clean = results[0].fault_free_accuracy
            rows += [_row(f"{cell.split('_')[0]} {failure.corner.name}",
                          bit_error_rate(failure), result)
                     for failure, result in zip(table, results, strict=True)]
        swept = accuracy_with_faults(EXACT, task, list(RATES), trials=TRIALS)
        rows += [_row("rate", rate, result) for rate, result in zip(RATES, swept, strict=True)]
        print(f"\n### {task} on {EXACT.name}: fault-free {100 * clean:.1f} % "
              f"({time.perf_counter() - start:.0f} s)\n")
        print(format_table(["cell / corner", "bit-error rate", "mean %", "spread", "worst %"],
                           rows), flush=True)


if __name__ == "__main__":
    main()
