"""Counters and compressors: half and full adders, the exact and approximate 4:2 compressors.

A compressor takes ``n`` input bits of one column and produces output bits at that column and
higher ones. Each is defined exactly once, either by a bit-level function (the published gate
equations) or by a truth table; its Amaranth component, its NumPy model, its use inside
reduction trees and its error statistics all derive from that one definition.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from amaranth.hdl import Cat, Const, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..checks import check_int
from .logic import AmaranthLogic, NumpyLogic

__all__ = [
    "COMPRESSORS",
    "Compressor",
    "CompressorComponent",
    "register_compressor",
]

_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, eq=False)
class Compressor:
    """A combinational counter over ``len(inputs)`` bits of equal weight.

    Build one with :meth:`from_function` (gate equations) or :meth:`from_truth_table`.

    Parameters
    ----------
    name : str
        Lower-case identifier, used in Verilog net names, TOML files and the registry.
    inputs : tuple of str
        Input names, most significant first in a truth-table index: for inputs ``a, b, c, d``
        pattern 0b0001 means ``d = 1``.
    outputs : tuple of (str, int)
        Output names with their weight as a power of two relative to the input column:
        ``(("s", 0), ("carry", 1))`` for a 4:2 compressor.
    function : callable
        ``function(*input_bits) -> tuple of output bits``, written with ``& | ^ ~`` only, so
        that it runs on Amaranth values and on NumPy boolean arrays alike. A constant output
        may be returned as a Python ``int``.
    description : str
        One line on where the design comes from.
    """

    name: str
    inputs: tuple
    outputs: tuple
    function: Callable = field(repr=False)
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME_PATTERN.fullmatch(self.name):
            raise ValueError(
                f"compressor name must be a lower-case identifier, not {self.name!r}")
        if not 1 <= len(self.inputs) <= 8:
            raise ValueError(
                f"compressor inputs must number 1 to 8, not {len(self.inputs)!r}")
        if not self.outputs:
            raise ValueError("compressor outputs must not be empty")
        names = [*self.inputs, *(name for name, _ in self.outputs)]
        if len(set(names)) != len(names):
            raise ValueError(f"compressor port names must be unique, not {names!r}")
        outputs = []
        for output_name, weight in self.outputs:
            try:
                # NumPy integers become plain ones; bool is not a weight.
                outputs.append((output_name, check_int("weight", weight, 0, 3)))
            except (TypeError, ValueError):
                raise ValueError(f"weight of compressor output {output_name!r} must be 0..3, "
                                 f"not {weight!r}") from None
        object.__setattr__(self, "outputs", tuple(outputs))
        # Reject functions that return the wrong number of outputs now, not deep in a tree.
        self.evaluate(np.zeros((len(self.inputs), 1), dtype=bool))

    @classmethod
    def from_function(cls, name, inputs, outputs, function, description=""):
        """Define a compressor by its gate equations (see the class parameters)."""
        return cls(name, tuple(inputs), tuple((n, w) for n, w in outputs), function,
                   description)

    @classmethod
    def from_truth_table(cls, name, table, *, inputs=("a", "b", "c", "d"),
                         outputs=(("s", 0), ("carry", 1)), description=""):
        """Define a compressor by the value it produces for each input pattern.

        Parameters
        ----------
        table : sequence of int
            ``2 ** len(inputs)`` values; entry ``i`` is ``sum(out_k << weight_k)`` for input
            pattern ``i``. Where several outputs share a weight the value is split among them
            greedily (first outputs take the high part).

        Raises
        ------
        ValueError
            If the table has the wrong length or a value no output combination can produce.
        """
        inputs = tuple(inputs)
        outputs = tuple((n, w) for n, w in outputs)
        values = [int(v) for v in table]
        if len(values) != 2 ** len(inputs):
            raise ValueError(f"truth table of {name!r} must have {2 ** len(inputs)} entries "
                             f"for {len(inputs)} inputs, not {len(values)}")
        bit_tables = _split_values(name, values, outputs)

        def lookup(*bits):
            # Index the table by the input pattern: inputs[0] is the most significant bit.
            if isinstance(bits[0], np.ndarray):
                index = np.zeros(bits[0].shape, dtype=np.int64)
                for bit in bits:
                    index = (index << 1) | bit.astype(np.int64)
                return tuple(np.asarray(column, dtype=bool)[index] for column in bit_tables)
            index = Cat(*reversed(bits))
            return tuple(Const(sum(b << i for i, b in enumerate(column)), len(column))
                         .bit_select(index, 1) for column in bit_tables)

        return cls(name, inputs, outputs, lookup, description or "defined by its truth table")

    @property
    def n_inputs(self):
        return len(self.inputs)

    def evaluate(self, bits):
        """Evaluate on an array of input bits with shape ``(n_inputs, ...)``.

        Returns a boolean array of shape ``(n_outputs, ...)``.
        """
        bits = np.asarray(bits, dtype=bool)
        if bits.shape[0] != self.n_inputs:
            raise ValueError(f"bits must have {self.n_inputs} rows for compressor "
                             f"{self.name!r}, not {bits.shape[0]}")
        logic = NumpyLogic(bits.shape[1:])
        return np.stack(self.apply(logic, list(bits)))

    def apply(self, logic, bits, name=None):
        """Instantiate on a logic back-end; returns output bits, optionally as named nets."""
        results = self.function(*bits)
        if not isinstance(results, tuple) or len(results) != len(self.outputs):
            raise ValueError(f"function of compressor {self.name!r} must return a tuple of "
                             f"{len(self.outputs)} bits, not {results!r}")
        if name is None:
            return [logic.coerce(r) for r in results]
        return [logic.net(f"{name}_{out}", r)
                for r, (out, _) in zip(results, self.outputs, strict=True)]

    def truth_table(self):
        """Output value ``sum(out_k << weight_k)`` for every input pattern, as an int array."""
        patterns = np.arange(2 ** self.n_inputs)
        bits = np.array([(patterns >> (self.n_inputs - 1 - i)) & 1
                         for i in range(self.n_inputs)], dtype=bool)
        outputs = self.evaluate(bits).astype(np.int64)
        weights = np.array([1 << w for _, w in self.outputs], dtype=np.int64)
        return (outputs * weights[:, None]).sum(axis=0)

    def exact_table(self):
        """The exact count of ones for every input pattern."""
        patterns = np.arange(2 ** self.n_inputs)
        return np.array([bin(p).count("1") for p in patterns], dtype=np.int64)

    @property
    def is_exact(self):
        return bool(np.array_equal(self.truth_table(), self.exact_table()))

    def error_stats(self, p_one=0.25):
        """Error rate and mean error distance with independent inputs, each 1 with ``p_one``.

        The default 1/4 is the probability that an AND partial-product bit is 1 for uniform
        operands. Returns ``(error_rate, mean_error_distance)``.
        """
        if not 0.0 <= p_one <= 1.0:
            raise ValueError(f"p_one must be a probability in [0, 1], not {p_one!r}")
        ones = self.exact_table()
        weight = p_one ** ones * (1.0 - p_one) ** (self.n_inputs - ones)
        distance = np.abs(self.truth_table() - ones)
        return float(weight[distance != 0].sum()), float((weight * distance).sum())

    @property
    def height_reduction(self):
        """How many bits the compressor removes from its own column."""
        return self.n_inputs - sum(1 for _, w in self.outputs if w == 0)

    def carries(self):
        """Number of outputs at each higher weight: ``{1: 1}`` for a 4:2 compressor."""
        counts = {}
        for _, weight in self.outputs:
            if weight > 0:
                counts[weight] = counts.get(weight, 0) + 1
        return counts

    def component(self):
        """A combinational Amaranth component with one port per input and output."""
        return CompressorComponent(self)


def _split_values(name, values, outputs):
    bit_tables = [[0] * len(values) for _ in outputs]
    order = sorted(range(len(outputs)), key=lambda k: -outputs[k][1])
    for pattern, value in enumerate(values):
        remaining = value
        for k in order:
            if remaining >= 1 << outputs[k][1]:
                bit_tables[k][pattern] = 1
                remaining -= 1 << outputs[k][1]
        if remaining:
            raise ValueError(f"truth table of {name!r}: value {value!r} for pattern {pattern} "
                             f"cannot be produced by outputs {outputs!r}")
    return bit_tables


class CompressorComponent(wiring.Component):
    """Hardware for one :class:`Compressor`: a 1-bit input port per input, 1-bit outputs.

    Parameters
    ----------
    compressor : Compressor

    Members
    -------
    <input names> : In(1)
    <output names> : Out(1)
    """

    def __init__(self, compressor):
        if not isinstance(compressor, Compressor):
            raise TypeError(f"compressor must be a Compressor, not {compressor!r}")
        self._compressor = compressor
        members = {name: In(1) for name in compressor.inputs}
        members.update({name: Out(1) for name, _ in compressor.outputs})
        super().__init__(members)

    @property
    def compressor(self):
        return self._compressor

    def elaborate(self, platform):
        m = Module()
        bits = [getattr(self, name) for name in self._compressor.inputs]
        results = self._compressor.apply(AmaranthLogic(m), bits)
        for (name, _), value in zip(self._compressor.outputs, results, strict=True):
            m.d.comb += getattr(self, name).eq(value)
        return m


def _majority(x, y, z):
    return (x & y) | (x & z) | (y & z)


def _half_adder(a, b):
    return a ^ b, a & b


def _full_adder(a, b, c):
    return a ^ b ^ c, _majority(a, b, c)


def _exact42(a, b, c, d, cin):
    # Two chained full adders; cout depends only on a, b, c so that it can feed the next
    # column's cin without a carry ripple.
    s1, cout = _full_adder(a, b, c)
    s, carry = _full_adder(s1, d, cin)
    return s, carry, cout


def _acci1(a, b, c, d):
    s = (a ^ b ^ c ^ d) | (a & b & c & d)
    carry = (a & b) | (a & c) | (a & d) | (b & c) | (b & d) | (c & d)
    return s, carry


def _kong2(a, b, c, d):
    s = ((a ^ b) & ~(c ^ d)) | (~(a ^ b) & (c | d))
    carry = (a | b | (c & d)) & (c | d | (a & b))
    return s, carry


def _antonio(a, b, c, d):
    x, y, z = a | b, c | (a & b), d
    return x ^ y ^ z, _majority(x, y, z)


def _momeni(a, b, c, d):
    return ~(a ^ b) | ~(c ^ d), (a | b) & (c | d)


def _ha(a, b, c, d):
    return (a ^ b) ^ (c | d), (a & b) | ((a ^ b) & (c | d))


def _akbar1(a, b, c, d):
    return (a ^ b) | (c ^ d), d


def _akbar2(a, b, c, d):
    return (a ^ b) | (c ^ d), (a & b) | (c & d)


def _sabetz(a, b, c, d):
    del b  # the published design ignores its second input
    return 1, _majority(a, c, d)


_ABCD = ("a", "b", "c", "d")
_SC = (("s", 0), ("carry", 1))

COMPRESSORS = {}
"""Every compressor by name; :func:`register_compressor` adds a user's own."""


