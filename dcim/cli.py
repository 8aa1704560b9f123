"""The ``dcim`` command: describe, measure, verify and emit designs from the shell.

Every subcommand calls public library functions and only parses arguments and prints.
"""

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import textwrap
import tomllib
from pathlib import Path

from tqdm import tqdm

from .checks import check_input_file
from .report import format_table, write_csv

__all__ = [
    "DEMO_MARKER",
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "add_format_arguments",
    "check_input_file",
    "check_output",
    "kinds_help",
    "main",
    "options_dict",
    "parse_option",
    "progress_display",
    "refuse_with_design_file",
]

EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C: 128 + SIGINT, as shells report a process killed by it."""
EXIT_BROKEN_PIPE = 141
"""Exit status when standard output is closed early: 128 + SIGPIPE, as for ``cat``."""


def parse_option(text):
    """``key=value`` with a TOML value (``k=4``, ``tree="wallace"``, or a bare word)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--option must look like key=value, not {text!r}")
    key, value = text.split("=", 1)
    try:
        parsed = tomllib.loads(f"value = {value}")["value"]
    except tomllib.TOMLDecodeError:
        parsed = value  # a bare word such as wallace
    return key.strip(), parsed


@contextlib.contextmanager
def progress_display(description, unit):
    """A ``progress(done, total)`` callback that drives a tqdm bar on standard error.

    The library's long runs report progress in that one shape; only the command line draws it.
    The bar shows the rate and the time left. It stays hidden when standard error is not a
    terminal (logs and pipes get no carriage-return noise) and for runs shorter than half a
    second, and it is removed when the run ends, since the result line follows.
    """
    bar = None

    def update(done, total):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit=unit, unit_scale=True,
                       file=sys.stderr, disable=None, delay=0.5, leave=False,
                       dynamic_ncols=True)
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def check_output(path, flag, *, inputs=(), force=False):
    """Refuse to write ``path`` over an input file, or over an existing file without --force.

    ``inputs`` are the files the command reads; paths are compared after resolving links and
    relative parts, so ``./d.toml`` and ``d.toml`` are the same file.
    """
    path = Path(path)
    for source in inputs:
        source = Path(source)
        same = (path.resolve() == source.resolve()
                or (path.exists() and source.exists() and path.samefile(source)))
        if same:
            raise ValueError(f"{flag} {str(path)!r} is the input file {str(source)!r}; "
                             f"refusing to write over an input")
    if path.is_dir():
        raise ValueError(f"{flag} {str(path)!r} is a folder, not a file")
    if path.exists() and not force:
        raise ValueError(f"{flag} {str(path)!r} already exists; give --force to replace it")


DEMO_MARKER = ".dcim-demo"
"""The file that marks a folder as written by ``dcim demo``, which may then write it again."""


def _check_demo_folder(folder, force):
    """``dcim demo`` writes only its own files, under fixed names. Into a folder that holds
    other files it could replace one of the user's, so that needs --force; a folder of an
    earlier demo run (it holds the marker) is written again."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {str(folder)!r} is a file, not a folder")
    if force or not folder.exists() or (folder / DEMO_MARKER).is_file():
        return
    if any(folder.iterdir()):
        raise ValueError(f"--out {str(folder)!r} holds files that dcim demo did not write; "
                         f"give --force to write into it, or name a new or empty folder")


def options_dict(pairs):
    """``--option`` pairs as a dict; a key given twice is an error, not a silent override."""
    options = {}
    for key, value in pairs or ():
        if key in options:
            raise ValueError(f"--option {key} is given twice, as {options[key]!r} and "
                             f"{value!r}; give it once")
        options[key] = value
    return options


def refuse_with_design_file(args, flags):
    """Settings that a design file fixes must not be given beside it: they would be ignored.

    ``flags`` maps each flag to its ``args`` attribute; a flag counts as given when its value
    is not None (so these flags default to None and get their defaults later).
    """
    given = [flag for flag, attribute in flags.items() if getattr(args, attribute) is not None]
    if given:
        raise ValueError(f"{', '.join(given)} cannot be combined with a design file, which "
                         f"fixes the design; give either the file or the flags")


_DESIGN_FLAGS = {"--width": "width", "--signed": "signed", "--kind": "kind",
                 "--option": "option"}


def _spec_from_args(args):
    from .arith import MultiplierSpec

    if args.design:
        refuse_with_design_file(args, _DESIGN_FLAGS)
        return MultiplierSpec.from_toml(check_input_file(args.design, "design file",
                                                         (".toml",)))
    return MultiplierSpec(width=8 if args.width is None else args.width,
                          signed=bool(args.signed), kind=args.kind or "exact",
                          options=options_dict(args.option))


def _tree_plan(spec):
    """The compressor-tree plan of a spec built as a tree, else None.

    Asked of the options, not of kind names: a tree plan is defined by the tree multipliers'
    options (``ExactOptions`` and its subclasses), whichever kind registers them, so a new
    kind needs no edit here.
    """
    from .arith.tree_multiplier import ExactOptions, tree_plan

    return tree_plan(spec) if isinstance(spec.options, ExactOptions) else None


def kinds_help(syntax="KEY=VALUE"):
    """Every registered multiplier kind with its options and their defaults, for ``--help``;
    ``syntax`` is how the command's ``--option`` names one."""
    from .arith import MULTIPLIER_KINDS

    lines = [f"multiplier kinds and their options (--option {syntax}; defaults in brackets):"]
    width = max(len(name) for name in MULTIPLIER_KINDS) + 2
    for name, kind in sorted(MULTIPLIER_KINDS.items()):
        options = ", ".join(f"{field.name} [{_default_text(field)}]"
                            for field in dataclasses.fields(kind.Options)) or "(no options)"
        lines += textwrap.wrap(options, 98, initial_indent=f"  {name:<{width}}",
                               subsequent_indent=" " * (width + 2))
    return "\n".join(lines)


