"""Plain-text tables for the command line, the demo and the benchmarks."""

__all__ = ["format_table"]


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
