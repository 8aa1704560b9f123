import math

import pytest

from dcim.spice import Corner, compressor_sizing
from dcim.spice.compressor_sizing import (
    FUNCTION_CORNERS,
    OBJECTIVES,
    default_ranges,
    evaluate_compressor,
    size_compressor,
    sized_cell,
)
from dcim.spice.study import WidthRange

X1 = {"inner_nmos": 210e-9, "inner_pmos": 315e-9, "driver_nmos": 415e-9, "driver_pmos": 630e-9}


def test_sized_cell_groups_inner_stages_and_drivers():
    widths = {"inner_nmos": 150e-9, "inner_pmos": 250e-9, "driver_nmos": 600e-9,
              "driver_pmos": 900e-9}
    cell = sized_cell("momeni", widths)
    for stage in cell.stages:
        expected = (600e-9, 900e-9) if stage.output in cell.outputs else (150e-9, 250e-9)
        assert (stage.nmos_width, stage.pmos_width) == expected
    # Widths beyond one finger fold into more gate columns.
    assert cell.area > sized_cell("momeni", X1).area
    with pytest.raises(ValueError, match="widths must give each of"):
        sized_cell("momeni", {"inner_nmos": 1e-7})


def test_defaults():
    assert OBJECTIVES == ("area_um2", "delay_ps", "energy_fj")
    assert {corner.process for corner in FUNCTION_CORNERS} == {"TT", "SS", "FF", "FS", "SF"}
    ranges = {item.name: item for item in default_ranges()}
    assert all(ranges[name].contains(width) for name, width in X1.items())


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="ranges must hold one WidthRange for each of"):
        size_compressor("akbar1", ranges=(WidthRange("inner_nmos", 90, 200),))
    with pytest.raises(ValueError, match="every corner must be a dcim.spice.Corner"):
        size_compressor("akbar1", corners=("TT",))
    with pytest.raises(ValueError, match="n_trials"):
        size_compressor("akbar1", n_trials=0)
    with pytest.raises(ValueError, match="delay_corner must be a dcim.spice.Corner"):
        evaluate_compressor("akbar1", X1, corners=(Corner(),), delay_corner="SS")


@pytest.mark.slow
def test_search_front_is_feasible_and_reruns_from_the_cache():
    options = {"n_trials": 2, "seed": 2, "corners": (Corner(), Corner("SS", 0.9, 100.0))}
    result = size_compressor("half_adder", **options)
    assert result.reference.feasible and result.reference.widths == X1
    assert result.trials[0].widths == X1 and len(result.trials) == 2
    assert result.front and all(point.feasible for point in result.front)
    assert set(result.reference.function_errors) == {"tt_1v00_25c", "ss_0v90_100c"}
    reference = result.reference
    assert reference.delay > reference.typical_delay > 0 and reference.energy > 0
    again = size_compressor("half_adder", **options)
    assert again.simulations == 0
    assert [point.widths for point in again.front] == [point.widths for point in result.front]


def test_a_trial_with_an_infinite_delay_is_infeasible_and_the_search_goes_on(monkeypatch):
    # Stands in for a sizing whose output never switches at the slow corner; before the fix
    # this aborted the whole search with "must be a finite number, not inf".
    def evaluate(compressor, widths, **options):
        weak = widths["driver_nmos"] < 400e-9
        return compressor_sizing.CompressorPoint(
            compressor="acci1", widths=dict(widths), cell="CMP_acci1_sized",
            area=widths["driver_nmos"] * 1e-6, delay=math.inf if weak else 1e-20 / widths[
                "driver_nmos"], typical_delay=1e-11, energy=1e-15, leakage_power=1e-9,
            function_errors={"tt_1v00_25c": 0}, simulations=1)

    monkeypatch.setattr(compressor_sizing, "evaluate_compressor", evaluate)
    result = size_compressor("acci1", n_trials=12, seed=0)
    weak = [failure for failure in result.failed if failure[1]["driver_nmos"] < 400e-9]
    assert weak and all(message == "infeasible: objective delay_ps = inf"
                        for _, _, message in weak)
    assert len(result.trials) + len(result.failed) == 12
    assert result.front and all(point.feasible and point.widths["driver_nmos"] >= 400e-9
                                for point in result.front)


def _point(trial, delay, energy, errors=0):
    return compressor_sizing.CompressorPoint(
        compressor="acci1", widths=dict(X1), cell="CMP_acci1_X1", area=1e-11, delay=delay,
        typical_delay=delay, energy=energy, leakage_power=1e-9,
        function_errors={"tt_1v00_25c": errors}, trial=trial)


def test_least_energy_delay_picks_the_smallest_product():
    points = [_point(0, 2e-10, 1e-14), _point(1, 1e-10, 1.5e-14), _point(2, 3e-10, 0.6e-14)]
    assert compressor_sizing.least_energy_delay(points).trial == 1
    with pytest.raises(ValueError, match="points must be a non-empty sequence"):
        compressor_sizing.least_energy_delay([])
    with pytest.raises(ValueError, match=r"points must all be feasible, not trials \[3\]"):
        compressor_sizing.least_energy_delay([_point(3, 1e-10, 1e-14, errors=2)])
