import numpy as np
import pytest

from dcim.spice import (
    Bitcell6T,
    Bitcell8T,
    Corner,
    butterfly_snm,
    hold_snm_batch,
    read_snm_batch,
    write_margin_batch,
)
from dcim.spice import margins as margins_module

SIX = Bitcell6T()


def _inverter(sweep, threshold, gain=2000.0):
    return 0.5 * (1 - np.tanh(gain * (sweep - threshold) / 2))


def test_butterfly_of_ideal_inverters_is_half_the_supply():
    sweep = np.linspace(0, 1, 20001)
    curve = _inverter(sweep, 0.5)
    assert butterfly_snm(sweep, curve, curve)[0] == pytest.approx(0.5, abs=0.005)
    # Softer inverters: a brute-force search over squares in the lobe gives 0.4682.
    soft = _inverter(sweep, 0.5, gain=200.0)
    assert butterfly_snm(sweep, soft, soft)[0] == pytest.approx(0.4682, abs=0.001)


def test_butterfly_takes_the_smaller_lobe_and_goes_negative_without_one():
    sweep = np.linspace(0, 1, 20001)
    # Switching points 0.3 and 0.5: the lobes' squares are 0.3 and 0.5 wide; the smaller counts.
    margins = butterfly_snm(sweep, np.stack([_inverter(sweep, 0.5), _inverter(sweep, 0.3)]),
                            np.stack([_inverter(sweep, 0.3), _inverter(sweep, 0.3)]))
    assert margins == pytest.approx([0.3, 0.3], abs=0.01)
    # An inverter that cannot pull q below 0.6 leaves one state (q = 1): a negative margin,
    # the more negative the farther the lost lobe is.
    monostable = butterfly_snm(sweep, np.stack([0.6 + 0.4 * _inverter(sweep, 0.5),
                                                0.7 + 0.3 * _inverter(sweep, 0.5)]),
                               np.stack([_inverter(sweep, 0.5)] * 2))
    assert monostable[1] < monostable[0] < 0


def test_nominal_6t_margins_in_published_ranges():
    corner = Corner()
    nominal = np.zeros((1, 6))
    hold = hold_snm_batch(SIX, corner, nominal)[0]
    read = read_snm_batch(SIX, corner, nominal)[0]
    assert 0.3 <= hold <= 0.4
    assert 0.15 <= read <= 0.25
    assert read < hold


def test_read_snm_falls_with_temperature():
    nominal = np.zeros((1, 6))
    margins = [read_snm_batch(SIX, Corner(temp_c=t), nominal)[0] for t in (0, 25, 100)]
    assert margins[0] > margins[1] > margins[2]


def test_8t_read_port_does_not_disturb():
    eight = Bitcell8T()
    nominal = np.zeros((1, 8))
    assert read_snm_batch(eight, Corner(), nominal)[0] == pytest.approx(
        hold_snm_batch(eight, Corner(), nominal)[0], abs=1e-4)
    assert read_snm_batch(eight, Corner(), nominal)[0] > read_snm_batch(
        SIX, Corner(), np.zeros((1, 6)))[0]


def test_batch_equals_single_runs_and_shifts_act():
    rng = np.random.default_rng(7)
    shifts = np.vstack([np.zeros(6), rng.normal(0, 0.04, (3, 6))])
    batch = read_snm_batch(SIX, Corner(), shifts)
    singles = [read_snm_batch(SIX, Corner(), row[None])[0] for row in shifts]
    # Equal to Newton's tolerance: the other cells of a deck add iterations to each sample.
    assert batch == pytest.approx(singles, abs=1e-5)
    assert np.ptp(batch) > 0.005
    # A weaker pull-down on the q side (the node a read disturbs when q = 0) loses margin.
    weak = np.zeros((1, 6))
    weak[0, 0] = 0.1
    assert read_snm_batch(SIX, Corner(), weak)[0] < batch[0] - 0.01


@pytest.mark.parametrize("function", [hold_snm_batch, read_snm_batch])
def test_coarse_sweep_agrees_with_a_fine_sweep(function, monkeypatch):
    rng = np.random.default_rng(3)
    shifts = np.vstack([np.zeros(6), rng.normal(0, 0.03, (6, 6)), rng.normal(0, 0.06, (4, 6))])
    coarse = function(SIX, Corner(), shifts)
    monkeypatch.setattr(margins_module, "_SWEEP_STEPS", 400)
    fine = function(SIX, Corner(), shifts)
    assert np.ptp(fine) > 0.02
    assert coarse == pytest.approx(fine, abs=1e-3)


