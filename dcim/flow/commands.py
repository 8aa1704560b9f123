"""The ``dcim synth`` and ``dcim compare`` subcommands: argument parsing and printing only.

Both call :func:`dcim.flow.ppa` and :func:`dcim.flow.compare`; :func:`add_flow_commands`
registers them with the ``dcim`` parser.
"""

import argparse
import importlib.resources
import json
import math
import sys
import tomllib
from pathlib import Path

import numpy as np

from ..report import write_csv
from .design import STORAGES
from .pdk import PDKS

__all__ = ["add_flow_commands"]


def _load_operands(path):
    """Operands from ``.npy`` (cycles x ports) or ``.npz`` (one array per port name)."""
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path) as data:
            return {name: data[name] for name in data.files}
    if path.suffix == ".npy":
        return np.load(path)
    raise ValueError(f"--operands must be 'uniform', a .npy or a .npz file, not {str(path)!r}")


def _check_flow_options(args):
    """Refuse bad flow options before anything is synthesized: synthesis and timing of a large
    design take minutes, and these would only fail after them."""
    from .pdk import load_pdk

    if args.clock is not None and not 0 < args.clock < math.inf:
        raise ValueError(f"--clock must be a positive, finite number of nanoseconds, "
                         f"not {args.clock!r}")
    if args.activity is not None and not 0 <= args.activity <= 2:
        raise ValueError(f"--activity must be a number of toggles per cycle from 0 to 2, "
                         f"not {args.activity!r}")
    load_pdk(args.pdk, args.pdk_root).corner(args.corner)


def _power_options(args):
    if args.activity is not None and args.operands is not None:
        raise ValueError("give either --activity or --operands, not both")
    operands = args.operands
    if operands is not None and operands != "uniform":
        operands = _load_operands(operands)
    return {"activity": args.activity, "operands": operands,
            "activity_model": args.activity_model}


def _design(path, top):
    from ..checks import check_input_file
    from .design import VerilogDesign, load_design

    path = check_input_file(path, "design file", (".toml", ".v", ".sv"))
    if path.suffix == ".toml":
        return load_design(path)
    return VerilogDesign.from_file(path, top)


def _check_top(top, paths):
    if top is not None and not any(Path(path).suffix in (".v", ".sv") for path in paths):
        raise ValueError(f"--top {top!r} names the top module of a Verilog design, but no "
                         f"Verilog design (.v, .sv) is given")


def _stage_printer(stream):
    def show(text):
        stream.write(f"  {text} ...\n")
        stream.flush()
    return show


def _details(report, out):
    synthesis, timing, power = report.synthesis, report.timing, report.power
    out.write(f"\n{report.design}: {synthesis.pdk} corner {synthesis.corner}, "
              f"{synthesis.cell_count} cells ({synthesis.sequential_cells} sequential)\n")
    if synthesis.groups:
        total = synthesis.area_um2 or 1.0
        parts = ", ".join(f"{group} {area:.1f} um2 ({100 * area / total:.1f} %)"
                          for group, area in synthesis.groups.items())
        out.write(f"  area split: {parts}\n")
    if synthesis.blocks:
        out.write("  synthesized block by block: " + ", ".join(
            f"{module} x{count}" for module, count in synthesis.blocks.items()) + "\n")
    out.write(f"  port buffers: {synthesis.buffers} ({synthesis.buffer_area_um2:.1f} um2)\n")
    top = sorted(synthesis.cells.items(), key=lambda item: -item[1])[:8]
    out.write("  most used cells: " + ", ".join(f"{n} {c}" for c, n in top) + "\n")
    out.write(f"  critical path: {timing.startpoint} -> {timing.endpoint}, "
              f"{timing.critical_path_ns:.3f} ns (slack {timing.slack_ns:.3f} ns at "
              f"{timing.clock_ns:g} ns)\n")
    if power.method == "data":
        how = f"from {power.cycles:,} simulated cycles (mean activity {power.activity:.3f})"
    else:
        how = f"vectorless, activity {power.activity:g} ({power.activity_model})"
    out.write(f"  power at {power.clock_ns:.4g} ns clock, {how}; "
              f"{power.energy_per_op_pj:.4f} pJ per {power.operation}\n")
    versions = synthesis.tool_versions
    out.write(f"  tools: {versions.get('yosys')} ({versions.get('yosys_path')}); "
              f"netlist {synthesis.netlist_path}; log {synthesis.log_path}\n")