def _default_text(field):
    if field.default is not dataclasses.MISSING:
        return "none" if field.default is None else str(field.default)
    if field.default_factory is not dataclasses.MISSING:
        return str(field.default_factory())
    return "required"


def _cmd_compressors(args, out):
    from .arith import COMPRESSORS

    rows = []
    records = []
    for name, compressor in COMPRESSORS.items():
        error_rate, mean_error = compressor.error_stats(args.p_one)
        table = " ".join(str(v) for v in compressor.truth_table())
        rows.append([name, f"{compressor.n_inputs}:{len(compressor.outputs)}",
                     f"{error_rate:.5f}", f"{mean_error:.5f}", table])
        records.append({"name": name, "inputs": list(compressor.inputs),
                        "outputs": [list(o) for o in compressor.outputs],
                        "error_rate": error_rate, "mean_error_distance": mean_error,
                        "truth_table": compressor.truth_table().tolist(),
                        "description": compressor.description})
    if args.json:
        json.dump(records, out, indent=2)
        out.write("\n")
        return 0
    if args.csv:
        write_csv(records, out)
        return 0
    out.write(f"Compressors: error rate (ER) and mean error distance (MED) with inputs "
              f"independently 1 with probability {args.p_one}\n")
    out.write(format_table(["name", "in:out", "ER", "MED", "value 2C+S for abcd = 0.."],
                            rows) + "\n")
    return 0


def _cmd_mult(args, out):
    spec = _spec_from_args(args)
    if args.verilog:
        check_output(args.verilog, "--verilog", inputs=[args.design] if args.design else [],
                     force=args.force)
    facts = spec.describe()
    result = {"design": facts}
    counts = None
    plan = _tree_plan(spec)
    if plan is not None:
        counts = [dict(c) for c in plan.compressor_counts()]
        result["compressors_per_column"] = counts
    metrics = None
    if not args.no_metrics:
        with progress_display(f"metrics of {spec.name}", "pairs") as progress:
            metrics = spec.metrics(samples=args.samples, seed=args.seed, progress=progress)
        result["metrics"] = metrics.as_dict()
    if args.verilog:
        from .eda.verilog import emit_verilog

        emit_verilog(spec, args.verilog)
        result["verilog"] = str(args.verilog)
    if args.json:
        json.dump(result, out, indent=2, default=str)
        out.write("\n")
        return 0
    if args.csv:
        write_csv([result], out)
        return 0
    for key, value in facts.items():
        out.write(f"{key:>12}: {value}\n")
    if counts is not None:
        out.write("\ncompressors per column (column: counts)\n")
        for column, count in enumerate(counts):
            if count:
                listed = ", ".join(f"{n} {name}" for name, n in sorted(count.items()))
                out.write(f"  {column:3d}: {listed}\n")
    if metrics is not None:
        out.write("\n" + metrics.table() + "\n")
    if args.verilog:
        out.write(f"\nVerilog written to {args.verilog} (module {spec.name})\n")
    return 0


def _cmd_verify(args, out):
    from .macro.commands import verify_macro
    from .verify.netlist import check_exhaustive

    if (code := verify_macro(args, out)) is not None:  # a [macro] design: simulate it
        return code
    spec = _spec_from_args(args)
    with progress_display(f"checking {spec.name}", "vectors") as progress:
        report = check_exhaustive(spec, progress=progress)
    out.write(f"{spec.name}: {report.vectors:,} vectors, {report.mismatches} mismatches, "
              f"{report.seconds:.3f} s ({report.vectors_per_second:,.0f} vectors/s)\n")
    for example in report.examples:
        out.write(f"  mismatch: a={example[0]} b={example[1]} hardware={example[2]} "
                  f"model={example[3]}\n")
    return 0 if report.ok else 1


def _cmd_demo(args, out):
    from .demo import run_demo

    folder = Path(args.out)
    _check_demo_folder(folder, args.force)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_MARKER).write_text("Written by dcim demo, which may write this folder "
                                      "again.\n")
    return run_demo(folder, out)


