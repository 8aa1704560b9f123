"""Run a macro's hardware against its golden model: :func:`check_macro`.

The hardware is simulated cycle by cycle (:func:`dcim.macro.simulate`, on any of its
engines) on random operands drawn from a seed, or on operands read from ``.npy`` files, and
every result is compared with :meth:`MacroSpec.model`.
"""

import time
from dataclasses import dataclass

import numpy as np

from ..checks import check_input_file
from .sim import simulate
from .spec import MacroSpec

__all__ = ["MAX_EXAMPLES", "MacroCheck", "check_macro", "load_operands", "random_operands"]

MAX_EXAMPLES = 5
"""Mismatching results kept in :attr:`MacroCheck.examples`."""


@dataclass(frozen=True)
class MacroCheck:
    """The outcome of :func:`check_macro`.

    Members
    -------
    design : str
        The macro's name.
    engine : str
        The simulator that ran.
    vectors : int
        Activation vectors streamed.
    cycles : int
        Cycles the simulation took.
    mismatches : int
        Results (one per vector and column) that differ from the model.
    seconds : float
        Wall time of the simulation, building the simulator included.
    examples : tuple of (vector, column, hardware, model)
        The first mismatches, at most :data:`MAX_EXAMPLES`.
    operands : str
        Where the operands came from (``"random, seed 0"`` or the files).
    """

    design: str
    engine: str
    vectors: int
    cycles: int
    mismatches: int
    seconds: float
    examples: tuple
    operands: str

    @property
    def ok(self):
        return self.mismatches == 0

    def as_dict(self):
        return {"design": self.design, "engine": self.engine, "vectors": self.vectors,
                "cycles": self.cycles, "mismatches": self.mismatches, "ok": self.ok,
                "seconds": self.seconds, "operands": self.operands,
                "examples": [{"vector": v, "column": c, "hardware": h, "model": m}
                             for v, c, h, m in self.examples]}


def _check_spec(spec):
    if not isinstance(spec, MacroSpec):
        raise TypeError(f"spec must be a MacroSpec, not {spec!r}")


def _check_count(parameter, value, low):
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{parameter} must be an int, not {value!r}")
    if value < low:
        raise ValueError(f"{parameter} must be at least {low}, not {value!r}")
    return int(value)


def random_operands(spec, vectors=16, seed=0, *, extremes=False):
    """Uniformly random weights ``(rows, cols)`` and activations ``(vectors, rows)``.

    With ``extremes``, the first activation vectors are all zero, all maximum and all
    minimum (as many of these as ``vectors`` allows) and the first two weight rows hold the
    maximum and the minimum weight, so that the widest sums are always among those checked.

    Raises
    ------
    ValueError, TypeError
        If ``vectors`` is not a positive int or ``seed`` not a non-negative int.
    """
    _check_spec(spec)
    vectors = _check_count("vectors", vectors, 1)
    seed = _check_count("seed", seed, 0)
    rng = np.random.default_rng(seed)
    weight_low, weight_high = spec.value_range(spec.weight_bits)
    act_low, act_high = spec.value_range(spec.act_bits)
    weights = rng.integers(weight_low, weight_high, size=(spec.rows, spec.cols), endpoint=True)
    activations = rng.integers(act_low, act_high, size=(vectors, spec.rows), endpoint=True)
    if extremes:
        corners = [0, act_high, act_low][:vectors]
        activations[:len(corners)] = np.array(corners)[:, None]
        weights[0] = weight_high
        if spec.rows > 1:
            weights[1] = weight_low
    return weights, activations


def _load_array(parameter, path):
    path = check_input_file(path, f"{parameter} file", (".npy",))
    try:
        # No pickles: an operand file is data and must never run code when loaded.
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise ValueError(f"{parameter} file {str(path)!r} is not a NumPy array file "
                         f"({error})") from None
    if array.dtype.kind not in "iub":
        raise ValueError(f"{parameter} file {str(path)!r} must hold integers, "
                         f"not {array.dtype}")
    return array


def _check_range(parameter, path, array, bits, spec):
    low, high = spec.value_range(bits)
    if array.size and (array.min() < low or array.max() > high):
        bad = array[(array < low) | (array > high)].flat[0]
        raise ValueError(f"{parameter} file {str(path)!r} holds {int(bad)}, outside "
                         f"[{low}, {high}] for {spec.name}")


def load_operands(spec, weights_path, activations_path):
    """Weights and activations of ``spec`` from two ``.npy`` files, checked.

    The weights must have shape ``(R, cols)``, the activations ``(n, R)`` or ``(R,)``;
    ``R`` may exceed ``rows`` (the macro then computes in passes, see :func:`simulate`).

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If a file is not a ``.npy`` array of integers, has the wrong shape or a value out of
        range; the message names the file and the problem.
    """
    _check_spec(spec)
    weights = _load_array("--weights", weights_path)
    activations = _load_array("--activations", activations_path)
    if weights.ndim != 2 or weights.shape[1] != spec.cols or weights.shape[0] < 1:
        raise ValueError(f"--weights file {str(weights_path)!r} must have shape (R, "
                         f"{spec.cols}) (R rows of one weight per column, R >= 1), "
                         f"not {weights.shape!r}")
    depth = weights.shape[0]
    if activations.ndim not in (1, 2) or activations.shape[-1] != depth or not activations.size:
        raise ValueError(f"--activations file {str(activations_path)!r} must have shape "
                         f"(n, {depth}) or ({depth},) to match the weights' {depth} rows, "
                         f"not {activations.shape!r}")
    _check_range("--weights", weights_path, weights, spec.weight_bits, spec)
    _check_range("--activations", activations_path, activations, spec.act_bits, spec)
    return weights.astype(np.int64), activations.astype(np.int64)


def check_macro(spec, weights=None, activations=None, *, vectors=16, seed=0, engine="auto",
                extremes=False, operands=None):
    """Simulate ``spec`` on operands and compare every result with the golden model.

    Parameters
    ----------
    spec : MacroSpec
    weights, activations : int arrays or None
        The operands (as for :func:`simulate`); both ``None`` draws
        :func:`random_operands` from ``vectors``, ``seed`` and ``extremes``.
    engine : str
        One of :data:`dcim.macro.ENGINES`.
    operands : str or None
        Where given operands came from, for the report.

    Returns
    -------
    MacroCheck

    Raises
    ------
    ValueError, TypeError
        For bad operands or parameters (only one of ``weights`` and ``activations``
        given), naming them.
    ToolNotFoundError
        If the engine's simulator is not installed.
    """
    _check_spec(spec)
    if (weights is None) != (activations is None):
        raise ValueError("give both weights and activations, or neither (random operands)")
    if weights is None:
        weights, activations = random_operands(spec, vectors, seed, extremes=extremes)
        operands = operands or f"random, seed {seed}"
    else:
        operands = operands or "given"
    expected = np.atleast_2d(spec.model(weights, activations))
    started = time.perf_counter()
    outcome = simulate(spec, weights, activations, engine=engine)
    seconds = time.perf_counter() - started
    results = np.atleast_2d(outcome.results)
    wrong = np.argwhere(results != expected)
    examples = tuple((int(v), int(c), int(results[v, c]), int(expected[v, c]))
                     for v, c in wrong[:MAX_EXAMPLES])
    return MacroCheck(spec.name, outcome.engine, expected.shape[0], outcome.cycles,
                      len(wrong), seconds, examples, operands)
