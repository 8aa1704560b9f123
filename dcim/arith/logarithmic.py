"""Logarithmic multipliers: Mitchell's, and OpenACM's improved one.

Both write each operand magnitude as ``x = 2**k + q`` (``k`` the position of the leading one,
``q`` the rest) and replace the exact product ``2**(ka+kb) + qa*2**kb + qb*2**ka + qa*qb`` by
something cheaper:

* kind ``"mitchell"`` (J. N. Mitchell, IRE Trans. Electronic Computers, 1962) adds the
  piecewise-linear logarithms ``k + q/2**k`` and takes a piecewise-linear antilogarithm. It
  drops ``qa*qb`` (or, after a carry out of the fractions, approximates it from below), so it
  never over-estimates a magnitude.
* kind ``"log"`` (OpenACM's "Log_our") keeps both cross terms and approximates only
  ``qa*qb = min*max`` by ``min * 2**K`` with ``2**K`` the power of two nearest to ``max``; it
  errs in both directions, much less than Mitchell's.

Signed specs work in sign-magnitude (:class:`SignMagnitudeKind`). This module also holds the
leading-one detectors (:func:`leading_one`, :func:`leading_one_model`) that the DRUM multiplier
in :mod:`dcim.arith.drum` shares.
"""

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Cat, Const, Mux, Signal, signed

from ..checks import check_int
from .multiplier import MultiplierKind, register_multiplier_kind

__all__ = [
    "LogKind",
    "LogOptions",
    "MitchellKind",
    "MitchellOptions",
    "SignMagnitudeKind",
    "leading_one",
    "leading_one_model",
]

_ONE = np.uint64(1)


def leading_one_model(x, width):
    """Position of the leading one of each element of ``x``, or 0 where the element is 0.

    Parameters
    ----------
    x : array of non-negative integers below ``2**width``
    width : int
        How many bits of ``x`` to look at.

    Returns
    -------
    uint64 array of the same shape as ``x``.
    """
    x = np.asarray(x, dtype=np.uint64)
    position = np.zeros(x.shape, dtype=np.uint64)
    # Counting the bits above bit 0 that still have a one above them stays in integers: no
    # float log2, which would round for 53+-bit values.
    for bit in range(1, width):
        position += (x >> np.uint64(bit)) != 0
    return position


def leading_one(module, value, *, name):
    """Add a leading-one detector (a priority encoder) for ``value`` to ``module``.

    Parameters
    ----------
    module : Module
        Where the hardware goes.
    value : Value
        An unsigned value.
    name : str
        Name of the returned signal.

    Returns
    -------
    Signal
        The position of the highest set bit of ``value``; 0 when ``value`` is 0 (the caller
        handles zero separately).
    """
    position = Signal(range(max(2, len(value))), name=name)
    # Later assignments take priority, so the highest set bit wins.
    for bit in range(1, len(value)):
        with module.If(value[bit]):
            module.d.comb += position.eq(bit)
    return position


