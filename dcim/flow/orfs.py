"""The OpenROAD hand-off: a design directory for OpenROAD-flow-scripts, and running it.

:func:`export_orfs` writes what ORFS needs to take a design from RTL to GDS on the PDK's ORFS
platform (``nangate45`` for Nangate45): the Verilog (``src/<top>.v``), ``config.mk``,
``constraint.sdc`` (the very constraints dcim's own timing and power analysis uses) and a
README. The directory is self-contained: ``config.mk`` finds its files relative to itself,
so ``make -C <ORFS>/flow DESIGN_CONFIG=<dir>/config.mk`` runs it from anywhere.

OpenROAD cannot be installed from Debian's packages, so :func:`check_orfs_export` checks
what can be checked without it: every file ``config.mk`` names exists, Yosys reads the
Verilog and finds the top module, and OpenSTA reads the SDC against dcim's synthesized
netlist without a warning. :func:`run_orfs` runs the flow where ``openroad`` and an ORFS
``flow`` directory are available, and reads area, timing and power from its metrics.
"""

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..eda import tools
from .analysis import analyze_timing
from .design import resolve_design
from .pdk import load_pdk
from .sta import constraints, link_inputs, run_sta, setup_script
from .synthesis import synthesize

__all__ = ["OrfsExport", "OrfsReport", "check_orfs_export", "export_orfs", "run_orfs"]

FLOW_DIR_VARIABLE = "DCIM_ORFS_FLOW"


@dataclass(frozen=True)
class OrfsExport:
    """A design directory written by :func:`export_orfs`.

    Members
    -------
    path : Path
    design : str
    top : str
    platform : str
    clock_ns : float
    config, sdc, verilog, readme : Path
    synthesis : SynthesisReport or None
        dcim's synthesis of the design (which :func:`check_orfs_export` times the SDC on).
    """

    path: Path
    design: str
    top: str
    platform: str
    clock_ns: float
    config: Path
    sdc: Path
    verilog: Path
    readme: Path
    synthesis: object = None


@dataclass(frozen=True)
class OrfsReport:
    """Results of an ORFS run, from its final metrics.

    Members
    -------
    area_um2 : float or None
        Standard-cell area after placement and routing.
    setup_slack_ns : float or None
        Worst setup slack at the exported clock.
    power_w : float or None
    metrics : dict
        Every ``finish__*`` metric ORFS reported.
    log_path : Path
    """

    area_um2: object
    setup_slack_ns: object
    power_w: object
    metrics: dict
    log_path: Path


_CONFIG = """\
# OpenROAD-flow-scripts configuration for {design}, written by dcim.flow.export_orfs.
# Run:  make -C <OpenROAD-flow-scripts>/flow DESIGN_CONFIG=$(realpath config.mk)
DCIM_DESIGN_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

export DESIGN_NAME = {top}
export DESIGN_NICKNAME = {design}
export PLATFORM = {platform}

export VERILOG_FILES = $(DCIM_DESIGN_DIR)/src/{top}.v
export SDC_FILE = $(DCIM_DESIGN_DIR)/constraint.sdc

# Floorplan defaults of the dcim PDK description ({pdk}).
export CORE_UTILIZATION ?= {core_utilization}
export PLACE_DENSITY ?= {place_density}
export ABC_AREA = 1
"""

_README = """\
# {design} for OpenROAD-flow-scripts

Written by `dcim.flow.export_orfs` for the ORFS platform `{platform}` (PDK description
`{pdk}`, corner `{corner}`).

| file | what |
|---|---|
| `src/{top}.v` | the design's Verilog, top module `{top}` |
| `constraint.sdc` | clock `{clock}`, period {clock_ns:g} ns; I/O delays 0; inputs driven \
by `{driver}`; outputs loaded with {load_ff:.3g} fF |
| `config.mk` | ORFS design configuration; finds the files above relative to itself |

Run the flow from an ORFS checkout:

```sh
make -C <OpenROAD-flow-scripts>/flow DESIGN_CONFIG=$(realpath config.mk)
```

or from Python: `dcim.flow.run_orfs("{path}", flow_dir="<OpenROAD-flow-scripts>/flow")`.
The clock period is {clock_origin}. dcim's own pre-layout figures for the same design
(Yosys 0.23 and OpenSTA at corner `{corner}`): area {area:.1f} um^2, critical path
{delay:.3f} ns.
"""


