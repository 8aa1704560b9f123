"""The integer core of network emulation: matrix products through a design's own arithmetic.

``approx_matmul(x, w, design)`` is ``out[m, n] = sum_k p(w[k, n], x[m, k])`` bit for bit,
where ``p`` is the design's product (the weight is operand ``a``), or the whole macro's model.

How it is fast and still exact (measured on 2 shared CPU cores beside float32 ``x @ w`` of
the same shape, 8-bit operands; ``python -m benchmarks nn_matmul``):

- Up to 8 bits, the design's product table ``LUT`` (``2**w x 2**w``, from ``design.model``)
  is built once per design and process. When ``LUT`` or ``E = LUT - w*x`` has a small exact
  integer rank (``E = U @ V / d``; ``"exact"`` has rank 0, DRUM's ``LUT`` rank 1), the result
  is one GEMM per term on looked-up operands: ``(d*x @ w + sum_r V_r[x] @ U_r[w]) / d``,
  2 to 8x float for one term.
- Any other table (Mitchell's ``E`` has rank 127) goes through per-weight tables summed by
  ``embedding_bag``: ``T[k, a, n] = LUT[w[k, n], a]`` and ``out[m] = sum_k T[k, x[m, k]]``,
  10 to 20x float (it reads a row of ``N`` values per ``(m, k)`` where the GEMM does ``N``
  fused multiply-adds). Measured and slower: a gather of ``LUT[w, x]`` then a sum (about
  200x float: it materialises M*K*N values), a loop over ``k`` of ``index_select`` (about
  150x), a sparse CSR one-hot matrix times the tables (4x slower than ``embedding_bag``),
  float64 tables (2 to 10x slower than float32), int32 indices (no faster), and
  ``1 + rank`` GEMMs for tables of high rank (Mitchell: 128 GEMMs).
- Sums are computed in float32 when every partial sum is an integer below ``2**24`` in
  magnitude, else float64 (below ``2**53``), splitting ``K`` into parts that each meet the
  bound and adding the parts in int64: every step is exact. GEMMs use float64 when the
  backend lets float32 round to TF32 or bfloat16.
- Macros with exact adder trees run per pass of ``rows`` through the same path and wrap as
  their model does; approximate trees run :func:`dcim.macro.model.macro_model` itself.
- Wider designs evaluate ``design.model`` on broadcast operand blocks: exact, and slow
  (about a microsecond per product).

Unsigned designs and signed operands: sign-magnitude. The magnitudes go through the design
and the product is negated when exactly one operand is negative (as sign-magnitude hardware
does: ``p(0, 3)`` with ``x = -3`` gives ``-p(0, 3)``). For a macro, the weights and
activations are split into positive and negative parts and the macro runs the four pairs,
the products of mixed signs subtracted: that is how an unsigned array serves signed values.
"""

from collections import OrderedDict
from fractions import Fraction
from math import gcd, lcm

import numpy as np
import torch
from torch.nn.functional import embedding_bag

from ..arith.multiplier import MultiplierSpec, registries
from ..checks import check_bool, short_repr

__all__ = ["approx_matmul", "product_table"]

TABLE_MAX_WIDTH = 8          # widest design whose product table is built (2**16 entries)
# Each factored GEMM costs about a float matmul plus a gather pass over x; embedding_bag costs
# 10 to 30 float matmuls (measured): up to 3 GEMMs is a sure gain, more was not measured.
_MAX_RANK_GEMMS = 3
_MEMO = OrderedDict()        # per design: its table and the chosen method
_MEMO_SIZE = 64
_EXACT_FLOAT = {torch.float32: 1 << 24, torch.float64: 1 << 53}
_MODEL_BLOCK = 1 << 20       # products per design.model call on the slow path
_TABLE_BYTES = 8 << 20       # per-weight tables summed by one embedding_bag call


# -- validation ---------------------------------------------------------------------------

def _as_int64(label, value, device):
    """``value`` as an int64 tensor on ``device``; a TypeError unless it holds integers."""
    if isinstance(value, torch.Tensor):
        if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
            raise TypeError(f"{label} must hold integers, not {value.dtype}")
        return value.to(device=device, dtype=torch.int64)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise ValueError(f"{label} must be an array of integers, not "
                         f"{short_repr(value)}") from None
    if array.dtype.kind not in "iu":
        raise TypeError(f"{label} must hold integers, not {array.dtype}")
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{label} holds {int(array.max())}, beyond int64")
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.int64)).to(device)


