"""Maximum clock and energy per MAC of a macro for each ``pipeline`` setting.

    python -m benchmarks macro_pipeline      # needs DCIM_PDK_ROOT (e.g. ../shared/pdk)

The exact-multiplier macro, ``DCIM_BENCH_PIPELINE_ROWS`` x ``DCIM_BENCH_PIPELINE_COLS``
(default 64 x 8; 16 x 4 for a quick run), 8-bit signed, at the Nangate45 typical corner, for
each setting in ``DCIM_BENCH_PIPELINE`` (default ``0,1,2,3,5,11``: combinational lanes, a
register after every stage of the adder tree, ..., the products alone registered; settings
above the tree's stages plus one are the same circuit and are shown once). Each figure comes
from :func:`dcim.flow.ppa` (cached by content): fmax is 1 / the minimum period from OpenSTA,
energy per MAC from uniformly random operands streamed at that fmax; ``cold s`` is the
first call (on an empty cache, the time to synthesize, time and simulate), ``warm s`` the
same call again. The target is 300 MHz for the rows=64 exact macro.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.flow import ppa  # noqa: E402
from dcim.macro import MacroSpec  # noqa: E402

__all__ = ["designs", "main"]

TARGET_MHZ = 300.0


def _ints(name, default):
    return [int(text) for text in os.environ.get(name, default).split(",") if text.strip()]


def designs(rows, cols, settings):
    """The distinct macros of ``settings`` (``pipeline`` values), in order."""
    specs = []
    for pipeline in settings:
        spec = MacroSpec(rows=rows, cols=cols, pipeline=pipeline)
        if spec not in specs:
            specs.append(spec)
    return specs


def main():
    rows = _ints("DCIM_BENCH_PIPELINE_ROWS", "64")[0]
    cols = _ints("DCIM_BENCH_PIPELINE_COLS", "8")[0]
    settings = _ints("DCIM_BENCH_PIPELINE", "0,1,2,3,5,11")
    specs = designs(rows, cols, settings)
    print(f"rows={rows}, cols={cols}, 8-bit signed exact multipliers, "
          f"{specs[0].tree_plan.stages} tree stages, Nangate45 typical, uniform random "
          f"operands at fmax; target {TARGET_MHZ:.0f} MHz\n")
    header = (f"{'pipeline':>8} {'lane lat':>8} {'latency':>7} {'area um2':>10} "
              f"{'flip-flops':>10} {'period ns':>9} {'fmax MHz':>8} {'pJ/MAC':>7} "
              f"{'TOPS/W':>7} {'TOPS/mm2':>8} {'target':>6} {'cold s':>7} {'warm s':>7}")
    print(header)
    print("-" * len(header))
    for spec in specs:
        started = time.monotonic()
        report = ppa(spec, operands="uniform", metrics=False)
        seconds = time.monotonic() - started
        started = time.monotonic()
        ppa(spec, operands="uniform", metrics=False)
        warm = time.monotonic() - started
        fmax = report.timing.fmax_mhz
        print(f"{spec.pipeline:>8} {spec.lane_latency:>8} {spec.latency:>7} "
              f"{report.area_um2:>10.0f} {report.synthesis.sequential_cells:>10} "
              f"{report.delay_ns:>9.3f} {fmax:>8.0f} {report.energy_per_op_pj:>7.3f} "
              f"{report.tops_per_w:>7.3f} {report.tops_per_mm2:>8.4f} "
              f"{'met' if fmax >= TARGET_MHZ else 'missed':>6} {seconds:>7.1f} {warm:>7.2f}",
              flush=True)