def test_write_margin_nominal_and_a_weak_pass_gate():
    shifts = np.zeros((2, 6))
    shifts[1, SIX.transistor_names.index("pg_l")] = 0.1
    margins = write_margin_batch(SIX, Corner(), shifts)
    assert 0.2 < margins[0] < 0.6
    assert margins[1] < margins[0] - 0.02


def test_write_margin_does_not_depend_on_time_steps_or_deck(monkeypatch):
    # The first run's steps of 20 or 12.5 mV only bracket the flip; the second run's slow
    # window resolves it, so the margin moves by well under the steps (it moved by up to
    # 12 mV with the first run alone, at 10 and 6.7 mV steps).
    rng = np.random.default_rng(3)
    shifts = np.vstack([np.zeros(6), rng.normal(0, 0.03, (7, 6))])
    reference = write_margin_batch(SIX, Corner(), shifts)
    monkeypatch.setattr(margins_module, "_WRITE_STEPS", 80)
    finer = write_margin_batch(SIX, Corner(), shifts)
    assert np.ptp(reference) > 0.02
    assert finer == pytest.approx(reference, abs=1.5e-3)
    alone = write_margin_batch(SIX, Corner(), shifts[:1])
    assert alone[0] == pytest.approx(reference[0], abs=1.5e-3)


@pytest.mark.parametrize("cell", [SIX, Bitcell8T()], ids=["6t", "8t"])
def test_static_write_margin_is_the_transient_flip_point(cell):
    count = len(cell.transistors)
    rng = np.random.default_rng(4)
    shifts = np.vstack([np.zeros(count), rng.normal(0, 0.03, (7, count))])
    # A weak pass gate and a strong pull-up on the q side: hard to write, or not at all.
    shifts[1, cell.transistor_names.index("pg_l")] = 0.1
    shifts[2, [cell.transistor_names.index("pg_l"), cell.transistor_names.index("pu_l")]] = \
        (0.45, -0.45)
    static = write_margin_batch(cell, Corner(), shifts, method="static")
    transient = write_margin_batch(cell, Corner(), shifts)
    assert static[2] == transient[2] == -np.inf
    writable = np.isfinite(transient)
    assert writable.sum() == 7 and np.ptp(static[writable]) > 0.02
    # The ramp flips the cell just after the lobe has gone (measured: 0.8 to 2.9 mV later at
    # TT over 200 samples, 3 mV at SS 0.9 V 100 C), never before it.
    difference = static[writable] - transient[writable]
    assert np.all(difference > -0.5e-3) and np.all(difference < 5e-3), difference
    # Each sample's own root finding: the same margin alone as in the batch.
    alone = write_margin_batch(cell, Corner(), shifts[3:4], method="static")
    assert alone[0] == pytest.approx(static[3], abs=0.5e-3)


def test_write_method_is_checked():
    with pytest.raises(ValueError, match=r"method must be one of \('transient', 'static'\), "
                                         r"not 'dc'"):
        write_margin_batch(SIX, Corner(), np.zeros((1, 6)), method="dc")


@pytest.mark.parametrize(("shifts", "message"), [
    (np.zeros(6), r"vt_shifts must be an array of shape \(n_samples, 6\)"),
    (np.zeros((2, 8)), r"shape \(n_samples, 6\), one column per transistor"),
    (np.zeros((0, 6)), r"vt_shifts must be an array of shape"),
    (np.full((1, 6), np.nan), "vt_shifts must be finite and within"),
    (np.full((1, 6), 0.9), r"within \+-0.5 V, not up to 0.9 V"),
])
def test_bad_shifts_are_named(shifts, message):
    with pytest.raises(ValueError, match=message):
        read_snm_batch(SIX, Corner(), shifts)


def test_corner_must_be_a_corner():
    with pytest.raises(ValueError, match="corner must be a dcim.spice.Corner, not 'TT'"):
        hold_snm_batch(SIX, "TT", np.zeros((1, 6)))
