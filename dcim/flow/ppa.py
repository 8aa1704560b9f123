"""Power, performance and area of a design in one call, and tables over several designs.

:func:`ppa` synthesizes a design, times it and estimates its power (each step cached), and
adds the error metrics of approximate arithmetic, so that one :class:`PPAReport` answers
"how much energy per multiply does this design save, at what error?". :func:`compare` does
the same for several designs, and :func:`ppa_table` prints the result.
"""

import math
from dataclasses import dataclass

from .activity import Stimulus
from .analysis import (
    DEFAULT_ACTIVITY,
    analyze_power,
    analyze_timing,
    check_power_options,
    timing_and_block_activity,
    warn_if_violated,
)
from .design import resolve_design
from .pdk import load_pdk
from .synthesis import check_clock, synthesize

__all__ = ["PPAReport", "compare", "ppa", "ppa_table"]


@dataclass(frozen=True)
class PPAReport:
    """Synthesis, timing and power of one design, with its accuracy where it has one.

    Members
    -------
    design : str
    synthesis : SynthesisReport
    timing : TimingReport
    power : PowerReport
    metrics : dict or None
        Error metrics of approximate arithmetic (MRED, NMED, ...); ``None`` if the design
        has none.
    storage_bits : int
        Weight bits a macro stores (0 for other designs).
    """

    design: str
    synthesis: object
    timing: object
    power: object
    metrics: object = None
    storage_bits: int = 0

    @property
    def storage_area_um2(self):
        """Area of the ``storage`` group (the weight array), 0 without one."""
        return self.synthesis.groups.get("storage", 0.0)

    @property
    def storage_area_per_bit_um2(self):
        """Storage area per stored weight bit (flip-flops or SRAM periphery included)."""
        return self.storage_area_um2 / self.storage_bits if self.storage_bits else None

    @property
    def area_split(self):
        """Each area group's share of the total area (fractions that sum to 1)."""
        total = sum(self.synthesis.groups.values())
        return {group: area / total for group, area in self.synthesis.groups.items()} \
            if total else {}

    @property
    def area_um2(self):
        return self.synthesis.area_um2

    @property
    def delay_ns(self):
        """Critical path delay (the minimum clock period for a clocked design)."""
        return self.timing.min_period_ns

    @property
    def energy_per_op_pj(self):
        return self.power.energy_per_op_pj

    @property
    def area_delay_product(self):
        """Area times delay, um^2 ns."""
        return self.area_um2 * self.delay_ns

    @property
    def ops_per_operation(self):
        """Arithmetic operations counted per design operation: 2 for a MAC, else 1.

        A MAC is a multiply and an add, the convention of the compute-in-memory papers
        whose TOPS/W and TOPS/mm^2 these figures are compared with.
        """
        return 2 if self.power.operation == "MAC" else 1

    @property
    def tops_per_w(self):
        """Energy efficiency: tera-operations per second per watt, at the power's clock.

        ``ops_per_operation / energy_per_op_pj``: one operation per picojoule is one TOPS/W.
        """
        return self.ops_per_operation / self.energy_per_op_pj

    @property
    def tops_per_mm2(self):
        """Area efficiency at the maximum clock: tera-operations per second per mm^2."""
        ops_per_second = (self.ops_per_operation * self.power.ops_per_cycle
                          * self.timing.fmax_mhz * 1e6)
        return ops_per_second / 1e12 / (self.area_um2 * 1e-6)

    def as_dict(self):
        """A JSON-ready dictionary of every figure."""
        return {
            "design": self.design, "pdk": self.synthesis.pdk, "corner": self.synthesis.corner,
            "area_um2": self.area_um2, "cells": self.synthesis.cell_count,
            "sequential_cells": self.synthesis.sequential_cells,
            "area_groups_um2": self.synthesis.groups, "area_split": self.area_split,
            "storage_bits": self.storage_bits,
            "storage_area_per_bit_um2": self.storage_area_per_bit_um2,
            "hard_macros": sorted(self.synthesis.macros),
            "delay_ns": self.delay_ns, "fmax_mhz": self.timing.fmax_mhz,
            # Slack at the clock the power is given at; for a single clock with zero I/O
            # delays it is that period less the minimum period, whatever clock was timed.
            "clock_ns": self.power.clock_ns,
            "slack_ns": self.power.clock_ns - self.timing.min_period_ns,
            "timing_met": self.power.clock_ns >= self.timing.min_period_ns,
            "power_method": self.power.method, "activity": self.power.activity,
            "internal_w": self.power.internal_w, "switching_w": self.power.switching_w,
            "leakage_w": self.power.leakage_w, "total_w": self.power.total_w,
            "operation": self.power.operation, "ops_per_cycle": self.power.ops_per_cycle,
            "energy_per_op_pj": self.energy_per_op_pj,
            "area_delay_product": self.area_delay_product,
            "tops_per_w": self.tops_per_w, "tops_per_mm2": self.tops_per_mm2,
            "metrics": self.metrics,
            "tool_versions": dict(self.synthesis.tool_versions,
                                  sta=self.timing.sta_version),
            "netlist": str(self.synthesis.netlist_path),
            "yosys_log": str(self.synthesis.log_path),
        }


