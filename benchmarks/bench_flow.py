"""Power, performance and area of 8-bit multipliers and of a 64x8 macro, on Nangate45.

    python -m benchmarks flow          # needs DCIM_PDK_ROOT (e.g. ../shared/pdk)

Prints, at the typical corner:

1. every multiplier kind at 8 bits unsigned, each approximate 4:2 compressor used uniformly
   in the eight low columns of a Dadda tree, and Yosys's own ``a * b`` synthesized in the same
   run: area, delay, power and energy per multiply (from 4,096 uniformly random operand
   pairs, each design at its own maximum frequency), MRED and NMED;
2. the check that dcim's exact Dadda tree is not worse than ``a * b`` in area-delay product;
3. how the power from data compares with OpenSTA's vectorless figures (docs/flow.md);
4. the exact multiplier at the fast, typical and slow corners;
5. ``DCiMMacro(rows=64, cols=8)`` (8-bit signed weights and activations) with exact and log
   multipliers: energy per MAC from a gate-level simulation of streaming operation (random
   weights and activations, 64 independent copies), and the area split between storage,
   arithmetic and control. Synthesizing each macro takes Yosys 0.23 tens of minutes the
   first time; results are cached (``$DCIM_CACHE_DIR`` or ``~/.cache/dcim``).

Set ``DCIM_BENCH_NO_MACRO=1`` to skip part 5.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.arith import COMPRESSORS, MULTIPLIER_KINDS, MultiplierSpec  # noqa: E402
from dcim.flow import compare, ppa, ppa_table, yosys_multiplier  # noqa: E402

__all__ = ["main", "multiplier_designs"]

WIDTH = 8


def multiplier_designs(width=WIDTH):
    """Every kind with its default options, then each approximate compressor, then a*b."""
    kinds = ["exact"] + sorted(set(MULTIPLIER_KINDS) - {"exact", "approx"})
    designs = [MultiplierSpec(width, kind=kind) for kind in kinds]
    designs += [MultiplierSpec(width, kind="approx", options={"compressor": name})
                for name, compressor in COMPRESSORS.items()
                if compressor.n_inputs == 4 and len(compressor.outputs) == 2]
    designs.append(yosys_multiplier(width))
    return designs


def _progress(done, total):
    """compare's ``progress(done, total)``: a line on stderr per design started."""
    if done < total:
        sys.stderr.write(f"  [{done + 1}/{total}]\n")
        sys.stderr.flush()


def _validation(reports):
    rows = ["design             quantity   data (dcim)   OpenSTA at the      OpenSTA at the mean",
            "                                            measured inputs     activity, every net",
            "-----------------  ---------  ------------  ------------------  -------------------"]
    for report in reports:
        power, checks = report.power, report.power.checks
        inputs, every = checks["opensta_inputs"], checks["opensta_global"]
        for label, ours, first, second in (
                ("internal", power.internal_w, inputs["internal_w"], every["internal_w"]),
                ("switching", power.switching_w, inputs["switching_w"], every["switching_w"]),
                ("leakage", power.leakage_w, inputs["leakage_w"], every["leakage_w"])):
            rows.append(f"{report.design:<17}  {label:<9}  {ours * 1e3:9.4f} mW  "
                        f"{first * 1e3:12.4f} mW     {second * 1e3:12.4f} mW")
        rows.append(f"{'':<17}  switching at the mean activity "
                    f"{checks['mean_activity']:.3f} on every net: dcim "
                    f"{checks['switching_at_mean_activity_w'] * 1e3:.4f} mW, OpenSTA "
                    f"{every['switching_w'] * 1e3:.4f} mW")
    return "\n".join(rows)


def _corners():
    rows = ["corner  delay ns  power mW  pJ/multiply", "------  --------  --------  -----------"]
    for corner in ("fast", "typ", "slow"):
        report = ppa(MultiplierSpec(WIDTH), corner=corner, operands="uniform", metrics=False)
        rows.append(f"{corner:<6}  {report.delay_ns:8.3f}  {report.power.total_w * 1e3:8.4f}  "
                    f"{report.energy_per_op_pj:11.4f}")
    return "\n".join(rows)


def _macro_table(reports):
    lines = [ppa_table(reports), "",
             "design                        storage um2 (%)     arithmetic um2 (%)   "
             "control um2 (%)     cells    synthesis s",
             "----------------------------  ------------------  -------------------  "
             "------------------  -------  -----------"]
    for report in reports:
        groups, total = report.synthesis.groups, report.area_um2
        parts = [f"{groups.get(name, 0.0):9.0f} ({100 * groups.get(name, 0.0) / total:4.1f} %)"
                 for name in ("storage", "arithmetic", "control")]
        lines.append(f"{report.design:<28}  {parts[0]:<18}  {parts[1]:<19}  {parts[2]:<18}  "
                     f"{report.synthesis.cell_count:7d}  {report.synthesis.seconds:11.0f}")
    return "\n".join(lines)


def main():
    started = time.monotonic()
    designs = multiplier_designs()
    print(f"### {WIDTH}-bit unsigned multipliers, Nangate45 typical corner\n")
    print("Yosys 0.23 (area mapping) and OpenSTA 2.0.17; power from 4,096 uniformly random "
          "operand pairs simulated on the gate netlist, each design at its own maximum "
          "frequency; MRED and NMED over all 65,536 pairs.\n")
    reports = compare(designs, operands="uniform", progress=_progress)
    print("```")
    print(ppa_table(reports))
    print("```")
    by_name = {report.design: report for report in reports}
    exact, reference = by_name[f"mul{WIDTH}u_exact"], by_name[f"mul{WIDTH}u_yosys"]
    verdict = "not worse" if exact.area_delay_product <= reference.area_delay_product else "WORSE"
    print(f"\nArea-delay product: dcim exact Dadda {exact.area_delay_product:.1f} um2 ns, "
          f"Yosys a*b {reference.area_delay_product:.1f} um2 ns: the exact tree is {verdict}.\n")

    print("### Power from data against OpenSTA (uniformly random operands)\n")
    print("```")
    print(_validation([exact, by_name[f"mul{WIDTH}u_mitchell"], reference]))
    print("```\n")

    print(f"### mul{WIDTH}u_exact at three corners\n")
    print("```")
    print(_corners())
    print("```\n")

    if os.environ.get("DCIM_BENCH_NO_MACRO"):
        print("(macro table skipped: DCIM_BENCH_NO_MACRO is set)")
    else:
        try:
            from dcim.macro import DCiMMacro
        except ImportError:  # the macro package is not there yet
            print("(macro table skipped: dcim.macro.DCiMMacro is not available)")
        else:
            print("### DCiMMacro(rows=64, cols=8), 8-bit signed weights and activations\n")
            print("Power from a gate-level simulation of streaming operation: weights "
                  "loaded, one activation vector per cycle, results taken every cycle, "
                  "64 independent random copies; energy per MAC = power x period / 512.\n")
            macros = []
            for kind in ("exact", "log"):
                macro = DCiMMacro(rows=64, cols=8, mult=kind)
                sys.stderr.write(f"  macro {macro.name} (synthesis takes long the first "
                                 f"time)\n")
                macros.append(ppa(macro, operands="uniform", progress=lambda text:
                                  sys.stderr.write(f"    {text}\n")))
            print("```")
            print(_macro_table(macros))
            print("```")
    print(f"\n(benchmark ran in {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