class SignMagnitudeKind(MultiplierKind):
    """A multiplier kind built from an unsigned multiplier of operand magnitudes.

    Subclasses implement :meth:`magnitude_model` and :meth:`magnitude_elaborate` for
    ``spec.width``-bit unsigned magnitudes. Unsigned specs use them directly. Signed specs
    multiply ``|a|`` by ``|b|`` (``|-2**(width-1)| = 2**(width-1)`` still fits in ``width``
    unsigned bits) and negate the product when the signs differ, so the error of a signed
    product is the error of its magnitude, mirrored: an approximation that under-estimates
    magnitudes rounds signed products towards zero. Each subclass proves, or checks in
    :meth:`validate`, that the signed product magnitude fits the ``2*width``-bit signed range.
    """

    def magnitude_model(self, spec, a, b):
        """Products of uint64 magnitude arrays ``a`` and ``b``, as uint64."""
        raise NotImplementedError

    def magnitude_elaborate(self, spec, module, a, b):
        """Add the magnitude multiplier to ``module``; return a value below ``2**(2*width)``."""
        raise NotImplementedError

    def model(self, spec, a, b):
        if not spec.signed:
            product = self.magnitude_model(spec, a.astype(np.uint64), b.astype(np.uint64))
            # Unsigned 32-bit products need all 64 bits; narrower ones fit int64.
            return product if spec.width == 32 else product.astype(np.int64)
        magnitude = self.magnitude_model(spec, np.abs(a).astype(np.uint64),
                                         np.abs(b).astype(np.uint64)).astype(np.int64)
        return np.where((a < 0) != (b < 0), -magnitude, magnitude)

    def elaborate(self, spec, module, a, b):
        width = spec.width
        magnitude = Signal(2 * width, name="p_mag")
        if not spec.signed:
            module.d.comb += magnitude.eq(self.magnitude_elaborate(spec, module, a, b))
            return magnitude
        a_mag = Signal(width, name="a_mag")
        b_mag = Signal(width, name="b_mag")
        negative = Signal(name="p_negative")
        product = Signal(signed(2 * width), name="p_signed")
        module.d.comb += [
            # -a is one bit wider; its low `width` bits are |a|, also for -2**(width-1).
            a_mag.eq(Mux(a[-1], -a, a)),
            b_mag.eq(Mux(b[-1], -b, b)),
            negative.eq(a[-1] ^ b[-1]),
            magnitude.eq(self.magnitude_elaborate(spec, module, a_mag, b_mag)),
            product.eq(Mux(negative, -magnitude, magnitude)),
        ]
        return product


@dataclass(frozen=True)
class MitchellOptions:
    """Options of kind ``"mitchell"``.

    Parameters
    ----------
    fraction_bits : int or None
        Keep only the top ``fraction_bits`` bits of each operand's log fraction ``q/2**k``
        (truncating the rest) and truncate the antilogarithm to an integer: a narrower
        fraction adder and antilog shifter, at the cost of larger, still one-sided, errors.
        ``None`` (default) keeps all ``width - 1`` fraction bits: Mitchell's multiplier with
        an ideal antilogarithm, exact in integers. At most ``width - 1``.

    Raises
    ------
    TypeError
        If ``fraction_bits`` is neither an int nor ``None``.
    ValueError
        If ``fraction_bits`` is below 1.
    """

    fraction_bits: int | None = None

    def __post_init__(self):
        if self.fraction_bits is not None:
            object.__setattr__(self, "fraction_bits",
                               check_int("fraction_bits", self.fraction_bits, 1))


