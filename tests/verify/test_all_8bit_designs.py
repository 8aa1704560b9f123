"""Every 8-bit design the library offers, checked exhaustively through its gate netlist.

Yosys maps each design to gates and the bit-parallel evaluator compares all 65,536 operand
pairs against the golden model: zero mismatches allowed.
"""

import itertools

import pytest

from dcim.arith import MultiplierSpec
from dcim.arith.compressor import APPROXIMATE_42
from dcim.verify.netlist import check_exhaustive


def all_8bit_specs():
    for is_signed in (False, True):
        for method, schedule, adder in itertools.product(
                ["array", "booth4"], ["dadda", "wallace"], ["behavioral", "ripple"]):
            yield MultiplierSpec(8, is_signed, "exact", {
                "partial_products": method, "tree": schedule, "final_adder": adder})
        for compressor in (*APPROXIMATE_42, "exact42"):
            yield MultiplierSpec(8, is_signed, "approx", {"compressor": compressor})
        yield MultiplierSpec(8, is_signed, "approx", {
            "compressor": "kong2", "columns": 10, "partial_products": "booth4", "truncate": 2})
        yield MultiplierSpec(8, is_signed, "approx", {
            "compressor": "ha", "tree": "wallace", "or_low": 3, "final_adder": "ripple"})
        yield MultiplierSpec(8, is_signed, "mitchell")
        yield MultiplierSpec(8, is_signed, "mitchell", {"fraction_bits": 4})
        yield MultiplierSpec(8, is_signed, "log")
        for k in (3, 4, 6, 8):
            yield MultiplierSpec(8, is_signed, "drum", {"k": k})


SPECS = list(all_8bit_specs())


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_netlist_equals_model_for_every_operand_pair(spec):
    report = check_exhaustive(spec)
    assert report.exhaustive and report.vectors == 65536
    report.raise_for_mismatch()