def _add_design_arguments(parser, tables="[multiplier]"):
    from .arith import MULTIPLIER_KINDS

    parser.add_argument("design", nargs="?", type=Path,
                        help=f"a TOML file with a {tables} table (e.g. designs/*.toml)")
    # No defaults here: None tells a flag that was not given, which a design file refuses.
    parser.add_argument("--width", type=int, help="operand width (default 8)")
    parser.add_argument("--signed", action="store_true", default=None,
                        help="two's-complement operands")
    parser.add_argument("--kind", metavar="KIND",
                        help=f"multiplier kind, one of {', '.join(sorted(MULTIPLIER_KINDS))} "
                             f"(default exact; their options are listed below)")
    parser.add_argument("--option", action="append", type=parse_option, metavar="KEY=VALUE",
                        help="a kind option, e.g. --option k=4 (repeatable)")


def add_format_arguments(parser, rows):
    """``--json`` and ``--csv``, one or neither; ``rows`` says what a CSV row is."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    group.add_argument("--csv", action="store_true",
                       help=f"the table as CSV, {rows}; nested fields as dotted columns")


def build_parser():
    from .flow.admin_commands import add_admin_commands, add_version_option
    from .macro.commands import add_macro_commands, add_macro_verify_arguments

    parser = argparse.ArgumentParser(prog="dcim", description=__doc__.splitlines()[0])
    add_version_option(parser)
    commands = parser.add_subparsers(dest="command", required=True)

    compressors = commands.add_parser("compressors", help="truth tables and error statistics")
    compressors.add_argument("--p-one", type=float, default=0.25,
                             help="probability that an input bit is 1 (default 1/4)")
    add_format_arguments(compressors, "one row per compressor")
    compressors.set_defaults(handler=_cmd_compressors)

    mult = commands.add_parser("mult", help="describe a multiplier, its errors, its Verilog",
                               epilog=kinds_help(),
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_design_arguments(mult)
    mult.add_argument("--no-metrics", action="store_true", help="skip the error metrics")
    mult.add_argument("--samples", type=int, default=1_000_000,
                      help="pairs sampled when exhaustive evaluation is too large")
    mult.add_argument("--seed", type=int, default=0, help="seed of the sampled metrics")
    mult.add_argument("--verilog", type=Path, help="write the Verilog to this file")
    mult.add_argument("--force", action="store_true",
                      help="replace an existing --verilog file")
    add_format_arguments(mult, "one row: the design, its metrics and Verilog file")
    mult.set_defaults(handler=_cmd_mult)

    verify = commands.add_parser("verify", help="check a multiplier's gate netlist against "
                                                "its model for every operand pair, or "
                                                "simulate a macro against its model",
                                 epilog=kinds_help(),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_design_arguments(verify, tables="[multiplier] or [macro]")
    add_macro_verify_arguments(verify)
    verify.set_defaults(handler=_cmd_verify)

    demo = commands.add_parser("demo", help="build, verify and emit example designs")
    demo.add_argument("--out", default="demo-out",
                      help="output folder (default demo-out); a folder of an earlier demo run "
                           "is written again, any other non-empty one needs --force")
    demo.add_argument("--force", action="store_true",
                      help="write into a non-empty folder that an earlier demo did not write "
                           "(files with the demo's names are replaced; others are kept)")
    demo.set_defaults(handler=_cmd_demo)

    from .flow.commands import add_flow_commands  # synth, compare
    add_flow_commands(commands)
    add_macro_commands(commands)  # macro, simulate
    add_admin_commands(commands)  # cache, pdk
    from .nn_commands import add_nn_commands
    add_nn_commands(commands)     # nn eval, nn compare
    return parser


def main(argv=None, out=None):
    """Run the ``dcim`` command on ``argv`` (default: the process's), printing to ``out``.

    Returns the exit status: 0 on success, 1 when a check found mismatches, 2 for an error
    (one line on stderr, no traceback), 130 after Ctrl-C, and 141 when the reader of standard
    output went away (``dcim ... | head``): 128 + SIGPIPE, what a shell reports for ``cat``
    or ``yes`` in the same place, so ``set -o pipefail`` scripts see the usual code.
    """
    out = out or sys.stdout
    command = "dcim"
    try:
        args = build_parser().parse_args(argv)
        command = f"dcim {args.command}"
        status = args.handler(args, out)
        out.flush()   # a closed pipe shows here, not in the interpreter's exit-time flush
        return status
    except KeyboardInterrupt:
        # Ctrl-C is a request, not a failure of dcim: one line, and the shell's code for SIGINT.
        sys.stderr.write(f"\n{command}: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # As the Python documentation advises for SIGPIPE: point standard output at devnull,
        # so that the interpreter's final flush of the unwritten rest does not fail again.
        if out is sys.stdout:
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (ValueError, TypeError, OSError, RuntimeError) as error:
        # Library errors already name the parameter and value; show them without a traceback.
        sys.stderr.write(f"{command}: error: {error}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
