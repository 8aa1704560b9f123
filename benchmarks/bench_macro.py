"""Benchmark of the macro: simulated cycles per second per engine, and MACs per cycle.

Prints two Markdown tables for BENCHMARKS.md:

1. Simulation speed of a rows=64, cols=8, signed 8-bit macro, per engine and datapath style:
   the one-off cost (Verilator/Icarus compile, or Amaranth elaboration) and the marginal
   speed in simulated cycles per second (from runs of different lengths, so that start-up
   costs cancel out).
2. MACs per cycle of each datapath style and column multiplexing, measured from the cycles
   in which the macro accepted its activation vectors, next to ``spec.throughput``.

    python -m benchmarks macro
    python benchmarks/bench_macro.py [--quick] [--engines verilator,iverilog,amaranth]

Compiled models are cached (``$DCIM_CACHE_DIR`` or ``~/.cache/dcim``). The whole run takes
about 15 minutes on 2 cores, most of it in Icarus Verilog and Amaranth's simulator.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.macro import MacroSpec, simulate  # noqa: E402

__all__ = ["main", "speed"]


def _operands(spec, n, seed=0):
    rng = np.random.default_rng(seed)
    low, high = spec.value_range(spec.weight_bits)
    weights = rng.integers(low, high + 1, size=(spec.rows, spec.cols))
    low, high = spec.value_range(spec.act_bits)
    return weights, rng.integers(low, high + 1, size=(n, spec.rows))


def _timed(spec, engine, n):
    weights, activations = _operands(spec, n)
    start = time.perf_counter()
    outcome = simulate(spec, weights, activations, engine=engine)
    elapsed = time.perf_counter() - start
    if not np.array_equal(outcome.results, spec.model(weights, activations)):
        raise AssertionError(f"{engine} disagrees with the model for {spec.name}")
    return outcome, elapsed


def speed(spec, engine, seconds):
    """One-off seconds and marginal simulated cycles per second of ``engine``.

    Runs one vector (compiling, for compiled engines), one vector again, then longer streams
    until they take ``seconds`` more than the one-vector run; the difference in cycles over
    the difference in time is the speed, free of start-up, compile and elaboration.
    """
    first, first_time = _timed(spec, engine, 1)
    base, base_time = _timed(spec, engine, 1) if engine != "amaranth" else (first, first_time)
    extra = max(spec.interval, int(base.cycles / base_time * seconds))
    for _ in range(4):
        long, long_time = _timed(spec, engine, 1 + -(-extra // spec.interval))
        elapsed = long_time - base_time
        if elapsed >= seconds / 2:
            break
        extra = int(extra * seconds / max(elapsed, seconds / 20))
    rate = (long.cycles - base.cycles) / elapsed
    # What the first run spent beyond simulating its cycles: compiling or elaborating.
    return first_time - first.cycles / rate, rate


def main(argv=()):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer designs")
    parser.add_argument("--engines", default="verilator,iverilog,amaranth",
                        help="comma-separated engines to time (default: all three)")
    arguments = parser.parse_args(argv)
    engines = arguments.engines.split(",")
    seconds = 5.0 if arguments.quick else 20.0    # simulation time of each measurement

    styles = [("multiplier, exact", MacroSpec(rows=64, cols=8)),
              ("multiplier, log", MacroSpec(rows=64, cols=8, mult="log")),
              ("bit-serial", MacroSpec(rows=64, cols=8, datapath="bitserial"))]
    if arguments.quick:
        styles = styles[::2]
    print("Simulation speed, rows=64, cols=8, signed 8-bit, col_mux=1 "
          "(weights loaded through the port, then vectors streamed at full rate):\n")
    print("| engine | datapath | one-off (s) | simulated cycles/s |")
    print("|---|---|---:|---:|")
    for engine in engines:
        for label, spec in styles:
            setup, rate = speed(spec, engine, seconds)
            kind = "elaborate" if engine == "amaranth" else "compile"
            print(f"| {engine} | {label} | {setup:.1f} ({kind}) | {rate:,.0f} |", flush=True)

    print("\nMACs per cycle, rows=64, cols=8, signed 8-bit (measured in Verilator from the "
          "cycles between accepted vectors):\n")
    print("| datapath | col_mux | lanes | interval | latency | MACs/cycle (spec) "
          "| MACs/cycle (measured) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    measure_engine = "verilator" if "verilator" in engines else engines[0]
    for datapath in ("multiplier", "bitserial"):
        for col_mux in (1, 8):
            spec = MacroSpec(rows=64, cols=8, datapath=datapath, col_mux=col_mux)
            outcome, _ = _timed(spec, measure_engine, 16)
            span = outcome.act_cycles[-1] - outcome.act_cycles[0]
            measured = spec.rows * spec.cols * (len(outcome.act_cycles) - 1) / span
            print(f"| {datapath} | {col_mux} | {spec.lanes} | {spec.interval} | "
                  f"{spec.latency} | {spec.throughput:g} | {measured:g} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
