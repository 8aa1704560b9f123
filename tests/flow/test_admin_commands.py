"""``dcim --version``, ``dcim cache`` and ``dcim pdk`` through main()."""

import io
import json
import re
import shlex
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
    assert ("kind must be one of synth, timing, power, liberty, macro-sim, nn-model, nn-check, "
            "spice-sizing, verilog, cell-char, bit-failure, bitcell-char, failed, "
            "not '../synth'") in error
    assert (cache_folder / "synth").is_dir()


# -- dcim pdk check ----------------------------------------------------------------------------

def test_pdk_check_finds_every_file_of_the_shared_root(pdk_root):
    code, text = run("pdk", "check", pdk_root)
    assert code == 0 and text.endswith("all 7 files found\n")
    assert "nangate45 (description " in text
    assert f"files under {pdk_root / 'nangate45'}" in text
    assert "  found    corner slow    nangate45_slow.lib.gz: Liberty" in text
    assert "  found    every corner   NangateOpenCellLibrary.tech.lef: technology LEF" in text
    assert "MISSING" not in text


def test_pdk_check_lists_what_an_empty_folder_misses(tmp_path):
    code, text = run("pdk", "check", tmp_path)
    assert code == 1
    assert text.count("MISSING") == 7
    assert "  MISSING  corner typ     sky130hd_tt.lib.gz" in text
    assert text.endswith("7 of 7 files missing; README.md (Technology files) says where each "
                         "comes from\n")


def test_pdk_check_of_one_pdk_from_the_environment(pdk_root, monkeypatch):
    monkeypatch.setenv("DCIM_PDK_ROOT", str(pdk_root))
    code, text = run("pdk", "check", "--pdk", "sky130hd", "--json")
    data = json.loads(text)
    assert code == 0 and [report["pdk"] for report in data] == ["sky130hd"]
    assert data[0]["ok"] and data[0]["files"][0]["found"]


def test_pdk_check_json_exits_1_when_files_are_missing(tmp_path):
    code, text = run("pdk", "check", tmp_path, "--pdk", "nangate45", "--json")
    assert code == 1 and not json.loads(text)[0]["ok"]


@pytest.mark.parametrize(("argv", "message"), [
    (["/no/such/folder"], "PDK root '/no/such/folder' (from pdk_root='/no/such/folder') is "
                          "not a folder"),
    (["--pdk", "tsmc7"], "pdk must be one of nangate45, sky130hd or a .toml description, "
                         "not 'tsmc7'"),
])
def test_pdk_check_errors_name_the_bad_value(argv, message, capsys, pdk_root, monkeypatch):
    monkeypatch.setenv("DCIM_PDK_ROOT", str(pdk_root))
    code, _ = run("pdk", "check", *argv)
    error = capsys.readouterr().err
    assert code == 2 and message in error and "PosixPath" not in error


def test_the_readme_pdk_cache_and_version_commands_run(pdk_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DCIM_PDK_ROOT", str(pdk_root))
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)
    lines = re.findall(r"^dcim ((?:pdk|cache|--version)\b.*?)\s*(?:#.*)?$",
                       (ROOT / "README.md").read_text(), re.M)
    assert len(lines) == 5
    for line in lines:
        argv = [str(pdk_root) if arg == "../shared/pdk" else arg for arg in shlex.split(line)]
        try:
            code, _ = run(*argv)
        except SystemExit as exit_info:   # --version ends the parser
            code = exit_info.code
        assert code == 0, line
