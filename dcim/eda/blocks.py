"""The block protocol: a design lists its distinct sub-blocks, so each is made only once.

A rows=64, cols=8 macro holds 512 multipliers but one multiplier design. Anything that
writes Verilog or synthesizes a design walks its blocks through this protocol rather than
testing spec types: a block is any frozen spec with

- ``name``: a stable Verilog module name that follows the block's content (equal specs,
  equal names; different specs, different names);
- ``signature``: the :class:`~amaranth.lib.wiring.Signature` of its component (the ports of
  its module);
- ``blocks()``: its distinct direct sub-blocks, each listed once however often it is
  instantiated;
- ``component()``: a fresh Amaranth component of the block;

and, optionally, ``clocked``: true when its component uses the ``sync`` domain, so that its
module also has the ports ``clk`` and ``rst`` (false when absent); and ``in_parent``: true
when a flow must elaborate the block inside its parent instead of synthesizing it apart
(false when absent; see :mod:`dcim.flow.design`).

A component gets each sub-block with :func:`block_component`, which asks the platform it is
elaborated on (``platform.get_block(block)``) and falls back on ``block.component()``.
:class:`BlockPlatform` is the platform of writers and flows: hierarchical, every sub-block is
a :class:`BlockInstance` of the module written for it separately; flat, every sub-block is
its own component. :func:`block_order` lists every distinct block under a design, each after
the blocks it instantiates, so that a writer or a synthesis flow handles each once and in an
order that needs nothing undefined.
"""

from typing import Protocol, runtime_checkable

from amaranth.hdl import ClockSignal, Instance, Module, ResetSignal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In

__all__ = ["Block", "BlockInstance", "BlockPlatform", "block_component", "block_order",
           "is_block"]


@runtime_checkable
class Block(Protocol):
    """A design unit made once however often it is instantiated (see the module description)."""

    name: str
    signature: wiring.Signature

    def blocks(self):
        """Its distinct direct sub-blocks, a tuple of blocks."""

    def component(self):
        """A fresh Amaranth component of this block."""


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
                            f"(name, signature, blocks(), component()), not {block!r}")
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


class BlockInstance(wiring.Component):
    """An instance of the Verilog module of ``block``, written separately, with its ports.

    Port names are the signature's member paths joined by ``__``, as Amaranth's back-end
    names the ports of a component it converts; a clocked block (``block.clocked``) also
    gets ``clk`` and ``rst`` from the ``sync`` domain. The instance is the submodule
    ``instance`` of this component.

    Parameters
    ----------
    block : Block
    """

    def __init__(self, block):
        self._block = block
        super().__init__(block.signature)

    @property
    def block(self):
        return self._block

    def elaborate(self, platform):
        m = Module()
        ports = {}
        if getattr(self._block, "clocked", False):
            ports.update(i_clk=ClockSignal("sync"), i_rst=ResetSignal("sync"))
        for path, member, value in self.signature.flatten(self):
            prefix = "i_" if member.flow == In else "o_"
            ports[prefix + "__".join(map(str, path))] = Value.cast(value)
        m.submodules.instance = Instance(self._block.name, **ports)
        return m


class BlockPlatform:
    """The platform of Verilog writers and flows: it supplies the sub-blocks of a component.

    Hierarchical, ``get_block(block)`` is a :class:`BlockInstance` (the component being
    converted is then its own module only, around instances of modules written apart);
    flat, it is ``block.component()``, elaborated inside. Designs may also read the
    platform's kind: a macro's weight array is plain registers here, and the memory model
    only in simulation (see :class:`~dcim.macro.DCiMMacro`). Subclass it to add other hooks.

    Parameters
    ----------
    hierarchical : bool

    Raises
    ------
    TypeError
        If ``hierarchical`` is not a bool.
    """

    def __init__(self, *, hierarchical=True):
        if not isinstance(hierarchical, bool):
            raise TypeError(f"hierarchical must be a bool, not {hierarchical!r}")
        self.hierarchical = hierarchical

    def get_block(self, block):
        """The component that stands for sub-block ``block``."""
        return BlockInstance(block) if self.hierarchical else block.component()


def block_component(platform, block):
    """The component of sub-block ``block`` for a design elaborated on ``platform``.

    ``platform.get_block(block)`` when the platform has that hook and it returns a component
    (``None`` leaves the block to itself), else ``block.component()``.

    Raises
    ------
    TypeError
        If ``block`` is not a block, or the platform's component does not have
        ``block.signature``.
    """
    if not is_block(block):
        raise TypeError(f"block must follow the block protocol (name, signature, blocks(), "
                        f"component()), not {block!r}")
    hook = getattr(platform, "get_block", None)
    component = None if hook is None else hook(block)
    if component is None:
        return block.component()
    if not isinstance(component, wiring.Component) or component.signature != block.signature:
        raise TypeError(f"platform.get_block({block.name}) must return a component with "
                        f"signature {block.signature!r}, not {component!r}")
    return component
