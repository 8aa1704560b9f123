"""Test doubles of multiplier specs for the verification tests: an exact ``a * b`` and a
deliberately wrong one, behind the spec interface (name, width, signed, component, model)."""

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Module, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class Multiplier(wiring.Component):
    """Test double: ``p = a * b``, or with ``wrong`` the LSB of p flipped at a=3, b=5."""

    def __init__(self, width, is_signed, wrong=False):
        shape = signed if is_signed else unsigned
        self._wrong = wrong
        super().__init__({"a": In(shape(width)), "b": In(shape(width)),
                          "p": Out(shape(2 * width))})

    def elaborate(self, platform):
        m = Module()
        product = self.a * self.b
        if self._wrong:
            product = product ^ ((self.a == 3) & (self.b == 5))
        m.d.comb += self.p.eq(product)
        return m


@dataclass(frozen=True)
class FakeSpec:
    """Test double of a multiplier spec: name, width, signed, component(), model()."""

    width: int
    signed: bool
    wrong: bool = False

    @property
    def name(self):
        kind = "wrong" if self.wrong else "exact"
        return f"mul{self.width}{'s' if self.signed else 'u'}_{kind}"

    def component(self):
        return Multiplier(self.width, self.signed, self.wrong)

    def model(self, a, b):
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        low, high = self.operand_range()
        for operand in (a, b):   # like a real spec, refuse operands outside the range
            if operand.size and (operand.min() < low or operand.max() > high):
                raise ValueError(f"operand outside {low}..{high}")
        return a * b

    def operand_range(self):
        if self.signed:
            return -(1 << (self.width - 1)), (1 << (self.width - 1)) - 1
        return 0, (1 << self.width) - 1