def _with_storage(design, storage):
    """The macro ``design`` with its weight array as ``storage`` (``--storage``)."""
    from ..eda.verilog import design_block
    from ..macro import MacroSpec
    from .design import macro_design

    block, _ = design_block(design)
    if not isinstance(block, MacroSpec):
        raise ValueError(f"--storage {storage} applies to a macro design ([macro] in its "
                         f"TOML), not to {getattr(block, 'name', None) or design!r}")
    return macro_design(block, storage=storage)


def _cmd_synth(args, out):
    from .ppa import ppa, ppa_table

    _check_flow_options(args)
    power = _power_options(args)
    _check_top(args.top, [args.design])
    design = _design(args.design, args.top)
    if args.storage is not None:
        design = _with_storage(design, args.storage)
    report = ppa(design, args.corner, args.clock, args.pdk_root, pdk=args.pdk,
                 cache_results=not args.no_cache, progress=_stage_printer(sys.stderr),
                 hierarchical=False if args.flat else None, **power)
    if args.json:
        json.dump(report.as_dict(), out, indent=2, default=str)
        out.write("\n")
        return 0
    if args.csv:
        write_csv([report.as_dict()], out)
        return 0
    out.write(ppa_table([report]) + "\n")
    _details(report, out)
    return 0


def _kind_options(pairs, kinds):
    """``--option KIND.KEY=VALUE`` pairs as ``{kind: {key: value}}``."""
    from ..arith import MULTIPLIER_KINDS
    from ..cli import options_dict

    by_kind = {}
    for key, value in options_dict(pairs).items():
        kind, dot, name = key.partition(".")
        if not dot or not name:
            raise ValueError(f"--option {key}={value!r} must name its kind, as KIND.KEY=VALUE "
                             f"(e.g. drum.k=3): compare builds several kinds")
        if kind not in MULTIPLIER_KINDS:
            raise ValueError(f"--option {key}: kind must be one of "
                             f"{', '.join(sorted(MULTIPLIER_KINDS))}, not {kind!r}")
        if kind not in kinds:
            raise ValueError(f"--option {key}: kind {kind!r} is not compared (the kinds are "
                             f"{', '.join(kinds)})")
        by_kind.setdefault(kind, {})[name] = value
    return by_kind


def _kind_specs(args, width, err):
    """One spec per kind at ``width``. Kinds named in --kinds, or given options, must fit; of
    the default list (every registered kind), those whose defaults do not fit the width are
    left out, and ``err`` says which and why."""
    from ..arith import MULTIPLIER_KINDS, MultiplierSpec

    chosen = args.kinds is not None
    kinds = ([kind.strip() for kind in args.kinds.split(",")] if chosen
             else sorted(MULTIPLIER_KINDS))
    options = _kind_options(args.option, kinds)
    specs = []
    for kind in kinds:
        try:
            specs.append(MultiplierSpec(width=width, signed=bool(args.signed), kind=kind,
                                        options=options.get(kind)))
        except ValueError as error:
            if chosen or kind in options:
                raise
            err.write(f"dcim compare: skipped kind {kind}: its default options do not fit "
                      f"--width {width} ({error}); --option {kind}.KEY=VALUE adapts it\n")
    if not specs:
        raise ValueError(f"no multiplier kind fits --width {width} with its default options")
    return specs


def _cmd_compare(args, out):
    from ..cli import progress_display, refuse_with_design_file
    from .design import yosys_multiplier
    from .ppa import compare, ppa_table

    _check_flow_options(args)
    power = _power_options(args)
    if args.designs:
        refuse_with_design_file(args, {"--width": "width", "--signed": "signed",
                                       "--kinds": "kinds", "--option": "option",
                                       "--no-yosys": "no_yosys"})
        _check_top(args.top, args.designs)
    designs = [_design(path, args.top) for path in args.designs]
    if not designs:
        width = 8 if args.width is None else args.width
        designs = _kind_specs(args, width, sys.stderr)
        if not args.no_yosys:
            designs.append(yosys_multiplier(width, bool(args.signed)))
    with progress_display("dcim compare", "designs") as progress:
        reports = compare(designs, args.corner, args.clock, args.pdk_root, pdk=args.pdk,
                          cache_results=not args.no_cache, progress=progress, **power)
    if args.json:
        json.dump([report.as_dict() for report in reports], out, indent=2, default=str)
        out.write("\n")
        return 0
    if args.csv:
        write_csv([report.as_dict() for report in reports], out)
        return 0
    first = reports[0].power
    if first.method == "data":
        how = f"power from {first.cycles:,} simulated cycles of the given operands"
    else:
        how = f"vectorless power at activity {first.activity:g} ({first.activity_model})"
    clock = (f"a {args.clock:g} ns clock" if args.clock
             else "each design's maximum frequency")
    out.write(f"PPA at corner {args.corner} ({reports[0].synthesis.pdk}); {how}; "
              f"power and energy at {clock}\n")
    out.write(ppa_table(reports) + "\n")
    return 0


