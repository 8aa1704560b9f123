"""The ``dcim macro`` and ``dcim simulate`` subcommands, and ``dcim verify`` of macro designs.

Argument parsing and printing only: the work is done by :func:`dcim.macro.summary.
summarize_macro` and :func:`dcim.macro.check.check_macro`. :func:`add_macro_commands`
registers the subcommands with the ``dcim`` parser, :func:`add_macro_verify_arguments` adds
the macro options to ``dcim verify``, and :func:`verify_macro` is its dispatch.
"""

import json
import sys
from pathlib import Path

from ..checks import check_input_file
from ..toml_io import read_design_file
from .sim import ENGINES
from .spec import MacroSpec

__all__ = ["add_macro_commands", "add_macro_verify_arguments", "macro_design", "verify_macro"]

VERIFY_VECTORS = 64
"""Activation vectors ``dcim verify`` streams through a macro by default."""
SIMULATE_VECTORS = 16
"""Activation vectors ``dcim simulate`` streams by default."""


def _read_design(path):
    table, data = read_design_file(check_input_file(path, "design file", (".toml",)))
    return {table: data}


def macro_design(path):
    """The :class:`MacroSpec` of design file ``path``, or ``None`` if it has no [macro] table.

    Raises
    ------
    ValueError
        If ``path`` is not a ``.toml`` file, is not valid TOML, holds both a ``[multiplier]``
        and a ``[macro]`` table, or describes an invalid macro.
    FileNotFoundError
        If the file does not exist.
    """
    data = _read_design(path)
    if "macro" not in data:
        return None
    return MacroSpec.from_dict(data["macro"])


def _require_macro(path):
    spec = macro_design(path)
    if spec is None:
        raise ValueError(f"design file {str(path)!r} has no [macro] table (for a "
                         f"[multiplier] design use dcim mult or dcim verify)")
    return spec


def _dump(data, out):
    json.dump(data, out, indent=2, default=str)
    out.write("\n")


def _write_check(report, out):
    out.write(f"{report.design}: {report.vectors:,} vectors ({report.operands}), "
              f"{report.cycles:,} cycles, {report.mismatches} mismatches against the model; "
              f"engine {report.engine}, {report.seconds:.3f} s\n")
    for vector, column, hardware, model in report.examples:
        out.write(f"  mismatch: vector {vector} column {column}: hardware={hardware} "
                  f"model={model}\n")


def _announce(spec, engine, vectors):
    # Building a Verilator model takes up to half a minute: say what is happening meanwhile.
    sys.stderr.write(f"  simulating {spec.name} ({vectors} vectors, engine {engine}) ...\n")
    sys.stderr.flush()


# -- dcim macro ------------------------------------------------------------------------------

_PPA_OPTIONS = ("corner", "clock", "pdk", "pdk_root")


def _cmd_macro(args, out):
    from .summary import summarize_macro

    spec = _require_macro(args.design)
    given = [name for name in _PPA_OPTIONS if getattr(args, name) is not None]
    if args.no_cache:
        given.append("no_cache")
    if given and not args.ppa:
        options = ", ".join("--" + name.replace("_", "-") for name in given)
        raise ValueError(f"{options}: only used with --ppa (without it nothing is "
                         f"synthesized)")
    if args.verilog is None and (args.flat or args.force):
        raise ValueError(f"{'--flat' if args.flat else '--force'}: only used with --verilog")
    if args.verilog is not None:
        from ..cli import check_output
        from ..eda.verilog import emit_verilog

        check_output(args.verilog, "--verilog", inputs=[args.design], force=args.force)
        emit_verilog(spec, args.verilog, hierarchical=not args.flat)
    options = {}
    if args.ppa:
        from ..flow.commands import _stage_printer

        options = {"corner": args.corner or "typ", "clock_ns": args.clock,
                   "pdk_root": args.pdk_root, "pdk": args.pdk or "nangate45",
                   "cache_results": not args.no_cache,
                   "progress": _stage_printer(sys.stderr)}
    summary = summarize_macro(spec, ppa=args.ppa, **options)
    if args.json:
        result = summary.as_dict()
        if args.verilog is not None:
            result["verilog"] = str(args.verilog)
        _dump(result, out)
        return 0
    for key, value in summary.facts.items():
        if value is not None:
            out.write(f"{key:>16}: {value}\n")
    if args.verilog is not None:
        kind = "flat" if args.flat else "hierarchical"
        out.write(f"{'verilog':>16}: {args.verilog} (lint-clean, {kind})\n")
    if summary.ppa is None:
        out.write("\n(area split and PPA: add --ppa; synthesis takes minutes for large "
                  "macros)\n")
        return 0
    from ..flow.ppa import ppa_table

    total = summary.ppa.area_um2 or 1.0
    out.write(f"\narea split ({summary.ppa.synthesis.pdk}, corner "
              f"{summary.ppa.synthesis.corner}):\n")
    for group, area in summary.area_split.items():
        out.write(f"  {group:>10}: {area:10.1f} um2 ({100 * area / total:5.1f} %)\n")
    out.write("\n" + ppa_table([summary.ppa]) + "\n")
    return 0


# -- dcim simulate and dcim verify ------------------------------------------------------------