def export_orfs(design, path, *, corner="typ", clock_ns=None, pdk="nangate45", pdk_root=None,
                name=None):
    """Write an OpenROAD-flow-scripts design directory for ``design`` at ``path``.

    Parameters
    ----------
    design :
        Anything :func:`~dcim.flow.synthesize` accepts.
    path : path-like
        The directory to write (created; existing files are overwritten).
    corner, pdk, pdk_root, name :
        As for :func:`~dcim.flow.synthesize`; the design is synthesized (or read from the
        cache) to find its ports and clock, and to time it.
    clock_ns : float or None
        The clock period in the SDC; ``None`` uses the design's minimum period from dcim's
        timing, rounded up to 10 ps.

    Returns
    -------
    OrfsExport

    Raises
    ------
    ValueError
        If the PDK description names no ORFS platform.
    """
    path = Path(path)
    if re.search(r"\s", str(path.resolve())):
        # ORFS is driven by make, whose file lists split on white space.
        raise ValueError(f"path must have no spaces for OpenROAD-flow-scripts (make splits "
                         f"file names on them), not {str(path)!r}")
    pdk = load_pdk(pdk, pdk_root)
    if "platform" not in pdk.orfs:
        raise ValueError(f"PDK {pdk.name!r} names no ORFS platform in its [orfs] table "
                         f"({pdk.source})")
    flow = resolve_design(design, name)
    synthesis = synthesize(flow, corner, clock_ns, pdk_root, pdk=pdk)
    timing = analyze_timing(synthesis, clock_ns, pdk=pdk)
    if clock_ns is None:
        period = max(0.01, -(-round(timing.min_period_ns * 1000) // 10) / 100)
        origin = "dcim's minimum period for the design at this corner, rounded up to 10 ps"
    else:
        period = float(clock_ns)
        origin = "the one requested"
    (path / "src").mkdir(parents=True, exist_ok=True)
    verilog = path / "src" / f"{flow.top}.v"
    verilog.write_text(_design_verilog(flow, synthesis))
    macro_lines = _export_macros(synthesis, path)
    library = pdk.library(corner)
    inputs = [port for port in synthesis.inputs if port != synthesis.clock_port]
    sdc = path / "constraint.sdc"
    sdc.write_text(f"current_design {flow.top}\n" + constraints(
        period_ns=period, clock_port=synthesis.clock_port, inputs=inputs, library=library,
        pdk=pdk, corner=corner))
    config = path / "config.mk"
    config.write_text(_CONFIG.format(
        design=flow.name, top=flow.top, platform=pdk.orfs["platform"], pdk=pdk.name,
        core_utilization=pdk.orfs.get("core_utilization", 40),
        place_density=pdk.orfs.get("place_density", 0.6)) + macro_lines)
    readme = path / "README.md"
    readme.write_text(_README.format(
        design=flow.name, top=flow.top, platform=pdk.orfs["platform"], pdk=pdk.name,
        corner=corner, clock=synthesis.clock_port or "core_clock (virtual)",
        clock_ns=period, driver="/".join(pdk.driver), load_ff=pdk.output_load_farads(corner)
        * 1e15, path=path, clock_origin=origin, area=synthesis.area_um2,
        delay=timing.min_period_ns))
    return OrfsExport(path=path, design=flow.name, top=flow.top,
                      platform=pdk.orfs["platform"], clock_ns=period, config=config, sdc=sdc,
                      verilog=verilog, readme=readme, synthesis=synthesis)


def _design_verilog(flow, synthesis):
    """The RTL ORFS synthesizes: the design's own text, or each block's once for a design
    with hard macros (whose modules the macros' Liberty and LEF define)."""
    if not synthesis.macros:
        return (synthesis.folder / "design.v").read_text()
    texts, seen = [], set()

    def visit(design):
        if design.top in seen or design.macro is not None:
            return
        seen.add(design.top)
        for block in design.blocks:
            visit(block)
        texts.append(design.block_verilog() if design.block_verilog else design.verilog())

    visit(flow)
    return "\n".join(texts)


def _export_macros(synthesis, path):
    """Copy the hard macros' LEF and Liberty to ``path/macros``; their ``config.mk`` lines."""
    if not synthesis.macros:
        return ""
    folder = path / "macros"
    folder.mkdir(exist_ok=True)
    lefs, libs = [], []
    for name, facts in sorted(synthesis.macros.items()):
        shutil.copyfile(facts["lef"], folder / f"{name}.lef")
        shutil.copyfile(facts["liberty"], folder / f"{name}.lib")
        lefs.append(f"$(DCIM_DESIGN_DIR)/macros/{name}.lef")
        libs.append(f"$(DCIM_DESIGN_DIR)/macros/{name}.lib")
    return ("\n# Hard macros (the SRAM weight array): placed by OpenROAD from their LEF, timed "
            "from their Liberty.\n"
            f"export ADDITIONAL_LEFS = {' '.join(lefs)}\n"
            f"export ADDITIONAL_LIBS = {' '.join(libs)}\n")


def config_files(config_path):
    """The files a ``config.mk`` written by :func:`export_orfs` names, as absolute paths."""
    config_path = Path(config_path).resolve()
    text = config_path.read_text()
    files = []
    for match in re.finditer(r"^export\s+(\w+_FILES?|ADDITIONAL_LEFS|ADDITIONAL_LIBS)\s*\??="
                             r"\s*(.+)$", text, re.M):
        for word in match[2].split():
            word = word.replace("$(DCIM_DESIGN_DIR)", str(config_path.parent))
            files.append(Path(word))
    return files


def check_orfs_export(export, *, corner="typ", pdk="nangate45", pdk_root=None):
    """Check an exported directory as far as possible without OpenROAD.

    Checks that every file ``config.mk`` names exists, that Yosys reads the Verilog and
    finds the top module, and that OpenSTA reads ``constraint.sdc`` against dcim's
    synthesized netlist of the design without warnings or errors.

    Returns a list of the checks made (strings). Raises ``ValueError`` naming the first
    failure.
    """
    pdk = load_pdk(pdk, pdk_root)
    done = []
    files = config_files(export.config)
    missing = [str(file) for file in files if not file.is_file()]
    if missing:
        raise ValueError(f"config.mk names files that do not exist: {', '.join(missing)}")
    done.append(f"config.mk names {len(files)} files, all present")
    with tempfile.TemporaryDirectory(prefix="dcim-orfs-") as workdir:
        # The hard macros' cells are black boxes to Yosys, as in ORFS's own synthesis.
        reads = ""
        for index, file in enumerate(file for file in files if file.suffix == ".lib"):
            shutil.copyfile(file, Path(workdir) / f"macro{index}.lib")
            reads += f"read_liberty -lib macro{index}.lib; "
        try:
            shutil.copyfile(export.verilog, Path(workdir) / "design.v")
            tools.run_tool(["yosys", "-q", "-p",
                            f"{reads}read_verilog design.v; hierarchy -check -top {export.top}"],
                           cwd=workdir, log_path=Path(workdir) / "yosys.log")
        except tools.ToolError as error:
            raise ValueError(f"Yosys cannot read {export.verilog}: {error}") from None
        done.append(f"Yosys reads {export.verilog.name} with top module {export.top}")
        synthesis = export.synthesis or synthesize(_design_of(export), corner, None,
                                                   pdk_root, pdk=pdk)
        macros = {f"macro_{file.stem}.lib": file for file in files if file.suffix == ".lib"}
        link_inputs(workdir, {"cells.lib": pdk.analysis_liberty(corner),
                              "netlist.v": synthesis.netlist_path,
                              "constraint.sdc": export.sdc, **macros})
        body = setup_script(liberty="cells.lib", netlist="netlist.v", top=export.top,
                            sdc="constraint.sdc", wire_load=None,
                            macro_libraries=tuple(macros))
        output = run_sta(body + "\nreport_checks -path_delay max\n", workdir=workdir,
                         log_name="sdc")
        problems = [line for line in output.splitlines()
                    if line.startswith(("Warning", "Error"))]
        if problems:
            raise ValueError(f"OpenSTA reports problems reading {export.sdc}: "
                             + "; ".join(problems[:5]))
        done.append(f"OpenSTA reads {export.sdc.name} against the synthesized netlist "
                    f"without warnings")
    return done


def _design_of(export):
    from .design import VerilogDesign

    # The exported Verilog is the design's own, so its synthesis is the cached one whenever
    # the export came from a spec; a hand-edited file is synthesized afresh.
    return VerilogDesign(export.verilog.read_text(), export.top, name=export.design)


def _flow_dir(flow_dir):
    flow_dir = flow_dir or os.environ.get(FLOW_DIR_VARIABLE)
    if not flow_dir:
        raise FileNotFoundError(
            f"no OpenROAD-flow-scripts flow directory: pass flow_dir or set "
            f"{FLOW_DIR_VARIABLE} to <OpenROAD-flow-scripts>/flow")
    flow_dir = Path(flow_dir)
    if not (flow_dir / "Makefile").is_file() or not (flow_dir / "platforms").is_dir():
        raise FileNotFoundError(f"{str(flow_dir)!r} is not an OpenROAD-flow-scripts flow "
                                f"directory (it needs a Makefile and platforms/)")
    return flow_dir


def run_orfs(export, flow_dir=None, *, timeout=24 * 3600):
    """Run OpenROAD-flow-scripts on an exported design and read its final metrics.

    Parameters
    ----------
    export : OrfsExport or path-like
        The result of :func:`export_orfs`, or its directory.
    flow_dir : path-like or None
        ``<OpenROAD-flow-scripts>/flow``; defaults to ``$DCIM_ORFS_FLOW``.

    Raises
    ------
    ToolNotFoundError
        If ``openroad`` is not on PATH (the message says where to get it).
    FileNotFoundError
        If no flow directory is given or found.
    ToolError
        If the flow fails (its log is kept).
    """
    tools.find_tool("openroad")
    flow_dir = _flow_dir(flow_dir)
    path = Path(export.path if isinstance(export, OrfsExport) else export).resolve()
    config = path / "config.mk"
    log = path / "orfs.log"
    tools.run_tool(["make", "-C", flow_dir, f"DESIGN_CONFIG={config}"], cwd=path,
                   log_path=log, timeout=timeout)
    text = config.read_text()
    design = re.search(r"DESIGN_NICKNAME\s*=\s*(\S+)", text)[1]
    platform = re.search(r"PLATFORM\s*=\s*(\S+)", text)[1]
    return read_orfs_metrics(flow_dir, platform, design, log)


def read_orfs_metrics(flow_dir, platform, design, log_path=None):
    """Read the ``finish__*`` metrics ORFS left for ``design`` under ``flow_dir``."""
    metrics = {}
    for folder in ("logs", "reports"):
        base = Path(flow_dir) / folder / platform / design
        for file in sorted(base.rglob("*.json"), key=lambda item: item.stat().st_mtime):
            try:
                data = json.loads(file.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                metrics.update({key: value for key, value in data.items()
                                if key.startswith("finish__")})
    if not metrics:
        raise FileNotFoundError(f"no ORFS metrics for {design} under {flow_dir}")

    def number(key):
        value = metrics.get(key)
        return float(value) if isinstance(value, (int, float)) else None

    return OrfsReport(area_um2=number("finish__design__instance__area"),
                      setup_slack_ns=number("finish__timing__setup__ws"),
                      power_w=number("finish__power__total"), metrics=metrics,
                      log_path=Path(log_path) if log_path else None)
