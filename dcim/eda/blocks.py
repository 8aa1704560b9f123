"""The block protocol: a design lists its distinct sub-blocks, so each is made only once.

A rows=64, cols=8 macro holds 512 multipliers but one multiplier design. Anything that
writes Verilog or synthesizes a design walks its blocks through this protocol rather than
testing spec types: a block is any frozen spec with

- ``name``: a stable Verilog module name that follows the block's content (equal specs,
  equal names; different specs, different names);
- ``blocks()``: its distinct direct sub-blocks, each listed once however often it is
  instantiated;
- ``component()``: the Amaranth component, whose sub-blocks a writer may replace by instances
  of modules it emits separately.

:func:`block_order` lists every distinct block under a design, each after the blocks it
instantiates, so that a writer or a synthesis flow handles each once and in an order that
needs nothing undefined.
"""

from typing import Protocol, runtime_checkable

__all__ = ["Block", "block_order", "is_block"]


@runtime_checkable
class Block(Protocol):
    """A design unit made once however often it is instantiated (see the module description)."""

    name: str

    def blocks(self):
        """Its distinct direct sub-blocks, a tuple of blocks."""

    def component(self):
        """The Amaranth component of this block."""


def is_block(design):
    """Whether ``design`` follows the block protocol."""
    return isinstance(design, Block)


def block_order(root):
    """Every distinct block under ``root``, each after the blocks it instantiates; ``root`` last.

    Parameters
    ----------
    root : Block

    Returns
    -------
    tuple of Block

    Raises
    ------
    TypeError
        If ``root`` or a sub-block does not follow the protocol, or ``blocks()`` does not
        return a tuple.
    ValueError
        If two different blocks share a name (their modules would collide), or a block
        contains itself.
    """
    ordered = []
    by_name = {}
    visiting = set()

    def visit(block, path):
        if not is_block(block):
            raise TypeError(f"{' > '.join(path) or 'root'} must follow the block protocol "
                            f"(name, blocks(), component()), not {block!r}")
        name = block.name
        known = by_name.get(name)
        if known is not None:
            if known != block:
                raise ValueError(f"blocks {known!r} and {block!r} are both named {name!r}")
            return
        if name in visiting:
            raise ValueError(f"block {name!r} contains itself: {' > '.join(path)}")
        visiting.add(name)
        children = block.blocks()
        if not isinstance(children, tuple):
            raise TypeError(f"{name}.blocks() must return a tuple, not {children!r}")
        for child in children:
            visit(child, (*path, name))
        visiting.discard(name)
        by_name[name] = block
        ordered.append(block)

    visit(root, ())
    return tuple(ordered)
