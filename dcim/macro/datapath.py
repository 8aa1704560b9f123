"""The macro's datapath lanes, written once over a logic back-end.

A lane computes one column's dot product for one activation vector (or, bit-serially, for one
activation bit). Its adder tree sums ``rows`` terms, each ``product_width`` bits wide, in one
column-compression tree whose columns are the bit weights of the sum:

* ``"multiplier"`` lanes: the terms are the products ``f(w[r], x[r])`` of ``rows``
  multipliers;
* ``"bitserial"`` lanes: the terms are the weights gated by one activation bit,
  ``x[r][t] ? w[r] : 0``, i.e. the array's 1-bit products ``x[r][t] & w[r][j]`` at weight
  ``2**j``. The per-weight-bit popcounts and their shift-and-add are merged into one tree.

Two's-complement terms need no sign extension: the most significant bit of each term, of
weight ``-2**(p-1)``, enters the tree inverted, and the constant ``-rows * 2**(p-1)`` (modulo
the tree's width) enters as constant-one bits, as in :mod:`dcim.arith.partial_products`.

:func:`term_columns` builds the tree's input columns on either logic back-end, so the
hardware (:class:`AdderTree`) and the golden model (:mod:`dcim.macro.model`) walk the same
:class:`~dcim.arith.tree.ReductionPlan`.

The tree is a block of its own (:class:`~dcim.macro.blocks.TreeSpec`), and so is the
multiplier: a lane gets both through :func:`dcim.eda.blocks.block_component`, so that a
Verilog writer or a flow can make each once and instantiate it.
"""

from amaranth.hdl import Cat, Const, Module, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..arith.logic import AmaranthLogic, NumpyLogic
from ..arith.tree import reduce_columns
from ..eda.blocks import block_component

__all__ = [
    "AdderTree",
    "BitserialLane",
    "MultiplierLane",
    "from_platform",
    "lane_signature",
    "term_columns",
    "tree_heights",
    "tree_signature",
]


def term_columns(spec, logic, terms):
    """The adder tree's input columns for ``terms``.

    Parameters
    ----------
    spec : MacroSpec
    logic : NumpyLogic or AmaranthLogic
    terms : list of list
        One entry per row: the term's ``spec.product_width`` bits, least significant first;
        two's complement when ``spec.signed``.

    Returns
    -------
    list of list
        ``spec.tree_width`` columns of bits whose weighted sum is the sum of the terms modulo
        ``2**spec.tree_width``.
    """
    width, term_width = spec.tree_width, spec.product_width
    columns = [[] for _ in range(width)]
    for row, bits in enumerate(terms):
        for position, bit in enumerate(bits):
            if spec.signed and position == term_width - 1:
                bit = logic.net(f"term{row}_msb_n", ~bit)
            columns[position].append(bit)
    if spec.signed:
        constant = -(len(terms) << (term_width - 1)) % (1 << width)
        for position in range(width):
            if (constant >> position) & 1:
                columns[position].append(logic.const(1))
    return columns


def tree_heights(spec):
    """Input bits per column of the adder tree of ``spec``."""
    logic = NumpyLogic((1,))
    terms = [[logic.const(0)] * spec.product_width for _ in range(spec.rows)]
    return tuple(len(column) for column in term_columns(spec, logic, terms))


def tree_shape(spec):
    return signed(spec.tree_width) if spec.signed else unsigned(spec.tree_width)


def lane_signature(spec):
    """The signature of a lane of ``spec`` (:class:`MultiplierLane` or :class:`BitserialLane`)."""
    members = {"weights": In(data.ArrayLayout(spec.weight_shape, spec.rows))}
    if spec.datapath == "multiplier":
        members["acts"] = In(data.ArrayLayout(spec.act_shape, spec.rows))
    else:
        members["bits"] = In(spec.rows)
    members["sum"] = Out(tree_shape(spec))
    if spec.pipeline:
        members["en"] = In(1)
    return wiring.Signature(members)


def term_shape(spec):
    return signed(spec.product_width) if spec.signed else unsigned(spec.product_width)


def tree_signature(spec):
    """The signature of the adder tree of ``spec`` (:class:`AdderTree`)."""
    members = {"terms": In(data.ArrayLayout(term_shape(spec), spec.rows)),
               "sum": Out(tree_shape(spec))}
    if spec.pipeline:
        members["en"] = In(1)
    return wiring.Signature(members)


def from_platform(platform, hook, argument, signature, default):
    """The block that ``platform.<hook>(argument)`` supplies, else ``default()``.

    Platform hooks let a flow replace a part of the macro (the weight array) by another
    component with the same signature, such as a hard macro. (Blocks come from the platform
    through :func:`dcim.eda.blocks.block_component`.)

    Raises
    ------
    TypeError
        If the platform's block does not have ``signature``.
    """
    factory = getattr(platform, hook, None)
    if factory is None:
        return default()
    block = factory(argument)
    if not isinstance(block, wiring.Component) or block.signature != signature:
        raise TypeError(f"platform.{hook} must return a component with signature "
                        f"{signature!r}, not {block!r}")
    return block


def _register(module, enable, name, values):
    """``values`` (bits) through one register that loads when ``enable`` is high.

    Constants pass by: a register would only hide them from synthesis. Pipeline registers
    have no reset; the controller's valid bits say which of their contents mean anything.
    """
    live = [value for value in values if not isinstance(value, Const)]
    held = Signal(len(live), name=name, reset_less=True)
    with module.If(enable):
        module.d.sync += held.eq(Cat(*live))
    registered = iter(held[k] for k in range(len(live)))
    return [value if isinstance(value, Const) else next(registered) for value in values]


