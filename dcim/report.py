"""Plain-text and CSV tables for the command line, the demo and the benchmarks."""

import csv
import json

__all__ = ["flatten_record", "format_table", "write_csv"]


def format_table(headers, rows):
    """Align ``rows`` under ``headers``: numbers to the right, text to the left.

    Floats are printed with four significant digits unless already formatted as text.
    """
    cells = [[_text(value) for value in row] for row in rows]
    widths = [max(len(x) for x in column) for column in zip(headers, *cells, strict=True)]
    numeric = [all(_is_number(row[k]) for row in rows) and bool(rows)
               for k in range(len(headers))]
    lines = ["  ".join(h.rjust(w) if n else h.ljust(w)
                       for h, w, n in zip(headers, widths, numeric, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(x.rjust(w) if n else x.ljust(w)
                               for x, w, n in zip(row, widths, numeric, strict=True)).rstrip())
    return "\n".join(lines)


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def flatten_record(record, prefix=""):
    """One level of ``{column: value}`` from a nested, JSON-ready dictionary.

    Nested dictionaries become dotted columns (``metrics.mred``); lists are kept whole as
    JSON text; ``None`` leaves its cell empty.
    """
    flat = {}
    for key, value in record.items():
        column = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_record(value, f"{column}."))
        elif isinstance(value, list | tuple):
            flat[column] = json.dumps(value, default=str)
        elif value is not None:
            flat[column] = value
    return flat


def write_csv(records, out):
    """Write dictionaries (see :func:`flatten_record`) as CSV rows with one header line.

    The columns are every key of every record, in the order they first appear, so records
    that lack a figure (a design without error metrics) leave that cell empty.
    """
    rows = [flatten_record(record) for record in records]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
