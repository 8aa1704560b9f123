"""DRUM: the dynamic range unbiased multiplier (Hashemi, Bahar, Reda, ICCAD 2015).

Each operand magnitude keeps only ``k`` bits from its leading one down, with the lowest kept
bit forced to 1; a ``k x k`` exact multiplier multiplies the two segments and a shifter puts
the product back in place. Forcing the lowest bit to 1 replaces the dropped bits by half
their range on average, which makes the error nearly unbiased, unlike plain truncation.
"""

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Signal

from ..checks import check_int
from .logarithmic import SignMagnitudeKind, leading_one, leading_one_model
from .multiplier import register_multiplier_kind

__all__ = ["DrumKind", "DrumOptions"]


@dataclass(frozen=True)
class DrumOptions:
    """Options of kind ``"drum"``.

    Parameters
    ----------
    k : int
        Bits kept of each operand magnitude, and the width of the exact core multiplier;
        2 to ``width``. ``k == width`` is an exact multiplier.

    Raises
    ------
    TypeError
        If ``k`` is not an int.
    ValueError
        If ``k`` is below 2.
    """

    k: int = 6

    def __post_init__(self):
        object.__setattr__(self, "k", check_int("k", self.k, 2))


class DrumKind(SignMagnitudeKind):
    """DRUM approximate multiplier with a ``k``-bit exact core.

    For each operand magnitude ``x``: if ``x < 2**k`` it is used as is; otherwise, with its
    leading one at bit ``t``, bits ``t`` down to ``t-k+1`` are kept, the lowest of them is set
    to 1 and the shift ``s = t-k+1`` is remembered. The product is
    ``(a_kept * b_kept) << (s_a + s_b)``. Signed specs work in sign-magnitude.

    Error behaviour: errors of both signs, nearly unbiased (the forced one stands for the
    dropped bits' mean), relative error roughly within ``2**-(k-1)`` per operand;
    exact whenever both magnitudes are below ``2**k``, and for ``k == width``. Symmetric in
    ``a`` and ``b``.

    Range: a kept-and-shifted magnitude stays below ``2**(t+1)``, so unsigned products fit
    ``2*width`` bits. For signed specs the only magnitude that grows past ``2**(width-1)`` is
    that of ``-2**(width-1)``, which becomes ``2**(width-1) + 2**(width-k)`` when
    ``k < width``; its square must stay at most ``2**(2*width-1) - 1``, which holds for
    ``k >= 3`` but not for ``k == 2`` (a 2.25x overshoot).

    Raises
    ------
    ValueError
        From :meth:`validate`, if ``k`` exceeds ``width``, or if the signed product of two
        most-negative operands would overflow the ``2*width``-bit signed range (``k == 2``
        with ``width > 2``).
    """

    name = "drum"
    Options = DrumOptions

    def validate(self, spec):
        k, width = spec.options.k, spec.width
        if k > width:
            raise ValueError(f"k must be at most width = {width}, not {k!r}")
        if spec.signed and k < width:
            largest = (1 << (width - 1)) + (1 << (width - k))
            if largest * largest > (1 << (2 * width - 1)) - 1:
                raise ValueError(
                    f"k = {k!r} overflows a signed width-{width} drum multiplier: "
                    f"-2**{width - 1} becomes magnitude {largest}, and {largest}**2 exceeds "
                    f"the largest {2 * width}-bit signed product; use k >= 3 or k == width")

    def name_suffix(self, options):
        # k always appears: names must not change if the default ever does.
        return f"k{options.k}"

    def magnitude_model(self, spec, a, b):
        k = np.uint64(spec.options.k)
        kept = []
        shifts = []
        for x in (a, b):
            lead = leading_one_model(x, spec.width)
            # Magnitudes below 2**k (lead <= k-1) are kept whole.
            shift = np.maximum(lead, k - np.uint64(1)) - (k - np.uint64(1))
            # The forced one marks the dropped bits' midpoint: that is what removes the bias.
            kept.append((x >> shift) | (shift != 0).astype(np.uint64))
            shifts.append(shift)
        return (kept[0] * kept[1]) << (shifts[0] + shifts[1])

    def magnitude_elaborate(self, spec, module, a, b):
        k, width = spec.options.k, spec.width
        product = Signal(2 * width, name="drum_product")
        if k == width:
            # No magnitude ever reaches 2**k: nothing to truncate, the core is the multiplier.
            module.d.comb += product.eq(a * b)
            return product
        kept = []
        shifts = []
        for label, value in (("a", a), ("b", b)):
            lead = leading_one(module, value, name=f"{label}_lead")
            shift = Signal(range(width - k + 1), name=f"{label}_shift")
            segment = Signal(k, name=f"{label}_kept")
            with module.If(lead >= k):
                module.d.comb += shift.eq(lead - (k - 1))
            module.d.comb += segment.eq((value >> shift) | (shift != 0))
            kept.append(segment)
            shifts.append(shift)
        core = Signal(2 * k, name="core_product")
        shift_sum = Signal(range(2 * (width - k) + 1), name="shift_sum")
        module.d.comb += [
            core.eq(kept[0] * kept[1]),
            shift_sum.eq(shifts[0] + shifts[1]),
            product.eq(core << shift_sum),
        ]
        return product

    def describe(self, spec):
        return {"k": spec.options.k, "core": f"{spec.options.k}x{spec.options.k} exact"}


register_multiplier_kind(DrumKind())
