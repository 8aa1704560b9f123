import math

import pytest

from dcim.spice.study import Evaluation, EvaluationError, WidthRange, run_study

RANGES = (WidthRange("a", 90, 300, 10), WidthRange("b", 90, 300, 10))


def _evaluate(widths):
    a, b = round(widths["a"] * 1e9), round(widths["b"] * 1e9)
    if a == 300 and b == 300:
        raise EvaluationError("the simulation diverged")
    # Two conflicting objectives and a constraint that cuts off the small designs.
    return Evaluation(objectives={"size": a + b, "slowness": 1e4 / a + 1e4 / b},
                      constraints={"margin": 600 - (a + 2 * b)}, figures={"a_nm": a})


def _dominates(one, other, names):
    first = [one.evaluation.objectives[name] for name in names]
    second = [other.evaluation.objectives[name] for name in names]
    return all(x <= y for x, y in zip(first, second, strict=True)) and first != second


def test_front_is_feasible_nondominated_and_deterministic():
    result = run_study(_evaluate, RANGES, ("size", "slowness"), n_trials=30, seed=3)
    assert len(result.trials) == 30
    feasible = [trial for trial in result.trials if trial.feasible]
    assert any(not trial.feasible for trial in result.trials if trial.evaluation)
    assert result.front
    for point in result.front:
        assert point.feasible
        assert point.evaluation.constraints["margin"] <= 0
        assert point.evaluation.figures == {"a_nm": pytest.approx(point.widths["a"] * 1e9)}
        assert not any(_dominates(other, point, result.objectives) for other in feasible)
    # Every non-dominated feasible trial is on the front (one per set of widths).
    missing = [trial for trial in feasible
               if not any(_dominates(other, trial, result.objectives) for other in feasible)
               and trial.widths not in [point.widths for point in result.front]]
    assert not missing
    again = run_study(_evaluate, RANGES, ("size", "slowness"), n_trials=30, seed=3)
    assert [trial.widths for trial in again.trials] == [trial.widths for trial in result.trials]


def test_widths_lie_on_the_grid_and_enqueued_ones_come_first():
    first = {"a": 300e-9, "b": 300e-9}
    result = run_study(_evaluate, RANGES, ("size", "slowness"), n_trials=5, seed=0,
                       enqueue=(first,))
    assert result.trials[0].widths == pytest.approx(first)
    # That design's evaluation failed: recorded with its message, not raised.
    assert result.trials[0].evaluation is None
    assert result.trials[0].error == "the simulation diverged"
    for trial in result.trials:
        for width in trial.widths.values():
            nanometres = width * 1e9
            assert 90 <= nanometres <= 300
            assert math.isclose(nanometres / 10, round(nanometres / 10))


def test_width_range_rejects_bad_values():
    with pytest.raises(ValueError, match=r"low_nm must be .*, not 50 \(width range pd\)"):
        WidthRange("pd", 50, 200)
    with pytest.raises(ValueError, match="step_nm of pd must be a multiple of 5 nm, not 7"):
        WidthRange("pd", 90, 200, 7)
    with pytest.raises(ValueError, match="high_nm of pd must be a multiple of step_nm = 10"):
        WidthRange("pd", 90, 205, 10)
    with pytest.raises(ValueError, match="high_nm must be from 100 to 10000, not 95"):
        WidthRange("pd", 100, 95)
    with pytest.raises(ValueError, match="name must be a Python identifier"):
        WidthRange("pull down", 90, 200)
    with pytest.raises(TypeError, match="low_nm must be an int, not 90.0"):
        WidthRange("pd", 90.0, 200)
    assert WidthRange("pd", 90, 200).contains(125e-9)
    assert not WidthRange("pd", 90, 200).contains(127e-9)


def test_run_study_rejects_bad_parameters():
    objectives = ("size", "slowness")
    with pytest.raises(ValueError, match="n_trials must be from 1"):
        run_study(_evaluate, RANGES, objectives, n_trials=0, seed=0)
    with pytest.raises(ValueError, match="ranges must have unique names"):
        run_study(_evaluate, (RANGES[0], RANGES[0]), objectives, n_trials=1, seed=0)
    with pytest.raises(ValueError, match="ranges must be a non-empty sequence"):
        run_study(_evaluate, (), objectives, n_trials=1, seed=0)
    with pytest.raises(ValueError, match=r"enqueue\[0\]\['a'\] must be a width"):
        run_study(_evaluate, RANGES, objectives, n_trials=1, seed=0,
                  enqueue=({"a": 95e-9, "b": 100e-9},))
    with pytest.raises(ValueError, match=r"must return the objectives \['size', 'speed'\]"):
        run_study(_evaluate, RANGES, ("size", "speed"), n_trials=1, seed=0)
    with pytest.raises(TypeError, match="evaluate must be callable"):
        run_study(None, RANGES, objectives, n_trials=1, seed=0)


def test_non_finite_objective_makes_the_trial_infeasible_not_the_search_fail():
    def evaluate(widths):
        a = round(widths["a"] * 1e9)
        # Narrow designs "never switch": their delay is infinite.
        delay = math.inf if a < 200 else 1e4 / a
        return Evaluation(objectives={"size": a, "delay": delay}, constraints={})

    result = run_study(evaluate, RANGES, ("size", "delay"), n_trials=12, seed=1,
                       enqueue=({"a": 90e-9, "b": 90e-9}, {"a": 250e-9, "b": 90e-9}))
    assert len(result.trials) == 12
    narrow = [trial for trial in result.trials if trial.widths["a"] < 200e-9]
    assert narrow
    for trial in narrow:
        assert not trial.feasible and trial.evaluation is None
        assert trial.error == "infeasible: objective delay = inf"
    assert result.front
    assert all(point.widths["a"] >= 200e-9 for point in result.front)


def test_objective_that_is_not_a_number_is_an_error():
    def evaluate(widths):
        return Evaluation(objectives={"size": "small"}, constraints={})

    with pytest.raises(ValueError, match="objective 'size' must be a number, not 'small'"):
        run_study(evaluate, RANGES, ("size",), n_trials=1, seed=0)


def test_non_finite_constraint_is_an_error():
    def evaluate(widths):
        return Evaluation(objectives={"size": 1.0}, constraints={"margin": math.nan})

    with pytest.raises(ValueError, match="constraint 'margin' must be a finite number, not nan"):
        run_study(evaluate, RANGES, ("size",), n_trials=1, seed=0)
