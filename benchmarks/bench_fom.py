"""Figures of merit of macros: energy per MAC, TOPS/W and TOPS/mm^2 at 8 and 4 bits.

    python -m benchmarks fom        # needs DCIM_PDK_ROOT (e.g. ../shared/pdk)

For each bit width (``DCIM_BENCH_FOM_BITS``, default ``8,4``; weights and activations alike,
signed) and each arithmetic: the multiplier datapath with exact, logarithmic (Mitchell) and
approximate-tree (exact multipliers, ``acci1`` compressors in the tree's lowest columns)
lanes, and the bit-serial datapath with an exact and an approximate tree. Each macro is
``DCIM_BENCH_FOM_ROWS`` x ``DCIM_BENCH_FOM_COLS`` (default 64 x 8), at the Nangate45 typical
corner, power from uniformly random operands at the macro's own maximum clock.

Every figure comes from :func:`dcim.flow.ppa` (cached by content: a second run reads the
results). Two operations per MAC, as the compute-in-memory papers count them.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.flow import ppa  # noqa: E402
from dcim.macro import MacroSpec  # noqa: E402

__all__ = ["designs", "main"]

_APPROXIMATE_COLUMNS = 4
"""Tree columns (from the least significant) that get approximate compressors."""


def _ints(name, default):
    return [int(text) for text in os.environ.get(name, default).split(",") if text.strip()]


def designs(rows, cols, bits):
    """``(label, MacroSpec)`` of the macros compared at one bit width."""
    common = dict(rows=rows, cols=cols, weight_bits=bits, act_bits=bits, signed=True)
    approximate = {"columns": {column: "acci1" for column in range(_APPROXIMATE_COLUMNS)}}
    return [
        ("multiplier, exact", MacroSpec(**common)),
        ("multiplier, log", MacroSpec(**common, mult="log")),
        ("multiplier, approximate tree", MacroSpec(**common, assignment=approximate)),
        ("bit-serial, exact", MacroSpec(**common, datapath="bitserial")),
        ("bit-serial, approximate tree",
         MacroSpec(**common, datapath="bitserial", assignment=approximate)),
    ]


def main():
    rows = _ints("DCIM_BENCH_FOM_ROWS", "64")[0]
    cols = _ints("DCIM_BENCH_FOM_COLS", "8")[0]
    header = (f"{'bits':>4}  {'datapath, arithmetic':<30} {'area um2':>10} {'storage':>8} "
              f"{'fmax MHz':>8} {'MAC/cycle':>9} {'pJ/MAC':>7} {'TOPS/W':>7} {'TOPS/mm2':>8} "
              f"{'time s':>7}")
    print(f"rows={rows}, cols={cols}, Nangate45 typical, uniform random operands\n")
    print(header)
    print("-" * len(header))
    for bits in _ints("DCIM_BENCH_FOM_BITS", "8,4"):
        for label, spec in designs(rows, cols, bits):
            started = time.monotonic()
            report = ppa(spec, operands="uniform")
            seconds = time.monotonic() - started
            storage = report.synthesis.groups.get("storage", 0.0) / report.area_um2
            print(f"{bits:>4}  {label:<30} {report.area_um2:>10.0f} {storage:>8.1%} "
                  f"{report.timing.fmax_mhz:>8.0f} {report.power.ops_per_cycle:>9.4g} "
                  f"{report.energy_per_op_pj:>7.3f} {report.tops_per_w:>7.3f} "
                  f"{report.tops_per_mm2:>8.4f} {seconds:>7.1f}", flush=True)
