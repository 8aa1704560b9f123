"""``dcim --version`` and the ``dcim cache`` and ``dcim pdk`` subcommands.

Argument parsing and printing only: the work is done by :func:`dcim.eda.cache.cache_info`,
:func:`dcim.eda.cache.clear_cache` and :func:`dcim.flow.pdk.check_pdk`.
:func:`add_version_option` adds ``--version`` to the ``dcim`` parser and
:func:`add_admin_commands` registers the subcommands.
"""

import json
from importlib import metadata
from pathlib import Path

__all__ = ["add_admin_commands", "add_version_option", "package_version"]


def package_version():
    """The installed distribution's version, or ``dcim.__version__`` when not installed.

    Running from a source tree without ``pip install`` leaves no distribution metadata; the
    version written in the package (kept equal to ``pyproject.toml``'s by a test) still holds.
    """
    try:
        return metadata.version("dcim")
    except metadata.PackageNotFoundError:
        from .. import __version__

        return __version__


def add_version_option(parser):
    """Add ``--version`` to the top-level ``dcim`` parser ``parser``."""
    parser.add_argument("--version", action="version", version=f"dcim {package_version()}")


def _dump(data, out):
    json.dump(data, out, indent=2, default=str)
    out.write("\n")


def _size(count):
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def _entries(count):
    return f"{count} {'entry' if count == 1 else 'entries'}"


def _time(stamp):
    return "-" if stamp is None else stamp.strftime("%Y-%m-%d %H:%M:%S UTC")


# -- dcim cache ------------------------------------------------------------------------------

def _cmd_cache_info(args, out):
    from ..eda.cache import cache_info
    from ..report import format_table

    info = cache_info()
    if args.json:
        _dump(info.as_dict(), out)
        return 0
    out.write(f"cache folder: {info.folder}\n")
    rows = [[k.kind, k.entries, _size(k.bytes), _time(k.oldest), _time(k.newest)]
            for k in info.kinds]
    rows.append(["total", info.entries, _size(info.bytes), _time(info.oldest),
                 _time(info.newest)])
    out.write(format_table(["kind", "entries", "size", "oldest", "newest"], rows) + "\n")
    return 0


def _cmd_cache_clear(args, out):
    from ..eda.cache import clear_cache

    removed = clear_cache(args.kind)
    if args.json:
        _dump(removed.as_dict(), out)
        return 0
    what = "the cache" if args.kind is None else f"the {args.kind} entries of the cache"
    if not removed.bytes:
        out.write(f"{what} in {removed.folder} was already empty\n")
        return 0
    out.write(f"removed {_entries(removed.entries)} ({_size(removed.bytes)}) from {what} in "
              f"{removed.folder}:\n")
    for kind in removed.kinds:
        if kind.bytes:
            out.write(f"  {kind.kind}: {_entries(kind.entries)}, {_size(kind.bytes)}\n")
    return 0


# -- dcim pdk --------------------------------------------------------------------------------

def _write_pdk_check(report, out):
    out.write(f"{report.pdk} (description {report.source}): files under {report.folder}\n")
    for file in report.files:
        where = f"corner {file.corner}" if file.corner else "every corner"
        state = "found  " if file.found else "MISSING"
        path = (file.path.relative_to(report.folder) if file.path.is_relative_to(report.folder)
                else file.path)
        out.write(f"  {state}  {where:<14} {path}: {file.what}\n")


def _cmd_pdk_check(args, out):
    from .pdk import PDKS, check_pdk

    reports = [check_pdk(pdk, args.root) for pdk in (args.pdk or PDKS)]
    missing = sum(len(report.missing) for report in reports)
    if args.json:
        _dump([report.as_dict() for report in reports], out)
        return 1 if missing else 0
    for report in reports:
        _write_pdk_check(report, out)
    total = sum(len(report.files) for report in reports)
    if not missing:
        out.write(f"all {total} files found\n")
        return 0
    out.write(f"{missing} of {total} files missing; README.md (Technology files) says where "
              f"each comes from\n")
    return 1


def add_admin_commands(commands):
    """Add ``cache`` and ``pdk`` to the ``dcim`` subcommand parsers ``commands``."""
    from ..eda.cache import CACHE_KINDS
    from .pdk import PDKS

    cache = commands.add_parser("cache", help="what the result cache holds; clear it")
    actions = cache.add_subparsers(dest="action", required=True)
    info = actions.add_parser("info", help="folder, size, entries per kind, oldest and newest")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(handler=_cmd_cache_info)
    clear = actions.add_parser("clear", help="delete cached results (asks nothing)")
    clear.add_argument("--kind", help=f"only this kind: {', '.join(CACHE_KINDS)}")
    clear.add_argument("--json", action="store_true", help="machine-readable output")
    clear.set_defaults(handler=_cmd_cache_clear)

    pdk = commands.add_parser("pdk", help="the technology files a PDK needs")
    pdk_actions = pdk.add_subparsers(dest="action", required=True)
    check = pdk_actions.add_parser("check", help="which files each PDK description needs, "
                                                 "which are found and which are missing")
    check.add_argument("root", nargs="?", type=Path, metavar="DIR",
                       help="the PDK root to look in (default $DCIM_PDK_ROOT)")
    check.add_argument("--pdk", action="append",
                       help=f"a PDK name ({', '.join(PDKS)}) or .toml description; repeatable "
                            f"(default: every PDK that ships with dcim)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(handler=_cmd_pdk_check)
