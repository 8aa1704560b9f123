"""Two evaluation back-ends for bit-level logic written once.

dcim describes its gate-level arithmetic (compressors, partial products, reduction trees) as
ordinary Python functions over single bits that use only ``&``, ``|``, ``^`` and ``~``. Those
operators mean the same thing on Amaranth 1-bit values and on NumPy boolean arrays, so one
description yields both the hardware and a bit-exact, vectorised golden model. A back-end adds
the few things the operators cannot express: constants, named nets, and a word-level adder.
"""

import numpy as np
from amaranth.hdl import Cat, Const, Module, Signal, Value

__all__ = ["AmaranthLogic", "NumpyLogic"]


class NumpyLogic:
    """Evaluates bit-level logic on NumPy boolean arrays, one element per test vector.

    Parameters
    ----------
    shape : tuple of int
        Shape of every bit array (the number of vectors evaluated at once).
    """

    def __init__(self, shape):
        self.shape = tuple(shape)

    def const(self, value):
        """A constant bit broadcast to the vector shape."""
        return np.full(self.shape, bool(value))

    def coerce(self, value):
        """Turn a bit result (array, NumPy bool or Python int) into a full-shape array."""
        if isinstance(value, np.ndarray) and value.shape == self.shape:
            return value.astype(bool, copy=False)
        return np.broadcast_to(np.asarray(value, dtype=bool), self.shape).copy()

    def net(self, name, value):
        """Nets need no names in a model; the value passes through."""
        del name
        return self.coerce(value)

    def add(self, name, rows, width):
        """Sum bit rows (lists of bits, LSB first) modulo ``2**width``; returns ``width`` bits."""
        del name
        total = np.zeros(self.shape, dtype=np.uint64)
        for row in rows:
            total += words_from_bits(row, self.shape)
        return bits_from_words(total, width)


class AmaranthLogic:
    """Builds bit-level logic into an Amaranth module, naming every intermediate net.

    Parameters
    ----------
    module : Module
        The module that receives one combinational assignment per named net.
    """

    def __init__(self, module: Module):
        self.module = module

    def const(self, value):
        return Const(int(bool(value)), 1)

    def coerce(self, value):
        return Value.cast(value)

    def net(self, name, value):
        # A named signal per intermediate keeps the simulator's expression graph small and the
        # emitted Verilog readable (see STYLE.md).
        signal = Signal(name=name)
        self.module.d.comb += signal.eq(value)
        return signal

    def add(self, name, rows, width):
        # A word-level '+' lets synthesis choose the carry-propagate adder architecture.
        total = Signal(width, name=name)
        self.module.d.comb += total.eq(sum(Cat(*row) for row in rows))
        return [total[k] for k in range(width)]


def words_from_bits(bits, shape):
    """Pack a list of boolean arrays (LSB first) into one unsigned 64-bit integer array."""
    word = np.zeros(shape, dtype=np.uint64)
    for position, bit in enumerate(bits):
        word |= np.asarray(bit, dtype=np.uint64) << np.uint64(position)
    return word


def bits_from_words(words, width):
    """Unpack the low ``width`` bits of an unsigned integer array into boolean arrays."""
    words = np.asarray(words, dtype=np.uint64)
    return [((words >> np.uint64(position)) & np.uint64(1)).astype(bool)
            for position in range(width)]
