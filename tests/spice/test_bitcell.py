import numpy as np
import pytest

from dcim.spice import Bitcell6T, Bitcell8T, Corner, run_deck


def test_6t_has_openram_sizes_and_named_transistors():
    cell = Bitcell6T()
    assert cell.transistor_names == ("pd_l", "pu_l", "pg_l", "pd_r", "pu_r", "pg_r")
    widths = {t.name: round(t.width * 1e9) for t in cell.transistors}
    assert widths == {"pd_l": 205, "pu_l": 90, "pg_l": 135, "pd_r": 205, "pu_r": 90, "pg_r": 135}
    assert {t.length for t in cell.transistors} == {50e-9}
    assert cell.name == "sram6t_pd205_pu90_pg135_l50"


def test_8t_adds_a_read_stack():
    cell = Bitcell8T()
    assert cell.transistor_names[-2:] == ("rd", "ra")
    assert cell.single_ended_read and not Bitcell6T().single_ended_read
    read_driver, read_access = cell.transistors[-2:]
    assert (read_driver.gate, read_access.gate, read_access.drain) == ("qb", "rwl", "rbl")


def test_netlist_shifts_and_broken_loop():
    cell = Bitcell6T()
    nodes = {"bl": "b1", "br": "b2", "wl": "w", "vdd": "vdd", "gnd": "0"}
    lines = cell.netlist("c7_", nodes, [0.01, 0.02, 0, 0, 0, 0], gate_nodes={"qb": "in"})
    assert lines[0] == "mc7_pd_l c7_q in 0 0 NMOS_VTG w=2.05e-07 l=5e-08 delvto=0.01"
    # A positive shift weakens a PMOS too: its delvto is negative.
    assert lines[1].endswith("delvto=-0.02") and " vdd vdd PMOS_VTG" in lines[1]
    assert lines[3].startswith("mc7_pd_r c7_qb c7_q 0 0 ")
    with pytest.raises(ValueError, match=r"shifts must hold 6 values, one per transistor"):
        cell.netlist("", nodes, [0.0] * 5)


@pytest.mark.parametrize("size", [0, 5e-9, 1.0, float("nan"), "90n", True])
def test_bad_sizes_are_named(size):
    with pytest.raises(ValueError, match=r"pull_up_width must be a size in metres"):
        Bitcell6T(pull_up_width=size)


def test_positive_shift_weakens_both_types():
    # An inverter of the cell's pull-down and pull-up: weakening the NMOS raises its switching
    # point, weakening the PMOS lowers it.
    def switching_point(nmos_shift, pmos_shift):
        cell = Bitcell6T()
        pd, pu = cell.transistors[:2]
        nodes = {"vdd": "vdd", "gnd": "0", "q": "out", "qb": "in"}
        deck = [" inverter", *Corner().deck_header(), "vdd vdd 0 1", "vin in 0 0",
                pd.netlist_line("", nodes, nmos_shift), pu.netlist_line("", nodes, pmos_shift),
                ".dc vin 0 1 0.005", ".end"]
        vectors = run_deck("\n".join(deck) + "\n")
        return np.interp(0, (vectors["out"] - vectors["in"])[::-1], vectors["in"][::-1])

    nominal = switching_point(0, 0)
    assert switching_point(0.05, 0) > nominal + 0.01
    assert switching_point(0, 0.05) < nominal - 0.01


def test_subcircuit_simulates():
    cell = Bitcell6T()
    deck = ["* 6t subckt", *Corner().deck_header(), cell.subcircuit(), "vdd vdd 0 1",
            "vbl bl 0 1", "vbr br 0 1", f"x1 bl br 0 vdd 0 {cell.name}",
            ".nodeset v(x1.q)=1 v(x1.qb)=0", ".op", ".end"]
    vectors = run_deck("\n".join(deck) + "\n")
    assert vectors["x1.q"][0] > 0.99 and vectors["x1.qb"][0] < 0.01
