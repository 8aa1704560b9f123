import re

import pytest

from dcim.arith import MultiplierSpec
from dcim.flow import PDKS, PdkError, analyze_timing, load_pdk, synthesize
from dcim.flow.pdk import PDK_ROOT_VARIABLE

MYLIB = """
name = "mylib"
folder = "sky130hd"

[corners.typ]
liberty = "sky130hd_tt.lib.gz"

[cells]
tie_high = ["sky130_fd_sc_hd__conb_1", "HI"]
tie_low = ["sky130_fd_sc_hd__conb_1", "LO"]
buffer = ["sky130_fd_sc_hd__buf_1", "A", "X"]
driver = ["sky130_fd_sc_hd__buf_1", "X"]
dont_use = ["sky130_fd_sc_hd__lpflow_*", "sky130_fd_sc_hd__probe*"]

[analysis]
output_load = 2.0
wire_load = "Small"
"""


def test_builtin_descriptions():
    assert {"nangate45", "sky130hd"} <= set(PDKS)


def test_nangate45_has_three_corners(pdk_root):
    pdk = load_pdk("nangate45", pdk_root)
    assert list(pdk.corners) == ["typ", "fast", "slow"]
    assert pdk.liberty("slow").name == "nangate45_slow.lib.gz"
    assert pdk.tie_high == ("LOGIC1_X1", "Z")
    # The output load is the input capacitance of a flip-flop's D pin.
    assert 0.5e-15 < pdk.output_load_farads("typ") < 3e-15
    assert pdk.layout_file("tech_lef").is_file()


def test_root_comes_from_the_environment(pdk_root, monkeypatch):
    monkeypatch.setenv(PDK_ROOT_VARIABLE, str(pdk_root))
    assert load_pdk().root == pdk_root
    monkeypatch.delenv(PDK_ROOT_VARIABLE)
    with pytest.raises(PdkError, match=r"set DCIM_PDK_ROOT .*\.\./shared/pdk"):
        load_pdk()


def test_bad_root_corner_and_name(pdk_root, tmp_path):
    with pytest.raises(PdkError, match="is not a folder"):
        load_pdk("nangate45", tmp_path / "missing")
    with pytest.raises(ValueError, match="corner must be one of typ, fast, slow, not 'hot'"):
        load_pdk("nangate45", pdk_root).corner("hot")
    with pytest.raises(ValueError, match="pdk must be one of .*not 'tsmc5'"):
        load_pdk("tsmc5", pdk_root)


def test_missing_liberty_names_corner_and_file(tmp_path):
    (tmp_path / "nangate45").mkdir()
    pdk = load_pdk("nangate45", tmp_path)
    with pytest.raises(PdkError, match=r"corner 'typ' of PDK 'nangate45' not found: "
                                       r".*nangate45_typ\.lib\.gz"):
        pdk.liberty("typ")
    with pytest.raises(PdkError, match="nangate45_fast.lib.gz"):
        synthesize(MultiplierSpec(4), corner="fast", pdk_root=tmp_path)


def test_a_new_library_needs_only_a_description(pdk_root, tmp_path):
    # A description of its own for the SkyWater 130 cells: a TOML file, no code.
    path = tmp_path / "mylib.toml"
    path.write_text(MYLIB)
    report = synthesize(MultiplierSpec(4), pdk=path, pdk_root=pdk_root)
    assert report.pdk == "mylib"
    assert all(cell.startswith("sky130_fd_sc_hd__") for cell in report.cells)
    assert not any("lpflow" in cell for cell in report.cells)
    assert report.area_um2 > 0
    assert analyze_timing(report).critical_path_ns > 0


def test_synthesis_liberty_drops_dont_use_cells(pdk_root):
    pdk = load_pdk("nangate45", pdk_root)
    def cells(text):
        return re.findall(r"^\s*cell \((\w+)\)", text, re.M)

    kept = cells(pdk.synthesis_liberty("typ").read_text())
    assert "NAND2_X1" in kept and not any(c.startswith(("FILLCELL", "ANTENNA")) for c in kept)
    every = cells(pdk.analysis_liberty("typ").read_text())
    assert len(every) == 134 and len(every) - len(kept) == 7  # six fill cells, one antenna
