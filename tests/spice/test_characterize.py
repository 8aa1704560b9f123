import pytest

from dcim.spice import Bitcell6T, Bitcell8T, CellReport, Corner, characterize

ROWS = 8


@pytest.fixture(scope="module")
def reports():
    return {(cell.kind, process): characterize(cell, process, rows=ROWS)
            for cell in (Bitcell6T(), Bitcell8T()) for process in ("TT", "FF", "SS")}


@pytest.mark.slow
def test_6t_report_at_tt(reports):
    report = reports["sram6t", "TT"]
    assert isinstance(report, CellReport)
    assert report.corner == Corner("TT", 1.0, 25.0) and report.rows == ROWS
    assert 0.3 <= report.hold_snm <= 0.4
    assert 0.15 <= report.read_snm <= 0.25
    assert report.read_snm < report.hold_snm
    assert 0 < report.write_margin < 1.0
    assert 10e-6 < report.read_current < 500e-6
    assert 0 < report.leakage_current < 1e-6
    assert report.leakage_power == pytest.approx(report.leakage_current * 1.0)
    assert 1e-12 < report.read_delay < 1e-9 and 1e-12 < report.write_delay < 1e-9
    assert report.as_dict()["corner"] == {"process": "TT", "vdd": 1.0, "temp_c": 25.0}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sram6t", "sram8t"])
def test_corner_ordering(reports, kind):
    slow, typical, fast = (reports[kind, process] for process in ("SS", "TT", "FF"))
    assert slow.read_delay > typical.read_delay > fast.read_delay
    assert slow.write_delay > typical.write_delay > fast.write_delay
    assert slow.leakage_current < typical.leakage_current < fast.leakage_current


@pytest.mark.slow
def test_8t_reads_without_disturb(reports):
    six, eight = reports["sram6t", "TT"], reports["sram8t", "TT"]
    assert eight.read_snm == pytest.approx(eight.hold_snm, abs=1e-4)
    assert eight.read_snm > six.read_snm


@pytest.mark.slow
def test_more_rows_read_slower():
    cell = Bitcell6T()
    assert characterize(cell, rows=32).read_delay > 2 * characterize(cell, rows=4).read_delay


def test_overrides_of_the_corner():
    with pytest.raises(ValueError, match="vdd must be between 0.5 and 1.3 volts, not 3"):
        characterize(Bitcell6T(), Corner("SS"), vdd=3)
    with pytest.raises(ValueError, match="process must be one of .* not 'typical'"):
        characterize(Bitcell6T(), "typical")


@pytest.mark.parametrize(("arguments", "message"), [
    ({"cell": "6t"}, "cell must be a dcim.spice bitcell .* not '6t'"),
    ({"corner": 3}, "corner must be a process name or a dcim.spice.Corner, not 3"),
    ({"rows": 0}, "rows must be an integer from 1 to 1024, not 0"),
    ({"rows": 8.0}, "rows must be an integer from 1 to 1024, not 8.0"),
    ({"sense_swing": 0.6}, r"sense_swing must be a voltage between 0 and VDD / 2 = 0.5 V"),
    ({"temp_c": -100}, "temp_c must be between"),
])
def test_bad_inputs_are_named(arguments, message):
    arguments = {"cell": Bitcell6T(), **arguments}
    with pytest.raises(ValueError, match=message):
        characterize(**arguments)
