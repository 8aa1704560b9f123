import numpy as np
import pytest

from dcim.spice import Corner
from dcim.spice.cells import STANDARD_CELLS, nand2
from dcim.spice.liberty_char import (
    CharacterizedCell,
    TableGrid,
    arc_patterns,
    characterize_cell,
    constraint_slews,
    parasitic_subcircuit,
)

GRID = TableGrid(slews=(10e-12, 80e-12), loads=(1e-15, 8e-15))
TYPICAL = Corner("TT", 1.1, 25.0)


@pytest.fixture(scope="module")
def inverter():
    return characterize_cell(STANDARD_CELLS["INV"], TYPICAL, grid=GRID)


def test_inverter_delay_rises_with_load_and_slew(inverter):
    arc = inverter.arc("A", "ZN")
    assert arc.timing_sense == "negative_unate" and arc.timing_type == "combinational"
    for table in (arc.cell_rise, arc.cell_fall, arc.rise_transition, arc.fall_transition):
        values = np.array(table)
        assert values.shape == (2, 2) and np.all(values > 0)
        assert np.all(np.diff(values, axis=1) > 0)       # more load, slower
    for table in (arc.cell_rise, arc.cell_fall):
        assert np.all(np.diff(np.array(table), axis=0) > 0)   # slower input, slower
    # An X1 inverter at 1.1 V: a few picoseconds into a femtofarad.
    assert 2e-12 < arc.cell_fall[0][0] < 20e-12
    assert 0.5e-15 < inverter.pin_capacitance["A"] < 4e-15
    assert [when for when, _ in inverter.leakage] == ["!A", "A"]
    assert all(0.1e-9 < power < 100e-9 for _, power in inverter.leakage)
    # Rising output: the supply's energy less what charges the load, a few femtojoules.
    assert 0 < arc.rise_energy[0][0] < 10e-15


def test_corners_order_the_delays(inverter):
    slow = characterize_cell(STANDARD_CELLS["INV"], Corner("SS", 1.1, 25.0), grid=GRID)
    fast = characterize_cell(STANDARD_CELLS["INV"], Corner("FF", 1.1, 25.0), grid=GRID)
    for edge in ("cell_rise", "cell_fall"):
        delays = [np.array(getattr(cell.arc("A", "ZN"), edge)) for cell in (fast, inverter, slow)]
        assert np.all(delays[0] < delays[1]) and np.all(delays[1] < delays[2])


def test_results_are_cached_by_content(inverter):
    again = characterize_cell(STANDARD_CELLS["INV"], TYPICAL, grid=GRID)
    assert again.cached and again.arcs == inverter.arcs
    assert CharacterizedCell.from_dict(inverter.as_dict()).arcs == inverter.arcs
    wider = characterize_cell(STANDARD_CELLS["INV"], TYPICAL,
                              grid=TableGrid(slews=(10e-12,), loads=(2e-15,)))
    assert not wider.cached


def test_parasitics_sit_on_every_net_but_the_rails():
    text = parasitic_subcircuit(nand2())
    capacitors = [line.split()[1] for line in text.splitlines() if line.startswith("cw_")]
    assert sorted(capacitors) == sorted({"A1", "A2", "ZN", "g_nx0"})
    assert text.splitlines()[0] == ".subckt NAND2_n415_p630 A1 A2 ZN vdd gnd"


def test_senses_follow_the_function():
    xor = STANDARD_CELLS["XOR2"]
    directions = {(xor.inputs[toggled], pattern, pin): direction
                  for toggled, pattern, changes in arc_patterns(xor)
                  for pin, direction in changes.items()}
    assert sorted(directions.values()) == [-1, -1, 1, 1]
    assert all(direction == -1 for _, _, changes in arc_patterns(STANDARD_CELLS["NOR2"])
               for direction in changes.values())


def test_an_xor_has_one_unate_arc_per_state_of_its_other_input():
    xor = characterize_cell(STANDARD_CELLS["XOR2"], TYPICAL, grid=GRID, name="XOR2_X1")
    assert {(arc.related_pin, arc.when, arc.timing_sense) for arc in xor.arcs} == {
        ("A", "!B", "positive_unate"), ("A", "B", "negative_unate"),
        ("B", "!A", "positive_unate"), ("B", "A", "negative_unate")}
    with pytest.raises(KeyError, match=r"has 2 arcs A -> Z: give when, one of"):
        xor.arc("A", "Z")
    # The two states' tables differ: one table for both would time the faster by the slower.
    follow, invert = xor.arc("A", "Z", when="!B"), xor.arc("A", "Z", when="B")
    assert follow.cell_rise != invert.cell_rise
    with pytest.raises(KeyError, match="has no arc A -> Z when 'A'"):
        xor.arc("A", "Z", when="A")
    # A unate input keeps its one unconditional arc, as the inverter's.
    nand = characterize_cell(STANDARD_CELLS["NAND2"], TYPICAL, grid=GRID, name="NAND2_X1")
    assert {(arc.related_pin, arc.when) for arc in nand.arcs} == {("A1", ""), ("A2", "")}


