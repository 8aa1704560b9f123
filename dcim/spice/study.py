"""Constrained multi-objective searches over transistor widths, with Optuna: the reusable core.

A search is three things: the widths it may choose (:class:`WidthRange`, on the FreePDK45
grid), the objectives it minimizes, and an evaluation ``widths -> Evaluation`` that returns
the objective values, the constraint values (feasible where ``<= 0``) and whatever figures
should be kept. :func:`run_study` drives Optuna with them and returns every trial and the
feasible Pareto front as typed records. The Optuna objective stays thin, as the house style
asks: it suggests the widths, calls the evaluation (which does its own caching), sets the
constraints with ``trial.set_constraint`` and keeps the figures as JSON user attributes.
Storage, sampling and the Pareto front (``Study.best_trials``, which leaves out infeasible
trials) are Optuna's.

The sampler is Optuna's multivariate TPE with constraints (c-TPE, Watanabe and Hutter 2023):
a SPICE evaluation costs seconds, so a search runs tens of trials, not the thousands
NSGA-II needs to get past its random first generation. A search is deterministic for a seed:
trials run one after another and every evaluation is deterministic.
:mod:`dcim.spice.sizing` sizes bitcells on this core.
"""

import contextlib
import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..checks import check_int, short_repr

__all__ = ["FREEPDK45_GRID_NM", "FREEPDK45_MIN_WIDTH_NM", "Evaluation", "EvaluationError",
           "StudyResult", "TrialRecord", "WidthRange", "run_study"]

FREEPDK45_MIN_WIDTH_NM = 90
"""The narrowest active area FreePDK45 allows (its DRC rule ACTIVE.1), in nm."""
FREEPDK45_GRID_NM = 5
"""The width step of a search, in nm: twice FreePDK45's 2.5 nm manufacturing grid, so that
half a width (a diffusion's centre line) still lies on the grid."""
_MAX_WIDTH_NM = 10_000
"""The widest transistor a bitcell spec accepts (10 um)."""


@dataclass(frozen=True)
class WidthRange:
    """The widths one transistor (or a group sized alike) may take, in whole nm.

    Parameters
    ----------
    name : str
        The parameter's name, e.g. ``"pull_down_width"``: the evaluation receives the width
        under this name.
    low_nm, high_nm : int
        The narrowest and widest width, inclusive; ``low_nm`` at least
        :data:`FREEPDK45_MIN_WIDTH_NM`, ``high_nm`` at most 10,000.
    step_nm : int
        The width step; a multiple of :data:`FREEPDK45_GRID_NM`, dividing both ends.

    Raises
    ------
    ValueError, TypeError
        For a bad name or a width off the grid or out of range; the message names the
        parameter and the value.
    """

    name: str
    low_nm: int
    high_nm: int
    step_nm: int = FREEPDK45_GRID_NM

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"name must be a Python identifier, not {short_repr(self.name)}")
        try:
            step = check_int("step_nm", self.step_nm, FREEPDK45_GRID_NM, _MAX_WIDTH_NM)
            low = check_int("low_nm", self.low_nm, FREEPDK45_MIN_WIDTH_NM, _MAX_WIDTH_NM)
            high = check_int("high_nm", self.high_nm, low, _MAX_WIDTH_NM)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{error} (width range {self.name})") from None
        if step % FREEPDK45_GRID_NM:
            raise ValueError(f"step_nm of {self.name} must be a multiple of "
                             f"{FREEPDK45_GRID_NM} nm, not {step!r}")
        for parameter, value in (("low_nm", low), ("high_nm", high)):
            if value % step:
                raise ValueError(f"{parameter} of {self.name} must be a multiple of step_nm = "
                                 f"{step} nm, not {value!r}")
        for parameter, value in (("low_nm", low), ("high_nm", high), ("step_nm", step)):
            object.__setattr__(self, parameter, value)

    def contains(self, width):
        """Whether ``width`` (metres) is one of this range's widths."""
        nanometres = width * 1e9
        return (self.low_nm - 1e-6 <= nanometres <= self.high_nm + 1e-6
                and abs(nanometres / self.step_nm - round(nanometres / self.step_nm)) < 1e-6)


class EvaluationError(RuntimeError):
    """An evaluation could not measure a design (a simulation diverged, a cell lost its state).

    :func:`run_study` records the trial as failed, with this message, and goes on.
    """


