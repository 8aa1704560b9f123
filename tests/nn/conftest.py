"""Fixtures shared by the tests of dcim.nn: networks trained once per session."""

import functools

import pytest
from nn_helpers import loaded

from dcim.nn import tasks


@pytest.fixture(scope="session")
def trained(session_cache):
    """``trained(name)``: the task's network trained once per session, into its cache."""
    return functools.cache(lambda name: tasks.trained_model(loaded(name)))
