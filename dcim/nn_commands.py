"""``dcim nn eval`` and ``dcim nn compare``: what designs cost a task's network.

This module sits beside :mod:`dcim.nn`, not inside it, because building the command line
must not import torch (``dcim --help`` stays fast and works without the ``nn`` extra):
:mod:`dcim.nn` is imported only when an ``nn`` command runs. The commands only parse and
print; :func:`dcim.nn.report.evaluate_design` and :func:`~dcim.nn.report.compare_designs`
compute.
"""

import json
from pathlib import Path

__all__ = ["add_nn_commands", "parse_design"]


def parse_design(text, *, width=8, signed=False):
    """A design from the command line: a TOML design file, or ``kind[:key=value...]``.

    The short form is a multiplier of ``width`` bits and ``signed``ness, e.g. ``log``,
    ``drum:k=3`` or ``approx:compressor=acci1:columns=6`` (values are TOML: ``k=3``,
    ``tree="wallace"``, or a bare word); or an analog array, ``analog:adc_bits=6:noise_lsb=1``
    (:class:`~dcim.nn.AnalogCiM`'s fields, and the noise in ADC steps).

    Raises
    ------
    ValueError
        For a missing or invalid file, an unknown kind (listing the kinds), or a malformed
        option (naming it).
    """
    from .arith import MULTIPLIER_KINDS, MultiplierSpec
    from .checks import check_input_file
    from .cli import parse_option

    if text.endswith(".toml") or "/" in text:
        from .flow.design import load_design

        return load_design(check_input_file(text, "design file", (".toml",)))
    kind, *pairs = text.split(":")
    if kind not in MULTIPLIER_KINDS and kind != "analog":
        raise ValueError(f"design {text!r}: kind must be one of "
                         f"{', '.join(sorted(MULTIPLIER_KINDS))} or analog, or give a .toml "
                         f"design file")
    options = {}
    for pair in pairs:
        try:
            key, value = parse_option(pair)
        except Exception as error:
            raise ValueError(f"design {text!r}: {error}") from None
        if key in options:
            raise ValueError(f"design {text!r}: option {key} is given twice")
        options[key] = value
    if kind == "analog":
        return _analog(text, options)
    return MultiplierSpec(width, signed=signed, kind=kind, options=options or None)


def _analog(text, options):
    """An :class:`~dcim.nn.AnalogCiM` from ``analog:key=value...``; ``noise_lsb`` and
    ``nonlinear_lsb`` give the noise in ADC steps."""
    from .nn.analog import AnalogCiM

    in_lsb = {key: options.pop(key) for key in ("noise_lsb", "nonlinear_lsb")
              if key in options}
    try:
        config = AnalogCiM(**options)
        if in_lsb:
            config = config.with_noise_lsb(in_lsb.get("noise_lsb", config.noise_lsb),
                                           in_lsb.get("nonlinear_lsb"))
    except TypeError as error:
        raise ValueError(f"design {text!r}: {error}") from None
    return config


def _percent(value):
    return None if value is None else 100 * value


def _blank(value):
    return "" if value is None else value


def _summary_rows(results):
    rows = []
    for result in results:
        energy = result.energy_pj
        uniform = result.uniform_metrics
        rows.append([result.design, _percent(result.accuracy), 100 * result.drop,
                     _blank(_percent(result.network_mred)),
                     "" if uniform is None else 100 * uniform.mred,
                     "" if energy is None else energy / 1e3,
                     "" if result.energy_saved is None else 100 * result.energy_saved])
    return rows


SUMMARY_HEADERS = ["design", "accuracy %", "drop (points)", "MRED on net %", "MRED uniform %",
                   "nJ/inference", "saved %"]


def _write_summary(results, out):
    from .report import format_table

    first = results[0]
    out.write(f"task {first.task}: float {100 * first.float_accuracy:.2f} %, exact "
              f"({first.exact}) {100 * first.exact_accuracy:.2f} %; drop and energy saved "
              f"against each design's exact counterpart\n")
    out.write(format_table(SUMMARY_HEADERS, _summary_rows(results)) + "\n")