def _extremes(values):
    """``(lowest, highest)`` of a tensor as ints, ``(0, 0)`` when empty: one pass."""
    if values.numel() == 0:
        return 0, 0
    lowest, highest = torch.aminmax(values)
    return int(lowest), int(highest)


def _check_range(label, values, extremes, low, high, design):
    if extremes[0] < low or extremes[1] > high:
        outside = (values < low) | (values > high)
        bad = int(values[outside][0])
        raise ValueError(f"{label} must lie in [{low}, {high}] for {design}, not {bad!r}")


def _check_shapes(x, w):
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"x must have shape (M, K) and w shape (K, N), not "
                         f"{tuple(x.shape)!r} and {tuple(w.shape)!r}")


def _sign_magnitude(design, sign_magnitude, operands, ranges):
    """Whether the product runs sign-magnitude; checks the ``sign_magnitude`` argument."""
    if sign_magnitude is not None:
        sign_magnitude = check_bool("sign_magnitude", sign_magnitude)
    if design.signed:
        if sign_magnitude:
            raise ValueError(f"sign_magnitude applies to unsigned designs only, not to the "
                             f"signed {design.name}")
        return False
    negative = any(extremes[0] < 0 for _, extremes in operands.values())
    if sign_magnitude is False and negative:
        for label, (values, extremes) in operands.items():
            # Names the array and its value, as an out-of-range operand does.
            _check_range(label, values, extremes, 0, ranges[label][1],
                         f"{design.name} without sign_magnitude")
    return bool(sign_magnitude) or (sign_magnitude is None and negative)


# -- exact integer low-rank factorisation ------------------------------------------------

