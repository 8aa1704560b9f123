"""Stored-weight bit faults: every bit of every stored weight flips with a given probability.

A compute-in-memory array holds its weights in SRAM cells; a cell that reads back wrong (a
retention or read-disturb error, a soft error) flips one bit of one stored weight. The model
is the simplest one of the field: each stored bit flips independently with probability
``rate``, drawn from a NumPy generator seeded by ``seed``, so that a run is reproducible.

How a weight is stored decides what a flip does to it:

- ``"twos"``: two's complement in ``bits`` bits, the way a signed array stores weights in
  ``[-2**(bits-1), 2**(bits-1) - 1]``. A flip of the top bit moves the value by
  ``2**(bits-1)``.
- ``"sign-magnitude"``: a sign bit beside ``bits`` magnitude bits, the way an unsigned design
  serves signed weights in ``[-(2**bits - 1), 2**bits - 1]`` (see :func:`approx_matmul`'s
  ``sign_magnitude``). Zero is stored with a clear sign bit, and a flipped sign bit on a zero
  magnitude still reads as zero.

The injector works on the integer weights the layer has already quantized; it does not know
their scale.

From a SPICE estimate: :func:`bit_error_rate` turns a cell's failure probability
(:class:`dcim.spice.BitFailure`, from :func:`dcim.spice.bit_failure_probability`) into the
rate of wrong reads, and :meth:`WeightFaults.from_bit_failure` into faults to inject, so that
a network's accuracy can be read at a corner's yield (:mod:`dcim.nn.fault_accuracy`).
"""

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..checks import check_int, check_table, short_repr

__all__ = ["ENCODINGS", "MAX_FAULT_BITS", "WeightFaults", "bit_error_rate", "flip_weight_bits"]

ENCODINGS = ("twos", "sign-magnitude")
"""How a signed weight is stored: two's complement, or a sign bit beside its magnitude."""

MAX_FAULT_BITS = 32
"""Widest stored weight: ``bits`` plus a sign bit stays well inside int64."""

_FIELDS = ("rate", "seed")


def _check_rate(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise TypeError(f"rate must be a number, not {short_repr(value)}")
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise ValueError(f"rate must be from 0 to 1, not {value!r}")
    return value


def _stored_range(bits, encoding):
    if encoding == "twos":
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return -((1 << bits) - 1), (1 << bits) - 1


def _format_rate(rate):
    """Shortest text that reads back as ``rate``: ``0.001``, ``1e-05``."""
    text = f"{rate:.6g}"
    return text if float(text) == rate else repr(rate)


def bit_error_rate(bit_failure, *, bound="estimate"):
    """The probability that a stored bit reads back wrong, from a cell's failure probability.

    A cell that fails (:class:`dcim.spice.BitFailure`) fails in one of two mirror-image
    regions, equally likely: it keeps one of its two states, or reads or writes it, and
    loses the other. Its contents are then as good as stuck at a value independent of the
    data, 0 or 1 with probability 1/2 each, which is wrong for half the data: the rate of
    wrong reads is half the failure probability, ``p / 2``, and such a stuck cell is a bit
    flip of the stored value where it is wrong. Each failing cell fails independently, as
    :class:`WeightFaults` draws them.

    Parameters
    ----------
    bit_failure : dcim.spice.BitFailure
    bound : str
        ``"estimate"``: the bit's failure probability
        (:attr:`~dcim.spice.BitFailure.probability`, the estimate of the union of the modes
        where they were estimated together, else their union bound); ``"union"``: the union
        bound of the modes (:attr:`~dcim.spice.BitFailure.union_bound`, the pessimistic
        side); ``"lower"``: the largest single event's probability
        (:attr:`~dcim.spice.BitFailure.lower_bound`, the optimistic side).

    Returns
    -------
    float
        From 0 to 0.5.

    Raises
    ------
    TypeError
        If ``bit_failure`` is not a :class:`dcim.spice.BitFailure`.
    ValueError
        For an unknown ``bound``.
    """
    from ..spice.bit_failure import BitFailure

    if not isinstance(bit_failure, BitFailure):
        raise TypeError(f"bit_failure must be a dcim.spice.BitFailure, not "
                        f"{short_repr(bit_failure)}")
    probabilities = {"estimate": bit_failure.probability, "union": bit_failure.union_bound,
                     "lower": bit_failure.lower_bound}
    if bound not in probabilities:
        raise ValueError(f"bound must be one of {tuple(probabilities)}, not {short_repr(bound)}")
    return probabilities[bound] / 2


@dataclass(frozen=True)
class WeightFaults:
    """Independent bit flips in stored weights: each bit flips with probability ``rate``.

    Parameters
    ----------
    rate : float
        Probability that one stored bit reads back flipped, 0 to 1.
    seed : int
        Seed of the NumPy generator that draws the flips, at least 0.

    Raises
    ------
    ValueError, TypeError
        For an invalid parameter, naming it and its value.
    """

    rate: float
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "rate", _check_rate(self.rate))
        object.__setattr__(self, "seed", check_int("seed", self.seed, 0, (1 << 63) - 1))

    @property
    def name(self):
        """Stable identifier: ``faults_p0.001``, with ``_seed3`` for a seed other than 0."""
        name = f"faults_p{_format_rate(self.rate)}"
        return name if self.seed == 0 else f"{name}_seed{self.seed}"

    def to_dict(self):
        return {"rate": self.rate, "seed": self.seed}

    @classmethod
    def from_bit_failure(cls, bit_failure, *, seed=0, bound="estimate"):
        """Faults at the bit-error rate of a SPICE estimate: :func:`bit_error_rate`.

        ``WeightFaults.from_bit_failure(bit_failure_probability(Bitcell6T(), corner))``
        """
        return cls(rate=bit_error_rate(bit_failure, bound=bound), seed=seed)

    @classmethod
    def from_dict(cls, data):
        """The faults described by a table of :meth:`to_dict`'s form.

        Raises
        ------
        TypeError
            If ``data`` is not a dict.
        ValueError
            If it holds unknown keys (listing them and the known ones), or a bad value.
        """
        return cls(**check_table("weight faults description", data, _FIELDS))

    def apply(self, w, *, bits, encoding):
        """:func:`flip_weight_bits` with this rate and seed."""
        return flip_weight_bits(w, bits=bits, encoding=encoding, rate=self.rate,
                                seed=self.seed)


