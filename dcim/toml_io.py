"""Reading and writing the TOML files that hold designs and compressor assignments."""

import os
import tomllib

import tomli_w

from .checks import short_repr

__all__ = ["DESIGN_TABLES", "read_design_file", "read_toml", "write_toml"]

DESIGN_TABLES = ("multiplier", "macro")
"""The tables a design file may hold: exactly one of them."""


def write_toml(data, path=None):
    """``data`` as TOML text; also written to ``path`` when given."""
    text = tomli_w.dumps(data)
    if path is not None:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    return text


def _looks_like_path(text):
    # TOML text that means anything has a key (``=``) or several lines; a single line without
    # one that ends in .toml or holds a folder separator is a path the user mistyped.
    return ("=" not in text and "\n" not in text
            and (text.endswith(".toml") or "/" in text or os.sep in text))


def _load(source):
    """The data of TOML text or of the file ``source`` names, and how to name it in errors."""
    if isinstance(source, os.PathLike) or (isinstance(source, str)
                                           and (os.path.exists(source)
                                                or _looks_like_path(source))):
        path = os.fspath(source)
        if isinstance(path, bytes):
            raise TypeError(f"TOML path must be a str or Path, not {short_repr(source)}")
        try:
            with open(path, "rb") as file:
                return tomllib.load(file), path
        except OSError as error:
            # strerror ("No such file or directory", "Is a directory") says what is wrong.
            raise ValueError(f"cannot read TOML file {path}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not a TOML file: it is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path} is not a valid TOML file: {error}") from None
    if not isinstance(source, str):
        raise TypeError(f"TOML source must be text, a str path or a Path, "
                        f"not {short_repr(source)}")
    try:
        return tomllib.loads(source), "TOML text"
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"TOML text is not valid: {error}") from None


def read_toml(text_or_path, table=None):
    """Parse TOML text, or the file that ``text_or_path`` names.

    A ``Path`` (any ``os.PathLike``) is always a file; a ``str`` is a file when a file
    exists under that name, whatever its suffix (a folder there is an error), and TOML text
    otherwise (a one-line string without ``=`` that ends in ``.toml`` or holds a folder
    separator is taken for a missing file).

    With ``table``, return that top-level table, which must be the only top-level entry.

    Raises
    ------
    ValueError
        If the file does not exist or cannot be read (``f"cannot read TOML file {path}:
        {reason}"``), if the text or file is not valid TOML
        (``f"{path} is not a valid TOML file: {error}"``), or if ``table`` is missing, not a
        table, or has company. Paths appear in messages as plain strings.
    TypeError
        If ``text_or_path`` is neither a ``str`` nor a path.
    """
    data, source = _load(text_or_path)
    if table is None:
        return data
    if table not in data:
        raise ValueError(f"{source} has no [{table}] table")
    others = sorted(repr(key) for key in data if key != table)
    if others:
        raise ValueError(f"{source} holds [{table}] and also {', '.join(others)}; a design "
                         f"file describes one design")
    if not isinstance(data[table], dict):
        raise ValueError(f"{table} in {source} must be a table, not {short_repr(data[table])}")
    return data[table]


def read_design_file(path):
    """``(table, data)`` of the design file ``path``: its one ``[multiplier]`` or ``[macro]``.

    Raises
    ------
    ValueError
        As :func:`read_toml` for a missing, unreadable or invalid file; and if the file holds
        neither table, both, or anything else beside its table (each message names the file).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"design file must be a str or Path, not {short_repr(path)}")
    data, source = _load(os.fspath(path) if isinstance(path, os.PathLike) else path)
    tables = [table for table in DESIGN_TABLES if table in data]
    others = sorted(repr(key) for key in data if key not in DESIGN_TABLES)
    if len(tables) != 1:
        found = ("both a [multiplier] and a [macro] table" if tables
                 else "neither a [multiplier] nor a [macro] table")
        raise ValueError(f"design file {source} has {found}; a design file describes one "
                         f"design")
    if others:
        raise ValueError(f"design file {source} holds [{tables[0]}] and also "
                         f"{', '.join(others)}; a design file describes one design")
    if not isinstance(data[tables[0]], dict):
        raise ValueError(f"{tables[0]} in {source} must be a table, "
                         f"not {short_repr(data[tables[0]])}")
    return tables[0], data[tables[0]]
