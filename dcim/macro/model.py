"""Bit-exact NumPy golden model of a :class:`~dcim.macro.MacroSpec`.

Built from the same parts as the hardware and never from a simulation: the multiplier's own
model (:meth:`MultiplierSpec.model`), the adder tree's :class:`~dcim.arith.tree.ReductionPlan`
walked with :class:`~dcim.arith.logic.NumpyLogic` over the same input columns
(:func:`dcim.macro.datapath.term_columns`), and the accumulator's wrap-around.

Values fit ``int64`` up to 62 bits; wider sums (32-bit operands) are computed with Python
integers in ``object`` arrays.
"""

import numpy as np

from ..arith.compressor import COMPRESSORS
from ..arith.logic import NumpyLogic
from ..arith.tree import reduce_columns
from ..checks import check_integer_range
from .datapath import term_columns

__all__ = ["check_operands", "dot_model", "macro_model", "result_dtype", "tree_is_exact"]

_INT64_BITS = 62    # widest value kept in int64, so that a sum of two never overflows
_CHUNK = 2048       # vectors per chunk: bounds the model's memory on long streams


def _dtype(width):
    return np.int64 if width <= _INT64_BITS else object


def result_dtype(spec):
    """NumPy dtype of the model's and simulator's results: int64, or object (Python ints)."""
    return _dtype(spec.acc_width)


def wrap(values, width, is_signed):
    """``values`` modulo ``2**width``, as two's complement when ``is_signed``."""
    dtype = _dtype(width)
    values = np.asarray(values)
    if dtype is object or values.dtype == object:
        values = values.astype(object) % (1 << width)
        if is_signed:
            values = np.where(values >= 1 << (width - 1), values - (1 << width), values)
        return values.astype(dtype)
    values = values.astype(np.int64) & ((1 << width) - 1)
    if is_signed:
        values = np.where(values >= 1 << (width - 1), values - (1 << width), values)
    return values


class _WideLogic(NumpyLogic):
    """NumpyLogic whose word-level adder also works beyond 64 bits (32-bit operands)."""

    def add(self, name, rows, width):
        if width <= 64:
            return super().add(name, rows, width)
        total = [self.const(0) for _ in range(width)]
        for row in rows:
            carry = self.const(0)
            for position in range(width):
                a = total[position]
                b = self.coerce(row[position]) if position < len(row) else self.const(0)
                total[position] = a ^ b ^ carry
                carry = (a & b) | (carry & (a ^ b))
        return total


def _value(bits, is_signed):
    """The integer value of a list of boolean arrays (LSB first)."""
    dtype = _dtype(len(bits))
    value = np.zeros(bits[0].shape, dtype=dtype)
    for position, bit in enumerate(bits):
        value = value + bit.astype(np.int64).astype(dtype) * (1 << position)
    return wrap(value, len(bits), is_signed)


def _bits(values, width):
    """The low ``width`` bits of an int64, uint64 or object array, as boolean arrays."""
    values = np.asarray(values)
    if values.dtype == object:
        return [np.array([(int(v) >> k) & 1 for v in values.flat], dtype=bool)
                .reshape(values.shape) for k in range(width)]
    unsigned = values.astype(np.uint64) if values.dtype != np.uint64 else values
    return [((unsigned >> np.uint64(k)) & np.uint64(1)).astype(bool) for k in range(width)]


def tree_is_exact(spec):
    return all(COMPRESSORS[cell.compressor].is_exact for cell in spec.tree_plan.cells)


def _tree(spec, terms, shape):
    """Walk the adder tree on ``terms`` (per row, a list of bit arrays of ``shape``)."""
    logic = _WideLogic(shape)
    bits = reduce_columns(spec.tree_plan, logic, term_columns(spec, logic, terms))
    return _value(bits, spec.signed)


def _tree_sum(spec, terms_values):
    """Exact tree: the sum of the terms modulo ``2**tree_width`` (what full adders compute)."""
    dtype = _dtype(spec.tree_width)
    return wrap(terms_values.astype(dtype).sum(axis=1), spec.tree_width, spec.signed)


