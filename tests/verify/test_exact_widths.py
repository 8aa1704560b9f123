"""Exact multipliers equal a*b in hardware at every width from 2 to 16, signed and unsigned.

Widths up to 8 bits are checked exhaustively, wider ones on a million seeded random pairs (plus
the extreme operands), all through the synthesized gate netlist. Every option combination is
covered at 16 bits; the narrower widths rotate through the combinations so that each one is
also seen at many widths, while keeping the number of syntheses (about 2 s each) in bounds.
"""

import itertools

import numpy as np
import pytest

from dcim.arith import MultiplierSpec
from dcim.verify.netlist import check_against_model, check_exhaustive

COMBINATIONS = [dict(zip(["partial_products", "tree", "final_adder"], values, strict=True))
                for values in itertools.product(["array", "booth4"], ["dadda", "wallace"],
                                                ["behavioral", "ripple"])]


def exact_specs():
    for width in range(2, 17):
        for is_signed in (False, True):
            if width == 16:
                chosen = COMBINATIONS
            elif width == 8:
                continue  # every 8-bit combination is in test_all_8bit_designs.py
            else:
                chosen = [COMBINATIONS[(width + 4 * is_signed) % 8],
                          COMBINATIONS[(width + 4 * is_signed + 3) % 8]]
            for options in chosen:
                yield MultiplierSpec(width, is_signed, "exact", options)


SPECS = list(exact_specs())


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_exact_hardware_equals_product(spec):
    if spec.width <= 8:
        report = check_exhaustive(spec)
        assert report.vectors == 4 ** spec.width
    else:
        low, high = spec.operand_range
        rng = np.random.default_rng(spec.width * 2 + spec.signed)
        extremes = np.array([low, high, 0, 1, -1 if spec.signed else high - 1])
        a = np.concatenate([rng.integers(low, high + 1, 1_000_000), np.repeat(extremes, 5)])
        b = np.concatenate([rng.integers(low, high + 1, 1_000_000), np.tile(extremes, 5)])
        report = check_against_model(spec, a, b)
        assert report.vectors == a.size
    report.raise_for_mismatch()


def test_every_combination_is_covered_below_16_bits():
    seen = {(tuple(sorted(spec.to_dict()["options"].items())), spec.signed)
            for spec in SPECS if spec.width < 16}
    assert len(seen) == 2 * len(COMBINATIONS)
