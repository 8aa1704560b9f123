"""The shared checks: integers of any NumPy type, arrays of Python integers, empty arrays."""

import numpy as np
import pytest

from dcim.checks import check_bool, check_int, check_integer_range


@pytest.mark.parametrize("value", [8, np.int8(8), np.uint64(8), np.int64(8)])
def test_check_int_gives_a_plain_int(value):
    result = check_int("width", value, 2, 32)
    assert result == 8 and type(result) is int


@pytest.mark.parametrize(("value", "low", "high", "error", "message"), [
    (True, None, None, TypeError, "width must be an int, not True"),
    (np.False_, None, None, TypeError, "width must be an int, not np.False_"),
    (8.0, None, None, TypeError, "width must be an int, not 8.0"),
    ("8", None, None, TypeError, "width must be an int, not '8'"),
    (1, 2, 32, ValueError, "width must be from 2 to 32, not 1"),
    (1, 2, None, ValueError, "width must be at least 2, not 1"),
    (40, None, 32, ValueError, "width must be at most 32, not 40"),
])
def test_check_int_names_the_parameter(value, low, high, error, message):
    with pytest.raises(error, match=message):
        check_int("width", value, low, high)


def test_check_bool():
    assert check_bool("signed", np.True_) is True
    with pytest.raises(TypeError, match="signed must be a bool, not 1"):
        check_bool("signed", 1)


def test_huge_python_integers_are_out_of_range_not_of_the_wrong_type():
    with pytest.raises(ValueError, match=r"x must lie in \[0, 15\] for d, not "
                                         r"1180591620717411303424"):
        check_integer_range("x", [1, 2**70], 0, 15, "d")
    with pytest.raises(ValueError, match=r"not -1180591620717411303424"):
        check_integer_range("x", np.array([-(2**70)], dtype=object), 0, 15, "d")


def test_object_arrays_of_small_integers_become_int64():
    array = check_integer_range("x", np.array([1, np.int8(2)], dtype=object), 0, 15, "d")
    assert array.dtype == np.int64 and array.tolist() == [1, 2]
    with pytest.raises(TypeError, match="x must hold integers, not None"):
        check_integer_range("x", np.array([1, None], dtype=object), 0, 15, "d")


def test_empty_arrays():
    assert check_integer_range("x", [], 0, 15, "d").dtype == np.int64
    assert check_integer_range("x", np.zeros((0, 3), np.uint8), 0, 15, "d").shape == (0, 3)


def test_ragged_and_textual_values():
    with pytest.raises(ValueError,
                       match=r"x must be an array of integers, not \[\[1\], \[1, 2\]\]"):
        check_integer_range("x", [[1], [1, 2]], 0, 15, "d")
    with pytest.raises(TypeError, match="x must hold integers, not <U3"):
        check_integer_range("x", "abc", 0, 15, "d")