def _metrics(flow, metrics):
    if not metrics or flow.spec is None or not hasattr(flow.spec, "metrics"):
        return None
    result = flow.spec.metrics(**({} if metrics is True else dict(metrics)))
    return {key: (None if isinstance(value, float) and math.isnan(value) else value)
            for key, value in result.as_dict().items()}


def ppa(design, corner="typ", clock_ns=None, pdk_root=None, *, pdk="nangate45",
        activity=None, operands=None, activity_model="inputs", metrics=True,
        cache_results=True, name=None, progress=None, hierarchical=None, per_block=None,
        by_block=None):
    """Synthesize, time and estimate the power of ``design`` (each step cached).

    Parameters
    ----------
    design, corner, clock_ns, pdk_root, pdk, name, hierarchical :
        As for :func:`~dcim.flow.synthesize` (macros are synthesized block by block unless
        ``hierarchical=False``).
    activity, operands, activity_model :
        As for :func:`~dcim.flow.analyze_power`. Neither given means power from uniformly
        random operands (``operands="uniform"``) for designs that can be simulated
        (combinational ones, and macros), else OpenSTA's vectorless estimate at activity 0.5.
    per_block : bool or None
        As for :func:`~dcim.flow.analyze_power`: power from data of a design assembled from
        blocks is computed block by block (``None``, ``True``) or on its flat expansion
        (``False``).
    by_block : bool or None
        As for :func:`~dcim.flow.analyze_timing`: a design assembled from blocks is timed one
        instance of each block in full, the others as their loads (``None``, ``True``), or
        as the whole hierarchy (``False``).
    metrics : bool or dict
        Add the design's error metrics (keywords for ``spec.metrics`` when a dict).
    cache_results : bool
    progress : callable or None
        Called with a short description of each step: before Yosys runs, and after each step
        saying whether its result came from the cache.

    Returns
    -------
    PPAReport

    Raises
    ------
    ValueError, TypeError
        For a bad corner, clock, activity, activity model, operands, metrics, hierarchical,
        per_block or by_block, before any tool runs.
    TimingViolationWarning
        (A warning.) When ``clock_ns`` is shorter than the design's minimum period.
    """
    def step(text):
        if progress is not None:
            progress(text)

    # Everything that can be refused is checked before the first tool runs.
    pdk_description = load_pdk(pdk, pdk_root)
    pdk_description.corner(corner)
    clock_ns = check_clock(clock_ns)
    check_power_options(activity, operands, activity_model)
    if hierarchical is not None and not isinstance(hierarchical, bool):
        raise TypeError(f"hierarchical must be True, False or None, not {hierarchical!r}")
    if per_block is not None and not isinstance(per_block, bool):
        raise TypeError(f"per_block must be True, False or None, not {per_block!r}")
    if by_block is not None and not isinstance(by_block, bool):
        raise TypeError(f"by_block must be True, False or None, not {by_block!r}")
    if by_block and hierarchical is False:
        raise ValueError("by_block=True needs a design synthesized block by block, and "
                         "hierarchical=False synthesizes it in one piece")
    if not isinstance(metrics, (bool, dict)):
        raise TypeError(f"metrics must be True, False or a dict of keywords for "
                        f"spec.metrics, not {metrics!r}")
    flow = resolve_design(design, name, storage="ff" if hierarchical is False else "sram")
    synthesis = synthesize(flow, corner, clock_ns, pdk_root, pdk=pdk_description,
                           cache_results=cache_results, progress=progress,
                           hierarchical=hierarchical)
    if synthesis.cached:
        step(f"synthesis of {flow.name}: cached")
    if activity is None and operands is None:
        # Power from data wherever the design can be simulated; OpenSTA's estimate otherwise.
        if synthesis.sequential_cells == 0 or flow.stimulus is not None:
            operands = "uniform"
        else:
            activity = DEFAULT_ACTIVITY
    if (operands is not None and flow.stimulus is not None and synthesis.sequential_cells
            and not isinstance(operands, Stimulus)):
        operands = flow.stimulus(operands)
    if synthesis.hierarchical and isinstance(operands, Stimulus) and per_block is not False:
        # Power per block simulates the blocks while OpenSTA times the design.
        timing = timing_and_block_activity(synthesis, operands, clock_ns, pdk=pdk_description,
                                           cache_results=cache_results, by_block=by_block)
    else:
        timing = analyze_timing(synthesis, clock_ns, pdk=pdk_description,
                                cache_results=cache_results, by_block=by_block)
    step(f"timing of {flow.name}: {'cached' if timing.cached else 'OpenSTA'}")
    warn_if_violated(flow.name, clock_ns, timing.min_period_ns)
    power = analyze_power(synthesis, activity=activity, operands=operands, clock_ns=clock_ns,
                          activity_model=activity_model, timing=timing,
                          port_activity=flow.port_activity, pdk=pdk_description,
                          cache_results=cache_results, per_block=per_block)
    step(f"power of {flow.name}: {'cached' if power.cached else power.method}")
    from ..macro.spec import MacroSpec

    spec = flow.spec
    bits = spec.rows * spec.cols * spec.weight_bits if isinstance(spec, MacroSpec) else 0
    return PPAReport(flow.name, synthesis, timing, power, _metrics(flow, metrics), bits)


