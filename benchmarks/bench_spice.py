"""FreePDK45 bitcells at every standard corner, and batched Monte Carlo throughput.

    python -m benchmarks spice     # needs ngspice, libngspice0 and the spice extra (setup.sh)

For the 6T and 8T cells of :mod:`dcim.spice`: ``characterize`` at TT/FF/SS x 0.9/1.0/1.1 V x
0/25/100 C with ``rows`` cells per bitline (``DCIM_BENCH_SPICE_ROWS``, default 64), one table
line per corner; then the samples per second of ``hold_snm_batch``, ``read_snm_batch`` and
``write_margin_batch`` on Gaussian threshold shifts (sigma 30 mV, seed 0), wall time beside
the process's CPU time (ngspice runs inside the process as a shared library), and
``write_margin_batch(method="static")`` on the write row's samples with its difference from
the transient margins.
``DCIM_BENCH_SPICE_PROCESSES=TT`` chooses the processes; ``DCIM_BENCH_SPICE_PARTS=monte-carlo``
(or ``corners``) runs only one of the two parts (default ``monte-carlo,corners``).
"""

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.spice import (  # noqa: E402
    Bitcell6T,
    Bitcell8T,
    characterize,
    hold_snm_batch,
    read_snm_batch,
    standard_corners,
    write_margin_batch,
)
from dcim.spice.corners import Corner  # noqa: E402

__all__ = ["main"]

_MONTE_CARLO = (("hold_snm_batch", hold_snm_batch, 1000), ("read_snm_batch", read_snm_batch, 1000),
                ("write_margin_batch", write_margin_batch, 200))
_PARTS = ("monte-carlo", "corners")


def _corner_table(cell, rows, processes):
    header = (f"{'corner':14}  {'hold mV':>7}  {'read mV':>7}  {'write mV':>8}  "
              f"{'I read uA':>9}  {'leak nA':>7}  {'t read ps':>9}  {'t write ps':>10}  "
              f"{'s':>4}")
    print(f"### {cell.name}, {rows} rows\n")
    print(header)
    print("-" * len(header))
    for corner in standard_corners(processes):
        started = time.monotonic()
        report = characterize(cell, corner, rows=rows)
        print(f"{corner.name:14}  {report.hold_snm * 1e3:7.1f}  {report.read_snm * 1e3:7.1f}  "
              f"{report.write_margin * 1e3:8.1f}  {report.read_current * 1e6:9.1f}  "
              f"{report.leakage_current * 1e9:7.2f}  {report.read_delay * 1e12:9.1f}  "
              f"{report.write_delay * 1e12:10.1f}  {time.monotonic() - started:4.1f}",
              flush=True)
    print()


def _throughput():
    header = (f"{'function':20}  {'cell':6}  {'samples':>7}  {'wall s':>6}  {'cpu s':>6}  "
              f"{'samples/s wall':>14}  {'samples/s cpu':>13}  {'mean mV':>7}  {'std mV':>6}")
    print("### Monte Carlo at tt_1v00_25c, sigma_Vt 30 mV on every transistor\n")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for cell in (Bitcell6T(), Bitcell8T()):
        for name, function, samples in _MONTE_CARLO:
            shifts = rng.normal(0.0, 0.03, (samples, len(cell.transistors)))
            wall, cpu = time.monotonic(), time.process_time()
            margins = function(cell, Corner(), shifts)
            wall, cpu = time.monotonic() - wall, time.process_time() - cpu
            _throughput_line(name, cell, samples, wall, cpu, margins)
            if function is write_margin_batch:
                # The DC method on the very same samples, and how far it is from the ramp's.
                wall, cpu = time.monotonic(), time.process_time()
                static = write_margin_batch(cell, Corner(), shifts, method="static")
                wall, cpu = time.monotonic() - wall, time.process_time() - cpu
                _throughput_line("  method='static'", cell, samples, wall, cpu, static)
                both = np.isfinite(margins) & np.isfinite(static)
                difference = (static - margins)[both] * 1e3
                print(f"{'':20}  static - transient: {difference.mean():.2f} mV mean, "
                      f"{difference.min():.2f} to {difference.max():.2f} mV; "
                      f"{int(np.sum(np.isfinite(margins) != np.isfinite(static)))} samples "
                      f"writable by one method only", flush=True)
    print()


def _throughput_line(name, cell, samples, wall, cpu, margins):
    finite = margins[np.isfinite(margins)]
    print(f"{name:20}  {cell.kind:6}  {samples:7}  {wall:6.1f}  {cpu:6.1f}  "
          f"{samples / wall:14.0f}  {samples / cpu:13.0f}  {finite.mean() * 1e3:7.1f}  "
          f"{finite.std() * 1e3:6.1f}", flush=True)


def main():
    rows = int(os.environ.get("DCIM_BENCH_SPICE_ROWS", "64"))
    processes = tuple(os.environ.get("DCIM_BENCH_SPICE_PROCESSES", "TT,FF,SS").split(","))
    parts = set(os.environ.get("DCIM_BENCH_SPICE_PARTS", ",".join(_PARTS)).split(","))
    if not parts or not parts <= set(_PARTS):
        raise ValueError(f"DCIM_BENCH_SPICE_PARTS must name some of {', '.join(_PARTS)}, "
                         f"not {os.environ['DCIM_BENCH_SPICE_PARTS']!r}")
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)\n")
    if "monte-carlo" in parts:
        _throughput()
    if "corners" in parts:
        for cell in (Bitcell6T(), Bitcell8T()):
            _corner_table(cell, rows, processes)


if __name__ == "__main__":
    main()