class MitchellKind(SignMagnitudeKind):
    """Mitchell's logarithmic multiplier: ``p = antilog(log a + log b)``, piecewise linear.

    With ``a = 2**ka + fa``, ``b = 2**kb + fb`` and ``t = fa*2**kb + fb*2**ka``, the product
    magnitude is ``2**(ka+kb) + t`` when ``t < 2**(ka+kb)`` (the fractions do not carry) and
    ``2*t`` otherwise; 0 if either operand is 0. With ``fraction_bits`` the fractions
    ``fa/2**ka`` are first truncated to that many bits and the result is rounded down.

    Error behaviour: never over-estimates a magnitude (so unsigned products are always at most
    ``a*b``, signed ones are rounded towards zero); exact when either magnitude is a power of
    two. 8x8 unsigned, exhaustive, ideal antilog: MRED 3.788 %, WCRE 11.11 % (1/9, at the
    fractions 1/2 and 1/2), bias about -606. Symmetric in ``a`` and ``b``.

    Range: ``|p| <= |a*b|``, so the product fits ``2*width`` bits for every width, signed or
    not, and every ``fraction_bits``.

    Raises
    ------
    ValueError
        From :meth:`validate`, if ``fraction_bits`` exceeds ``width - 1``.
    """

    name = "mitchell"
    Options = MitchellOptions

    def validate(self, spec):
        bits = spec.options.fraction_bits
        if bits is not None and bits > spec.width - 1:
            raise ValueError(f"fraction_bits must be at most width - 1 = {spec.width - 1} "
                             f"for width {spec.width}, not {bits!r}")

    def canonical(self, spec):
        # width - 1 fraction bits are all there are: the circuit (and model) of None.
        if spec.options.fraction_bits == spec.width - 1:
            return MitchellOptions()
        return spec.options

    def name_suffix(self, options):
        return "" if options.fraction_bits is None else f"frac{options.fraction_bits}"

    def _fraction_bits(self, spec):
        bits = spec.options.fraction_bits
        return spec.width - 1 if bits is None else bits

    def magnitude_model(self, spec, a, b):
        zero = (a == 0) | (b == 0)
        # Zeros take the path of 1 (k = 0, f = 0) so no intermediate wraps; masked below.
        a, b = np.maximum(a, _ONE), np.maximum(b, _ONE)
        ka, kb = leading_one_model(a, spec.width), leading_one_model(b, spec.width)
        fa, fb = a - (_ONE << ka), b - (_ONE << kb)
        bits = spec.options.fraction_bits
        if bits is None:
            # Ideal antilogarithm, all in integers: 2**(ka+kb) * (1 + fa/2**ka + fb/2**kb),
            # or 2**(ka+kb+1) * (fa/2**ka + fb/2**kb) when the fractions sum to 1 or more.
            t = (fa << kb) + (fb << ka)
            base = _ONE << (ka + kb)
            product = np.where(t >= base, t << _ONE, base + t)
        else:
            # Fractions in units of 2**-bits, rounded down; their sum's integer part (0 or 1)
            # moves into the exponent and the antilog is 1.fraction shifted by it.
            fraction = ((fa << np.uint64(bits)) >> ka) + ((fb << np.uint64(bits)) >> kb)
            carry = fraction >> np.uint64(bits)
            mantissa = np.where(carry != 0, fraction, fraction + (_ONE << np.uint64(bits)))
            # mantissa * 2**(exponent - bits), split by the sign of the net shift so no
            # intermediate needs more than 64 bits.
            shift = (ka + kb + carry).astype(np.int64) - bits
            left = mantissa << np.clip(shift, 0, 63).astype(np.uint64)
            right = mantissa >> np.clip(-shift, 0, 63).astype(np.uint64)
            product = np.where(shift >= 0, left, right)
        return np.where(zero, np.uint64(0), product)

    def magnitude_elaborate(self, spec, module, a, b):
        width = spec.width
        full = width - 1                    # fraction bits below a width-bit leading one
        bits = self._fraction_bits(spec)
        truncated = []
        exponents = []
        for label, value in (("a", a), ("b", b)):
            lead = leading_one(module, value, name=f"{label}_lead")
            shift = Signal(range(width), name=f"{label}_norm_shift")
            fraction = Signal(full, name=f"{label}_frac")
            module.d.comb += [
                shift.eq(full - lead),
                # Normalising puts the leading one at bit `full`, just above the fraction.
                fraction.eq(value << shift),
            ]
            truncated.append(fraction[full - bits:])
            exponents.append(lead)
        fraction_sum = Signal(bits + 1, name="frac_sum")
        mantissa = Signal(bits + 1, name="mantissa")
        exponent = Signal(range(2 * width), name="exponent")
        antilog = Signal(2 * width, name="antilog")
        product = Signal(2 * width, name="log_product")
        carry = fraction_sum[bits]
        module.d.comb += [
            fraction_sum.eq(truncated[0] + truncated[1]),
            # Either way the antilog mantissa is 1.(low fraction bits): a carry out of the
            # fractions is 1.x * 2, which goes into the exponent.
            mantissa.eq(Cat(fraction_sum[:bits], Const(1, 1))),
            exponent.eq(exponents[0] + exponents[1] + carry),
            # The product is below 2**(2*width): the bits above are zero.
            antilog.eq((mantissa << exponent)[bits:bits + 2 * width]),
            product.eq(Mux((a == 0) | (b == 0), 0, antilog)),
        ]
        return product

    def describe(self, spec):
        return {"fraction_bits": self._fraction_bits(spec), "error": "never over-estimates"}


@dataclass(frozen=True)
class LogOptions:
    """Options of kind ``"log"``: none; OpenACM's formula has no parameters."""