def _operands(args, spec):
    from .check import load_operands

    if not hasattr(args, "weights"):   # dcim verify draws random operands only
        return None, None, None
    if (args.weights is None) != (args.activations is None):
        raise ValueError("give both --weights and --activations, or neither (random operands)")
    if args.weights is None:
        return None, None, None
    if args.vectors is not None or args.seed is not None:
        raise ValueError("--vectors and --seed draw random operands; they do not apply with "
                         "--weights and --activations")
    weights, activations = load_operands(spec, args.weights, args.activations)
    return weights, activations, f"{args.weights}, {args.activations}"


def _run_check(args, out, spec, vectors, extremes):
    from .check import check_macro

    weights, activations, source = _operands(args, spec)
    vectors = vectors if args.vectors is None else args.vectors
    engine = args.engine or "auto"
    if weights is not None:
        vectors = 1 if activations.ndim == 1 else len(activations)
    _announce(spec, engine, vectors)
    report = check_macro(spec, weights, activations, vectors=vectors,
                         seed=0 if args.seed is None else args.seed, engine=engine,
                         extremes=extremes, operands=source)
    if getattr(args, "json", False):
        _dump(report.as_dict(), out)
    else:
        _write_check(report, out)
    return 0 if report.ok else 1


def _cmd_simulate(args, out):
    spec = _require_macro(args.design)
    return _run_check(args, out, spec, SIMULATE_VECTORS, extremes=False)


def verify_macro(args, out):
    """``dcim verify`` of a macro design: its simulation against the model.

    Returns the exit code, or ``None`` when ``args.design`` is not a macro design (the
    multiplier check then runs as before).
    """
    spec = None if args.design is None else macro_design(args.design)
    if spec is None:
        given = [f"--{name}" for name in ("engine", "vectors", "seed")
                 if getattr(args, name) is not None]
        if given:
            raise ValueError(f"{', '.join(given)} only apply to macro designs (a design file "
                             f"with a [macro] table)")
        return None
    given = [option for option, changed in (("--width", args.width is not None),
                                            ("--signed", args.signed is not None),
                                            ("--kind", args.kind is not None),
                                            ("--option", bool(args.option))) if changed]
    if given:
        raise ValueError(f"multiplier options ({', '.join(given)}) do not apply to design file "
                         f"{str(args.design)!r}, which describes a macro")
    # Random operands with the extreme values among them: the widest sums are always checked.
    return _run_check(args, out, spec, VERIFY_VECTORS, extremes=True)


def _add_simulation_arguments(parser, vectors):
    parser.add_argument("--engine", choices=ENGINES,
                        help="simulator: auto (default; Amaranth for small macros, else "
                             "Verilator), amaranth, verilator or iverilog")
    parser.add_argument("--vectors", type=int, metavar="N",
                        help=f"random activation vectors (default {vectors})")
    parser.add_argument("--seed", type=int, help="seed of the random operands (default 0)")


def add_macro_verify_arguments(verify):
    """Add the options of macro designs to the ``dcim verify`` parser ``verify``."""
    group = verify.add_argument_group("macro designs")
    _add_simulation_arguments(group, VERIFY_VECTORS)


def add_macro_commands(commands):
    """Add ``macro`` and ``simulate`` to the ``dcim`` subcommand parsers ``commands``."""
    macro = commands.add_parser("macro", help="describe a compute-in-memory macro: shape, "
                                              "latency, throughput, adder tree, area split")
    macro.add_argument("design", type=Path, help="a TOML file with a [macro] table")
    macro.add_argument("--ppa", action="store_true",
                       help="also synthesize it: area split and PPA table (takes minutes "
                            "for rows=64)")
    macro.add_argument("--corner", help="with --ppa: PDK corner (default typ)")
    macro.add_argument("--clock", type=float, metavar="NS", help="with --ppa: clock period")
    macro.add_argument("--pdk", help="with --ppa: PDK name or .toml description "
                                     "(default nangate45)")
    macro.add_argument("--pdk-root", type=Path, metavar="DIR",
                       help="with --ppa: folder of the technology files "
                            "(default $DCIM_PDK_ROOT)")
    macro.add_argument("--no-cache", action="store_true",
                       help="with --ppa: ignore cached results")
    macro.add_argument("--verilog", type=Path, metavar="FILE.v",
                       help="write its lint-clean Verilog: multiplier, lane and macro modules "
                            "each once")
    macro.add_argument("--flat", action="store_true",
                       help="with --verilog: one flat module instead")
    macro.add_argument("--force", action="store_true",
                       help="with --verilog: replace an existing file")
    macro.add_argument("--json", action="store_true", help="machine-readable output")
    macro.set_defaults(handler=_cmd_macro)

    simulate = commands.add_parser("simulate", help="run a macro cycle by cycle and compare "
                                                    "every result with its model")
    simulate.add_argument("design", type=Path, help="a TOML file with a [macro] table")
    _add_simulation_arguments(simulate, SIMULATE_VECTORS)
    simulate.add_argument("--weights", type=Path, metavar="FILE.npy",
                          help="weights, shape (R, cols); with --activations")
    simulate.add_argument("--activations", type=Path, metavar="FILE.npy",
                          help="activations, shape (n, R) or (R,); with --weights")
    simulate.add_argument("--json", action="store_true", help="machine-readable output")
    simulate.set_defaults(handler=_cmd_simulate)
