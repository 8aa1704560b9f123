"""The ``dcim macro`` subcommand: argument parsing and printing only.

The work is done by :func:`dcim.macro.summary.summarize_macro`; :func:`add_macro_commands`
registers the subcommand with the ``dcim`` parser.
"""

import json
import sys
import tomllib
from pathlib import Path

from .spec import MacroSpec

__all__ = ["add_macro_commands", "macro_design"]


def _read_design(path):
    path = Path(path)
    if path.suffix != ".toml":
        raise ValueError(f"design must be a .toml design file, not {str(path)!r}")
    if not path.is_file():
        raise FileNotFoundError(f"design file {str(path)!r} does not exist")
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"design file {str(path)!r} is not valid TOML: {error}") from None
    if "macro" in data and "multiplier" in data:
        raise ValueError(f"design file {str(path)!r} has both a [multiplier] and a [macro] "
                         f"table; a design file describes one design")
    return data


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
    options = {}
    if args.ppa:
        from ..flow.commands import _stage_printer

        options = {"corner": args.corner or "typ", "clock_ns": args.clock,
                   "pdk_root": args.pdk_root, "pdk": args.pdk or "nangate45",
                   "cache_results": not args.no_cache,
                   "progress": _stage_printer(sys.stderr)}
    summary = summarize_macro(spec, ppa=args.ppa, **options)
    if args.json:
        _dump(summary.as_dict(), out)
        return 0
    for key, value in summary.facts.items():
        if value is not None:
            out.write(f"{key:>16}: {value}\n")
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


def add_macro_commands(commands):
    """Add ``macro`` to the ``dcim`` subcommand parsers ``commands``."""
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
    macro.add_argument("--json", action="store_true", help="machine-readable output")
    macro.set_defaults(handler=_cmd_macro)
