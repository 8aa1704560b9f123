"""Helpers shared by the tests of dcim.nn."""

import functools

from dcim.nn import tasks


@functools.cache
def loaded(name, seed=0):
    """The task, loaded once per session: loading mnist5k or mnist1d takes seconds."""
    return tasks.load_task(name, seed=seed)
