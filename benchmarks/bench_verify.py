"""How fast can a multiplier be checked against its model? Prints one table row per method.

    python benchmarks/bench_verify.py            # 8x8 simulator and exhaustive, 16x16 on 2**26
    DCIM_BENCH_FULL=1 python benchmarks/bench_verify.py   # adds the full 2**32 16x16 check

The designs are dcim multiplier specs: the generated trees (exact and approximate) and the
logarithmic kinds at 8 bits, the exact Dadda tree at 16 bits.
"""

import os
import sys
import time
from pathlib import Path

import numpy as np
from amaranth.sim import Simulator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.arith import MultiplierSpec  # noqa: E402
from dcim.verify.netlist import GateNetlist, check_exhaustive  # noqa: E402


def time_simulator(spec, count=2000, seed=1):
    """Amaranth simulator: set the operands, read the product, one vector at a time."""
    low, high = spec.operand_range
    rng = np.random.default_rng(seed)
    a, b = rng.integers(low, high + 1, count), rng.integers(low, high + 1, count)
    dut = spec.component()
    products = []

    async def testbench(ctx):
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            ctx.set(dut.a, x)
            ctx.set(dut.b, y)
            products.append(ctx.get(dut.p))

    simulator = Simulator(dut)
    simulator.add_testbench(testbench)
    start = time.perf_counter()
    simulator.run()
    seconds = time.perf_counter() - start
    if products != spec.model(a, b).tolist():
        raise AssertionError(f"simulation of {spec.name} disagrees with its model")
    return count, seconds


def run(specs_8bit, specs_16bit, *, full=False, threads=None):
    rows = []
    for spec in specs_8bit:
        vectors, seconds = time_simulator(spec)
        rows.append((f"{spec.name} Amaranth simulator", vectors, seconds))
        start = time.perf_counter()
        netlist = GateNetlist.from_design(spec)
        rows.append((f"{spec.name} synthesis ({netlist.gate_count} gates)", 0,
                     time.perf_counter() - start))
        report = check_exhaustive(spec, netlist=netlist, threads=threads)
        report.raise_for_mismatch()
        rows.append((f"{spec.name} netlist exhaustive", report.vectors, report.seconds))
    for spec in specs_16bit:
        start = time.perf_counter()
        netlist = GateNetlist.from_design(spec)
        rows.append((f"{spec.name} synthesis ({netlist.gate_count} gates, "
                     f"{netlist.operation_count} ops)", 0, time.perf_counter() - start))
        for threads_used in sorted({1, threads or len(os.sched_getaffinity(0))}):
            report = check_exhaustive(spec, netlist=netlist, limit=1 << 26, threads=threads_used)
            report.raise_for_mismatch()
            rows.append((f"{spec.name} netlist 2**26 subset, {threads_used} thread(s)",
                         report.vectors, report.seconds))
        if full:
            report = check_exhaustive(spec, netlist=netlist, threads=threads)
            report.raise_for_mismatch()
            rows.append((f"{spec.name} netlist exhaustive", report.vectors, report.seconds))
    return rows


def print_table(rows):
    print(f"{'design / method':58} {'vectors':>13} {'seconds':>9} {'vectors/s':>14}")
    for label, vectors, seconds in rows:
        rate = f"{vectors / seconds:14,.0f}" if vectors else f"{'':14}"
        print(f"{label:58} {vectors:13,} {seconds:9.3f} {rate}")


def main():
    full = os.environ.get("DCIM_BENCH_FULL") == "1"
    specs_8bit = [MultiplierSpec(8),
                  MultiplierSpec(8, True, options={"partial_products": "booth4"}),
                  MultiplierSpec(8, kind="approx"), MultiplierSpec(8, kind="log")]
    rows = run(specs_8bit, [MultiplierSpec(16)], full=full)
    print_table(rows)
    if not full:
        print("(set DCIM_BENCH_FULL=1 for the full 2**32-vector 16x16 check)")


if __name__ == "__main__":
    main()
