"""check_pdk: which technology files a PDK description needs, found or missing."""

import shutil

import pytest

from dcim.flow import PDKS, PdkError
from dcim.flow.pdk import check_pdk

PARTIAL = """
name = "partial"
folder = "lib"

[corners.typ]
liberty = "typ.lib"

[corners.slow]
liberty = "slow.lib.gz"

[cells]
tie_high = ["T1", "Z"]
tie_low = ["T0", "Z"]
buffer = ["B", "A", "Z"]
driver = ["B", "Z"]

[layout]
tech_lef = "tech.lef"
"""


@pytest.mark.parametrize("pdk", PDKS)
def test_the_shared_pdk_root_has_every_file(pdk_root, pdk):
    report = check_pdk(pdk, pdk_root)
    assert report.ok and report.missing == ()
    assert report.root == pdk_root and report.folder == pdk_root / pdk
    assert all(file.path.is_file() for file in report.files)


def test_nangate45_needs_three_liberty_files_and_its_layout(pdk_root):
    report = check_pdk("nangate45", pdk_root)
    assert [(file.role, file.corner) for file in report.files] == [
        ("liberty", "typ"), ("liberty", "fast"), ("liberty", "slow"),
        ("tech_lef", None), ("cell_lef", None), ("verilog_models", None)]
    assert report.files[0].path.name == "nangate45_typ.lib.gz"
    assert "Liberty" in report.files[0].what and "LEF" in report.files[3].what


def test_an_empty_root_misses_everything(tmp_path):
    report = check_pdk("sky130hd", tmp_path)
    assert not report.ok
    assert [file.path for file in report.missing] == [tmp_path / "sky130hd" /
                                                       "sky130hd_tt.lib.gz"]
    assert report.as_dict()["files"][0] == {
        "role": "liberty", "corner": "typ", "path": str(tmp_path / "sky130hd" /
                                                        "sky130hd_tt.lib.gz"),
        "found": False, "what": "Liberty: cells, timing, power (typical process (tt), 1.80 V, "
                                "25 C)"}


def test_a_description_file_with_some_files_present(tmp_path):
    description = tmp_path / "partial.toml"
    description.write_text(PARTIAL)
    (tmp_path / "root" / "lib").mkdir(parents=True)
    (tmp_path / "root" / "lib" / "typ.lib").write_text("library (x) {}")
    (tmp_path / "root" / "lib" / "tech.lef").mkdir()      # a folder is not the file
    report = check_pdk(description, tmp_path / "root")
    assert report.pdk == "partial" and report.source == description
    found = {(file.role, file.corner): file.found for file in report.files}
    assert found == {("liberty", "typ"): True, ("liberty", "slow"): False,
                     ("tech_lef", None): False}


def test_the_root_must_be_a_folder(tmp_path, monkeypatch):
    with pytest.raises(PdkError, match=r"PDK root '.*nowhere' \(from pdk_root=.*\) is not a "
                                       r"folder"):
        check_pdk("nangate45", tmp_path / "nowhere")
    monkeypatch.delenv("DCIM_PDK_ROOT", raising=False)
    with pytest.raises(PdkError, match="no PDK root: set DCIM_PDK_ROOT"):
        check_pdk("nangate45")


def test_an_unknown_pdk_is_named(tmp_path):
    with pytest.raises(ValueError, match="pdk must be one of nangate45, sky130hd or a .toml "
                                         "description, not 'tsmc7'"):
        check_pdk("tsmc7", tmp_path)


def test_the_environment_gives_the_default_root(pdk_root, tmp_path, monkeypatch):
    shutil.copytree(pdk_root / "sky130hd", tmp_path / "sky130hd")
    monkeypatch.setenv("DCIM_PDK_ROOT", str(tmp_path))
    assert check_pdk("sky130hd").ok
    assert not check_pdk("nangate45").ok
