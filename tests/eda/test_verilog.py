import re
from dataclasses import dataclass

import pytest
from amaranth.back import verilog as amaranth_verilog
from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from dcim.eda.tools import run_tool
from dcim.eda.verilog import (
    block_modules,
    design_block,
    emit_verilog,
    is_verilog_identifier,
    resolve_design,
)
from dcim.verify.hdl import lint_verilog


class ExactMultiplier(wiring.Component):
    def __init__(self, width=4, is_signed=False):
        shape = signed if is_signed else unsigned
        super().__init__({"a": In(shape(width)), "b": In(shape(width)),
                          "p": Out(shape(2 * width))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.p.eq(self.a * self.b)
        return m


@dataclass(frozen=True)
class FakeSpec:
    name: str = "mul4u_exact"

    def component(self):
        return ExactMultiplier()


class KitchenSink(wiring.Component):
    """The constructs dcim's generators use, plus the ones that trip Verilator's -Wall."""

    def __init__(self):
        super().__init__({"a": In(signed(6)), "b": In(unsigned(5)), "c": In(unsigned(3)),
                          "d": In(unsigned(4)), "p": Out(signed(7)), "q": Out(4), "r": Out(3),
                          "s": Out(signed(6)), "t": Out(2), "u": Out(6), "v": Out(1)})

    def elaborate(self, platform):
        m = Module()
        pp = Signal(name="pp_a0_b1")             # a named 1-bit net, as generators make them
        m.d.comb += pp.eq(self.a[0] & self.b[1])
        total = Signal(4, name="total")          # a word-level sum of rows
        rows = [[pp, self.b[2]], [self.a[1], self.a[2], self.a[3]], [self.b[3]]]
        m.d.comb += total.eq(sum(Cat(*row) for row in rows))
        m.d.comb += [
            self.q.eq(total),
            self.r.eq(Const(0b10110110, 8).bit_select(self.c, 3)),   # a truth table
            self.s.eq(self.a >> self.c),
            self.p.eq(self.a.as_unsigned() + (self.a >> 1) - self.b[1:]),   # b[0] unused
            self.t.eq((self.a[2:] * self.b[3:])[1:3] ^ (self.a // 3)[0:2]),
            self.v.eq((self.a == 3) | (self.b[1:] > 8) | (self.a < -2) | ~self.c.any() | self.d[3]),
        ]
        with m.Switch(self.c):
            with m.Case(0):
                m.d.comb += self.u.eq(self.a)
            with m.Case(1, 2):
                m.d.comb += self.u.eq(Array([self.b, self.c, 7, self.a])[self.c[:2]])
            with m.Default():
                m.d.comb += self.u.eq(Mux(self.b[4], -self.a, self.b << self.c[:2]))
        return m


class Registered(wiring.Component):
    def __init__(self):
        super().__init__({"a": In(4), "q": Out(4)})

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.q.eq(self.a)
        return m


def assert_equivalent(tmp_path, component, text, name):
    """Prove with Yosys's SAT solver that our Verilog computes what Amaranth's does."""
    (tmp_path / "gold.v").write_text(
        amaranth_verilog.convert(component, name="gold", emit_src=False))
    (tmp_path / "gate.v").write_text(re.sub(rf"\bmodule {name}\b", "module gate", text))
    (tmp_path / "equiv.ys").write_text(
        "read_verilog gold.v\nread_verilog gate.v\nproc\nsetundef -zero\n"
        "miter -equiv -flatten -make_assert gold gate miter\nhierarchy -top miter\n"
        "sat -verify -prove-asserts miter\n")
    output = run_tool(["yosys", "-s", "equiv.ys"], cwd=tmp_path)
    assert "SUCCESS!" in output


def test_module_name_comes_from_spec_class_or_argument(tmp_path):
    assert re.search(r"^module mul4u_exact \(a, b, p\);$", emit_verilog(FakeSpec()), re.M)
    assert "module exact_multiplier (a, b, p);" in emit_verilog(ExactMultiplier())
    text = emit_verilog(FakeSpec(), tmp_path / "deep" / "dir" / "out.v", name="my_mul")
    assert "module my_mul (a, b, p);" in text
    assert (tmp_path / "deep" / "dir" / "out.v").read_text() == text


@pytest.mark.parametrize("bad", ["1abc", "a-b", "", "module", "logic", "a b"])
def test_illegal_module_names_are_rejected(bad):
    with pytest.raises(ValueError, match=f"name must be a legal Verilog identifier, not {bad!r}"):
        emit_verilog(FakeSpec(), name=bad)
    with pytest.raises(ValueError, match="name must be a legal Verilog identifier"):
        resolve_design(FakeSpec(name=bad))


def test_identifiers():
    assert is_verilog_identifier("mul8u_exact_dadda") and is_verilog_identifier("_x$1")
    assert not is_verilog_identifier("wire") and not is_verilog_identifier("8bit")


def test_non_designs_are_rejected():
    with pytest.raises(TypeError, match="design must be an Amaranth component or have a "
                                        "component"):
        emit_verilog(42)


@pytest.mark.parametrize("width", [1, 3, 8, 16])
@pytest.mark.parametrize("is_signed", [False, True], ids=["unsigned", "signed"])
def test_multipliers_lint_clean_as_natural_products(tmp_path, width, is_signed):
    text = emit_verilog(ExactMultiplier(width, is_signed), name="mul")
    expected = "$signed(a) * $signed(b)" if is_signed else "a * b"
    assert f"assign p = {expected};" in text
    assert lint_verilog(text, top="mul", workdir=tmp_path) == ""


def test_kitchen_sink_lints_clean_and_matches_amaranth(tmp_path):
    text = emit_verilog(KitchenSink(), name="sink")
    assert re.search(r"^module sink \(a, b, c, d, p, q, r, s, t, u, v\);$", text, re.M)
    assert "wire pp_a0_b1;" in text
    # d[2:0] are never read: they go to the documented Verilator sink, not to a waiver.
    assert re.search(r"assign unused_bits = \^\{.*\bd\[2:0\]", text)
    assert "lint_off" not in text
    assert lint_verilog(text, top="sink", workdir=tmp_path / "lint") == ""
    assert_equivalent(tmp_path, KitchenSink(), text, "sink")


@pytest.mark.parametrize("is_signed", [False, True], ids=["unsigned", "signed"])
def test_multiplier_matches_amaranth(tmp_path, is_signed):
    text = emit_verilog(ExactMultiplier(5, is_signed), name="mul")
    assert_equivalent(tmp_path, ExactMultiplier(5, is_signed), text, "mul")


def test_registers_become_always_blocks():
    text = emit_verilog(Registered())
    # The synchronous reset becomes a multiplexer in front of the register.
    assert re.search(r"assign (\w+) = rst \? 4'b0000 : a;\n.*always @\(posedge clk\) \w+ <= \1;",
                     text, re.S)
    assert lint_verilog(text, top="registered") == ""


def test_designs_of_blocks_and_what_wraps_them():
    from dcim.arith import MultiplierSpec

    spec = MultiplierSpec(4)
    component = spec.component()
    assert design_block(spec) == (spec, None)
    assert design_block(component) == (spec, component)
    assert design_block(FakeSpec()) == (None, None)
    # A component wrapping a block is written as that block: named after it.
    assert re.search(rf"^module {spec.name} \(a, b, p\);$", emit_verilog(component), re.M)
    with pytest.raises(TypeError, match="design must be a block or a component whose spec is "
                                        "one, not 42"):
        block_modules(42)
    with pytest.raises(TypeError, match="hierarchical must be a bool, not 1"):
        block_modules(spec, hierarchical=1)
    assert [block.module for block in block_modules(spec, "m")] == ["m"]