@dataclass(frozen=True)
class Evaluation:
    """What an evaluation returns for one set of widths.

    Members
    -------
    objectives : mapping of str to float
        One value per objective of the study, all minimized; a non-finite one makes the
        design infeasible.
    constraints : mapping of str to float
        Finite values; the design is feasible when every one is ``<= 0``.
    figures : mapping
        Plain JSON data kept with the trial (measurements, per-corner margins, costs).
    """

    objectives: Mapping[str, float]
    constraints: Mapping[str, float]
    figures: Mapping = field(default_factory=dict)

    @property
    def feasible(self):
        """Whether every constraint value is ``<= 0``."""
        return all(value <= 0 for value in self.constraints.values())


@dataclass(frozen=True)
class TrialRecord:
    """One trial of a study.

    Members
    -------
    number : int
        Optuna's trial number, from 0.
    widths : dict of str to float
        The widths tried, in metres.
    evaluation : Evaluation or None
        ``None`` if the evaluation failed.
    error : str or None
        The failed evaluation's message.
    """

    number: int
    widths: dict
    evaluation: Evaluation | None
    error: str | None = None

    @property
    def feasible(self):
        """Whether the trial was evaluated and met every constraint."""
        return self.evaluation is not None and self.evaluation.feasible


@dataclass(frozen=True)
class StudyResult:
    """Every trial of :func:`run_study` and its feasible Pareto front.

    Members
    -------
    objectives : tuple of str
        The objectives, all minimized, in the order of the front's sort.
    trials : tuple of TrialRecord
    front : tuple of TrialRecord
        The feasible trials that no other feasible trial dominates, sorted by the objectives;
        one per distinct set of widths.
    """

    objectives: tuple
    trials: tuple
    front: tuple


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ImportError("the sizing searches need Optuna: pip install 'dcim[spice]' "
                          "(or pip install 'optuna>=4')") from None
    return optuna


@contextlib.contextmanager
def _quiet_optuna(optuna):
    # Optuna logs every trial (a failed one at WARNING) and warns about experimental
    # features; the callers' tests run with -W error, and a search's report is its return
    # value, failed trials included, not its log.
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def _check_numbers(kind, values, names=None, *, finite=True):
    values = dict(values)
    if names is not None and set(values) != set(names):
        raise ValueError(f"the evaluation must return the {kind} {sorted(names)}, "
                         f"not {sorted(values)}")
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or (finite and not math.isfinite(value)):
            what = "a finite number" if finite else "a number"
            raise ValueError(f"the evaluation's {kind[:-1]} {name!r} must be {what}, "
                             f"not {short_repr(value)}")
    return {name: float(value) for name, value in values.items()}


def _unmeasured_objectives(values):
    # A design whose output never switches has an infinite delay: a fact about the design
    # (it is infeasible), not a defect of the evaluation, so the search goes on without it.
    return [f"{name} = {value}" for name, value in values.items() if not math.isfinite(value)]