def _write_layers(result, out):
    from .report import format_table

    rows = []
    for layer, exact in zip(result.layers, result.exact_layers, strict=True):
        rows.append([layer.name, layer.macs,
                     "" if layer.metrics is None else 100 * layer.metrics.mred,
                     "" if layer.energy is None else layer.energy.energy_per_mac_pj,
                     "" if exact.energy is None else exact.energy.energy_per_mac_pj,
                     "" if layer.energy_pj is None else layer.energy_pj / 1e3])
    out.write(f"\nlayers of {result.design} (operands of {result.task}'s test inputs):\n")
    out.write(format_table(["layer", "MACs", "MRED %", "pJ/MAC", "exact pJ/MAC", "nJ"], rows)
              + "\n")
    check = result.check
    out.write(f"netlist check: {check.scope}, {check.vectors:,} pairs, "
              f"{check.mismatches} mismatches\n")


def _options(args):
    from .nn.finetune import FineTuning

    return dict(seed=args.seed, energy=not args.no_energy, corner=args.corner, pdk=args.pdk,
                pdk_root=args.pdk_root, samples=args.samples,
                finetune=None if args.finetune is None else FineTuning(epochs=args.finetune))


def _emit(results, args, out, layers):
    from .report import write_csv

    if args.json:
        data = [result.as_dict() for result in results]
        json.dump(data[0] if layers else data, out, indent=2, default=str)
        out.write("\n")
    elif args.csv:
        rows = []
        for result in results:
            row = result.as_dict()
            del row["layers"], row["exact_layers"]
            rows.append(row)
        write_csv(rows, out)
    else:
        _write_summary(results, out)
        if layers:
            _write_layers(results[0], out)
    return 0


def _cmd_eval(args, out):
    from .nn.report import evaluate_design

    design = parse_design(args.design, width=args.width, signed=args.signed)
    result = evaluate_design(args.task, design, **_options(args))
    return _emit([result], args, out, layers=True)


def _cmd_compare(args, out):
    from .cli import progress_display
    from .nn.report import compare_designs

    designs = [parse_design(text, width=args.width, signed=args.signed)
               for text in args.designs]
    with progress_display("dcim nn compare", "designs") as progress:
        results = compare_designs(args.task, designs, progress=progress, **_options(args))
    return _emit(results, args, out, layers=False)


def _add_common(parser):
    from .cli import add_format_arguments

    parser.add_argument("--task", required=True,
                        help="digits, mnist5k or mnist1d (no download needed)")
    parser.add_argument("--width", type=int, default=8,
                        help="operand width of designs given by kind (default 8)")
    parser.add_argument("--signed", action="store_true",
                        help="two's-complement designs given by kind (default unsigned, "
                             "signed values run sign-magnitude)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--no-energy", action="store_true",
                        help="accuracy and metrics only: no synthesis or power runs")
    parser.add_argument("--finetune", type=int, metavar="EPOCHS",
                        help="fine-tune each converted network for this many epochs first")
    parser.add_argument("--corner", default="typ", help="PDK corner of the energy "
                                                        "(default typ)")
    parser.add_argument("--pdk", default="nangate45", help="PDK (default nangate45)")
    parser.add_argument("--pdk-root", type=Path, metavar="DIR",
                        help="folder of the technology files (default $DCIM_PDK_ROOT)")
    parser.add_argument("--samples", type=int, default=4096,
                        help="operand pairs simulated per layer for its energy (default 4096)")
    add_format_arguments(parser, "one row per design")


DESIGN_HELP = ("a .toml design file ([multiplier] or [macro]), a multiplier kind with "
               "options: log, drum:k=3, approx:truncate=6 (width and signedness from "
               "--width and --signed), or an analog array: analog:adc_bits=6:noise_lsb=1")


def add_nn_commands(commands):
    """Add ``nn eval`` and ``nn compare`` to the ``dcim`` subcommand parsers ``commands``."""
    nn = commands.add_parser("nn", help="accuracy and energy per inference of designs on a "
                                        "task's network (needs the nn extra)")
    sub = nn.add_subparsers(dest="nn_command", required=True)
    evaluate = sub.add_parser("eval", help="one design: accuracy, drop, error on the "
                                           "network's operands, energy per inference")
    evaluate.add_argument("--design", required=True, help=DESIGN_HELP)
    _add_common(evaluate)
    evaluate.set_defaults(handler=_cmd_eval)
    compare = sub.add_parser("compare", help="the same figures for many designs, in one table")
    compare.add_argument("--designs", required=True, nargs="+", metavar="DESIGN",
                         help=DESIGN_HELP)
    _add_common(compare)
    compare.set_defaults(handler=_cmd_compare)
