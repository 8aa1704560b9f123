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
  bound and adding the parts in float64 or int64: every step is exact. The bound is the
  weights' own: each column's sum of the largest magnitude each of its weights can add
  (trained weights are mostly small, so a whole ``K`` usually fits where ``K`` times the
  largest product would not). GEMMs use float64 when the backend lets float32 round to TF32
  or bfloat16.
- For dcim.nn's layers, whose quantization already keeps the operands in range, an unchecked
  path takes the float activations as they are (no int64 copy, no range pass) and returns the
  float sums that hold the integers exactly. A convolution does not unfold its input: a
  factored design runs one ``conv2d`` per term on looked-up activations (where torch's CPU
  convolution is known to be a direct or GEMM-based one in IEEE arithmetic; NNPACK and
  cuDNN may choose Winograd or FFT algorithms, so elsewhere the patches are unfolded), in
  parts of whole input channels when the sums would exceed the float bound; per-weight tables
  are gathered with window indices written straight from the channels-last activations
  (``python -m benchmarks nn_cnn`` measures a whole network).
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
from .operands import (
    as_int64,
    check_range,
    check_shapes,
    design_of,
    ieee_float32_gemm,
    value_extremes,
)

__all__ = ["PreparedWeights", "approx_matmul", "prepare_weights", "product_table"]

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
            check_range(label, values, extremes, 0, ranges[label][1],
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
            # bound: the largest magnitude one k adds to a factored sum.
            if bound < 1 << 52 and (self.factors is None or cost < self.gemms):
                self.factors, self.gemms = (u, v, d, exact_part), cost
        self.weight_bound = self._weight_bound(values, top)

    def _weight_bound(self, values, top):
        """Per weight value, the largest magnitude that one product adds to a sum: for the
        gathered tables the row's largest entry, for factors the terms' largest magnitudes."""
        if self.factors is None:
            return np.abs(self.table).max(axis=1)
        u, v, d, exact_part = self.factors
        bound = np.abs(values) * (abs(d) * top) if exact_part else np.zeros_like(values)
        for r in range(u.shape[1]):
            bound = bound + np.abs(u[:, r]) * int(np.abs(v[r]).max())
        return bound

    def tensor(self, name, device, dtype):
        """``name`` ("table_t", "weight_bound", "u", "v") as a tensor, kept per device and
        dtype."""
        key = (name, device, dtype)
        if key not in self._tensors:
            value = {"table_t": lambda: self.table.T, "weight_bound": lambda: self.weight_bound,
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


def _part_slices(k, part):
    """The slices of ``k`` positions in parts of ``part``."""
    return [slice(start, start + part) for start in range(0, k, part)]


def _shifted(values, low):
    return values if low == 0 else values - low


def _index(values, low):
    """``values - low`` as an index: int32 from a float tensor of integers (the layers' path,
    half the bytes of int64), int64 kept as it is."""
    if values.dtype.is_floating_point:
        values = values.to(torch.int32)
    return _shifted(values, low)


def _lookup(vector, index):
    """``vector[index]``: index_select on the flat index is 4x faster than ``vector[index]``."""
    return vector.index_select(0, index.reshape(-1)).view(index.shape)


def _column_total(bounds):
    """An upper bound of the largest column sum of ``bounds`` (K, N), float64.

    The float64 sum rounds by at most ``(K - 1) * 2**-53`` of the total; the margin covers it,
    so that the test against ``2**24`` or ``2**53`` errs only towards caution.
    """
    total = float(bounds.sum(0).max())
    return total * (1 + bounds.shape[0] * 2.0 ** -52)


def _weight_parts(bounds, float32=True):
    """:func:`_float_parts` for terms bounded per weight: ``bounds[k, n]`` bounds ``|term|``.

    Trained weights are mostly far below the largest value, so every column's sum of its
    weights' bounds usually stays exact in float32 over the whole ``K`` where the worst case
    (``K`` times the largest bound) would split it.
    """
    k = bounds.shape[0]
    total = _column_total(bounds)
    if float32 and total < _EXACT_FLOAT[torch.float32]:
        return torch.float32, k
    dtype, part = _float_parts(k, int(bounds.max()), float32)
    if dtype == torch.float64 and part < k and total < _EXACT_FLOAT[torch.float64]:
        return dtype, k
    return dtype, part


def _greedy_parts(bounds, limit):
    """Consecutive slices of the rows of ``bounds`` (R, N) whose column sums stay below
    ``limit``; None when one row alone reaches it. One slice when every column fits."""
    if _column_total(bounds) < limit:
        return [slice(0, bounds.shape[0])]
    peaks = bounds.max(dim=1).values.tolist()
    if max(peaks) >= limit:
        return None
    slices, start, running = [], 0, 0.0
    for row, peak in enumerate(peaks):
        # Row maxima summed bound every column's sum, exactly: each is an integer < 2**53.
        if running + peak >= limit:
            slices.append(slice(start, row))
            start, running = row, 0.0
        running += peak
    slices.append(slice(start, len(peaks)))
    return slices


def _summed(parts):
    """The exact sum of parts holding exact integers: float32 parts (each below ``2**24``)
    added in float64, float64 parts in int64."""
    if len(parts) == 1:
        return parts[0]
    exact = torch.float64 if parts[0].dtype == torch.float32 else torch.int64
    total = parts[0].to(exact)
    for part in parts[1:]:
        total.add_(part.to(exact))
    return total



def _mkldnn_conv_ieee():
    """Whether oneDNN convolutions in float32 round as IEEE float32 (no TF32 or bfloat16)."""
    precision = torch.backends.mkldnn.conv.fp32_precision
    if precision == "none":
        precision = torch.backends.mkldnn.fp32_precision
    if precision == "none":
        precision = torch.backends.fp32_precision
    return precision in ("ieee", "none")


def _exact_conv(x, weight, stride, padding, dilation):
    """Whether torch's convolution of ``x`` by ``weight`` sums integers exactly below the
    float bound: a direct or GEMM-based algorithm in IEEE arithmetic.

    NNPACK (which torch picks on the CPU when oneDNN is off) and cuDNN may transform the
    operands (Winograd, FFT) or round to TF32, so only the CPU's oneDNN and im2col
    convolutions qualify; elsewhere the layers unfold and multiply, exact on every device.
    """
    select = getattr(torch._C, "_select_conv_backend", None)
    if x.device.type != "cpu" or select is None:
        return False
    backends = torch._C._ConvBackend
    backend = select(x, weight, None, list(stride), list(padding), list(dilation), False,
                     [0, 0], 1, None)
    if backend in (backends.Slow2d, backends.SlowDilated2d):
        return True
    return backend == backends.Mkldnn and (x.dtype != torch.float32 or _mkldnn_conv_ieee())


def _conv_shape(x, kernel_size, stride, dilation, pads):
    """``(height, width)`` of a convolution's output over ``x`` padded by ``pads``
    (left, right, top, bottom)."""
    sizes = (x.shape[2] + pads[2] + pads[3], x.shape[3] + pads[0] + pads[1])
    return tuple((sizes[i] - dilation[i] * (kernel_size[i] - 1) - 1) // stride[i] + 1
                 for i in range(2))


class _Factored:
    """``(d * x @ w + V[x] @ U[w]) / d``, one GEMM per term, accumulated in place.

    The weight side (its float copy and its looked-up factors) is built once, so that a
    layer reuses it for every batch; a convolution runs as one ``conv2d`` per term on the
    looked-up activations, without unfolding them.
    """

    def __init__(self, plan, w):
        u, v, d, exact_part = plan.factors
        self.plan, self.rank, self.d, self.exact_part = plan, u.shape[1], d, exact_part
        self.k, self.n = w.shape
        wi = _shifted(w, plan.low)
        self.bounds = _lookup(plan.tensor("weight_bound", w.device, torch.float64), wi)
        self.dtype, self.part = _weight_parts(self.bounds, ieee_float32_gemm(w.device))
        u_t = plan.tensor("u", w.device, self.dtype)
        # The terms' weight sides, (K, N) each: d * w for the exact part, then U_r[w].
        self.terms = ([w.to(self.dtype) * d] if exact_part else []) + [
            _lookup(u_t[r], wi) for r in range(self.rank)]
        self._convs = {}

    def __call__(self, x):
        return self.sums(x).to(torch.int64)

    def _activations(self, x, dtype, act_low=None):
        """The terms' activation sides: ``x`` itself for the exact part, then ``V_r[x]``.

        Activations known to be at least ``act_low >= 0`` index the factors from 0 on: no
        shifted copy of ``x``.
        """
        v_t = self.plan.tensor("v", x.device, dtype)
        low = self.plan.low
        if act_low is not None and act_low >= 0:
            v_t, low = v_t[:, -low:], 0
        xi = _index(x, low) if self.rank else None
        return ([x.to(dtype)] if self.exact_part else []) + [
            _lookup(v_t[r], xi) for r in range(self.rank)]

    def sums(self, x):
        """The exact sums for activations ``x`` (M, K) of integers (int or float tensor)."""
        if not self.terms:
            return torch.zeros((x.shape[0], self.n), dtype=self.dtype, device=x.device)
        # Looked up and converted once: slices feed the GEMMs of every part.
        lefts = self._activations(x, self.dtype)
        parts = []
        for ks in _part_slices(self.k, self.part):
            total = None
            for left, right in zip(lefts, self.terms, strict=True):
                total = (left[:, ks] @ right[ks] if total is None
                         else total.addmm_(left[:, ks], right[ks]))
            # Each part is d times an integer sum: the float quotient is exact.
            parts.append(total if self.d == 1 else total.div_(self.d))
        return _summed(parts)

    def conv2d(self, x, kernel_size, stride, dilation, pads, act_range=None):
        """The exact sums of a convolution of activations ``x`` (B, C, H, W) padded with
        zero activations by ``pads`` (left, right, top, bottom), as a float tensor
        (B, N, H', W'); None where no exact convolution is known (then the caller unfolds).
        ``K`` is ``C * kernel area``, channels outermost."""
        key = (x.shape[1], tuple(kernel_size))
        if key not in self._convs:
            self._convs[key] = self._conv_weights(*key)
        dtype, channel_parts, weights = self._convs[key]
        if dtype is None or not weights:
            return None
        acts = self._activations(x, dtype, None if act_range is None else act_range[0])
        # A padded zero activation is 0 for the exact part and V_r[0] for the others: where
        # all are 0, the convolution pads itself (one copy of the activations fewer).
        zeros = ([0] if self.exact_part else []) + [
            int(self.plan.factors[1][r][-self.plan.low]) for r in range(self.rank)]
        padding = (pads[2], pads[0])
        if pads[0] != pads[1] or pads[2] != pads[3] or any(zeros):
            acts = [torch.nn.functional.pad(act, pads, value=zero)
                    for act, zero in zip(acts, zeros, strict=True)]
            padding = (0, 0)
        if not _exact_conv(acts[0], weights[0], stride, padding, dilation):
            return None
        parts = []
        for cs in channel_parts:
            total = None
            for act, weight in zip(acts, weights, strict=True):
                term = torch.nn.functional.conv2d(act[:, cs], weight[:, cs], stride=stride,
                                                  padding=padding, dilation=dilation)
                total = term if total is None else total.add_(term)
            parts.append(total if self.d == 1 else total.div_(self.d))
        return _summed(parts)

    def _conv_weights(self, channels, kernel_size):
        """``(dtype, channel slices, [term weights (N, C, kh, kw)])`` of a convolution:
        float32 while each part's sums stay exact there, parts of whole channels."""
        area = kernel_size[0] * kernel_size[1]
        per_channel = self.bounds.view(channels, area, self.n).sum(1)
        for dtype in (torch.float32, torch.float64):
            channel_parts = _greedy_parts(per_channel, _EXACT_FLOAT[dtype])
            if channel_parts is not None:
                break
        else:
            return None, None, None
        weights = [term.t().reshape(self.n, channels, *kernel_size).to(dtype).contiguous()
                   for term in self.terms]
        return dtype, channel_parts, weights


class _Gathered:
    """Per-weight tables summed by embedding_bag: ``out[m] = sum_k T[k, x[m, k]]``.

    The tables ``T`` depend on the weights alone: built once per weight matrix, at the first
    product (a convolution builds its own, in the order of its windows).
    """

    def __init__(self, plan, w):
        self.plan, self.k, self.n = plan, *w.shape
        self.wi = _shifted(w, plan.low)
        self.bounds = _lookup(plan.tensor("weight_bound", w.device, torch.float64), self.wi)
        self._parts = None
        self._convs = {}

    def __call__(self, x):
        return self.sums(x).to(torch.int64)

    def _tables(self):
        """``[(k slice, per_k, shift)]``: the tables of :meth:`sums`, in parts."""
        if self._parts is not None:
            return self._parts
        plan, wi = self.plan, self.wi
        dtype, part = _weight_parts(self.bounds)
        table_t = plan.tensor("table_t", wi.device, dtype)
        size = table_t.shape[0]
        # Parts of at most 8 MB of tables: 1.3 to 1.5x faster at K = 576, N = 64 than one part.
        item = torch.finfo(dtype).bits // 8
        cap = max(64, _TABLE_BYTES // (size * self.n * item) // 16 * 16)
        if part > cap:
            part = _balanced(self.k, cap)
        self._parts = []
        for ks in _part_slices(self.k, part):
            ws = wi[ks]
            # per_k[k * size + a, n] = LUT[w[k, n], a]: one embedding row per (k, activation).
            # Columns of the transposed table, then one transposing copy: 1.5x faster than
            # gathering rows of the table and permuting, 1.4x faster than advanced indexing.
            # (The result must be contiguous: embedding_bag on a strided table is 30x slower.)
            per_k = (table_t.index_select(1, ws.reshape(-1)).view(size, *ws.shape)
                     .transpose(0, 1).reshape(-1, ws.shape[1]))
            shift = torch.arange(ws.shape[0], device=wi.device) * size - plan.low
            self._parts.append((ks, per_k, shift))
        return self._parts

    def sums(self, x):
        """The exact sums for activations ``x`` (M, K) of integers (int or float tensor)."""
        parts = []
        for ks, per_k, shift in self._tables():
            if x.dtype.is_floating_point and per_k.shape[0] < 1 << 31:
                # int32 indices from the layers' float activations: one pass fewer.
                index = x[:, ks].to(torch.int32).add_(shift.to(torch.int32))
            else:
                index = x[:, ks].to(torch.int64) + shift
            parts.append(embedding_bag(index, per_k, mode="sum"))
        return _summed(parts)

    def conv2d(self, x, kernel_size, stride, dilation, pads, act_range=None):
        """The exact sums of a convolution of activations ``x`` (B, C, H, W) in
        ``act_range`` (the design's range by default), padded with zero activations by
        ``pads`` (left, right, top, bottom), as a float tensor (B, N, H', W').

        The window indices are written straight from the channels-last activations, rows of
        the kernel at a time, into the order ``(kernel row, kernel column, channel)``: no
        unfolded float copy, no transposes. The result is a channels-last view.
        """
        batch, channels = x.shape[:2]
        kh, kw = kernel_size
        low = self.plan.low
        act_low, act_high = act_range or (low, low + self.plan.table.shape[0] - 1)
        key = (channels, kh, kw, act_low, act_high)
        if key not in self._convs:
            self._convs[key] = self._conv_tables(*key)
        table, offsets, parts = self._convs[key]
        if table is None:
            return None
        height, width = _conv_shape(x, kernel_size, stride, dilation, pads)
        left, right, top, bottom = pads
        source = torch.empty((batch, x.shape[2] + top + bottom, x.shape[3] + left + right,
                              channels), dtype=torch.int32, device=x.device)
        # The padding written as zero activations around the copy: no padded float copy.
        source[:, :top].zero_()
        source[:, source.shape[1] - bottom:].zero_()
        source[:, :, :left].zero_()
        source[:, :, source.shape[2] - right:].zero_()
        source[:, top:top + x.shape[2], left:left + x.shape[3]].copy_(x.permute(0, 2, 3, 1))
        row, column = source.stride(1), source.stride(2)
        window = (batch, height, width)
        window_strides = (source.stride(0), stride[0] * row, stride[1] * column)
        index = torch.empty((*window, kh, kw, channels), dtype=torch.int32, device=x.device)
        if dilation[1] == 1:
            # A kernel row of every window is kw * C consecutive values: one copy per row.
            for i in range(kh):
                torch.add(source.as_strided((*window, kw * channels), (*window_strides, 1),
                                            i * dilation[0] * row),
                          offsets[i].reshape(-1), out=index[:, :, :, i].view(*window, -1))
        else:
            for i in range(kh):
                for j in range(kw):
                    torch.add(source.as_strided((*window, channels), (*window_strides, 1),
                                                i * dilation[0] * row + j * dilation[1] * column),
                              offsets[i, j], out=index[:, :, :, i, j])
        index = index.view(-1, kh * kw * channels)
        sums = _summed([embedding_bag(index if len(parts) == 1 else index[:, ks], table,
                                      mode="sum") for ks in parts])
        return sums.view(batch, height, width, self.n).permute(0, 3, 1, 2)

    def _conv_tables(self, channels, kh, kw, act_low, act_high):
        """``(table, offsets (kh, kw, C), k slices)`` of a convolution: one table over every
        ``k`` in window order and the activations in range, summed in parts of ``k`` that stay
        exact in float32 (float64 tables when one position alone would not)."""
        plan = self.plan
        size = act_high - act_low + 1
        k = channels * kh * kw
        if k * size >= 1 << 31:
            return None, None, None
        # Window order (i, j, c) from the unfolded order (c, i, j) of the weight matrix.
        order = torch.arange(k, device=self.wi.device).view(channels, kh, kw).permute(1, 2, 0)
        wi = self.wi.index_select(0, order.reshape(-1))
        bounds = self.bounds.index_select(0, order.reshape(-1))
        dtype, parts = torch.float32, _greedy_parts(bounds, _EXACT_FLOAT[torch.float32])
        if parts is None:
            dtype, parts = torch.float64, _greedy_parts(bounds, _EXACT_FLOAT[torch.float64])
            if parts is None:
                return None, None, None
        rows = plan.tensor("table_t", wi.device, dtype)[act_low - plan.low:act_high - plan.low + 1]
        table = (rows.index_select(1, wi.reshape(-1)).view(size, k, self.n).transpose(0, 1)
                 .reshape(-1, self.n))
        offsets = (torch.arange(k, dtype=torch.int32, device=wi.device) * size
                   - act_low).view(kh, kw, channels)
        return table, offsets, parts


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


def _multiplier_weights(spec, w, sign_magnitude):
    """The callable ``x -> out`` of a multiplier with its weight side built."""
    if spec.width > TABLE_MAX_WIDTH:
        return lambda x: _modelled(spec, x, w, sign_magnitude)
    plan = _plan(spec, sign_magnitude)
    return (_Factored if plan.factors is not None else _Gathered)(plan, w)


class _ExactTreeMacro:
    """:func:`~dcim.macro.model.macro_model` for exact adder trees, through the table path.

    An exact tree sums its terms modulo ``2**dot_width`` (bit-serially, the exact 1-bit
    products and shift-accumulate give the integer product): per pass of ``rows``, the
    multiplier's matmul wrapped so, then accumulated with the accumulator's wrap-around.
    The last pass is padded with zero weights and activations, whose products the tree
    adds as the model does.
    """

    def __init__(self, spec, w):
        self.spec = spec
        self.depth = -(-w.shape[0] // spec.rows) * spec.rows
        w = torch.nn.functional.pad(w, (0, 0, 0, self.depth - w.shape[0]))
        self.passes = [_multiplier_weights(spec.mult, w[first:first + spec.rows], False)
                       for first in range(0, self.depth, spec.rows)]

    def __call__(self, x):
        from ..macro.model import wrap

        spec = self.spec
        x = torch.nn.functional.pad(x, (0, self.depth - x.shape[1]))
        total = None
        for first, one_pass in zip(range(0, self.depth, spec.rows), self.passes, strict=True):
            dot = wrap(one_pass(x[:, first:first + spec.rows]).cpu().numpy(), spec.dot_width,
                       spec.signed)
            total = dot if total is None else wrap(total + dot, spec.acc_width, spec.signed)
        return torch.from_numpy(wrap(total, spec.acc_width, spec.signed)).to(x.device)


def _model_macro(spec, w):
    """The callable ``x -> out`` running the macro's own model, tile by tile of columns."""
    from ..macro.model import macro_model

    ws = w.cpu().numpy()
    n = ws.shape[1]
    tiles = -(-n // spec.cols)
    # Columns are independent in the macro: N columns run as ceil(N / cols) weight tiles.
    ws = np.pad(ws, ((0, 0), (0, tiles * spec.cols - n)))

    def run(x):
        xs = x.cpu().numpy()
        out = np.concatenate([macro_model(spec, ws[:, t * spec.cols:(t + 1) * spec.cols], xs)
                              for t in range(tiles)], axis=1)[:, :n]
        if out.dtype == object:
            try:
                out = out.astype(np.int64)
            except OverflowError:
                raise ValueError(f"results of {spec.name} exceed int64 (acc_width = "
                                 f"{spec.acc_width})") from None
        return torch.from_numpy(out).to(x.device)

    return run


def _macro_weights(spec, w, sign_magnitude):
    """The callable ``x -> out`` of a macro with its weight side built.

    Sign-magnitude on an unsigned array: the positive and negative parts of the weights are
    two weight sets, and the activations' parts run through both, the mixed signs subtracted.
    """
    from ..macro.model import tree_is_exact

    if sign_magnitude:
        positive = _macro_weights(spec, w.clamp(min=0), False)
        negative = _macro_weights(spec, (-w).clamp(min=0), False)

        def run(x):
            xp, xn = x.clamp(min=0), (-x).clamp(min=0)
            return positive(xp) + negative(xn) - positive(xn) - negative(xp)

        return run
    if tree_is_exact(spec) and spec.mult.width <= TABLE_MAX_WIDTH and spec.acc_width <= 62:
        return _ExactTreeMacro(spec, w)
    return _model_macro(spec, w)


def _design_ranges(design):
    """``(spec, {"x": range, "w": range})`` of a design argument; TypeError for others."""
    design = design_of(design, analog=False)
    if isinstance(design, MultiplierSpec):
        if design.width > 16:
            raise ValueError(f"design.width must be at most 16 for approx_matmul, "
                             f"not {design.width!r}")
        low, high = design.operand_range
        return design, {"x": (low, high), "w": (low, high)}
    return design, {"x": design.value_range(design.act_bits),
                    "w": design.value_range(design.weight_bits)}


def _check_operand(label, values, ranges, design, sign_magnitude):
    low, high = ranges[label]
    extremes = value_extremes(values)
    if sign_magnitude:
        low = -high
    elif not design.signed and extremes[0] < 0:
        # Names the array and its value, as an out-of-range operand does.
        check_range(label, values, extremes, 0, high, f"{design.name} without sign_magnitude")
    check_range(label, values, extremes, low, high, design.name)


class PreparedWeights:
    """A weight matrix made ready for repeated products through one design.

    ``prepared.matmul(x)`` equals ``approx_matmul(x, w, design)`` bit for bit; what depends
    on the weights alone (their float copies and looked-up factors here; per-weight product
    tables, and a convolution's own weights or tables, at their first product) is built
    once, so a layer pays for it once, not per batch. Build one with :func:`prepare_weights`.

    Members
    -------
    design : MultiplierSpec or MacroSpec
    sign_magnitude : bool
        Whether products run sign-magnitude (unsigned designs with signed operands).
    shape : tuple
        ``(K, N)``.
    device : torch.device
    """

    def __init__(self, w, design, sign_magnitude, device):
        self.design, self.sign_magnitude = design, sign_magnitude
        self.shape, self.device = tuple(w.shape), device
        self._ranges = _design_ranges(design)[1]
        self._empty = 0 in w.shape
        if not self._empty:
            build = (_multiplier_weights if isinstance(design, MultiplierSpec)
                     else _macro_weights)
            self._run = build(design, w, sign_magnitude)

    def __repr__(self):
        return (f"PreparedWeights({self.design.name}, shape={self.shape}, "
                f"sign_magnitude={self.sign_magnitude})")

    def matmul(self, x):
        """``out[m, n] = sum_k p(w[k, n], x[m, k])`` for activations ``x`` of shape (M, K).

        Returns an int64 tensor on ``x``'s device if ``x`` is a tensor, else a NumPy array.
        The errors are those of :func:`approx_matmul` for ``x``; a negative activation into
        weights prepared without sign-magnitude is refused.
        """
        as_tensor = isinstance(x, torch.Tensor)
        x = as_int64("x", x, self.device)
        if x.ndim != 2 or x.shape[1] != self.shape[0]:
            raise ValueError(f"x must have shape (M, {self.shape[0]}) for weights of shape "
                             f"{self.shape!r}, not {tuple(x.shape)!r}")
        _check_operand("x", x, self._ranges, self.design, self.sign_magnitude)
        if self._empty or x.shape[0] == 0:
            out = torch.zeros((x.shape[0], self.shape[1]), dtype=torch.int64,
                              device=self.device)
        else:
            out = self._run(x)
        return out if as_tensor else out.cpu().numpy()

    def _sums(self, x):
        """:meth:`matmul` without its checks, for dcim.nn's layers, whose quantization keeps
        ``x`` (M, K) in range: integers in any dtype (the layers' are floats).

        Returns the exact sums, as a float tensor holding them exactly or as int64.
        """
        if self._empty or x.shape[0] == 0:
            return torch.zeros((x.shape[0], self.shape[1]), dtype=torch.float32,
                               device=x.device)
        sums = getattr(self._run, "sums", None)
        return self._run(x.to(torch.int64)) if sums is None else sums(x)

    def _conv2d(self, x, kernel_size, stride, dilation, pads, act_range):
        """The exact sums of a convolution whose unfolded patches :meth:`_sums` would take:
        ``x`` (B, C, H, W) activations in ``act_range``, padded with zeros by ``pads``
        (left, right, top, bottom), ``K = C * kernel area`` with the channels outermost.
        A float tensor (B, N, H', W'), or None where the design's path has no convolution
        (macros, wide designs, a device without an exact one).
        """
        conv2d = getattr(self._run, "conv2d", None)
        if self._empty or conv2d is None:
            return None
        return conv2d(x, kernel_size, stride, dilation, pads, act_range)


def prepare_weights(w, design, *, sign_magnitude=None, device=None):
    """The weights ``w`` (K, N) made ready for :meth:`PreparedWeights.matmul`.

    Parameters
    ----------
    w, design :
        As for :func:`approx_matmul`.
    sign_magnitude : bool or None
        For unsigned designs. ``None`` turns it on when ``w`` has a negative value (then
        negative activations are accepted too); ``False`` refuses negative operands.
    device : torch.device or str or None
        Where the products run: by default ``w``'s device (the CPU for NumPy arrays).

    Raises
    ------
    As :func:`approx_matmul`, for ``w`` and ``design``.
    """
    design, ranges = _design_ranges(design)
    if device is None:
        device = w.device if isinstance(w, torch.Tensor) else torch.device("cpu")
    device = torch.device(device)
    w = as_int64("w", w, device)
    if w.ndim != 2:
        raise ValueError(f"w must have shape (K, N), not {tuple(w.shape)!r}")
    if sign_magnitude is not None:
        sign_magnitude = check_bool("sign_magnitude", sign_magnitude)
    if design.signed and sign_magnitude:
        raise ValueError(f"sign_magnitude applies to unsigned designs only, not to the "
                         f"signed {design.name}")
    if not design.signed and sign_magnitude is None:
        sign_magnitude = value_extremes(w)[0] < 0
    sign_magnitude = bool(sign_magnitude)
    _check_operand("w", w, ranges, design, sign_magnitude)
    return PreparedWeights(w, design, sign_magnitude, device)


def approx_matmul(x, w, design, *, sign_magnitude=None, device=None):
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
    device : torch.device, str or None
        Where the products run (a GPU too: the same code): by default ``x``'s device, or
        the CPU for NumPy input.

    Returns
    -------
    int64 array of shape (M, N)
        A torch tensor on the device it ran on if ``x`` is a tensor, else a NumPy array.

    Raises
    ------
    TypeError
        If ``design`` is of another type, or ``x`` or ``w`` does not hold integers.
    ValueError
        If a shape is not 2-D or ``K`` differs (naming both shapes); if an operand lies
        outside the design's range (naming the array and the value).
    """
    design, ranges = _design_ranges(design)
    as_tensor = isinstance(x, torch.Tensor)
    if device is None:
        device = x.device if as_tensor else torch.device("cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be a torch device, not {short_repr(device)}") from None
    x = as_int64("x", x, device)
    w = as_int64("w", w, device)
    check_shapes(x, w)
    operands = {"x": (x, value_extremes(x)), "w": (w, value_extremes(w))}
    signed_magnitude = _sign_magnitude(design, sign_magnitude, operands, ranges)
    _check_operand("w", w, ranges, design, signed_magnitude)
    out = PreparedWeights(w, design, signed_magnitude, device).matmul(x)
    return out if as_tensor else out.cpu().numpy()
