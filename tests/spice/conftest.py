import pytest


class CountingLimitState:
    """A limit state that records the size of each batch it is given."""

    def __init__(self, limit_state):
        self.limit_state, self.batches = limit_state, []

    def __call__(self, z):
        self.batches.append(len(z))
        return self.limit_state(z)


@pytest.fixture
def counting():
    """Wraps a limit state so that a test can count the evaluations an estimator makes."""
    return CountingLimitState
