"""Tree multipliers: partial products, a compressor tree, a carry-propagate adder.

Kind ``"exact"`` reduces with full and half adders; kind ``"approx"`` assigns approximate
4:2 compressors per column (or per column and stage) and may truncate or OR the lowest
columns. Both walk one :class:`~dcim.arith.tree.ReductionPlan`, bit for bit the same in the
hardware and in the NumPy model.
"""

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from amaranth.hdl import Cat

from ..checks import check_int, short_repr
from .logic import AmaranthLogic, NumpyLogic, bits_from_words, words_from_bits
from .multiplier import MultiplierKind, register_multiplier_kind
from .partial_products import PARTIAL_PRODUCT_METHODS, partial_products
from .tree import (
    TREE_SCHEDULES,
    CompressorAssignment,
    check_assignment,
    plan_reduction,
    reduce_columns,
    replacement_compressors,
)

__all__ = ["ApproxOptions", "ExactOptions", "tree_model", "tree_plan"]

FINAL_ADDERS = ("behavioral", "ripple")
_MODEL_CHUNK = 1 << 16  # vectors per chunk: bounds the model's memory for large sweeps


def _check_choice(parameter, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{parameter} must be one of {choices}, not {short_repr(value)}")


def _check_count(parameter, value):
    """``value`` as a plain non-negative int (NumPy integers accepted)."""
    try:
        return check_int(parameter, value, 0)
    except (TypeError, ValueError):
        raise ValueError(f"{parameter} must be a non-negative int, "
                         f"not {short_repr(value)}") from None


@dataclass(frozen=True)
class ExactOptions:
    """Options of kind ``"exact"``.

    Parameters
    ----------
    partial_products : str
        ``"array"`` (AND array, Baugh-Wooley when signed) or ``"booth4"`` (radix-4 Booth).
    tree : str
        ``"dadda"`` or ``"wallace"``.
    final_adder : str
        ``"behavioral"`` (synthesis picks the adder) or ``"ripple"``.
    """

    partial_products: str = "array"
    tree: str = "dadda"
    final_adder: str = "behavioral"

    def __post_init__(self):
        _check_choice("partial_products", self.partial_products, PARTIAL_PRODUCT_METHODS)
        _check_choice("tree", self.tree, TREE_SCHEDULES)
        _check_choice("final_adder", self.final_adder, FINAL_ADDERS)


@dataclass(frozen=True)
class ApproxOptions(ExactOptions):
    """Options of kind ``"approx"``: an exact tree's options plus where to approximate.

    Parameters
    ----------
    compressor : str
        Approximate compressor used in the lowest ``columns`` columns of every stage: any
        registered compressor that can replace a full adder (not ``"half_adder"``).
    columns : int or None
        How many low columns use ``compressor``; ``None`` means ``width`` (the lower half).
    assignment : CompressorAssignment, dict or None
        Explicit per-column (and per-stage) choice; replaces ``compressor`` and ``columns``.
        When the spec is built (it knows the width), an override that does not change the
        plan is refused, and a ``columns`` entry that places its compressor in no stage of
        its column is dropped (see :func:`~dcim.arith.tree.check_assignment`).
    truncate : int
        Drop the partial-product bits of the lowest ``truncate`` columns (their product bits
        are zero).
    or_low : int
        Replace the addition in the lowest ``or_low`` columns by an OR of their bits, with no
        carry into higher columns.
    """

    compressor: str = "acci1"
    columns: int | None = None
    assignment: CompressorAssignment | None = None
    truncate: int = 0
    or_low: int = 0

    def __post_init__(self):
        super().__post_init__()
        acceptable = replacement_compressors()
        if not isinstance(self.compressor, str) or self.compressor not in acceptable:
            # Checked here, not first in the tree: a half adder cannot take a full adder's
            # place, and the options must not accept what model() would then refuse.
            raise ValueError(f"compressor must be one of {', '.join(acceptable)} (the "
                             f"compressors that can replace a full adder), "
                             f"not {short_repr(self.compressor)}")
        if self.columns is not None:
            try:
                object.__setattr__(self, "columns", check_int("columns", self.columns, 0))
            except (TypeError, ValueError):
                raise ValueError(f"columns must be a non-negative int or None, "
                                 f"not {short_repr(self.columns)}") from None
        if isinstance(self.assignment, dict):
            object.__setattr__(self, "assignment",
                               CompressorAssignment.from_dict(self.assignment))
        elif self.assignment is not None and not isinstance(self.assignment,
                                                            CompressorAssignment):
            raise TypeError(f"assignment must be a CompressorAssignment or dict, "
                            f"not {short_repr(self.assignment)}")
        for parameter in ("truncate", "or_low"):
            object.__setattr__(self, parameter, _check_count(parameter, getattr(self, parameter)))

    def resolved_assignment(self, width):
        if self.assignment is not None:
            return self.assignment
        columns = width if self.columns is None else self.columns
        return CompressorAssignment.uniform(self.compressor, columns)

    def to_dict(self):
        data = {"partial_products": self.partial_products, "tree": self.tree,
                "final_adder": self.final_adder, "truncate": self.truncate,
                "or_low": self.or_low}
        if self.assignment is not None:
            data["assignment"] = self.assignment.to_dict()
        else:
            data["compressor"] = self.compressor
            if self.columns is not None:
                data["columns"] = self.columns
        return data


@lru_cache(maxsize=256)
def _pp_heights(method, width, is_signed):
    logic = NumpyLogic((1,))
    zeros = [logic.const(0)] * width
    columns = partial_products(method, logic, zeros, zeros, signed=is_signed)
    return tuple(len(column) for column in columns)


def _columns(spec, logic, a_bits, b_bits):
    columns = partial_products(spec.options.partial_products, logic, a_bits, b_bits,
                               signed=spec.signed)
    truncate = getattr(spec.options, "truncate", 0)
    return [[] if k < truncate else column for k, column in enumerate(columns)]


def _heights(options, width, is_signed):
    """Bits per column that the tree reduces: the partial products left by truncation."""
    heights = _pp_heights(options.partial_products, width, is_signed)
    truncate = getattr(options, "truncate", 0)
    return [0 if k < truncate else h for k, h in enumerate(heights)]


@lru_cache(maxsize=256)
def tree_plan(spec):
    """The reduction plan of a tree multiplier spec (cached: specs are hashable)."""
    heights = _heights(spec.options, spec.width, spec.signed)
    assignment = (spec.options.resolved_assignment(spec.width)
                  if isinstance(spec.options, ApproxOptions) else None)
    return plan_reduction(heights, schedule=spec.options.tree, assignment=assignment,
                          or_columns=getattr(spec.options, "or_low", 0))


def tree_model(spec, a, b):
    """Evaluate the tree bit by bit in NumPy: the golden model of ``"approx"`` designs."""
    plan = tree_plan(spec)
    width = spec.width
    a = np.asarray(a, dtype=np.int64).ravel()
    b = np.asarray(b, dtype=np.int64).ravel()
    mask = np.uint64((1 << width) - 1)
    result = np.empty(a.shape, dtype=np.uint64)
    for start in range(0, a.size, _MODEL_CHUNK):
        chunk = slice(start, start + _MODEL_CHUNK)
        logic = NumpyLogic(a[chunk].shape)
        a_bits = bits_from_words(a[chunk].astype(np.uint64) & mask, width)
        b_bits = bits_from_words(b[chunk].astype(np.uint64) & mask, width)
        bits = reduce_columns(plan, logic, _columns(spec, logic, a_bits, b_bits),
                              final_adder=spec.options.final_adder)
        result[chunk] = words_from_bits(bits, a[chunk].shape)
    return _to_product(spec, result)


def _to_product(spec, raw):
    """Interpret raw ``2w``-bit product patterns as the spec's product values."""
    product_bits = 2 * spec.width
    if not spec.signed:
        return raw if product_bits == 64 else raw.astype(np.int64)
    if product_bits == 64:
        return raw.view(np.int64)
    values = raw.astype(np.int64)
    return np.where(values >= 1 << (product_bits - 1), values - (1 << product_bits), values)


def _elaborate_tree(spec, module, a, b):
    logic = AmaranthLogic(module)
    a_bits = [a[k] for k in range(spec.width)]
    b_bits = [b[k] for k in range(spec.width)]
    bits = reduce_columns(tree_plan(spec), logic, _columns(spec, logic, a_bits, b_bits),
                          final_adder=spec.options.final_adder)
    product = Cat(*bits)
    return product.as_signed() if spec.signed else product


def _describe_tree(spec):
    plan = tree_plan(spec)
    totals = plan.totals()
    return {"stages": plan.stages,
            "compressors": ", ".join(f"{n} {name}" for name, n in sorted(totals.items()))}


def _canonical_tree(options, heights, assignment=None, or_columns=0):
    """``options`` with ``tree="dadda"`` where Wallace's schedule plans the same cells."""
    if options.tree == "dadda":
        return options
    plans = [plan_reduction(heights, schedule=schedule, assignment=assignment,
                            or_columns=or_columns).cells for schedule in ("dadda", options.tree)]
    return dataclasses.replace(options, tree="dadda") if plans[0] == plans[1] else options


def _canonical_approx(options, width, is_signed):
    """Options of kind ``"approx"`` in the one form shared by all that build their circuit.

    - ``truncate`` does not count empty top columns (``2*width`` and ``2*width - 1`` are
      the same for an unsigned array); ``or_low`` is 0 where the OR-ed columns hold at most one bit
      each (an OR of one bit is that bit, and no carry leaves them).
    - An explicit assignment loses the entries that place nothing (see
      :func:`~dcim.arith.tree.check_assignment`, which also refuses overrides that place
      nothing), and becomes the ``compressor``/``columns`` shorthand when it is one
      compressor in a run of columns from column 0 that the shorthand plans alike; otherwise
      ``compressor`` and ``columns``, which it replaces, take their defaults.
    - ``columns`` ends at the highest column where ``compressor`` is placed (so ``8`` and
      ``None`` at width 8 are one design), and is ``None`` when that is ``width``; with no
      compressor placed, ``columns`` is 0 and ``compressor`` the default.
    - ``tree`` is ``"dadda"`` where Wallace's schedule plans the same cells.
    """
    pp_heights = _pp_heights(options.partial_products, width, is_signed)
    truncate = options.truncate
    while truncate and pp_heights[truncate - 1] == 0:
        truncate -= 1
    heights = [0 if k < truncate else h for k, h in enumerate(pp_heights)]
    or_low = options.or_low if any(h > 1 for h in heights[:options.or_low]) else 0
    options = dataclasses.replace(options, truncate=truncate, or_low=or_low)

    def plan(assignment):
        return plan_reduction(heights, schedule=options.tree, assignment=assignment,
                              or_columns=or_low)

    default = ApproxOptions.compressor
    if options.assignment is not None:
        # Here, not when the tree is built: an entry that places nothing would give the
        # design another name for the same circuit.
        assignment, planned = check_assignment(options.assignment, heights,
                                               schedule=options.tree, or_columns=or_low)
        names = {name for _, name in assignment.columns}
        top = max((column for column, _ in assignment.columns), default=-1) + 1
        if not assignment.overrides and len(names) <= 1:
            compressor = names.pop() if names else default
            if plan(CompressorAssignment.uniform(compressor, top)).cells == planned.cells:
                options = dataclasses.replace(options, assignment=None, compressor=compressor,
                                              columns=top)
        if options.assignment is not None:
            options = dataclasses.replace(options, assignment=assignment, compressor=default,
                                          columns=None)
    if options.assignment is None:
        columns = width if options.columns is None else options.columns
        placed = [cell.column for cell in plan(CompressorAssignment.uniform(
            options.compressor, columns)).cells if cell.compressor == options.compressor]
        columns = max(placed) + 1 if placed and options.compressor != "full_adder" else 0
        options = dataclasses.replace(
            options, compressor=options.compressor if columns else default,
            columns=None if columns == width else columns)
    return _canonical_tree(options, heights, options.resolved_assignment(width), or_low)


class ExactKind(MultiplierKind):
    """Exact tree multiplier; its model is ``a * b``, independent of the tree."""

    name = "exact"
    Options = ExactOptions

    def canonical(self, spec):
        heights = _heights(spec.options, spec.width, spec.signed)
        return _canonical_tree(spec.options, heights)

    def model(self, spec, a, b):
        if spec.width == 32 and not spec.signed:
            return a.astype(np.uint64) * b.astype(np.uint64)
        return a * b

    def elaborate(self, spec, module, a, b):
        return _elaborate_tree(spec, module, a, b)

    def describe(self, spec):
        return _describe_tree(spec)


class ApproxKind(MultiplierKind):
    """Tree multiplier with approximate compressors, truncation or OR-ed low columns."""

    name = "approx"
    Options = ApproxOptions

    def validate(self, spec):
        options = spec.options
        for parameter in ("truncate", "or_low", "columns"):
            value = getattr(options, parameter)
            if value is not None and value > 2 * spec.width:
                raise ValueError(f"{parameter} must be at most 2*width = {2 * spec.width}, "
                                 f"not {value!r}")
        if options.assignment is not None:
            top = max([c for c, _ in options.assignment.columns]
                      + [c for (_, c), _ in options.assignment.overrides], default=0)
            if top >= 2 * spec.width:
                raise ValueError(f"assignment names column {top}, beyond the product's "
                                 f"{2 * spec.width} columns")

    def canonical(self, spec):
        """One form per circuit: see :func:`_canonical_approx`."""
        return _canonical_approx(spec.options, spec.width, spec.signed)

    def name_suffix(self, options):
        parts = [] if options.partial_products == "array" else [options.partial_products]
        if options.tree != "dadda":
            parts.append(options.tree)
        if options.final_adder != "behavioral":
            parts.append(options.final_adder)
        if options.assignment is not None:
            parts.append(options.assignment.summary() or "none")
        else:
            columns = "w" if options.columns is None else str(options.columns)
            parts.append(f"{options.compressor}x{columns}")
        if options.truncate:
            parts.append(f"trunc{options.truncate}")
        if options.or_low:
            parts.append(f"or{options.or_low}")
        return "_".join(parts)

    def model(self, spec, a, b):
        shape = np.broadcast(a, b).shape
        return tree_model(spec, a, b).reshape(shape)

    def elaborate(self, spec, module, a, b):
        return _elaborate_tree(spec, module, a, b)

    def describe(self, spec):
        return _describe_tree(spec)


register_multiplier_kind(ExactKind())
register_multiplier_kind(ApproxKind())