def compare(designs, corner="typ", clock_ns=None, pdk_root=None, *, progress=None,
            **options):
    """:func:`ppa` of every design in ``designs``, in order.

    ``progress``, when given, is called as ``progress(done, total)`` (designs done, designs in
    all) before each design and once at the end, like the progress of the other long runs;
    other keywords go to :func:`ppa`.
    """
    designs = list(designs)
    reports = []
    for index, design in enumerate(designs):
        flow = resolve_design(design, options.get("name"),
                              storage="ff" if options.get("hierarchical") is False else "sram")
        if progress is not None:
            progress(index, len(designs))
        reports.append(ppa(flow, corner, clock_ns, pdk_root, **options))
    if progress is not None:
        progress(len(designs), len(designs))
    return reports


def ppa_table(reports, *, metrics=("mred", "nmed")):
    """A text table of :class:`PPAReport` objects: area, delay, power, energy, errors.

    Powers are in milliwatts; error metrics in percent. Tables of MAC designs (macros) add
    TOPS/W and TOPS/mm^2 (two operations per MAC, area efficiency at fmax).
    """
    first = reports[0] if reports else None
    operation = first.power.operation if first else "op"
    show_tops = bool(reports) and all(r.power.operation == "MAC" for r in reports)
    headers = ["design", "area um2", "delay ns", "fmax MHz", "power mW", "internal",
               "switching", "leakage", f"pJ/{operation}"]
    if show_tops:
        headers += ["TOPS/W", "TOPS/mm2"]
    show_metrics = [name for name in metrics if any(r.metrics for r in reports)]
    headers += [name.upper() for name in show_metrics]
    rows = []
    for report in reports:
        power = report.power
        row = [report.design, f"{report.area_um2:.1f}", f"{report.delay_ns:.3f}",
               f"{report.timing.fmax_mhz:.0f}", f"{power.total_w * 1e3:.4f}",
               f"{power.internal_w * 1e3:.4f}", f"{power.switching_w * 1e3:.4f}",
               f"{power.leakage_w * 1e3:.5f}", f"{report.energy_per_op_pj:.4f}"]
        if show_tops:
            row += [f"{report.tops_per_w:.3g}", f"{report.tops_per_mm2:.3g}"]
        for name in show_metrics:
            value = (report.metrics or {}).get(name)
            row.append("-" if value is None else f"{100 * value:.3g} %")
        rows.append(row)
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(headers, widths, strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(lines)
