"""The flow: synthesis to standard cells, timing, power and the OpenROAD hand-off.

Everything starts from a design (a multiplier or macro spec, an Amaranth component, or
Verilog) and a PDK description whose files are found below ``$DCIM_PDK_ROOT``:

- :func:`synthesize` maps it to the cells of a corner with Yosys;
- :func:`analyze_timing` and :func:`analyze_power` run OpenSTA on the netlist, and price the
  switching activity of real operands with the Liberty data;
- :func:`ppa` and :func:`compare` do all three (cached) and add accuracy metrics;
- :func:`export_orfs` and :func:`run_orfs` hand the design to OpenROAD-flow-scripts.

See ``docs/flow.md`` for the method, its validation and the caching rules.
"""

from ..eda.cache import CacheInfo, cache_dir, cache_info, clear_cache
from ..eda.tools import ToolError, ToolNotFoundError
from ..eda.verilog import emit_verilog
from .activity import Stimulus
from .analysis import (
    ACTIVITY_MODELS,
    PowerReport,
    TimingReport,
    TimingViolationWarning,
    analyze_power,
    analyze_timing,
    uniform_operands,
)
from .design import (
    FlowDesign,
    VerilogDesign,
    load_design,
    macro_design,
    resolve_design,
    yosys_multiplier,
)
from .orfs import OrfsExport, OrfsReport, check_orfs_export, export_orfs, run_orfs
from .pdk import PDKS, Corner, Pdk, PdkCheck, PdkError, check_pdk, load_pdk
from .ppa import PPAReport, compare, ppa, ppa_table
from .stimulus import macro_stimulus
from .synthesis import SynthesisError, SynthesisReport, synthesize

__all__ = [
    "ACTIVITY_MODELS",
    "PDKS",
    "CacheInfo",
    "Corner",
    "FlowDesign",
    "OrfsExport",
    "OrfsReport",
    "PPAReport",
    "Pdk",
    "PdkCheck",
    "PdkError",
    "PowerReport",
    "Stimulus",
    "SynthesisError",
    "SynthesisReport",
    "TimingReport",
    "TimingViolationWarning",
    "ToolError",
    "ToolNotFoundError",
    "VerilogDesign",
    "analyze_power",
    "analyze_timing",
    "cache_dir",
    "cache_info",
    "check_orfs_export",
    "check_pdk",
    "clear_cache",
    "compare",
    "emit_verilog",
    "export_orfs",
    "load_design",
    "load_pdk",
    "macro_design",
    "macro_stimulus",
    "ppa",
    "ppa_table",
    "resolve_design",
    "run_orfs",
    "synthesize",
    "uniform_operands",
    "yosys_multiplier",
]