def _corners_help():
    """The corners of each PDK that dcim knows by name, read from its description."""
    folder = importlib.resources.files("dcim.flow") / "pdks"
    parts = []
    for name in PDKS:
        corners = tomllib.loads((folder / f"{name}.toml").read_text()).get("corners", {})
        parts.append(f"{', '.join(corners)} for {name}")
    return "; ".join(parts)


def _add_flow_options(parser, rows):
    from ..cli import add_format_arguments

    parser.add_argument("--corner", default="typ",
                        help=f"PDK corner (default typ): {_corners_help()}")
    parser.add_argument("--clock", type=float, metavar="NS",
                        help="clock period: synthesis target and power clock (default: none "
                             "for synthesis, power at the design's maximum frequency)")
    parser.add_argument("--pdk", default="nangate45",
                        help=f"PDK name, one of {', '.join(PDKS)}, or a .toml description "
                             f"(default nangate45)")
    parser.add_argument("--pdk-root", type=Path, metavar="DIR",
                        help="folder of the technology files (default $DCIM_PDK_ROOT)")
    parser.add_argument("--activity", type=float,
                        help="OpenSTA's vectorless power at this many toggles per cycle "
                             "(default: power from uniformly random operands)")
    parser.add_argument("--activity-model", default="inputs", choices=("inputs", "global"),
                        help="vectorless: activity at the input ports or on every net")
    parser.add_argument("--operands", metavar="uniform|FILE",
                        help="power from data: 'uniform' random operands (the default), or "
                             "a .npy (cycles x ports) or .npz (an array per port) file")
    parser.add_argument("--top", help="top module of a Verilog design")
    parser.add_argument("--no-cache", action="store_true", help="ignore cached results")
    add_format_arguments(parser, rows)


def add_flow_commands(commands):
    """Add ``synth`` and ``compare`` to the ``dcim`` subcommand parsers ``commands``."""
    from ..arith import MULTIPLIER_KINDS
    from ..cli import kinds_help, parse_option

    synth = commands.add_parser("synth", help="synthesize a design and print its power, "
                                              "performance and area")
    synth.add_argument("design", type=Path,
                       help="a design file: TOML with [multiplier] or [macro], or Verilog")
    _add_flow_options(synth, "one row of every figure")
    synth.add_argument("--flat", action="store_true",
                       help="synthesize a macro in one Yosys run instead of block by block")
    synth.add_argument("--storage", choices=STORAGES,
                       help="a macro's weight array: 'sram', the hard 8T SRAM array with its "
                            "analytical views (the default; with --flat, 'ff'), or 'ff' "
                            "flip-flops")
    synth.set_defaults(handler=_cmd_synth)

    compare = commands.add_parser("compare", help="one PPA table over several designs, with "
                                                  "their error metrics",
                                  epilog=kinds_help("KIND.KEY=VALUE"),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    compare.add_argument("designs", nargs="*", type=Path,
                         help="design files (default: every multiplier kind at --width, and "
                              "Yosys's own a*b)")
    # No defaults here: None tells a flag that was not given, which design files refuse.
    compare.add_argument("--width", type=int, help="operand width (default 8)")
    compare.add_argument("--signed", action="store_true", default=None,
                         help="two's-complement operands")
    compare.add_argument("--kinds", metavar="KIND,...",
                         help=f"comma-separated multiplier kinds of "
                              f"{', '.join(sorted(MULTIPLIER_KINDS))} (default: all whose "
                              f"default options fit --width)")
    compare.add_argument("--option", action="append", type=parse_option,
                         metavar="KIND.KEY=VALUE",
                         help="an option of one kind, e.g. --option drum.k=3 (repeatable)")
    compare.add_argument("--no-yosys", action="store_true", default=None,
                         help="leave out Yosys's own a*b")
    _add_flow_options(compare, "one row per design")
    compare.set_defaults(handler=_cmd_compare)
