"""Reading and writing the TOML files that hold designs and compressor assignments."""

import tomllib

import tomli_w

__all__ = ["read_toml", "write_toml"]


def write_toml(data, path=None):
    """``data`` as TOML text; also written to ``path`` when given."""
    text = tomli_w.dumps(data)
    if path is not None:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    return text


def read_toml(text_or_path, table=None):
    """Parse TOML text, or the file when ``text_or_path`` ends in ``.toml``.

    With ``table``, return that top-level table, raising ``ValueError`` naming the source
    when it is missing.
    """
    text = str(text_or_path)
    if text.endswith(".toml"):
        with open(text, "rb") as file:
            data = tomllib.load(file)
    else:
        data = tomllib.loads(text)
    if table is None:
        return data
    if table not in data:
        raise ValueError(f"TOML {text_or_path!r} has no [{table}] table")
    return data[table]
