"""Tests for dcim/eda/blocks.py: the block protocol, the order blocks are made in, and how
components get their sub-blocks from the platform."""

import re
from dataclasses import dataclass

import pytest
from amaranth.back import verilog
from amaranth.hdl import Fragment, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from dcim.eda.blocks import BlockInstance, BlockPlatform, block_component, block_order, is_block


@dataclass(frozen=True)
class Leaf:
    name: str
    width: int = 4
    signature = None

    def blocks(self):
        return ()

    def component(self):
        raise AssertionError("block_order must not build components")


@dataclass(frozen=True)
class Node:
    name: str
    children: tuple = ()
    signature = None

    def blocks(self):
        return self.children

    def component(self):
        raise AssertionError("block_order must not build components")


def test_each_distinct_block_comes_once_after_the_blocks_it_instantiates():
    mult = Leaf("mult")
    tree = Leaf("tree")
    lane = Node("lane", (mult, tree))
    array = Leaf("array")
    top = Node("top", (array, lane, Node("spare", (mult,))))
    order = [block.name for block in block_order(top)]
    assert order == ["array", "mult", "tree", "lane", "spare", "top"]


def test_a_leaf_is_its_own_order():
    assert block_order(Leaf("only")) == (Leaf("only"),)


def test_two_different_blocks_of_one_name_are_refused():
    top = Node("top", (Leaf("mult", 4), Node("lane", (Leaf("mult", 8),))))
    with pytest.raises(ValueError, match="both named 'mult'"):
        block_order(top)


def test_a_block_that_contains_itself_is_refused():
    class Loop:
        name = "loop"
        signature = None

        def blocks(self):
            return (self,)

        def component(self):
            return None

    with pytest.raises(ValueError, match="block 'loop' contains itself"):
        block_order(Loop())


def test_something_that_is_not_a_block_is_named():
    assert not is_block(42)
    with pytest.raises(TypeError, match="top must follow the block protocol"):
        block_order(Node("top", (42,)))
    with pytest.raises(TypeError, match="root must follow the block protocol"):
        block_order("mult")


def test_blocks_must_be_a_tuple():
    with pytest.raises(TypeError, match=r"top.blocks\(\) must return a tuple"):
        block_order(Node("top", [Leaf("mult")]))


@dataclass(frozen=True)
class Adder:
    """A real block: a combinational adder, or a registered one when ``clocked``."""

    width: int = 3
    clocked: bool = False

    @property
    def name(self):
        return f"add{self.width}{'r' if self.clocked else ''}"

    @property
    def signature(self):
        return wiring.Signature({"a": In(self.width), "b": In(self.width),
                                 "s": Out(self.width + 1)})

    def blocks(self):
        return ()

    def component(self):
        return _AdderComponent(self)


class _AdderComponent(wiring.Component):
    def __init__(self, block):
        self._block = block
        super().__init__(block.signature)

    def elaborate(self, platform):
        m = Module()
        domain = m.d.sync if self._block.clocked else m.d.comb
        domain += self.s.eq(self.a + self.b)
        return m


class _Pair(wiring.Component):
    """Two adders, got from the platform."""

    def __init__(self, block):
        self._block = block
        super().__init__(wiring.Signature({"a": In(3), "s": Out(4).array(2)}))

    def elaborate(self, platform):
        m = Module()
        for index in range(2):
            adder = block_component(platform, self._block)
            m.submodules[f"add{index}"] = adder
            m.d.comb += [adder.a.eq(self.a), adder.b.eq(index), self.s[index].eq(adder.s)]
        return m


def test_sub_blocks_come_from_the_platform_or_themselves():
    class Partial:
        def get_block(self, block):
            return None  # leaves every block to itself

    block = Adder()
    made = {platform: block_component(platform, block)
            for platform in (None, BlockPlatform(hierarchical=False), Partial(),
                             BlockPlatform())}
    kinds = [type(component) for component in made.values()]
    assert kinds == [_AdderComponent, _AdderComponent, _AdderComponent, BlockInstance]
    assert list(made.values())[-1].block == block
    for component in made.values():
        Fragment.get(component, None)  # used, so that Amaranth does not warn


def test_a_platform_block_of_another_signature_is_refused():
    class Wrong:
        made = []

        def get_block(self, block):
            self.made.append(BlockInstance(Adder(width=4)))
            return self.made[-1]

    with pytest.raises(TypeError, match=r"platform.get_block\(add3\) must return a component "
                                        r"with signature"):
        block_component(Wrong(), Adder())
    Fragment.get(Wrong.made[0], None)  # used, so that Amaranth does not warn
    with pytest.raises(TypeError, match="block must follow the block protocol"):
        block_component(None, 42)
    with pytest.raises(TypeError, match="hierarchical must be a bool, not 'yes'"):
        BlockPlatform(hierarchical="yes")


@pytest.mark.parametrize("clocked", [False, True], ids=["comb", "clocked"])
def test_block_instances_are_instances_of_the_block_module(clocked):
    block = Adder(clocked=clocked)
    text = verilog.convert(_Pair(block), name="pair", emit_src=False, platform=BlockPlatform())
    # One instance per use, of the module named after the block; ports by the signature's
    # member names, and the clock and reset of a clocked block.
    instances = re.findall(rf"^\s*{block.name} \\instance\s+\((.*?)\);", text, re.M | re.S)
    assert len(instances) == 2
    ports = set(re.findall(r"\.(\w+)\(", instances[0]))
    assert ports == ({"a", "b", "s"} | ({"clk", "rst"} if clocked else set()))
    assert not re.search(rf"^module {block.name}\b", text, re.M)
    flat = verilog.convert(_Pair(block), name="pair", emit_src=False,
                           platform=BlockPlatform(hierarchical=False))
    assert f"{block.name} " not in flat
