"""Shared helpers of the multiplier-kind tests: exhaustive operand pairs, reference error
figures, and Amaranth simulation of a spec's component."""

import itertools

import numpy as np
from amaranth.sim import Simulator


def all_pairs(spec):
    """Every ordered operand pair of ``spec``, as two flat int64 arrays."""
    low, high = spec.operand_range
    values = np.arange(low, high + 1, dtype=np.int64)
    a, b = np.meshgrid(values, values, indexing="ij")
    return a.ravel(), b.ravel()


def error_figures(spec):
    """MRED, WCRE (fractions), bias and MED, exhaustively, per the reference definitions."""
    a, b = all_pairs(spec)
    exact = a * b
    error = spec.model(a, b).astype(np.int64) - exact
    nonzero = exact != 0
    relative = np.abs(error[nonzero]) / np.abs(exact[nonzero])
    return relative.mean(), relative.max(), error.mean(), np.abs(error).mean()


def product_range(spec):
    shape = spec.product_shape
    if shape.signed:
        return -(1 << (shape.width - 1)), (1 << (shape.width - 1)) - 1
    return 0, (1 << shape.width) - 1


def simulate(spec, pairs):
    """Products of ``spec.component()`` for operand ``pairs``, from the Amaranth simulator."""
    dut = spec.component()
    sim = Simulator(dut)
    products = []

    async def testbench(ctx):
        for x, y in pairs:
            ctx.set(dut.a, x)
            ctx.set(dut.b, y)
            products.append(ctx.get(dut.p))

    sim.add_testbench(testbench)
    sim.run()
    return products


def corner_pairs(spec):
    low, high = spec.operand_range
    corners = sorted({low, low + 1, 0, 1, high - 1, high} | ({-1} if spec.signed else set()))
    return list(itertools.product(corners, repeat=2))


def check_hardware(spec, pairs):
    got = simulate(spec, pairs)
    a, b = zip(*pairs, strict=True)
    expected = spec.model(list(a), list(b)).tolist()
    mismatches = [(pair, g, e) for pair, g, e in zip(pairs, got, expected, strict=True)
                  if g != e]
    assert not mismatches, f"{spec.name}: (operands, hardware, model) {mismatches[:5]}"