def run_study(evaluate: Callable[[dict], Evaluation], ranges, objectives, *, n_trials: int,
              seed: int, n_startup_trials: int | None = None,
              enqueue: tuple = ()) -> StudyResult:
    """Search widths that minimize ``objectives`` subject to the evaluation's constraints.

    Parameters
    ----------
    evaluate : callable
        ``{name: width in metres} -> Evaluation``; it may raise :class:`EvaluationError` for a
        design it cannot measure (the trial is recorded as failed). An objective that is
        infinite or NaN (a delay of an output that never switches) makes the trial
        infeasible: it is recorded as failed, with the objective named in its error, and is
        never on the front.
    ranges : sequence of WidthRange
        The search space, one range per parameter, names unique.
    objectives : sequence of str
        The objectives' names, all minimized; the evaluation must return exactly these.
    n_trials : int
        Trials to run, 1 to 100,000 (enqueued ones included).
    seed : int
        The sampler's seed; the same seed gives the same trials.
    n_startup_trials : int or None
        Random trials before TPE models the results; ``None`` for a third of ``n_trials``
        (at least 1, at most 10).
    enqueue : sequence of dict
        Widths (``{name: metres}``) to try first, e.g. a known design, each on its range's
        grid.

    Returns
    -------
    StudyResult

    Raises
    ------
    ValueError, TypeError
        For a bad parameter (named in the message), or an evaluation returning other
        objectives, values that are not numbers, or non-finite constraints.
    """
    optuna = _optuna()
    if not callable(evaluate):
        raise TypeError(f"evaluate must be callable, not {short_repr(evaluate)}")
    ranges = tuple(ranges)
    if not ranges or not all(isinstance(item, WidthRange) for item in ranges):
        raise ValueError(f"ranges must be a non-empty sequence of WidthRange, not "
                         f"{short_repr(ranges)}")
    names = [item.name for item in ranges]
    if len(set(names)) != len(names):
        raise ValueError(f"ranges must have unique names, not {names!r}")
    objectives = tuple(objectives)
    if not objectives or not all(isinstance(name, str) for name in objectives) \
            or len(set(objectives)) != len(objectives):
        raise ValueError(f"objectives must be unique names, not {short_repr(objectives)}")
    n_trials = check_int("n_trials", n_trials, 1, 100_000)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    if n_startup_trials is None:
        n_startup_trials = min(10, max(1, n_trials // 3))
    n_startup_trials = check_int("n_startup_trials", n_startup_trials, 1, 100_000)
    by_name = {item.name: item for item in ranges}
    for index, widths in enumerate(enqueue):
        if not isinstance(widths, Mapping) or set(widths) != set(names):
            raise ValueError(f"enqueue[{index}] must give a width for each of {names}, not "
                             f"{short_repr(widths)}")
        for name, width in widths.items():
            if not isinstance(width, int | float) or not by_name[name].contains(width):
                raise ValueError(f"enqueue[{index}][{name!r}] must be a width in metres on "
                                 f"the range {by_name[name]}, not {short_repr(width)}")

    def objective(trial):
        widths = {item.name: trial.suggest_int(item.name, item.low_nm, item.high_nm,
                                                step=item.step_nm) / 1e9 for item in ranges}
        try:
            evaluation = evaluate(widths)
        except EvaluationError as error:
            trial.set_user_attr("error", str(error))
            raise
        if not isinstance(evaluation, Evaluation):
            raise TypeError(f"evaluate must return an Evaluation, not {short_repr(evaluation)}")
        values = _check_numbers("objectives", evaluation.objectives, objectives,
                                finite=False)
        constraints = _check_numbers("constraints", evaluation.constraints)
        unmeasured = _unmeasured_objectives(values)
        if unmeasured:
            reason = f"infeasible: objective {', '.join(unmeasured)}"
            trial.set_user_attr("error", reason)
            raise EvaluationError(reason)
        _set_constraints(trial, constraints)
        trial.set_user_attr("evaluation", json.dumps(
            {"objectives": values, "constraints": constraints, "figures": evaluation.figures},
            default=float))
        return tuple(values[name] for name in objectives)

    with _quiet_optuna(optuna):
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True,
                                             n_startup_trials=n_startup_trials,
                                             **_constraints_option(optuna))
        study = optuna.create_study(directions=["minimize"] * len(objectives),
                                    sampler=sampler)
        for widths in enqueue:
            study.enqueue_trial({name: round(width * 1e9) for name, width in widths.items()})
        study.optimize(objective, n_trials=n_trials, catch=(EvaluationError,))
        best = {trial.number for trial in study.best_trials}
    trials = tuple(_record(trial) for trial in study.trials)
    front, seen = [], set()
    for record in sorted((trials[number] for number in best),
                         key=lambda record: tuple(record.evaluation.objectives[name]
                                                  for name in objectives)):
        key = tuple(sorted(record.widths.items()))
        if record.feasible and key not in seen:
            seen.add(key)
            front.append(record)
    return StudyResult(objectives=objectives, trials=trials, front=tuple(front))


def _constraints_option(optuna):
    # Optuna 5 takes constraints from trial.set_constraint and deprecates constraints_func
    # (with a FutureWarning); Optuna 4 has only constraints_func.
    if hasattr(optuna.trial.Trial, "set_constraint"):
        return {}
    return {"constraints_func": lambda trial: trial.user_attrs["constraints"]}


def _set_constraints(trial, constraints):
    if hasattr(trial, "set_constraint"):
        for name, value in constraints.items():
            trial.set_constraint(name, value)
    else:
        trial.set_user_attr("constraints", list(constraints.values()))


def _record(trial):
    widths = {name: value / 1e9 for name, value in trial.params.items()}
    if "evaluation" not in trial.user_attrs:
        return TrialRecord(number=trial.number, widths=widths, evaluation=None,
                           error=trial.user_attrs.get("error", str(trial.state)))
    data = json.loads(trial.user_attrs["evaluation"])
    return TrialRecord(number=trial.number, widths=widths,
                       evaluation=Evaluation(objectives=data["objectives"],
                                             constraints=data["constraints"],
                                             figures=data["figures"]))
