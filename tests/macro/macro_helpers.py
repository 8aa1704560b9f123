"""Helpers shared by the macro tests (a module of its own: conftest is not importable)."""

import shutil

import numpy as np
import pytest


def require(tool):
    """Skip the test when ``tool`` is not installed."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install {tool})")


def operands(spec, rng, n, depth=None):
    """Uniformly random weights ``(depth, cols)`` and activations ``(n, depth)`` for ``spec``."""
    depth = spec.rows if depth is None else depth
    weight_low, weight_high = spec.value_range(spec.weight_bits)
    act_low, act_high = spec.value_range(spec.act_bits)
    weights = rng.integers(weight_low, weight_high + 1, size=(depth, spec.cols))
    activations = rng.integers(act_low, act_high + 1, size=(n, depth))
    return weights, activations


def extremes(spec, n_random, rng, depth=None):
    """Operands with the extreme values first (0, maximum, most negative), then random ones."""
    depth = spec.rows if depth is None else depth
    weights, activations = operands(spec, rng, n_random, depth)
    weight_low, weight_high = spec.value_range(spec.weight_bits)
    act_low, act_high = spec.value_range(spec.act_bits)
    corner = np.array([[0] * depth, [act_high] * depth, [act_low] * depth])
    activations = np.concatenate([corner, activations])
    weights = weights.copy()
    weights[0] = weight_high
    if depth > 1:
        weights[1] = weight_low
    return weights, activations