def _low_rank(matrix, max_rank):
    """``(U, V, d)`` with ``matrix == U @ V / d`` exactly (integer arrays), or None.

    The pivots come from float Gaussian elimination with complete pivoting; the factors are
    then the skeleton ``matrix[:, C] @ inv(matrix[R, C]) @ matrix[R, :]``, computed with
    fractions and checked exactly, so that a float rounding can only cost speed.
    """
    residual = matrix.astype(np.float64)
    rows, cols = [], []
    for _ in range(max_rank + 1):
        i, j = np.unravel_index(np.argmax(np.abs(residual)), residual.shape)
        if abs(residual[i, j]) < 0.5:
            break
        rows.append(int(i))
        cols.append(int(j))
        residual = residual - np.outer(residual[:, j], residual[i, :]) / residual[i, j]
    rank = len(rows)
    if rank > max_rank:
        return None
    if rank == 0:
        return np.zeros((matrix.shape[0], 0), np.int64), np.zeros((0, matrix.shape[1]),
                                                                  np.int64), 1
    core = [[Fraction(int(matrix[r, c])) for c in cols] for r in rows]
    inverse = _inverse(core)
    picked = [[int(v) for v in matrix[r, :]] for r in rows]
    combined = [[sum((inverse[i][t] * picked[t][col] for t in range(rank)), Fraction(0))
                 for col in range(matrix.shape[1])] for i in range(rank)]
    d = lcm(*(value.denominator for row in combined for value in row))
    numerators = [[int(value * d) for value in row] for row in combined]
    common = gcd(d, *(value for row in numerators for value in row))
    d //= common
    v = np.array([[value // common for value in row] for row in numerators], dtype=object)
    u, v, d = _primitive(matrix[:, cols].astype(object), v, d)
    if not np.array_equal(u.dot(v), matrix.astype(object) * d):
        return None
    big = max(abs(d), int(np.abs(u).max()), int(np.abs(v).max()))
    if big >= 1 << 62:
        return None
    return u.astype(np.int64), v.astype(np.int64), d


def _primitive(u, v, d):
    """The same product ``u @ v / d`` with each component's common factors moved into one
    coefficient: smaller factors keep more sums within float32, and rank 1 gets ``d = 1``."""
    coefficients = []
    for r in range(u.shape[1]):
        gu, gv = gcd(*u[:, r]), gcd(*v[r])
        u[:, r] //= gu
        v[r] //= gv
        coefficients.append(Fraction(gu * gv, d))
    d = lcm(*(c.denominator for c in coefficients))
    for r, coefficient in enumerate(coefficients):
        u[:, r] *= int(coefficient * d)
    return u, v, d


def _inverse(matrix):
    """Gauss-Jordan inverse of a small square matrix of Fractions."""
    size = len(matrix)
    work = [row[:] + [Fraction(int(i == j)) for j in range(size)]
            for i, row in enumerate(matrix)]
    for col in range(size):
        pivot = next(r for r in range(col, size) if work[r][col] != 0)
        work[col], work[pivot] = work[pivot], work[col]
        scale = work[col][col]
        work[col] = [value / scale for value in work[col]]
        for r in range(size):
            if r != col and work[r][col] != 0:
                factor = work[r][col]
                work[r] = [a - factor * b for a, b in zip(work[r], work[col], strict=True)]
    return [row[size:] for row in work]


# -- the per-design plan ---------------------------------------------------------------------

class _Plan:
    """A design's product table over ``[low, high]`` and how its matmul is computed."""

    def __init__(self, table, low):
        self.table = table
        self.low = low
        top = max(abs(low), abs(low + table.shape[0] - 1))
        self.factors = None         # (U, V, d, exact_part): see _low_rank
        self.k_bound = None         # the largest magnitude one k adds to a factored sum
        self._tensors = {}
        values = np.arange(low, low + table.shape[0], dtype=np.int64)
        # The exact part costs one GEMM: factor E and add it, or factor the table alone.
        for exact_part, target in ((True, table - np.outer(values, values)), (False, table)):
            factors = _low_rank(target, _MAX_RANK_GEMMS - exact_part)
            if factors is None:
                continue
            u, v, d = factors
            bound = (abs(d) * top * top if exact_part else 0) + sum(
                int(np.abs(u[:, r]).max()) * int(np.abs(v[r]).max()) for r in range(u.shape[1]))
            cost = u.shape[1] + exact_part
            if bound < 1 << 52 and (self.factors is None or cost < self.gemms):
                self.factors, self.k_bound, self.gemms = (u, v, d, exact_part), bound, cost
        self.row_max = np.abs(table).max(axis=1)

    def tensor(self, name, device, dtype):
        """``name`` ("table_t", "row_max", "u", "v") as a tensor, kept per device and dtype."""
        key = (name, device, dtype)
        if key not in self._tensors:
            value = {"table_t": lambda: self.table.T, "row_max": lambda: self.row_max,
                     "u": lambda: self.factors[0].T, "v": lambda: self.factors[1]}[name]()
            self._tensors[key] = torch.from_numpy(np.ascontiguousarray(value)).to(
                device=device, dtype=dtype)
        return self._tensors[key]


def _plan(spec, sign_magnitude):
    fingerprint, objects = registries()
    key = (spec, sign_magnitude, fingerprint)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key][0]
    plan = _Plan(*product_table(spec, sign_magnitude=sign_magnitude, with_low=True))
    _MEMO[key] = (plan, objects)
    if len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return plan


def product_table(spec, *, sign_magnitude=False, with_low=False):
    """The product table of a :class:`~dcim.arith.MultiplierSpec` of at most 8 bits.

    ``table[i, j] = p(low + i, low + j)`` for weight ``low + i`` (operand ``a``) and
    activation ``low + j`` (operand ``b``), int64, with ``low`` the lowest operand; with
    ``sign_magnitude`` (unsigned designs), over ``[-high, high]`` as :func:`approx_matmul`
    computes it. ``with_low=True`` returns ``(table, low)``.
    """
    if not isinstance(spec, MultiplierSpec):
        raise TypeError(f"spec must be a MultiplierSpec, not {short_repr(spec)}")
    if spec.width > TABLE_MAX_WIDTH:
        raise ValueError(f"spec.width must be at most {TABLE_MAX_WIDTH} for a product table, "
                         f"not {spec.width!r}")
    low, high = spec.operand_range
    if check_bool("sign_magnitude", sign_magnitude):
        if spec.signed:
            raise ValueError(f"sign_magnitude applies to unsigned designs only, not to the "
                             f"signed {spec.name}")
        low = -high
    values = np.arange(low, high + 1, dtype=np.int64)
    table = _products(spec, values[:, None], values[None, :], sign_magnitude)
    return (table, low) if with_low else table


def _products(spec, a, b, sign_magnitude):
    """``spec.model`` on broadcast operands, through sign-magnitude when asked."""
    if not sign_magnitude:
        return spec.model(a, b).astype(np.int64)
    magnitude = spec.model(np.abs(a), np.abs(b)).astype(np.int64)
    return np.where((a < 0) ^ (b < 0), -magnitude, magnitude)


# -- the computations ----------------------------------------------------------------------

def _ieee_float32_gemm(device):
    """Whether float32 GEMMs on ``device`` round as IEEE float32 (no TF32 or bfloat16)."""
    backends = {"cpu": torch.backends.mkldnn, "cuda": torch.backends.cuda}
    if device.type not in backends:
        return False
    precision = backends[device.type].matmul.fp32_precision
    if precision == "none":
        precision = torch.backends.fp32_precision
    return precision in ("ieee", "none")


def _float_parts(k, bound, float32=True):
    """The float dtype and the number of ``k`` positions per part that keep sums exact.

    float32 halves the memory traffic of float64 (2x faster for both methods, measured), so
    it is kept while a part still spans at least 64 positions; ``float32=False`` (a GEMM
    that a user let round to TF32 or bfloat16, exact only below 2**11) forbids it.
    """
    bound = max(bound, 1)
    for dtype in (torch.float32, torch.float64) if float32 else (torch.float64,):
        part = (_EXACT_FLOAT[dtype] - 1) // bound
        if part >= k:
            return dtype, k
        if part >= 64:
            return dtype, _balanced(k, part // 64 * 64)
        if dtype == torch.float64:
            return dtype, max(1, part)
    raise AssertionError("unreachable")


def _balanced(k, cap):
    """Equal parts of ``k`` of at most ``cap`` (a multiple of 16), rounded up to 16.

    GEMMs over an odd inner size are slow: K = 576 in parts of 258 took 3x longer than in
    parts of 192 (measured), which is also the balanced split.
    """
    parts = -(-k // cap)
    size = -(-k // parts)
    return min(cap, -(-size // 16) * 16)


def _sum_parts(k, part, compute):
    """``compute(slice)`` over parts of ``k`` positions, as int64, summed."""
    out = None
    for start in range(0, k, part):
        value = compute(slice(start, start + part))
        out = value if out is None else out.add_(value)
    return out


def _shifted(values, low):
    return values if low == 0 else values - low


def _lookup(vector, index):
    """``vector[index]``: index_select on the flat index is 4x faster than ``vector[index]``."""
    return vector.index_select(0, index.reshape(-1)).view(index.shape)


def _factored(plan, x, w):
    """``(d * x @ w + V[x] @ U[w]) / d``, one GEMM per term, accumulated in place."""
    u, v, d, exact_part = plan.factors
    dtype, part = _float_parts(x.shape[1], plan.k_bound, _ieee_float32_gemm(x.device))
    # Shifted operands index the factors; the exact part alone needs none.
    xi, wi = (_shifted(x, plan.low), _shifted(w, plan.low)) if u.shape[1] else (None, None)
    u_t = plan.tensor("u", x.device, dtype)
    v_t = plan.tensor("v", x.device, dtype)

    # Converted once: slices of the float copy feed the GEMMs of every part.
    xf, wf = (x.to(dtype), w.to(dtype) * d) if exact_part else (None, None)

    def compute(ks):
        total = xf[:, ks] @ wf[ks] if exact_part else None
        for r in range(u.shape[1]):
            left, right = _lookup(v_t[r], xi[:, ks]), _lookup(u_t[r], wi[ks])
            total = left @ right if total is None else total.addmm_(left, right)
        total = total.to(torch.int64)
        return total if d == 1 else total.floor_divide_(d)

    return _sum_parts(x.shape[1], part, compute)


def _gathered(plan, x, w):
    """Per-weight tables summed by embedding_bag: ``out[m] = sum_k T[k, x[m, k]]``."""
    wi = _shifted(w, plan.low)
    row_max = plan.tensor("row_max", x.device, torch.int64)
    dtype, part = _float_parts(x.shape[1], int(row_max[wi].max()))
    table_t = plan.tensor("table_t", x.device, dtype)
    size = table_t.shape[0]
    # Parts of at most 8 MB of tables: 1.3 to 1.5x faster at K = 576, N = 64 than one part.
    item = torch.finfo(dtype).bits // 8
    cap = max(64, _TABLE_BYTES // (size * w.shape[1] * item) // 16 * 16)
    if part > cap:
        part = _balanced(x.shape[1], cap)

    def compute(ks):
        ws = wi[ks]
        # per_k[k * size + a, n] = LUT[w[k, n], a]: one embedding row per (k, activation).
        # Columns of the transposed table, then one transposing copy: 1.5x faster than
        # gathering rows of the table and permuting, 1.4x faster than advanced indexing.
        # (The result must be contiguous: embedding_bag on a strided table is 30x slower.)
        per_k = (table_t.index_select(1, ws.reshape(-1)).view(size, *ws.shape)
                 .transpose(0, 1).reshape(-1, ws.shape[1]))
        shift = torch.arange(ws.shape[0], device=x.device) * size - plan.low
        return embedding_bag(x[:, ks] + shift, per_k, mode="sum").to(torch.int64)

    return _sum_parts(x.shape[1], part, compute)


def _modelled(spec, x, w, sign_magnitude):
    """The slow exact path: ``design.model`` on blocks of broadcast operands."""
    xs, ws = x.cpu().numpy(), w.cpu().numpy()
    m, k = xs.shape
    n = ws.shape[1]
    out = np.zeros((m, n), dtype=np.int64)
    step = max(1, _MODEL_BLOCK // max(1, k * n))
    for start in range(0, m, step):
        block = xs[start:start + step]
        out[start:start + step] = _products(spec, ws[None, :, :], block[:, :, None],
                                            sign_magnitude).sum(axis=1)
    return torch.from_numpy(out).to(x.device)


def _multiplier_matmul(spec, x, w, sign_magnitude):
    if spec.width > TABLE_MAX_WIDTH:
        return _modelled(spec, x, w, sign_magnitude)
    plan = _plan(spec, sign_magnitude)
    if plan.factors is not None:
        return _factored(plan, x, w)
    return _gathered(plan, x, w)


def _exact_tree_macro(spec, x, w):
    """:func:`~dcim.macro.model.macro_model` for exact adder trees, through the table path.

    An exact tree sums its terms modulo ``2**dot_width`` (bit-serially, the exact 1-bit
    products and shift-accumulate give the integer product): per pass of ``rows``, the
    multiplier's matmul wrapped so, then accumulated with the accumulator's wrap-around.
    The last pass is padded with zero weights and activations, whose products the tree
    adds as the model does.
    """
    from ..macro.model import wrap

    depth = -(-x.shape[1] // spec.rows) * spec.rows
    x = torch.nn.functional.pad(x, (0, depth - x.shape[1]))
    w = torch.nn.functional.pad(w, (0, 0, 0, depth - w.shape[0]))
    total = np.zeros((x.shape[0], w.shape[1]), dtype=np.int64)
    for first in range(0, depth, spec.rows):
        rows = slice(first, first + spec.rows)
        dot = wrap(_multiplier_matmul(spec.mult, x[:, rows], w[rows], False).cpu().numpy(),
                   spec.dot_width, spec.signed)
        total = wrap(total + dot, spec.acc_width, spec.signed)
    return torch.from_numpy(total).to(x.device)


def _macro_matmul(spec, x, w, sign_magnitude):
    from ..macro.model import _tree_is_exact, macro_model

    if sign_magnitude:
        xp, xn = x.clamp(min=0), (-x).clamp(min=0)
        wp, wn = w.clamp(min=0), (-w).clamp(min=0)
        return (_macro_matmul(spec, xp, wp, False) + _macro_matmul(spec, xn, wn, False)
                - _macro_matmul(spec, xn, wp, False) - _macro_matmul(spec, xp, wn, False))
    if _tree_is_exact(spec) and spec.mult.width <= TABLE_MAX_WIDTH and spec.acc_width <= 62:
        return _exact_tree_macro(spec, x, w)
    xs, ws = x.cpu().numpy(), w.cpu().numpy()
    n = ws.shape[1]
    tiles = -(-n // spec.cols)
    # Columns are independent in the macro: N columns run as ceil(N / cols) weight tiles.
    ws = np.pad(ws, ((0, 0), (0, tiles * spec.cols - n)))
    results = [macro_model(spec, ws[:, t * spec.cols:(t + 1) * spec.cols], xs)
               for t in range(tiles)]
    out = np.concatenate(results, axis=1)[:, :n]
    if out.dtype == object:
        try:
            out = out.astype(np.int64)
        except OverflowError:
            raise ValueError(f"results of {spec.name} exceed int64 (acc_width = "
                             f"{spec.acc_width})") from None
    return torch.from_numpy(out).to(x.device)


def approx_matmul(x, w, design, *, sign_magnitude=None):
    """Integer matrix product through a design: ``out[m, n] = sum_k p(w[k, n], x[m, k])``.

    Bit-exact with the design's model (see the module description for how it stays fast).

    Parameters
    ----------
    x : int array or tensor of shape (M, K)
        Activations, operand ``b`` of every product.
    w : int array or tensor of shape (K, N)
        Weights, operand ``a`` of every product (it matters: most approximate designs are
        not commutative).
    design : MultiplierSpec, MacroSpec or DCiMMacro
        A multiplier of any kind, 2 to 16 bits (the products summed exactly in int64); or a
        macro, whose own model applies as :meth:`dcim.macro.DCiMMacro.model` computes it:
        ``K`` in passes of ``rows``, its adder tree (approximate where its assignment says),
        its accumulator width and wrap-around. ``N`` may exceed the macro's ``cols``: the
        columns then run as several weight tiles.
    sign_magnitude : bool or None
        For unsigned designs: run signed operands as sign-magnitude (see the module
        description). ``None`` turns it on when a negative operand is present; ``False``
        refuses negative operands. ``True`` on a signed design is an error.

    Returns
    -------
    int64 array of shape (M, N)
        A torch tensor on ``x``'s device if ``x`` is a tensor, else a NumPy array.

    Raises
    ------
    TypeError
        If ``design`` is of another type, or ``x`` or ``w`` does not hold integers.
    ValueError
        If a shape is not 2-D or ``K`` differs (naming both shapes); if an operand lies
        outside the design's range (naming the array and the value).
    """
    from ..macro import DCiMMacro, MacroSpec

    if isinstance(design, DCiMMacro):
        design = design.spec
    if isinstance(design, MultiplierSpec):
        if design.width > 16:
            raise ValueError(f"design.width must be at most 16 for approx_matmul, "
                             f"not {design.width!r}")
        low, high = design.operand_range
        ranges = {"x": (low, high), "w": (low, high)}
    elif isinstance(design, MacroSpec):
        ranges = {"x": design.value_range(design.act_bits),
                  "w": design.value_range(design.weight_bits)}
    else:
        raise TypeError(f"design must be a MultiplierSpec, MacroSpec or DCiMMacro, "
                        f"not {short_repr(design)}")
    as_tensor = isinstance(x, torch.Tensor)
    device = x.device if as_tensor else torch.device("cpu")
    x = _as_int64("x", x, device)
    w = _as_int64("w", w, device)
    _check_shapes(x, w)
    operands = {"x": (x, _extremes(x)), "w": (w, _extremes(w))}
    signed_magnitude = _sign_magnitude(design, sign_magnitude, operands, ranges)
    for label, (values, extremes) in operands.items():
        low, high = ranges[label]
        _check_range(label, values, extremes, -high if signed_magnitude else low, high,
                     design.name)
    if x.shape[0] == 0 or x.shape[1] == 0 or w.shape[1] == 0:
        out = torch.zeros((x.shape[0], w.shape[1]), dtype=torch.int64, device=device)
    elif isinstance(design, MultiplierSpec):
        out = _multiplier_matmul(design, x, w, signed_magnitude)
    else:
        out = _macro_matmul(design, x, w, signed_magnitude)
    return out if as_tensor else out.cpu().numpy()
