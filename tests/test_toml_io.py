"""read_toml: files by any name, TOML text, and errors that show paths as plain strings."""

import re
from pathlib import Path

import pytest

from dcim.arith import MultiplierSpec
from dcim.macro import MacroSpec
from dcim.toml_io import read_toml

DESIGN = "[multiplier]\nwidth = 6\nkind = 'drum'\n[multiplier.options]\nk = 4\n"


@pytest.mark.parametrize("filename", ["design", "design.txt", "design.toml", "a b ä.cfg"])
@pytest.mark.parametrize("as_path", [False, True])
def test_files_are_read_whatever_their_suffix(tmp_path, filename, as_path):
    path = tmp_path / filename
    path.write_text(DESIGN, encoding="utf-8")
    source = path if as_path else str(path)
    assert MultiplierSpec.from_toml(source) == MultiplierSpec(6, kind="drum", options={"k": 4})
    assert read_toml(source) == {"multiplier": {"width": 6, "kind": "drum",
                                                "options": {"k": 4}}}


def test_text_is_still_text():
    assert read_toml("x = 1") == {"x": 1}
    assert MultiplierSpec.from_toml(DESIGN).width == 6


@pytest.mark.parametrize(("content", "problem"), [
    (b"hello world\n", "is not a valid TOML file: "),
    (b"\xff\xfe\x00binary", "is not a TOML file: it is not UTF-8 text"),
    (b"[a]\nb = \n", "is not a valid TOML file: "),
])
def test_a_file_that_is_not_toml_is_named(tmp_path, content, problem):
    path = tmp_path / "notes.md"
    path.write_bytes(content)
    for source in (path, str(path)):
        with pytest.raises(ValueError, match=f"^{re.escape(str(path))} {problem}") as error:
            read_toml(source)
        assert "PosixPath" not in str(error.value)


@pytest.mark.parametrize("name", ["missing.toml", "sub/missing", Path("missing")])
def test_a_missing_file_is_named(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=f"^cannot read TOML file {re.escape(str(name))}: "
                                         f"No such file or directory$"):
        MultiplierSpec.from_toml(name)


def test_a_folder_is_not_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "designs").mkdir()
    with pytest.raises(ValueError, match="^cannot read TOML file designs: Is a directory$"):
        read_toml("designs")
    with pytest.raises(ValueError, match=f"cannot read TOML file {re.escape(str(tmp_path))}: "
                                         f"Is a directory"):
        read_toml(tmp_path)


def test_missing_table_names_the_path_as_a_string(tmp_path):
    path = tmp_path / "design.toml"
    path.write_text("[macro]\nrows = 4\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))} has no \\[multiplier\\] "
                                         f"table$"):
        MultiplierSpec.from_toml(path)
    assert MacroSpec.from_toml(path).rows == 4


@pytest.mark.parametrize("source", [5, None, b"x = 1", ["x = 1"]])
def test_other_sources_are_refused(source):
    with pytest.raises(TypeError, match="TOML source must be text, a str path or a Path"):
        read_toml(source)
