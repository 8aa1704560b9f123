"""Partial-product generators for array and radix-4 Booth multipliers.

Each generator returns the partial-product bits of ``a * b`` sorted into columns (column ``k``
has weight ``2**k``), written once over a logic back-end (see :mod:`dcim.arith.logic`).
Two's-complement rows never need sign extension: a bit of negative weight ``-x * 2**k`` is
replaced by ``(~x) * 2**k`` plus the constant ``-2**k``, and all such constants are summed
modulo ``2**(2 * width)`` into a few constant-one bits. For signed operands of the array
generator this is exactly the modified Baugh-Wooley scheme.
"""

__all__ = ["PARTIAL_PRODUCT_METHODS", "partial_products"]

PARTIAL_PRODUCT_METHODS = ("array", "booth4")


def partial_products(method, logic, a_bits, b_bits, *, signed):
    """Generate the partial products of ``a * b``.

    Parameters
    ----------
    method : str
        ``"array"`` (AND array; Baugh-Wooley when signed) or ``"booth4"`` (radix-4 Booth).
    logic : NumpyLogic or AmaranthLogic
    a_bits, b_bits : list
        Operand bits, least significant first, both of the same width ``n``.
    signed : bool
        Two's-complement operands.

    Returns
    -------
    list of list
        ``2 * n`` columns of bits whose weighted sum equals ``a * b`` modulo ``2**(2n)``.
    """
    if method == "array":
        return _array(logic, a_bits, b_bits, signed)
    if method == "booth4":
        return _booth4(logic, a_bits, b_bits, signed)
    raise ValueError(f"partial_products must be one of {PARTIAL_PRODUCT_METHODS}, "
                     f"not {method!r}")


def _array(logic, a_bits, b_bits, signed):
    width = len(a_bits)
    columns = [[] for _ in range(2 * width)]
    constant = 0
    for i, a_bit in enumerate(a_bits):
        for j, b_bit in enumerate(b_bits):
            bit = a_bit & b_bit
            if signed and ((i == width - 1) != (j == width - 1)):
                bit = ~bit
                constant -= 1 << (i + j)
            columns[i + j].append(logic.net(f"pp_a{i}_b{j}", bit))
    _add_constant(logic, columns, constant)
    return columns


def _booth4(logic, a_bits, b_bits, signed):
    width = len(a_bits)
    columns = [[] for _ in range(2 * width)]
    zero = logic.const(0)
    a_fill = a_bits[-1] if signed else zero
    b_fill = b_bits[-1] if signed else zero
    # A row holds digit * a with digit in -2..2: width + 2 bits cover 2a for either signedness.
    row_width = width + 2
    a_ext = list(a_bits) + [a_fill] * (row_width - width)
    # Unsigned b needs a zero above its top bit so the last digit is never negative.
    b_length = width if signed else width + 1
    b_length += b_length % 2
    b_ext = list(b_bits) + [b_fill] * (b_length - width)
    constant = 0
    for group in range(b_length // 2):
        low = b_ext[2 * group - 1] if group else zero
        mid, high = b_ext[2 * group], b_ext[2 * group + 1]
        one = logic.net(f"booth{group}_one", mid ^ low)
        two = logic.net(f"booth{group}_two", (high & ~mid & ~low) | (~high & mid & low))
        neg = logic.net(f"booth{group}_neg", high)
        for k in range(row_width):
            position = 2 * group + k
            if position >= 2 * width:
                break
            magnitude = one & a_ext[k]
            if k:
                magnitude = magnitude | (two & a_ext[k - 1])
            bit = magnitude ^ neg
            if k == row_width - 1:
                bit = ~bit
                constant -= 1 << position
            columns[position].append(logic.net(f"pp_g{group}_{k}", bit))
        # Negation is inversion plus one; the one enters at the row's least significant column.
        columns[2 * group].append(neg)
    _add_constant(logic, columns, constant)
    return columns


def _add_constant(logic, columns, constant):
    constant %= 1 << len(columns)
    for position in range(len(columns)):
        if (constant >> position) & 1:
            columns[position].append(logic.const(1))
