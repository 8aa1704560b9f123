"""``dcim --version``, ``dcim cache`` and ``dcim pdk`` through main()."""

import io
import json
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import dcim
from dcim.cli import main
from dcim.flow import admin_commands

ROOT = Path(__file__).resolve().parents[2]


def run(*argv):
    out = io.StringIO()
    code = main([str(arg) for arg in argv], out=out)
    return code, out.getvalue()


# -- dcim --version ----------------------------------------------------------------------------

def test_version_in_the_package_equals_pyproject():
    with open(ROOT / "pyproject.toml", "rb") as file:
        assert dcim.__version__ == tomllib.load(file)["project"]["version"]


def test_version_option_prints_the_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run("--version")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"dcim {metadata.version('dcim')}\n"


def test_version_falls_back_to_the_package_when_not_installed(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(admin_commands.metadata, "version", not_installed)
    assert admin_commands.package_version() == dcim.__version__


# -- dcim cache --------------------------------------------------------------------------------

@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DCIM_CACHE_DIR", str(folder))
    for kind, key in (("synth", "ab" + "0" * 62), ("synth", "cd" + "1" * 62),
                      ("power", "ab" + "2" * 62)):
        entry = folder / kind / key[:2] / key
        entry.mkdir(parents=True)
        (entry / "result.json").write_text("{}" + " " * 1998)
    return folder


def test_cache_info_lists_the_folder_and_each_kind(cache_folder):
    code, text = run("cache", "info")
    assert code == 0
    assert f"cache folder: {cache_folder}" in text
    rows = {line.split()[0]: line.split() for line in text.splitlines()[2:]}
    assert rows["synth"][1:3] == ["2", "4.0"] and rows["synth"][3] == "kB"
    assert rows["power"][1] == "1" and rows["timing"][1:3] == ["0", "0"]
    assert rows["total"][1:3] == ["3", "6.0"]
    assert "UTC" in rows["synth"]


def test_cache_info_json(cache_folder):
    code, text = run("cache", "info", "--json")
    data = json.loads(text)
    assert code == 0 and data["folder"] == str(cache_folder)
    assert data["entries"] == 3 and data["bytes"] == 6000
    assert {kind["kind"]: kind["entries"] for kind in data["kinds"]}["synth"] == 2


def test_cache_clear_one_kind_says_what_it_removed(cache_folder):
    code, text = run("cache", "clear", "--kind", "synth")
    assert code == 0
    assert text.startswith(f"removed 2 entries (4.0 kB) from the synth entries of the cache "
                           f"in {cache_folder}")
    assert "synth: 2 entries, 4.0 kB" in text
    assert not (cache_folder / "synth").exists() and (cache_folder / "power").is_dir()


def test_cache_clear_everything_then_nothing_is_left(cache_folder):
    code, text = run("cache", "clear")
    assert code == 0 and "removed 3 entries (6.0 kB) from the cache" in text
    assert "power: 1 entry, 2.0 kB" in text
    code, text = run("cache", "clear")
    assert code == 0 and "was already empty" in text


def test_cache_clear_refuses_an_unknown_kind(cache_folder, capsys):
    code, _ = run("cache", "clear", "--kind", "../synth")
    error = capsys.readouterr().err
    assert code == 2
    assert ("kind must be one of synth, timing, power, liberty, macro-sim, failed, "
            "not '../synth'") in error
    assert (cache_folder / "synth").is_dir()
