"""Our own Liberty library: characterization time, mul8u_exact on it against Nangate45, and a
multiplier whose 4:2 compressors are library cells.

    python -m benchmarks liberty

Printed, in four tables:

1. ``build_pdk`` of every cell of ``dcim.spice.library.LIBRARY_CELLS`` plus the cells of the
   ``exact42`` and ``acci1`` compressors (default widths), at TT 1.1 V 25 C (Nangate45's
   typical corner is 1.1 V) on the default 4 x 4 grid: per cell the transistors, the
   characterization's wall time (0 when read from the cache) and the worst X1 delay at the
   grid's second slew and load; then the total.
2. ``compare_libraries(MultiplierSpec(8), ...)`` (mul8u_exact): area, delay, power (uniformly
   random operands, dcim.flow's default) and energy per multiply on our library, on
   Nangate45's typical corner, and on Nangate45 restricted to the cells our library has
   (``same_cells=True``: the characterizations compared cell for cell), and the ratios.
3. ``check_critical_path(MultiplierSpec(8), build)``: mul8u_exact's worst path on our
   library, each cell's delay by OpenSTA (our tables) and by ngspice (the same cells'
   transistors, the report's loads and slews), and the whole path's.
4. For ``exact42`` and ``acci1`` (8-bit approximate trees using them): the multiplier mapped
   from gates on our library, the same with its compressors as instances of their cells
   (``compressor_multiplier``), and the gate version on Nangate45; for ``acci1`` also with
   a larger hand-picked sizing of its cell (``SIZED``), in a second library, and with the
   sizing a search found: ``size_compressor("acci1", n_trials=12, seed=0)`` (area, delay at
   SS 0.9 V 100 C, energy at TT; cached, kind ``spice-sizing``), of whose front the point
   with the least energy-delay product other than the X1 sizing itself (already the
   default-width row) is characterized into a third library.

The characterizations are cached (kind ``cell-char``), so only a first run simulates; the
folder of the PDK is temporary.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.arith import MultiplierSpec  # noqa: E402
from dcim.flow.ppa import ppa  # noqa: E402
from dcim.spice.compressor_sizing import (  # noqa: E402
    least_energy_delay,
    size_compressor,
    sized_cell,
)
from dcim.spice.library import (  # noqa: E402
    LIBRARY_CELLS,
    build_pdk,
    compare_libraries,
    compressor_cell_name,
    compressor_cells,
    compressor_multiplier,
)
from dcim.spice.path_check import check_critical_path  # noqa: E402

__all__ = ["main"]

COMPRESSORS = ("exact42", "acci1")
# A hand-picked larger sizing of acci1's cell (inner stages at the X1 drivers' widths, drivers
# at twice them), in a second library.
SIZED = {"acci1": {"inner_nmos": 415e-9, "inner_pmos": 630e-9, "driver_nmos": 830e-9,
                   "driver_pmos": 1260e-9}}
# The searched sizing: a small budget (each trial is about 25 s of ngspice on an empty cache).
SEARCHED = {"acci1": {"n_trials": 12, "seed": 0}}


def _cpu():
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _library(folder):
    cells = {**LIBRARY_CELLS, **compressor_cells(COMPRESSORS)}
    wall = {}
    last = [time.monotonic(), None]

    def progress(done, total, name):
        now = time.monotonic()
        if last[1] is not None:
            wall[last[1]] = now - last[0]
        last[0], last[1] = now, name or None

    started, cpu = time.monotonic(), _cpu()
    build = build_pdk(folder, extra_cells=compressor_cells(COMPRESSORS), progress=progress)
    seconds, cpu = time.monotonic() - started, _cpu() - cpu
    header = (f"{'cell':<15} {'T':>3} {'arcs':>4} {'wall s':>7} {'cached':>6} "
              f"{'delay ps':>8} {'leak nW':>7}")
    print(header)
    print("-" * len(header))
    for cell in build.cells:
        delays = [max(arc.cell_rise[1][1], arc.cell_fall[1][1]) for arc in cell.arcs]
        delay = f"{max(delays) * 1e12:8.1f}" if delays else f"{'-':>8}"
        print(f"{cell.name:<15} {cells[cell.name].transistor_count:>3} {len(cell.arcs):>4} "
              f"{wall.get(cell.name, 0.0):7.1f} {'yes' if cell.cached else 'no':>6} {delay} "
              f"{cell.leakage_power * 1e9:7.2f}")
    print(f"\n{len(build.cells)} cells, {build.simulated} simulated, grid "
          f"{build.cells[0].grid.name}: {seconds:.1f} s wall, {cpu:.1f} s CPU "
          f"(process and children)\n")
    return build


def _row(label, library, area, delay, power, energy):
    print(f"{label:<30} {library:<23} {area:9.1f} {delay:9.3f} {power * 1e3:9.4f} "
          f"{energy:9.4f}")


def _header():
    header = (f"{'design':<30} {'library':<23} {'area um2':>9} {'delay ns':>9} "
              f"{'power mW':>9} {'pJ/mul':>9}")
    print(header)
    print("-" * len(header))


def _comparison(build):
    comparison = compare_libraries(MultiplierSpec(8), build.pdk)
    same = compare_libraries(MultiplierSpec(8), build.pdk, same_cells=True)
    _header()
    for figures in (comparison.ours, comparison.reference, same.reference):
        _row(figures.design, figures.library, figures.area_um2, figures.delay_ns,
             figures.power_w, figures.energy_per_op_pj)
    for label, ratios in (("ratio ours / Nangate45", comparison),
                          ("ratio ours / same cells", same)):
        print(f"{label:<54} {ratios.area_ratio:9.3f} {ratios.delay_ratio:9.3f} "
              f"{ratios.power_ratio:9.3f} {ratios.energy_ratio:9.3f}")
    print()


def _path_check(build):
    check = check_critical_path(MultiplierSpec(8), build)
    header = (f"{'instance':<9} {'cell':<10} {'arc':<9} {'edge':<4} {'load fF':>7} "
              f"{'STA ps':>7} {'SPICE ps':>8} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    for stage in check.stages:
        arc = f"{stage.input_pin}->{stage.output_pin}"
        print(f"{stage.instance:<9} {stage.cell:<10} {arc:<9} "
              f"{'rise' if stage.rising else 'fall':<4} {stage.load * 1e15:7.2f} "
              f"{stage.sta_delay * 1e12:7.1f} {stage.spice_delay * 1e12:8.1f} "
              f"{stage.sta_delay / stage.spice_delay:6.3f}")
    print(f"\n{check.design} {check.startpoint} -> {check.endpoint}: OpenSTA "
          f"{check.sta_delay * 1e12:.1f} ps, ngspice {check.spice_delay * 1e12:.1f} ps, ratio "
          f"{check.ratio:.3f} ({len(check.stages)} cells, {check.copies} copies, "
          f"{check.seconds:.1f} s of ngspice)\n")


def _compressor_multipliers(build, folder):
    _header()
    for compressor in COMPRESSORS:
        spec = MultiplierSpec(8, kind="approx", options={"compressor": compressor})
        gates = ppa(spec, pdk=build.pdk, metrics=False)
        cells = ppa(compressor_multiplier(spec, [compressor]), pdk=build.pdk, metrics=False)
        reference = ppa(spec, metrics=False)
        for label, report, library in ((spec.name, gates, build.pdk.name),
                                       (f"{spec.name} cells", cells, build.pdk.name),
                                       (spec.name, reference, "nangate45")):
            _row(label, library, report.area_um2, report.delay_ns, report.power.total_w,
                 report.energy_per_op_pj)
        instances = cells.synthesis.cells.get(compressor_cell_name(compressor), 0)
        print(f"  {instances} instances of {compressor_cell_name(compressor)}; cells / gates: "
              f"area {cells.area_um2 / gates.area_um2:.3f}, delay "
              f"{cells.delay_ns / gates.delay_ns:.3f}, energy "
              f"{cells.energy_per_op_pj / gates.energy_per_op_pj:.3f}")
        if compressor in SIZED:
            cell = sized_cell(compressor, SIZED[compressor])
            sized = build_pdk(folder, extra_cells={compressor_cell_name(compressor): cell},
                              name=f"{build.pdk.name}s")
            report = ppa(compressor_multiplier(spec, [compressor]), pdk=sized.pdk,
                         metrics=False)
            _row(f"{spec.name} sized", sized.pdk.name, report.area_um2, report.delay_ns,
                 report.power.total_w, report.energy_per_op_pj)
            widths = ", ".join(f"{name} {width * 1e9:.0f} nm"
                               for name, width in SIZED[compressor].items())
            print(f"  sized cell {cell.area * 1e12:.2f} um^2 ({widths}); "
                  f"sized / gates: area {report.area_um2 / gates.area_um2:.3f}, delay "
                  f"{report.delay_ns / gates.delay_ns:.3f}, energy "
                  f"{report.energy_per_op_pj / gates.energy_per_op_pj:.3f}")
        if compressor in SEARCHED:
            _searched_row(spec, compressor, gates, folder, build.pdk.name)
    print()


def _searched_row(spec, compressor, gates, folder, library_name):
    started = time.monotonic()
    search = size_compressor(compressor, **SEARCHED[compressor])
    others = [point for point in search.front if point.widths != search.reference.widths]
    point = least_energy_delay(others)
    cell = sized_cell(compressor, point.widths)
    searched = build_pdk(folder, extra_cells={compressor_cell_name(compressor): cell},
                         name=f"{library_name}o")
    report = ppa(compressor_multiplier(spec, [compressor]), pdk=searched.pdk, metrics=False)
    _row(f"{spec.name} searched", searched.pdk.name, report.area_um2, report.delay_ns,
         report.power.total_w, report.energy_per_op_pj)
    widths = ", ".join(f"{name} {width * 1e9:.0f} nm" for name, width in point.widths.items())
    reference = search.reference
    print(f"  search: {len(search.trials)} trials, {len(search.failed)} infeasible or failed, "
          f"front of {len(search.front)}, {search.simulations} simulations, "
          f"{time.monotonic() - started:.0f} s with the library; picked trial {point.trial} "
          f"(least energy x delay besides X1): {cell.area * 1e12:.2f} um^2 ({widths}), "
          f"{point.delay * 1e12:.1f} ps at SS, {point.energy * 1e15:.2f} fJ "
          f"(X1: {reference.delay * 1e12:.1f} ps, {reference.energy * 1e15:.2f} fJ); "
          f"searched / gates: area {report.area_um2 / gates.area_um2:.3f}, delay "
          f"{report.delay_ns / gates.delay_ns:.3f}, energy "
          f"{report.energy_per_op_pj / gates.energy_per_op_pj:.3f}")


def main():
    with tempfile.TemporaryDirectory(prefix="dcim-bench-liberty-") as folder:
        build = _library(folder)
        _comparison(build)
        _path_check(build)
        _compressor_multipliers(build, folder)


if __name__ == "__main__":
    main()
