"""PPA of ``DCiMMacro(rows=..., cols=..., mult="log")`` synthesized block by block: cold and warm.

    python -m benchmarks macro_hier     # needs DCIM_PDK_ROOT (e.g. ../shared/pdk)

For each macro (rows 16 and 64 by default; ``DCIM_BENCH_HIER_ROWS=16,64,...`` chooses, and
``DCIM_BENCH_HIER_COLS`` the columns, 8 by default) and storage (``DCIM_BENCH_HIER_STORAGE``,
``sram`` by default, ``sram,ff`` for both), on an empty cache of its own: ``ppa()`` cold,
with the time at which each step (multiplier, lane and top synthesis, timing, power) began
or ended, then again in the same process (warm) and in a new process (warm: the Verilog
for the keys comes from the cache too), and each block's share of the power. Wall time and
the CPU time of the process and its children (Yosys, abc, OpenSTA) are both printed: on a
machine shared with other jobs the wall time is the larger. With ``DCIM_BENCH_HIER_FLAT=1``
each macro of at most 16 rows is also run in one Yosys run (``hierarchical=False``, its
array as flip-flops) for comparison, and with ``DCIM_BENCH_HIER_POWER_FLAT=1`` each macro's
power is also computed on the flat expansion of the same netlist (``per_block=False``),
timed apart.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.flow import ppa  # noqa: E402
from dcim.flow.design import macro_design  # noqa: E402
from dcim.macro import MacroSpec  # noqa: E402

__all__ = ["main", "measure"]

_FRESH = """
import time
started = time.monotonic()
from dcim.flow import ppa
from dcim.flow.design import macro_design
from dcim.macro import MacroSpec
report = ppa(macro_design(MacroSpec(rows={rows}, cols={cols}, mult="log"), storage={storage!r}),
             hierarchical={hierarchical})
assert report.synthesis.cached and report.timing.cached and report.power.cached
print(time.monotonic() - started)
"""


def _cpu():
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _design(rows, cols, storage):
    return macro_design(MacroSpec(rows=rows, cols=cols, mult="log"), storage=storage)


def measure(rows, hierarchical=None, cols=8, power_flat=False, storage="sram"):
    """Cold, warm and new-process times of one macro's ``ppa()``, with its figures.

    Uses the current ``$DCIM_CACHE_DIR``, which should be empty for the cold figure. With
    ``power_flat``, also the time and report of power on the flat expansion
    (``per_block=False``; synthesis and timing then come from the cache).
    """
    if hierarchical is False:
        storage = "ff"  # a hard macro needs a block of its own
    macro = _design(rows, cols, storage)
    steps = []
    started, cpu = time.monotonic(), _cpu()
    report = ppa(macro, hierarchical=hierarchical,
                 progress=lambda text: steps.append((time.monotonic() - started, text)))
    cold, cold_cpu = time.monotonic() - started, _cpu() - cpu
    started = time.monotonic()
    again = ppa(_design(rows, cols, storage), hierarchical=hierarchical)
    warm = time.monotonic() - started
    assert again.synthesis.cached and again.timing.cached and again.power.cached
    completed = subprocess.run(
        [sys.executable, "-c", _FRESH.format(rows=rows, cols=cols, hierarchical=hierarchical,
                                                storage=storage)],
        capture_output=True, text=True, check=True, env=dict(os.environ))
    result = {"report": report, "cold_s": cold, "cold_cpu_s": cold_cpu, "warm_s": warm,
              "new_process_s": float(completed.stdout.split()[-1]), "steps": steps}
    if power_flat and report.synthesis.hierarchical:
        started = time.monotonic()
        result["flat"] = ppa(_design(rows, cols, storage), per_block=False)
        result["flat_s"] = time.monotonic() - started
    return result


def _print(label, result):
    report = result["report"]
    synthesis = report.synthesis
    print(f"### {label}: {report.design}\n")
    print(f"cold {result['cold_s']:.1f} s wall ({result['cold_cpu_s']:.1f} s CPU), warm "
          f"{result['warm_s']:.2f} s in the same process, {result['new_process_s']:.1f} s in a "
          f"new process")
    for seconds, text in result["steps"]:
        print(f"  {seconds:7.1f} s  {text}")
    blocks = ", ".join(f"{name} x{count}" for name, count in synthesis.blocks.items())
    print(f"area {report.area_um2:.1f} um2, {synthesis.cell_count} cells, port buffers "
          f"{synthesis.buffers}, BUF_X1 {synthesis.cells.get('BUF_X1', 0)}; delay "
          f"{report.delay_ns:.3f} ns; power {report.power.total_w * 1e3:.4f} mW; "
          f"{report.energy_per_op_pj:.4f} pJ/MAC; blocks: {blocks or 'none (one run)'}")
    total = report.area_um2 or 1.0
    print("area split: " + ", ".join(f"{group} {area:.0f} um2 ({100 * area / total:.1f} %)"
                                     for group, area in synthesis.groups.items()))
    for name, part in report.power.checks.get("blocks", {}).items():
        watts = part["internal_w"] + part["switching_w"] + part["leakage_w"]
        print(f"  power of {name} x{part['instances']}: {watts * 1e3:.4f} mW")
    if "flat" in result:
        flat = result["flat"].power
        print(f"power on the flat expansion (per_block=False): {result['flat_s']:.1f} s, "
              f"{flat.total_w * 1e3:.4f} mW (internal {flat.internal_w * 1e3:.4f}, "
              f"switching {flat.switching_w * 1e3:.4f}); per block / flat "
              f"{report.power.total_w / flat.total_w:.4f}")
    print()


def main():
    rows_list = [int(text) for text in os.environ.get("DCIM_BENCH_HIER_ROWS", "16,64").split(",")]
    cols = int(os.environ.get("DCIM_BENCH_HIER_COLS", "8"))
    flat = os.environ.get("DCIM_BENCH_HIER_FLAT") == "1"
    power_flat = os.environ.get("DCIM_BENCH_HIER_POWER_FLAT") == "1"
    storages = os.environ.get("DCIM_BENCH_HIER_STORAGE", "sram").split(",")
    saved = os.environ.get("DCIM_CACHE_DIR")
    try:
        for rows in rows_list:
            modes = [(None, storage) for storage in storages]
            if flat and rows <= 16:
                modes.append((False, "ff"))
            for hierarchical, storage in modes:
                with tempfile.TemporaryDirectory(prefix="dcim-bench-hier-") as folder:
                    os.environ["DCIM_CACHE_DIR"] = folder
                    label = f"rows={rows}, cols={cols}, " + ("one run" if hierarchical is False
                                                             else "block by block")
                    _print(f"{label}, {storage}",
                           measure(rows, hierarchical, cols, power_flat, storage))
    finally:
        if saved is None:
            os.environ.pop("DCIM_CACHE_DIR", None)
        else:
            os.environ["DCIM_CACHE_DIR"] = saved


if __name__ == "__main__":
    main()