def dot_model(spec, weights, acts):
    """One pass: the lanes' dot products (``dot_width`` bits) before the accumulator.

    Parameters
    ----------
    weights : int array of shape (rows, cols)
    acts : int array of shape (n, rows)

    Returns
    -------
    array of shape (n, cols), int64 or object
    """
    if spec.datapath == "multiplier":
        # Operand a is the weight, b the activation, for every kind (most are not symmetric).
        products = spec.mult.model(weights[None, :, :], acts[:, :, None])
        if tree_is_exact(spec):
            return _tree_sum(spec, products)
        product_bits = _bits(products, spec.product_width)
        terms = [[bit[:, row, :] for bit in product_bits] for row in range(spec.rows)]
        return _tree(spec, terms, (acts.shape[0], spec.cols))
    return _bitserial_model(spec, weights, acts)


def _bitserial_model(spec, weights, acts):
    if tree_is_exact(spec):
        # Exact 1-bit products, exact tree and exact shift-accumulate: the integer product.
        dtype = _dtype(spec.dot_width)
        return acts.astype(dtype) @ weights.astype(dtype)
    shape = (acts.shape[0], spec.cols)
    weight_bits = _bits(weights, spec.weight_bits)
    act_bits = _bits(acts, spec.act_bits)
    local = np.zeros(shape, dtype=_dtype(spec.dot_width + 1))
    # Most significant activation bit first, as the hardware's shift-accumulate does.
    for t in reversed(range(spec.act_bits)):
        terms = [[act_bits[t][:, row, None] & bit[None, row, :] for bit in weight_bits]
                 for row in range(spec.rows)]
        partial = _tree(spec, terms, shape).astype(local.dtype)
        negative = spec.signed and t == spec.act_bits - 1
        local = wrap(2 * local + (-partial if negative else partial), spec.dot_width,
                     spec.signed).astype(local.dtype)
    return local


def check_operands(spec, weights, activations):
    """Validate weights and activations against ``spec``, pad them to whole passes.

    Parameters
    ----------
    weights : int array of shape (R, cols)
        ``R`` may exceed ``spec.rows``: the matrix is then split into passes of ``rows``
        rows (the last one padded with zero weights and activations) whose sums the
        accumulator adds.
    activations : int array of shape (n, R) or (R,)

    Returns
    -------
    (weights, activations, vector)
        Padded int64 arrays of shapes (passes * rows, cols) and (n, passes * rows), and
        whether ``activations`` was a single vector.

    Raises
    ------
    ValueError, TypeError
        Naming the array and the bad shape or value.
    """
    weights = check_integer_range("weights", weights, *spec.value_range(spec.weight_bits),
                                  spec.name)
    activations = check_integer_range("activations", activations,
                                      *spec.value_range(spec.act_bits), spec.name)
    if weights.ndim != 2 or weights.shape[1] != spec.cols or weights.shape[0] < 1:
        raise ValueError(f"weights must have shape (rows, {spec.cols}) with at least one "
                         f"row, not {weights.shape!r}")
    depth = weights.shape[0]
    vector = activations.ndim == 1
    if activations.ndim not in (1, 2) or activations.shape[-1] != depth:
        raise ValueError(f"activations must have shape (n, {depth}) or ({depth},) to match "
                         f"weights of shape {weights.shape!r}, not {activations.shape!r}")
    if vector:
        activations = activations[None, :]
    padded = -(-depth // spec.rows) * spec.rows
    weights = np.pad(weights.astype(np.int64), ((0, padded - depth), (0, 0)))
    activations = np.pad(activations.astype(np.int64), ((0, 0), (0, padded - depth)))
    return weights, activations, vector


def macro_model(spec, weights, activations):
    """Bit-exact results of the macro: see :meth:`dcim.macro.DCiMMacro.model`."""
    weights, activations, vector = check_operands(spec, weights, activations)
    n = activations.shape[0]
    results = np.zeros((n, spec.cols), dtype=result_dtype(spec))
    for start in range(0, n, _CHUNK):
        chunk = slice(start, start + _CHUNK)
        total = np.zeros((activations[chunk].shape[0], spec.cols), dtype=results.dtype)
        for first in range(0, weights.shape[0], spec.rows):
            rows = slice(first, first + spec.rows)
            dot = dot_model(spec, weights[rows], activations[chunk, rows])
            total = wrap(total.astype(object if results.dtype == object else np.int64)
                         + dot.astype(total.dtype), spec.acc_width, spec.signed)
        results[chunk] = total
    return results[0] if vector else results
