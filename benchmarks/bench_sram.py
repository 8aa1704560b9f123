"""Flip-flop against SRAM weight storage: area split, timing and energy of rows=64 macros.

    python -m benchmarks sram     # needs DCIM_PDK_ROOT (e.g. ../shared/pdk)

For ``MacroSpec(rows=64, cols=8)`` with the exact and the log multiplier: ``ppa()`` of
``macro_design(spec, storage="ff")`` (the weight array synthesized as flip-flops) and of
``storage="sram"`` (the hard 8T SRAM macro of :mod:`dcim.macro.sram`), then the storage
area, its area per stored bit and its share, and the SRAM array's own split (bitcells, row
periphery, column periphery, control). ``DCIM_BENCH_SRAM_MULTS=exact`` chooses multipliers
(empty for none: only the views). Last, the 64 x 8-word array's analytical views beside
those from SPICE bitcell figures (``SramTechnology.from_bitcell(bitcell_figures(...))``, the
8T cell with 64 rows at TT 1.0 V, 25 C and 0 C; cached, kind ``bitcell-char``).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.flow import ppa  # noqa: E402
from dcim.flow.design import macro_design  # noqa: E402
from dcim.macro import MacroSpec  # noqa: E402
from dcim.macro.sram import SramArraySpec, SramTechnology, sram_views  # noqa: E402

__all__ = ["main"]


def main():
    mults = [mult for mult in os.environ.get("DCIM_BENCH_SRAM_MULTS", "exact,log").split(",")
             if mult]
    header = (f"{'design':34}  {'storage':7}  {'area um2':>9}  {'storage um2':>11}  "
              f"{'um2/bit':>7}  {'share':>6}  {'arith um2':>9}  {'control um2':>11}  "
              f"{'delay ns':>8}  {'mW':>7}  {'pJ/MAC':>6}  {'s':>5}")
    print(header)
    print("-" * len(header))
    for mult in mults:
        spec = MacroSpec(rows=64, cols=8, mult=mult)
        for storage in ("ff", "sram"):
            started = time.monotonic()
            report = ppa(macro_design(spec, storage=storage))
            groups = report.synthesis.groups
            print(f"{spec.name:34}  {storage:7}  {report.area_um2:9.0f}  "
                  f"{report.storage_area_um2:11.0f}  {report.storage_area_per_bit_um2:7.3f}  "
                  f"{100 * report.area_split['storage']:5.1f}%  {groups['arithmetic']:9.0f}  "
                  f"{groups['control']:11.0f}  {report.delay_ns:8.3f}  "
                  f"{report.power.total_w * 1e3:7.3f}  {report.energy_per_op_pj:6.4f}  "
                  f"{time.monotonic() - started:5.0f}", flush=True)
    views = sram_views(SramArraySpec(rows=64, cols=8, weight_bits=8))
    print(f"\n{views.spec.name}: {views.area_um2:.0f} um2 = bitcells "
          f"{views.array_area_um2:.0f} ({views.bitcell_area_um2:.3f} um2/bit) + row periphery "
          f"{views.row_periphery_um2:.0f} + column periphery {views.column_periphery_um2:.0f} "
          f"+ control {views.control_area_um2:.0f}; {views.width_um:.1f} x "
          f"{views.height_um:.1f} um; write {views.write_delay_ns:.3f} ns, "
          f"{views.write_energy_pj:.3f} pJ/row; compute {views.compute_energy_per_bit_pj * 1e3:.3f}"
          f" fJ/bit/cycle; leakage {views.leakage_per_bit_w * 1e9:.2f} nW/bit, "
          f"{views.leakage_w * 1e6:.1f} uW in all")
    _spice_views(views)


_FIGURES = (("bitcell_area_um2", "bitcell um2", 1.0), ("area_um2", "area um2", 1.0),
            ("read_delay_ns", "read ns", 1.0), ("write_delay_ns", "write ns", 1.0),
            ("write_energy_pj", "write pJ/row", 1.0), ("read_energy_pj", "read pJ/row", 1.0),
            ("compute_energy_per_bit_pj", "compute fJ/bit", 1e3),
            ("leakage_per_bit_w", "leak nW/bit", 1e9), ("leakage_w", "leak uW", 1e6))


def _spice_views(analytical):
    from dcim.spice import Bitcell8T, Corner
    from dcim.spice.array_figures import bitcell_figures

    rows = analytical.spec.rows
    columns = {"analytical": analytical}
    for temp_c in (25.0, 0.0):
        started = time.monotonic()
        figures = bitcell_figures(Bitcell8T(), Corner("TT", 1.0, temp_c), rows=rows)
        columns[f"spice {temp_c:g} C"] = sram_views(analytical.spec,
                                                    SramTechnology.from_bitcell(figures))
        print(f"\nbitcell figures at {temp_c:g} C: {time.monotonic() - started:.1f} s; "
              f"bitline {figures.bitline_capacitance * 1e15:.2f} fF, read current "
              f"{figures.read_current * 1e6:.1f} uA, read {figures.read_delay * 1e12:.1f} ps, "
              f"write {figures.write_delay * 1e12:.1f} ps")
    header = f"\n{'view':16}" + "".join(f"  {name:>13}" for name in columns) \
        + f"  {'spice/analyt.':>13}"
    print(header)
    print("-" * (len(header) - 1))
    for field, label, scale in _FIGURES:
        values = [getattr(views, field) * scale for views in columns.values()]
        print(f"{label:16}" + "".join(f"  {value:13.4g}" for value in values)
              + f"  {values[1] / values[0]:13.3f}")


if __name__ == "__main__":
    main()