class AdderTree(wiring.Component):
    """The column adder tree of a lane: the sum of ``rows`` terms of ``product_width`` bits.

    ``sum`` is ``sum_r terms[r]`` as ``spec.tree_plan`` computes it, modulo
    ``2**spec.tree_width``: exact, or approximate where ``spec.assignment`` places
    approximate compressors. Combinational; with ``spec.pipeline`` set, the pipeline
    registers of a lane are here: after the terms and after every stage of
    ``spec.register_stages``, so that ``sum`` follows the terms ``spec.lane_latency`` cycles
    (of the ``sync`` domain, counting only cycles with ``en`` high) later.

    Parameters
    ----------
    spec : MacroSpec

    Members
    -------
    terms : In(ArrayLayout(spec.product_width, spec.rows)), signed when ``spec.signed``
        The products (or, bit-serially, the gated weights) of every row.
    sum : Out(spec.tree_width), signed when ``spec.signed``
    en : In(1)
        Only with ``spec.pipeline``: the pipeline registers load (advance) in cycles where it
        is high, and hold otherwise.
    """

    def __init__(self, spec):
        self._spec = spec
        super().__init__(tree_signature(spec))

    def elaborate(self, platform):
        spec = self._spec
        m = Module()
        logic = AmaranthLogic(m)
        terms = [[self.terms[row][k] for k in range(spec.product_width)]
                 for row in range(spec.rows)]
        if spec.pipeline:
            terms = [_register(m, self.en, f"term{row}_q", bits)
                     for row, bits in enumerate(terms)]

        def register(stage, values):
            return _register(m, self.en, f"tree_s{stage}_q", values)

        bits = reduce_columns(spec.tree_plan, logic, term_columns(spec, logic, terms),
                              name="tree", register_stages=spec.register_stages,
                              register=register)
        m.d.comb += self.sum.eq(Cat(*bits))
        return m


def _lane_tree(spec, platform, module, terms, total, enable):
    """The lane's adder tree, as ``platform`` supplies it, summing ``terms`` into ``total``."""
    from .blocks import TreeSpec

    tree = block_component(platform, TreeSpec(spec))
    module.submodules.tree = tree
    # One assignment for all rows: Amaranth's netlist builder slows down with many partial
    # assignments to one signal.
    module.d.comb += [tree.terms.eq(Cat(terms)), total.eq(tree.sum)]
    if spec.pipeline:
        module.d.comb += tree.en.eq(enable)


class MultiplierLane(wiring.Component):
    """One lane of the multiplier datapath: ``rows`` multipliers and the column adder tree.

    ``sum`` is ``sum_r f(weights[r], acts[r])`` as the tree computes it, modulo
    ``2**spec.tree_width``: combinationally, or with ``spec.pipeline`` set,
    ``spec.lane_latency`` cycles (counting only cycles with ``en`` high) after the operands,
    through the tree's pipeline registers. The multipliers and the tree (:class:`AdderTree`) are
    blocks: a platform with a ``get_block(block)`` hook may supply them (see
    :func:`dcim.eda.blocks.block_component`).

    Parameters
    ----------
    spec : MacroSpec

    Members
    -------
    weights : In(ArrayLayout(spec.weight_shape, spec.rows))
        The weights of the column being computed (operand ``a`` of each multiplier).
    acts : In(ArrayLayout(spec.act_shape, spec.rows))
        The activation vector (operand ``b``).
    sum : Out(spec.tree_width), signed when ``spec.signed``
    en : In(1)
        Only with ``spec.pipeline``: the pipeline registers load (advance) in cycles where it
        is high, and hold otherwise.
    """

    def __init__(self, spec):
        self._spec = spec
        super().__init__(lane_signature(spec))

    def elaborate(self, platform):
        spec = self._spec
        m = Module()
        terms = []
        for row in range(spec.rows):
            multiplier = block_component(platform, spec.mult)
            m.submodules[f"mul{row}"] = multiplier
            # Assigning a narrower signed (or unsigned) operand extends it by sign (or zero).
            m.d.comb += [multiplier.a.eq(self.weights[row]), multiplier.b.eq(self.acts[row])]
            terms.append(multiplier.p)
        _lane_tree(spec, platform, m, terms, self.sum, self.en if spec.pipeline else None)
        return m


class BitserialLane(wiring.Component):
    """One lane of the bit-serial datapath: 1-bit products and the column adder tree.

    ``sum`` is ``sum_r (bits[r] ? weights[r] : 0)`` as the tree computes it, modulo
    ``2**spec.tree_width``: combinationally, or ``spec.lane_latency`` cycles later with
    ``spec.pipeline`` set (as in :class:`MultiplierLane`). The tree (:class:`AdderTree`) is
    a block, which a platform with a ``get_block(block)`` hook may supply.

    Parameters
    ----------
    spec : MacroSpec

    Members
    -------
    weights : In(ArrayLayout(spec.weight_shape, spec.rows))
        The weights of the column being computed.
    bits : In(spec.rows)
        One bit of every row's activation (the read wordlines of the current cycle).
    sum : Out(spec.tree_width), signed when ``spec.signed``
    en : In(1)
        Only with ``spec.pipeline``: as in :class:`MultiplierLane`.
    """

    def __init__(self, spec):
        self._spec = spec
        super().__init__(lane_signature(spec))

    def elaborate(self, platform):
        spec = self._spec
        m = Module()
        logic = AmaranthLogic(m)
        terms = []
        for row in range(spec.rows):
            weight = self.weights[row]
            terms.append(Cat(logic.net(f"pp_r{row}_b{j}", self.bits[row] & weight[j])
                             for j in range(spec.weight_bits)))
        _lane_tree(spec, platform, m, terms, self.sum, self.en if spec.pipeline else None)
        return m