def test_a_full_adders_sum_conditions_cover_both_other_inputs():
    from dcim.spice.liberty_char import _conditions

    adder = STANDARD_CELLS["FA"]
    conditions = _conditions(adder, arc_patterns(adder))
    assert conditions[("A", "S", 1)] == "(!B & !CI) | (B & CI)"
    assert conditions[("A", "S", -1)] == "(!B & CI) | (B & !CI)"
    assert conditions[("A", "CO", 1)] == ""


@pytest.mark.slow
def test_flip_flop_arcs_and_constraints():
    # The grid of the writer's and the library's tests, so the session's cache serves them.
    flop = characterize_cell(STANDARD_CELLS["DFF"], TYPICAL, grid=GRID, name="DFF_X1")
    assert flop.flip_flop == ("CK", "D") and flop.clock == "CK"
    # D is buffered: one small inverter's gate (Nangate45's DFF_X1: 1.1 fF), not the
    # master's node behind its transmission gate (4.0 fF unbuffered).
    assert 0.3e-15 < flop.pin_capacitance["D"] < 1.5e-15
    for pin in ("Q", "QN"):
        arc = flop.arc("CK", pin)
        assert arc.timing_type == "rising_edge"
        assert 10e-12 < arc.cell_rise[0][0] < 200e-12 and 10e-12 < arc.cell_fall[0][0] < 200e-12
    setup, hold = flop.constraints
    assert (setup.timing_type, hold.timing_type) == ("setup_rising", "hold_rising")
    assert setup.related_slews == setup.constrained_slews == constraint_slews(GRID) == GRID.slews
    fast, slow = GRID.slews
    for rising in (True, False):
        for clock_slew in GRID.slews:
            for data_slew in GRID.slews:
                # A transmission-gate master: data must arrive a little before the edge, and
                # may change right after it.
                setup_time = setup.at(clock_slew, data_slew, rising=rising)
                hold_time = hold.at(clock_slew, data_slew, rising=rising)
                assert -50e-12 <= setup_time <= 150e-12 and -100e-12 <= hold_time <= 100e-12
                assert setup_time + hold_time > -20e-12
        # Slow data reaches the master's threshold later than its 50 % point says: more
        # setup. A slow clock closes the master later: more hold (the bisection resolves
        # about 1.6 ps, the trends are ten times that).
        assert setup.at(fast, slow, rising=rising) > setup.at(fast, fast, rising=rising) + 5e-12
        assert hold.at(slow, fast, rising=rising) > hold.at(fast, fast, rising=rising) + 5e-12
    with pytest.raises(KeyError, match="related_slew 3e-11 is not an index"):
        setup.at(30e-12, fast)


@pytest.mark.parametrize(("keywords", "message"), [
    ({"slews": ()}, "slews must hold at least one value"),
    ({"slews": (20e-12, 10e-12)}, "slews must be strictly increasing"),
    ({"slews": (-1e-12,)}, r"slews must hold seconds in \(0, 1e-09\], not -1e-12"),
    ({"loads": (1e-15, float("nan"))}, "loads must hold farads"),
    ({"loads": "1f"}, "loads must be a sequence of numbers"),
    ({"loads": (True,)}, "loads must hold farads"),
])
def test_bad_grids_are_refused(keywords, message):
    with pytest.raises(ValueError, match=message):
        TableGrid(**keywords)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="cell must be a dcim.spice.cells.Cell, not 'INV'"):
        characterize_cell("INV")
    with pytest.raises(ValueError, match="corner must be a dcim.spice.Corner"):
        characterize_cell(STANDARD_CELLS["INV"], "tt")
    with pytest.raises(ValueError, match="grid must be a TableGrid"):
        characterize_cell(STANDARD_CELLS["INV"], grid=(1e-12, 1e-15))
    with pytest.raises(ValueError, match="name must be a cell name"):
        characterize_cell(STANDARD_CELLS["INV"], name="INV X1")


@pytest.mark.parametrize("clock_slew", [1e-12, 80e-12, 200e-12, 1e-9])
@pytest.mark.parametrize("data_slew", [1e-12, 80e-12, 200e-12, 1e-9])
def test_setup_and_hold_stimuli_keep_time_moving_forward(clock_slew, data_slew):
    # ngspice aborts a deck whose pwl goes back in time ("breakpoint in the past"); the
    # default grid's 200 ps slews once did that to the hold case's two data ramps.
    from dcim.spice import liberty_char

    load = TableGrid().loads[1]
    period = 2 * liberty_char._window_for(max(clock_slew, data_slew), load)
    edges = [liberty_char._SETTLE + k * period for k in range(2)]
    clock_ramp = clock_slew / liberty_char.SLEW_FRACTION
    data_ramp = data_slew / liberty_char.SLEW_FRACTION
    for kind in ("setup", "hold"):
        for new in (0, 1):
            for offset in np.linspace(*liberty_char.CONSTRAINT_OFFSETS, 9):
                points = liberty_char._constraint_data(kind, new, offset, edges, period,
                                                       clock_ramp, data_ramp, 1.1)
                times = [time for time, _ in points]
                assert np.all(np.diff(times) > 0), (kind, offset, times)
                # The edge the case is about is the second clock edge's, not the first's.
                assert times[1] > edges[0] + clock_ramp
