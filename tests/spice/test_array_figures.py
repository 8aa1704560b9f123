import pytest

from dcim.macro.sram import FREEPDK45, SramArraySpec, SramTechnology, sram_views
from dcim.spice import Bitcell6T, Bitcell8T, Corner
from dcim.spice.array_figures import bitcell_figures
from dcim.spice.sizing import bitcell_area

ARRAY = SramArraySpec(rows=64, cols=8, weight_bits=8)


@pytest.fixture(scope="module")
def nominal():
    return bitcell_figures(Bitcell8T(), Corner(), rows=64)


def test_figures_are_the_characterization_turned_into_per_bit_figures(nominal):
    assert nominal.kind == "8t" and nominal.rows == 64 and nominal.temp_c == 25.0
    assert nominal.area == pytest.approx(bitcell_area(Bitcell8T()).area)
    assert nominal.bitline_capacitance == pytest.approx(
        nominal.read_current * nominal.read_delay / nominal.sense_swing)
    assert nominal.write_energy == pytest.approx(nominal.bitline_capacitance * nominal.vdd**2)
    assert nominal.read_energy == pytest.approx(nominal.write_energy * 0.1)
    # The second call is the cache's (the same figures, no simulation).
    assert bitcell_figures(Bitcell8T(), Corner(), rows=64) == nominal


def test_spice_views_are_the_analytical_ones_order_of_magnitude(nominal):
    analytical = sram_views(ARRAY)
    spice = sram_views(ARRAY, SramTechnology.from_bitcell(nominal))
    # Measured at TT 1.0 V 25 C, 64 rows (see BENCHMARKS.md ## sram): within a factor of 3.
    for name in ("bitcell_area_um2", "area_um2", "read_delay_ns", "write_delay_ns",
                 "write_energy_pj", "read_energy_pj", "leakage_per_bit_w", "leakage_w"):
        ratio = getattr(spice, name) / getattr(analytical, name)
        assert 1 / 3 < ratio < 3, (name, ratio)
    assert spice.bitcell_area_um2 == pytest.approx(nominal.area * 1e12)
    assert spice.leakage_per_bit_w == pytest.approx(nominal.leakage_power)
    assert spice.compute_energy_per_bit_pj == pytest.approx(
        analytical.compute_energy_per_bit_pj, rel=0.05)
    assert "from SPICE" in spice.notes[0] and spice.technology != analytical.technology


def test_leakage_falls_at_lower_temperature(nominal):
    cold = bitcell_figures(Bitcell8T(), Corner("TT", 1.0, 0.0), rows=64)
    assert cold.leakage_power < nominal.leakage_power
    cold_views = sram_views(ARRAY, SramTechnology.from_bitcell(cold))
    assert cold_views.leakage_w < sram_views(ARRAY,
                                             SramTechnology.from_bitcell(nominal)).leakage_w


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="cell must be a Bitcell6T or Bitcell8T, not 'x'"):
        bitcell_figures("x")
    with pytest.raises(ValueError, match="rows must be from 1 to 1024, not 0"):
        bitcell_figures(Bitcell6T(), rows=0)
    with pytest.raises(TypeError, match="figures must be a dcim.spice BitcellFigures"):
        SramTechnology.from_bitcell(object())
    with pytest.raises(TypeError, match="base must be an SramTechnology, not 1"):
        SramTechnology.from_bitcell(None, base=1)
    with pytest.raises(TypeError, match="bitcell must be a MeasuredBitcell or None, not 2"):
        SramTechnology(bitcell=2)
    assert FREEPDK45.bitcell is None


def test_other_ngspice_or_measurement_settings_are_not_read_from_the_cache(nominal, monkeypatch):
    from dcim.spice import array_figures, margins, simulator

    runs, simulate = [], array_figures.characterize
    monkeypatch.setattr(array_figures, "characterize",
                        lambda *args, **kwargs: runs.append(args) or simulate(*args, **kwargs))
    assert bitcell_figures(Bitcell8T(), Corner(), rows=64) == nominal and runs == []
    # Another ngspice build: the entry is not this build's, so the cell is simulated again.
    monkeypatch.setattr(simulator, "_identity", "ngspice-99, built elsewhere")
    assert bitcell_figures(Bitcell8T(), Corner(), rows=64) == nominal and len(runs) == 1
    # Another margin setting (more points per deck change a batch's figures by microvolts).
    monkeypatch.setattr(margins, "_DECK_SAMPLES", {"_butterfly_deck": 50, "_write_deck": 10})
    bitcell_figures(Bitcell8T(), Corner(), rows=64)
    assert len(runs) == 2
