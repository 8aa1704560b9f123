"""Validation shared by the golden models and the simulators."""

import reprlib

import numpy as np

__all__ = ["check_integer_range", "short_repr"]

_REPR = reprlib.Repr()
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 8
_REPR.maxstring = _REPR.maxother = 60


def short_repr(value):
    """``repr(value)`` cut to a readable length: error messages quote what the user gave."""
    return _REPR.repr(value)


def check_integer_range(label, values, low, high, design):
    """``values`` as an array, after checking it holds integers in ``[low, high]``.

    Raises
    ------
    TypeError
        If the array does not hold integers, naming ``label`` and the dtype.
    ValueError
        If a value lies outside the range, naming ``label``, ``design`` and the first bad value.
    """
    array = np.asarray(values)
    if array.dtype.kind not in "iub":
        raise TypeError(f"{label} must hold integers, not {array.dtype}")
    if array.size and (array.min() < low or array.max() > high):
        bad = array[(array < low) | (array > high)].flat[0]
        raise ValueError(f"{label} must lie in [{low}, {high}] for {design}, not {int(bad)!r}")
    return array
