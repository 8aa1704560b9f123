"""Shared set-up of the macro tests: a session cache of compiled simulators."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def macro_cache(tmp_path_factory):
    """A session-wide cache folder, unless ``$DCIM_CACHE_DIR`` is set.

    Compiled Verilator models of rows=64 macros take half a minute each; within a session each
    is built once and shared by every test that simulates it. Setting ``DCIM_CACHE_DIR`` keeps
    them across sessions.
    """
    if os.environ.get("DCIM_CACHE_DIR"):
        yield os.environ["DCIM_CACHE_DIR"]
        return
    folder = tmp_path_factory.mktemp("dcim-cache")
    os.environ["DCIM_CACHE_DIR"] = str(folder)
    yield folder
    del os.environ["DCIM_CACHE_DIR"]
