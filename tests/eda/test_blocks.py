"""Tests for dcim/eda/blocks.py: the block protocol and the order blocks are made in."""

from dataclasses import dataclass

import pytest

from dcim.eda.blocks import block_order, is_block


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