class LogKind(SignMagnitudeKind):
    """OpenACM's improved logarithmic multiplier ("Log_our").

    With ``a = 2**ka + qa`` and ``b = 2**kb + qb`` the product magnitude is::

        2**(ka+kb) + qa*2**kb + qb*2**ka + min(qa, qb) * 2**K

    where ``2**K`` is the power of two nearest to ``max(qa, qb)``: ``K`` is the position of
    its leading one, plus one if the next bit down is set (so a tie such as 3 or 6 rounds
    up). When ``max(qa, qb) == 1`` there is no bit below, ``K = 0``; when it is 0 the last
    term is 0 whatever ``K`` is. The product is 0 if either operand is 0.

    Error behaviour: exact cross terms; only ``qa*qb = min*max`` is approximated, by rounding
    ``max`` to the nearest power of two, so a product is over-estimated when ``max`` rounds up
    and under-estimated when it rounds down, by at most ``min*max/3``. Exact when either
    magnitude is a power of two or when ``max(qa, qb)`` is a power of two. Symmetric in ``a``
    and ``b``.

    Range: ``min(qa, qb) < 2**min(ka, kb)`` and ``2**K <= 2**max(ka, kb)``, so each of the
    last three terms is below the first, ``2**(ka+kb)``, and the magnitude is below
    ``2**(ka+kb+2) <= 2**(2*width)``.
    For signed specs a magnitude of ``2**(width-1)`` has ``q = 0`` and gives the exact
    product, any other is below ``2**(width-1)`` and gives less than ``2**(2*width-2)``: the
    product fits ``2*width`` bits for every width, signed or not.
    """

    name = "log"
    Options = LogOptions

    def magnitude_model(self, spec, a, b):
        zero = (a == 0) | (b == 0)
        a, b = np.maximum(a, _ONE), np.maximum(b, _ONE)
        ka, kb = leading_one_model(a, spec.width), leading_one_model(b, spec.width)
        qa, qb = a - (_ONE << ka), b - (_ONE << kb)
        larger, smaller = np.maximum(qa, qb), np.minimum(qa, qb)
        lead = leading_one_model(larger, spec.width)
        below = (larger >> (np.maximum(lead, _ONE) - _ONE)) & _ONE
        nearest = lead + np.where(lead > 0, below, np.uint64(0))
        product = (_ONE << (ka + kb)) + (qa << kb) + (qb << ka) + (smaller << nearest)
        return np.where(zero, np.uint64(0), product)

    def magnitude_elaborate(self, spec, module, a, b):
        width = spec.width
        rests = []
        leads = []
        for label, value in (("a", a), ("b", b)):
            lead = leading_one(module, value, name=f"{label}_lead")
            rest = Signal(width - 1, name=f"{label}_rest")
            module.d.comb += rest.eq(value & ~(Const(1, width) << lead))
            rests.append(rest)
            leads.append(lead)
        (qa, qb), (ka, kb) = rests, leads
        larger = Signal(width - 1, name="rest_max")
        smaller = Signal(width - 1, name="rest_min")
        round_up = Signal(name="rest_max_round_up")
        nearest = Signal(range(width), name="rest_max_exp")
        terms = {
            "lead_product": Const(1, 1) << (ka + kb),
            "a_cross": qa << kb,
            "b_cross": qb << ka,
            "rest_product": smaller << nearest,
        }
        # The first term is 2**(ka+kb) <= 2**(2*width-2), the others are below it (see the
        # class docstring).
        named = {label: Signal(2 * width - (1 if label == "lead_product" else 2), name=label)
                 for label in terms}
        total = Signal(2 * width, name="log_sum")
        product = Signal(2 * width, name="log_product")
        max_lead = leading_one(module, larger, name="rest_max_lead")
        module.d.comb += [
            larger.eq(Mux(qa > qb, qa, qb)),
            smaller.eq(Mux(qa > qb, qb, qa)),
            # The bit below the leading one; a zero shifted in below bit 0 covers max == 1.
            round_up.eq(Cat(Const(0, 1), larger).bit_select(max_lead, 1)),
            nearest.eq(max_lead + round_up),
            *(named[label].eq(term) for label, term in terms.items()),
            total.eq(sum(named.values())),
            product.eq(Mux((a == 0) | (b == 0), 0, total)),
        ]
        return product

    def describe(self, spec):
        return {"approximates": "qa*qb by min(qa, qb) * 2**round(log2 max(qa, qb))",
                "error": "both signs"}


register_multiplier_kind(MitchellKind())
register_multiplier_kind(LogKind())
