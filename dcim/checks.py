"""Validation shared by the specifications, the golden models and the simulators."""

import reprlib
from pathlib import Path

import numpy as np

__all__ = ["check_bool", "check_input_file", "check_int", "check_integer_range", "check_table",
           "short_repr"]

_REPR = reprlib.Repr()
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 8
_REPR.maxstring = _REPR.maxother = 60


def short_repr(value):
    """``repr(value)`` cut to a readable length: error messages quote what the user gave."""
    return _REPR.repr(value)


def check_int(parameter, value, low=None, high=None):
    """``value`` as a plain ``int``, after checking it is an integer in ``[low, high]``.

    Python and NumPy integers are accepted (``np.int64(8)`` becomes ``8``, so that names and
    hashes do not depend on where a number came from); ``bool``, floats and everything else
    are not.

    Raises
    ------
    TypeError
        If ``value`` is not an integer, naming ``parameter`` and the value.
    ValueError
        If it lies outside the bounds given, naming ``parameter`` and the value.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{parameter} must be an int, not {short_repr(value)}")
    value = int(value)
    if low is not None and high is not None and not low <= value <= high:
        raise ValueError(f"{parameter} must be from {low} to {high}, not {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{parameter} must be at least {low}, not {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{parameter} must be at most {high}, not {value!r}")
    return value


def check_bool(parameter, value):
    """``value`` as a plain ``bool``; NumPy booleans are accepted, integers are not."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{parameter} must be a bool, not {short_repr(value)}")
    return bool(value)


def check_integer_range(label, values, low, high, design):
    """``values`` as an array, after checking it holds integers in ``[low, high]``.

    Python integers too large for NumPy's integer types (``2**70``, held in an ``object``
    array) are compared as they are, so that the error shows the value. An empty list gives
    an empty ``int64`` array; callers that need values say so.

    Returns an integer array (``int64`` for values taken from Python integers).

    Raises
    ------
    TypeError
        If the values are not integers, naming ``label`` and the dtype or the first bad value.
    ValueError
        If a value lies outside the range, naming ``label``, ``design`` and the first bad value;
        or if ``values`` cannot form an array (ragged nesting).
    """
    try:
        array = np.asarray(values)
    except (ValueError, TypeError):
        raise ValueError(f"{label} must be an array of integers, not "
                         f"{short_repr(values)}") from None
    if array.size == 0 and array.dtype.kind not in "iub":
        # ``[]`` arrives as float64; an empty collection holds no non-integer.
        array = array.astype(np.int64)
    if array.dtype == object:
        for value in array.flat:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{label} must hold integers, not {short_repr(value)}")
        bad = [value for value in array.flat if not low <= value <= high]
        if bad:
            raise ValueError(f"{label} must lie in [{low}, {high}] for {design}, "
                             f"not {int(bad[0])!r}")
        if low >= -(1 << 63) and high < 1 << 63:
            array = array.astype(np.int64)
        return array
    if array.dtype.kind not in "iub":
        raise TypeError(f"{label} must hold integers, not {array.dtype}")
    if array.size and (array.min() < low or array.max() > high):
        bad = array[(array < low) | (array > high)].flat[0]
        raise ValueError(f"{label} must lie in [{low}, {high}] for {design}, not {int(bad)!r}")
    return array


def check_table(what, data, known):
    """``data`` as a description table: a dict whose keys are all in ``known``.

    Raises
    ------
    TypeError
        If ``data`` is not a dict (naming ``what``).
    ValueError
        If it holds unknown keys, listing them and the known ones.
    """
    if not isinstance(data, dict):
        raise TypeError(f"{what} must be a table, not {short_repr(data)}")
    unknown = sorted(map(repr, set(data) - set(known)))
    if unknown:
        raise ValueError(f"{what} has unknown keys [{', '.join(unknown)}]; it takes "
                         f"{list(known)!r}")
    return data


def check_input_file(path, what, suffixes):
    """``path`` as a ``Path``, refused before anything reads it, with the path in the message.

    Parameters
    ----------
    path : path-like
    what : str
        How the message names the file (``"design file"``, ``"--weights file"``).
    suffixes : tuple of str
        The suffixes it may have (``(".toml",)``): a path without one would be read as
        something else.

    Raises
    ------
    ValueError
        If the suffix is not one of ``suffixes``, or the path is a folder.
    FileNotFoundError
        If nothing is there.
    """
    path = Path(path)
    if path.suffix not in suffixes:
        found = f"not {path.suffix!r}" if path.suffix else "give the name with its suffix"
        raise ValueError(f"{what} {str(path)!r} must be a {' or '.join(suffixes)} file; "
                         f"{found}")
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder, not a file")
    if not path.exists():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    return path