def register_compressor(compressor, *, replace=False):
    """Make ``compressor`` available by name to trees, assignments, TOML files and the CLI.

    Raises
    ------
    ValueError
        If the name is taken and ``replace`` is false.
    """
    if not isinstance(compressor, Compressor):
        raise TypeError(f"compressor must be a Compressor, not {compressor!r}")
    if compressor.name in COMPRESSORS and not replace:
        raise ValueError(f"compressor name {compressor.name!r} is already registered")
    COMPRESSORS[compressor.name] = compressor
    return compressor


for _compressor in [
    Compressor.from_function("half_adder", ("a", "b"), (("s", 0), ("carry", 1)), _half_adder,
                             "exact 2:2 counter"),
    Compressor.from_function("full_adder", ("a", "b", "cin"), (("s", 0), ("carry", 1)),
                             _full_adder, "exact 3:2 counter"),
    Compressor.from_function("exact42", ("a", "b", "c", "d", "cin"),
                             (("s", 0), ("carry", 1), ("cout", 1)), _exact42,
                             "exact 4:2 compressor: s + 2 (c + cout) = a + b + c + d + cin"),
    Compressor.from_function("acci1", _ABCD, _SC, _acci1, "Yang, Han, Lombardi, DFTS 2015 (AP1)"),
    Compressor.from_function("kong2", _ABCD, _SC, _kong2, "Kong, Li, TVLSI 2021"),
    Compressor.from_function("antonio", _ABCD, _SC, _antonio, "Strollo et al., TCAS-I 2020"),
    Compressor.from_function("momeni", _ABCD, _SC, _momeni, "Momeni et al., IEEE TC 2015"),
    Compressor.from_function("ha", _ABCD, _SC, _ha, "Ha, Lee, IEEE ESL 2018"),
    Compressor.from_function("akbar1", _ABCD, _SC, _akbar1, "Akbari et al., TVLSI 2017 (1)"),
    Compressor.from_function("akbar2", _ABCD, _SC, _akbar2, "Akbari et al., TVLSI 2017 (2)"),
    Compressor.from_function("sabetz", _ABCD, _SC, _sabetz,
                             "Sabetzadeh et al., TCAS-I 2019"),
]:
    register_compressor(_compressor)

APPROXIMATE_42 = ("acci1", "kong2", "antonio", "momeni", "ha", "akbar1", "akbar2", "sabetz")