def flip_weight_bits(w, *, bits, encoding, rate, seed):
    """The weights ``w`` as read back from cells of which each flipped with probability ``rate``.

    Parameters
    ----------
    w : int array or tensor of any shape
        Integer weights, within the range that ``bits`` and ``encoding`` store.
    bits : int
        For ``"twos"``, the word width (``w`` in ``[-2**(bits-1), 2**(bits-1) - 1]``); for
        ``"sign-magnitude"``, the magnitude width (``w`` in ``[-(2**bits-1), 2**bits-1]``,
        plus a sign bit). 1 to :data:`MAX_FAULT_BITS`.
    encoding : str
        ``"twos"`` or ``"sign-magnitude"`` (see the module description).
    rate : float
        Probability that one stored bit flips, 0 to 1: 0 returns ``w`` unchanged, 1 flips
        every bit (two's complement ``v`` becomes ``-v - 1``).
    seed : int
        Seed of the :func:`numpy.random.default_rng` generator that draws the flips: the same
        seed, shape and parameters give the same faults.

    Returns
    -------
    int64 array or tensor of ``w``'s shape
        A torch tensor on ``w``'s device if ``w`` is a tensor, else a NumPy array.

    Raises
    ------
    TypeError
        If ``w`` does not hold integers, or a parameter has the wrong type.
    ValueError
        If a weight lies outside the stored range (naming the value), or a parameter is out
        of its range (naming it and its value).
    """
    bits = check_int("bits", bits, 1, MAX_FAULT_BITS)
    if not isinstance(encoding, str) or encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(map(repr, ENCODINGS))}, not "
                         f"{short_repr(encoding)}")
    rate = _check_rate(rate)
    seed = check_int("seed", seed, 0, (1 << 63) - 1)
    device = w.device if isinstance(w, torch.Tensor) else None
    values = _as_int64_array(w)
    low, high = _stored_range(bits, encoding)
    if values.size and (values.min() < low or values.max() > high):
        bad = values[(values < low) | (values > high)].flat[0]
        raise ValueError(f"w must lie in [{low}, {high}] for {bits}-bit {encoding} weights, "
                         f"not {int(bad)!r}")
    stored = bits if encoding == "twos" else bits + 1
    flips = _flip_masks(values.shape, stored, rate, seed)
    if encoding == "twos":
        # The low ``bits`` bits of int64 are the word; flipping them and sign-extending the
        # result reads the word back.
        word = (values & ((1 << bits) - 1)) ^ flips
        out = np.where(word >> (bits - 1) & 1, word - (1 << bits), word)
    else:
        magnitude = np.abs(values) ^ (flips & ((1 << bits) - 1))
        negative = (values < 0) ^ (flips >> bits & 1).astype(bool)
        out = np.where(negative, -magnitude, magnitude)
    out = out.astype(np.int64)
    return torch.from_numpy(out).to(device) if device is not None else out


def _as_int64_array(w):
    if isinstance(w, torch.Tensor):
        if w.dtype.is_floating_point or w.dtype.is_complex or w.dtype == torch.bool:
            raise TypeError(f"w must hold integers, not {w.dtype}")
        return w.detach().cpu().to(torch.int64).numpy()
    try:
        array = np.asarray(w)
    except (ValueError, TypeError):
        raise ValueError(f"w must be an array of integers, not {short_repr(w)}") from None
    if array.dtype.kind not in "iu":
        raise TypeError(f"w must hold integers, not {array.dtype}")
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(f"w holds {int(array.max())}, beyond int64")
    return array.astype(np.int64)


def _flip_masks(shape, stored, rate, seed):
    """One int64 mask of flipped bits per weight, bit ``b`` set with probability ``rate``.

    Rates 0 and 1 are exact (``random() < 1`` always holds); low rates draw only the number
    of flips and their positions, so that a large model with a rate of 1e-6 costs no more
    than its size.
    """
    count = math.prod(shape)
    rng = np.random.default_rng(seed)
    masks = np.zeros(count, dtype=np.int64)
    if rate == 0.0 or count == 0:
        return masks.reshape(shape)
    if rate >= 0.01:
        drawn = rng.random((count, stored)) < rate
        weights = np.left_shift(np.int64(1), np.arange(stored, dtype=np.int64))
        return (drawn.astype(np.int64) @ weights).reshape(shape)
    total = count * stored
    flipped = rng.binomial(total, rate)
    positions = rng.choice(total, size=flipped, replace=False)
    np.bitwise_or.at(masks, positions // stored,
                     np.left_shift(np.int64(1), positions % stored))
    return masks.reshape(shape)
