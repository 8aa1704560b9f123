"""Analog SRAM compute-in-memory: bit-plane partial sums, analog noise and a finite ADC.

:class:`AnalogCiM` describes the array and its converter; :func:`analog_matmul` computes an
integer matrix product as such an array does (the semantics of ASiM, Zhang et al., TVLSI
2025, restated in ``docs/nn.md``):

- The weights are stored as two's-complement bit-planes of ``weight_bits`` bits; the
  activations enter one bit per cycle (``act_encoding = 1``, bit-serial) or ``act_encoding``
  bits per cycle (bit-parallel: the word lines carry the chunk's value). Signed activations
  spend one extra 1-bit cycle on their sign bit; their other ``act_bits - 1`` bits are
  encoded as unsigned ones are. The top chunk is narrower when the width does not divide.
- The ``K`` products of a dot product are split into chunks of at most ``rows`` rows, one
  array access each. Per chunk, weight plane ``i`` and activation cycle ``j``, the column
  delivers the normalized partial sum ``m = sum_k x_j[k] * w_i[k] / F``, where the full scale
  ``F = (2**width - 1) * rows`` is that of the array (a chunk that uses fewer rows still
  converts on the array's scale).
- Analog cycles add noise before the ADC, in percent of full scale: ``N(0, 1) * noise_sigma
  / 100`` plus ``N(0, 1) * nonlinear_sigma / 100 / sqrt(m * rows + 1)`` (drawn as one normal
  of the combined deviation, which has the same distribution), then clamp ``m`` to [0, 1].
- The ADC keeps ``code = round(m * L)`` with ``L = 2**adc_bits - 1`` (half to even), worth
  ``code * F / L``. Recombination adds ``+/- code * F / L * 2**(i + shift_j)``, negative for
  the weight's top plane and for the sign cycle of signed activations.
- Hybrid CiM: the cycles of the top ``hybrid_levels`` levels of ``i + j`` are digital, that is
  exact and free of noise, though still rounded by the ADC: cycle ``(i, j)`` is analog iff
  ``i + j <= weight_bits + J - hybrid_levels - 2``, with ``J`` activation cycles.
- Majority voting: analog cycles of the top ``voting_levels`` levels convert
  ``voting_samples`` times with independent noise and keep the most frequent code (a tie goes
  to the earliest sample). Bit-serial activations only, as in the reference.

Activations and weights arrive already quantized to integers (the layer quantizes and
rescales); the result is in integer units, ``x @ w`` plus the array's error. An ADC is
lossless when every full scale divides ``L`` (:meth:`AnalogCiM.adc_is_lossless`): without
noise, the result then equals ``x @ w`` bit for bit.

How it computes: the bit-planes are 0/1 (or chunk-valued) float matrices, and one batched GEMM
per group of row chunks gives every popcount of every cycle at once (exact: float32 below
``2**24``, else float64); blocks of rows of ``x`` and groups of chunks keep each such tensor
near 4 MB. Rounding, noise and clamping are elementwise over all cycles. The
codes are summed over chunks, weighted by ``+/- F * 2**(i + shift_j)`` (integers) and divided
by ``L`` once, so that the result is the exactly rounded value of the array's output while
that integer sum stays below ``2**53``: its magnitude is at most ``K * L * (2**weight_bits -
1) * (2**act_bits - 1)`` (``K`` rounded up to whole chunks), so 8-bit weights, activations
and ADC stay exact up to ``K`` of about ``5 * 10**8``.
"""

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import torch

from ..checks import check_bool, check_int, check_table, short_repr
from .operands import as_int64, check_range, check_shapes, ieee_float32_gemm, value_extremes

__all__ = ["MAX_ROWS", "MAX_VOTING_SAMPLES", "AnalogCiM", "ArrayCycle", "analog_matmul"]

MAX_ROWS = 1 << 16
"""Most rows per conversion: the popcounts of one cycle stay far inside float64."""

MAX_VOTING_SAMPLES = 31
"""Most samples per voted conversion."""

_FIELDS = ("weight_bits", "act_bits", "adc_bits", "rows", "act_encoding", "noise_sigma",
           "nonlinear_sigma", "hybrid_levels", "voting_levels", "voting_samples", "seed")
_ELEMENTS = 1 << 20          # values per cycle tensor of one group of chunks (4 MB float32)


def _check_sigma(parameter, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise TypeError(f"{parameter} must be a number, not {short_repr(value)}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{parameter} must be a finite number of at least 0, not {value!r}")
    return value


class ArrayCycle(NamedTuple):
    """One array operation per row chunk: weight plane ``weight_bit``, activation cycle
    ``act_cycle`` (bits ``act_shift`` to ``act_shift + act_width - 1``), the sign of its
    contribution, and whether it is analog (noisy) and voted."""

    weight_bit: int
    act_cycle: int
    act_shift: int
    act_width: int
    sign: int
    analog: bool
    voting: bool


@dataclass(frozen=True)
class AnalogCiM:
    """An analog SRAM compute-in-memory array and its ADC, as :func:`analog_matmul` models it.

    Parameters
    ----------
    weight_bits : int
        Weight width, 2 to 16: two's-complement bit-planes, quantized to the symmetric
        :attr:`weight_range`.
    act_bits : int
        Activation width, 1 to 16 (signed activations need 2).
    adc_bits : int
        ADC resolution, 1 to 16: ``2**adc_bits - 1`` steps over the full scale.
    rows : int
        Rows summed per conversion (the array's column length), 1 to :data:`MAX_ROWS`.
    act_encoding : int
        Activation bits per cycle, 1 (bit-serial) to ``act_bits`` (bit-parallel).
    noise_sigma : float
        Deviation of the Gaussian noise added before the ADC, in percent of full scale
        (:meth:`with_noise_lsb` sets it in ADC steps), at least 0.
    nonlinear_sigma : float
        Deviation of the signal-dependent noise, percent of full scale at ``m = 0``, falling
        as ``1 / sqrt(m * rows + 1)``; at least 0.
    hybrid_levels : int
        Top levels of ``i + j`` computed digitally, 0 to ``weight_bits + act_bits - 1``.
    voting_levels : int
        Top levels of ``i + j`` converted by majority vote, 0 to
        ``weight_bits + act_bits - 1``; needs ``act_encoding = 1`` and ``voting_samples > 1``.
    voting_samples : int
        Conversions per voted cycle: odd, 1 to :data:`MAX_VOTING_SAMPLES` (odd, so that two
        codes never tie; 1 without voting, and more only with ``voting_levels``).
    seed : int
        Seed of the noise when :func:`analog_matmul` is given no generator, at least 0.

    Raises
    ------
    ValueError, TypeError
        For an invalid parameter or combination, naming it and its value.
    """

    weight_bits: int = 8
    act_bits: int = 8
    adc_bits: int = 8
    rows: int = 64
    act_encoding: int = 1
    noise_sigma: float = 0.0
    nonlinear_sigma: float = 0.0
    hybrid_levels: int = 0
    voting_levels: int = 0
    voting_samples: int = 1
    seed: int = 0

    def __post_init__(self):
        # NumPy numbers are stored as Python ones: equal configurations, equal hashes.
        for parameter, low, high in (("weight_bits", 2, 16), ("act_bits", 1, 16),
                                     ("adc_bits", 1, 16), ("rows", 1, MAX_ROWS)):
            object.__setattr__(self, parameter,
                               check_int(parameter, getattr(self, parameter), low, high))
        levels = self.weight_bits + self.act_bits - 1
        checks = (("act_encoding", 1, self.act_bits), ("hybrid_levels", 0, levels),
                  ("voting_levels", 0, levels), ("voting_samples", 1, MAX_VOTING_SAMPLES),
                  ("seed", 0, (1 << 63) - 1))
        for parameter, low, high in checks:
            object.__setattr__(self, parameter,
                               check_int(parameter, getattr(self, parameter), low, high))
        for parameter in ("noise_sigma", "nonlinear_sigma"):
            object.__setattr__(self, parameter, _check_sigma(parameter, getattr(self, parameter)))
        if self.voting_samples % 2 == 0:
            raise ValueError(f"voting_samples must be odd, not {self.voting_samples!r}")
        if self.voting_levels and self.voting_samples == 1:
            raise ValueError(f"voting_levels needs voting_samples of at least 3, not "
                             f"{self.voting_samples!r}")
        if self.voting_samples > 1 and not self.voting_levels:
            raise ValueError(f"voting_samples applies with voting_levels only, not with "
                             f"voting_levels = 0 (voting_samples = {self.voting_samples!r})")
        if self.voting_levels and self.act_encoding > 1:
            raise ValueError(f"voting_levels needs bit-serial activations (act_encoding = 1), "
                             f"not act_encoding = {self.act_encoding!r}")

    # -- names and tables ------------------------------------------------------------------

    @property
    def name(self):
        """Stable identifier: ``acim_w8a8_adc8_r64``, then what differs from the defaults.

        ``_e4`` (act_encoding), ``_n0.3`` or ``_n0.5lsb`` (noise_sigma in percent, or in ADC
        steps when only those read back exactly), ``_nl...`` (nonlinear_sigma), ``_h2``
        (hybrid_levels), ``_v3x5`` (voting_levels x voting_samples), ``_seed7``.
        """
        parts = [f"acim_w{self.weight_bits}a{self.act_bits}_adc{self.adc_bits}_r{self.rows}"]
        if self.act_encoding > 1:
            parts.append(f"e{self.act_encoding}")
        for prefix, sigma in (("n", self.noise_sigma), ("nl", self.nonlinear_sigma)):
            if sigma:
                parts.append(prefix + self._sigma_text(sigma))
        if self.hybrid_levels:
            parts.append(f"h{self.hybrid_levels}")
        if self.voting_levels:
            parts.append(f"v{self.voting_levels}x{self.voting_samples}")
        if self.seed:
            parts.append(f"seed{self.seed}")
        return "_".join(parts)

    def _sigma_text(self, sigma):
        """Percent when 6 digits give it exactly, else ADC steps when they do, else percent in
        full: each form reads back as one value, and the suffix tells them apart."""
        percent = f"{sigma:.6g}"
        if float(percent) == sigma:
            return percent
        in_lsb = f"{sigma / self.lsb_percent:.6g}"
        if float(in_lsb) * self.lsb_percent == sigma:
            return f"{in_lsb}lsb"
        return repr(sigma)

    def to_dict(self):
        return {field: getattr(self, field) for field in _FIELDS}

    @classmethod
    def from_dict(cls, data):
        """The configuration of a table of :meth:`to_dict`'s form (missing keys: defaults).

        Raises
        ------
        TypeError
            If ``data`` is not a dict.
        ValueError
            If it holds unknown keys (listing them and the known ones), or a bad value.
        """
        return cls(**check_table("analog CiM description", data, _FIELDS))

    # -- ranges, noise and cycles ----------------------------------------------------------

    @property
    def lsb_percent(self):
        """One ADC step in percent of full scale: ``100 / (2**adc_bits - 1)``."""
        return 100 / ((1 << self.adc_bits) - 1)

    @property
    def noise_lsb(self):
        """:attr:`noise_sigma` in ADC steps."""
        return self.noise_sigma / self.lsb_percent

    @property
    def nonlinear_lsb(self):
        """:attr:`nonlinear_sigma` in ADC steps."""
        return self.nonlinear_sigma / self.lsb_percent

    def with_noise_lsb(self, sigma_lsb, nonlinear_lsb=None):
        """A copy with :attr:`noise_sigma` (and :attr:`nonlinear_sigma` when given) set in ADC
        steps: ``with_noise_lsb(1)`` adds one LSB of noise."""
        sigma_lsb = _check_sigma("sigma_lsb", sigma_lsb)
        changes = {"noise_sigma": sigma_lsb * self.lsb_percent}
        if nonlinear_lsb is not None:
            changes["nonlinear_sigma"] = (_check_sigma("nonlinear_lsb", nonlinear_lsb)
                                          * self.lsb_percent)
        return replace(self, **changes)

    @property
    def weight_range(self):
        """``(low, high)`` of quantized weights: ``+/-(2**(weight_bits-1) - 1)``.

        :func:`analog_matmul` also takes ``-2**(weight_bits-1)``, which the two's-complement
        planes hold (a flipped bit can make it).
        """
        high = (1 << (self.weight_bits - 1)) - 1
        return -high, high

    def act_range(self, signed=False):
        """``(low, high)`` of quantized activations: ``(0, 2**act_bits - 1)`` unsigned,
        ``+/-(2**(act_bits-1) - 1)`` signed (:func:`analog_matmul` also takes the most
        negative two's-complement value)."""
        if check_bool("signed", signed):
            high = (1 << (self.act_bits - 1)) - 1
            return -high, high
        return 0, (1 << self.act_bits) - 1

    def act_chunks(self, signed=False):
        """``(shift, width)`` of each activation cycle, least significant first; signed
        activations end with their sign bit, ``(act_bits - 1, 1)``."""
        signed = check_bool("signed", signed)
        if signed and self.act_bits < 2:
            raise ValueError(f"signed activations need act_bits of at least 2, not "
                             f"{self.act_bits!r}")
        width = self.act_bits - signed
        chunks = [(shift, min(self.act_encoding, width - shift))
                  for shift in range(0, width, self.act_encoding)]
        return tuple(chunks + [(width, 1)] * signed)

    def cycles(self, signed=False):
        """Every array operation of one row chunk, as :class:`ArrayCycle` tuples."""
        chunks = self.act_chunks(signed)
        top = self.weight_bits + len(chunks) - 2
        out = []
        for j, (shift, width) in enumerate(chunks):
            for i in range(self.weight_bits):
                # Negative for the top weight plane or the sign cycle, not for both.
                negative = (i == self.weight_bits - 1) != (signed and j == len(chunks) - 1)
                sign = -1 if negative else 1
                analog = i + j <= top - self.hybrid_levels
                out.append(ArrayCycle(i, j, shift, width, sign, analog,
                                      analog and i + j > top - self.voting_levels))
        return tuple(out)

    def cycles_per_mac(self, signed=False):
        """Array operations per output per row chunk: ``weight_bits * J``, with ``J =
        ceil(act_bits / act_encoding)`` activation cycles (signed: ``1 + ceil((act_bits - 1) /
        act_encoding)``)."""
        return self.weight_bits * len(self.act_chunks(signed))

    def conversions_per_mac(self, signed=False):
        """ADC conversions per output per row chunk, the repeated samples of voting included."""
        voted = sum(cycle.voting for cycle in self.cycles(signed))
        return self.cycles_per_mac(signed) + voted * (self.voting_samples - 1)

    def adc_is_lossless(self, signed=False):
        """Whether the noiseless ADC returns every partial sum exactly: each full scale
        ``(2**width - 1) * rows`` divides ``2**adc_bits - 1``."""
        steps = (1 << self.adc_bits) - 1
        return all(steps % (((1 << width) - 1) * self.rows) == 0
                   for _, width in self.act_chunks(signed))

    def describe(self, signed=False):
        """Facts for reports and energy estimates, as a dict of plain values."""
        cycles = self.cycles(signed)
        return {"name": self.name, **self.to_dict(), "act_signed": bool(signed),
                "lsb_percent": self.lsb_percent, "noise_lsb": self.noise_lsb,
                "nonlinear_lsb": self.nonlinear_lsb,
                "act_cycles": len(self.act_chunks(signed)),
                "cycles_per_mac": len(cycles),
                "analog_cycles": sum(cycle.analog for cycle in cycles),
                "digital_cycles": sum(not cycle.analog for cycle in cycles),
                "voting_cycles": sum(cycle.voting for cycle in cycles),
                "conversions_per_mac": self.conversions_per_mac(signed),
                "adc_lossless": self.adc_is_lossless(signed)}


# -- the computation ---------------------------------------------------------------------------

def _mode(samples):
    """The most frequent value along dimension 0; a tie goes to the earliest sample."""
    # A running maximum that only a strictly larger count replaces: 20x faster than argmax
    # over a stack of counts (a strided reduction), measured.
    best, best_count = samples[0], (samples == samples[0]).sum(0)
    for sample in samples[1:]:
        count = (samples == sample).sum(0)
        better = count > best_count
        best = torch.where(better, sample, best)
        best_count = torch.where(better, count, best_count)
    return best


def _deviation(scaled, rand_codes, nonlinear_codes, rows_per_code):
    """The noise's deviation in ADC codes: a float, or a tensor like ``scaled`` when the
    signal-dependent part is on (``m * rows = scaled * rows / L``)."""
    if not nonlinear_codes:
        return rand_codes
    return (rand_codes ** 2 + nonlinear_codes ** 2 / (scaled * rows_per_code + 1)).sqrt_()


def _act_cycles(x, chunks, rows):
    """Activation cycle values of ``x`` (``K`` a multiple of ``rows``) as ``(C, J * M, rows)``:
    chunk ``c`` of every cycle ``j`` and row ``m``."""
    # Bits of the two's-complement word: int64 shifts sign-extend, so masks read them.
    values = torch.stack([(x >> shift) & ((1 << width) - 1) for shift, width in chunks])
    count = x.shape[1] // rows
    return (values.view(len(chunks), x.shape[0], count, rows).permute(2, 0, 1, 3)
            .reshape(count, -1, rows))


def _weight_planes(w, bits, rows):
    """The weights' bit-planes as ``(C, rows, bits * N)``: plane ``i`` of column ``n`` at
    ``i * N + n``."""
    planes = torch.stack([(w >> i) & 1 for i in range(bits)], dim=1)
    return planes.reshape(w.shape[0] // rows, rows, -1)


def analog_matmul(x, w, config, *, act_signed=False, chunk_rows=None, generator=None):
    """The matrix product ``x @ w`` as the analog array ``config`` computes it.

    See the module description for the model. Without noise and with a lossless ADC
    (:meth:`AnalogCiM.adc_is_lossless`) the result equals ``x @ w`` exactly.

    Parameters
    ----------
    x : int array or tensor of shape (M, K)
        Quantized activations: ``[0, 2**act_bits - 1]``, or with ``act_signed``
        ``[-2**(act_bits-1), 2**(act_bits-1) - 1]``.
    w : int array or tensor of shape (K, N)
        Quantized weights, ``[-2**(weight_bits-1), 2**(weight_bits-1) - 1]``.
    config : AnalogCiM
        The array and its converter.
    act_signed : bool
        Two's-complement activations (one extra 1-bit cycle for the sign).
    chunk_rows : int or None
        Rows used per conversion, 1 to ``config.rows``; ``None`` uses them all. A
        convolution passes a multiple of its kernel area so that no kernel straddles two
        conversions. The full scale stays the array's ``config.rows``.
    generator : torch.Generator or None
        Source of the noise, on ``x``'s device (advanced by the call); ``None`` draws from a
        fresh generator seeded with ``config.seed``, so that the same call gives the same
        result. A network should pass one generator through all its calls: with ``None``,
        every batch of the same shape meets the same noise.

    Returns
    -------
    float64 array of shape (M, N)
        In integer units; a torch tensor on ``x``'s device if ``x`` is a tensor, else a NumPy
        array.

    Raises
    ------
    TypeError
        If ``config`` or ``generator`` has the wrong type, or ``x`` or ``w`` does not hold
        integers.
    ValueError
        If a shape is not 2-D or ``K`` differs (naming both shapes); if an operand lies
        outside its range (naming the array and the value); if ``chunk_rows`` is out of
        range; if ``act_signed`` with ``act_bits = 1``; if the generator is on another device.
    """
    if not isinstance(config, AnalogCiM):
        raise TypeError(f"config must be an AnalogCiM, not {short_repr(config)}")
    act_signed = check_bool("act_signed", act_signed)
    rows = config.rows if chunk_rows is None else check_int("chunk_rows", chunk_rows, 1,
                                                            config.rows)
    as_tensor = isinstance(x, torch.Tensor)
    device = x.device if as_tensor else torch.device("cpu")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, not "
                            f"{short_repr(generator)}")
        if generator.device != device:
            raise ValueError(f"generator must be on x's device ({device}), not on "
                             f"{generator.device}")
    x = as_int64("x", x, device)
    w = as_int64("w", w, device)
    check_shapes(x, w)
    config.act_chunks(act_signed)        # refuses signed 1-bit activations
    word = 1 << (config.act_bits - 1)
    act_limits = (-word, word - 1) if act_signed else (0, 2 * word - 1)
    weight_word = 1 << (config.weight_bits - 1)
    check_range("x", x, value_extremes(x), *act_limits, config.name)
    check_range("w", w, value_extremes(w), -weight_word, weight_word - 1, config.name)
    if generator is None:
        generator = torch.Generator(device=device).manual_seed(config.seed)
    if x.shape[0] == 0 or x.shape[1] == 0 or w.shape[1] == 0:
        out = torch.zeros((x.shape[0], w.shape[1]), dtype=torch.float64, device=device)
    else:
        out = _analog(x, w, config, act_signed, rows, generator)
    return out if as_tensor else out.cpu().numpy()


def _analog(x, w, config, signed, rows, generator):
    cycles = config.cycles(signed)
    chunks = config.act_chunks(signed)
    planes, count, n = config.weight_bits, len(chunks), w.shape[1]
    steps = (1 << config.adc_bits) - 1
    full_scales = [((1 << width) - 1) * config.rows for _, width in chunks]
    # Popcounts are exact integers in float32 below 2**24. Codes are ``round(p * L / F)``:
    # float32 keeps that exact (ties included) while ``L * F < 2**23``.
    gemm = (torch.float32 if max(full_scales) < 1 << 24 and ieee_float32_gemm(x.device)
            else torch.float64)
    dtype = torch.float32 if steps * max(full_scales) < 1 << 23 else torch.float64
    depth = -(-x.shape[1] // rows) * rows
    x = torch.nn.functional.pad(x, (0, depth - x.shape[1]))
    w_planes = _weight_planes(torch.nn.functional.pad(w, (0, 0, 0, depth - w.shape[0])),
                              planes, rows).to(gemm)

    analog = torch.zeros(count, planes, dtype=dtype, device=x.device)
    # Integer weights per cycle; one division by L at the end (see the module description).
    weights = torch.zeros(count, 1, planes, 1, dtype=torch.float64, device=x.device)
    voting = []
    for cycle in cycles:
        j, i = cycle.act_cycle, cycle.weight_bit
        weights[j, 0, i, 0] = cycle.sign * full_scales[j] * 2.0 ** (i + cycle.act_shift)
        if cycle.voting:
            voting.append((j, i))
        elif cycle.analog:
            analog[j, i] = 1
    noise = _Noise(config, generator, analog.view(1, count, 1, planes, 1), voting)
    full = torch.tensor(full_scales, dtype=dtype, device=x.device).view(1, count, 1, 1, 1)

    out = torch.empty((x.shape[0], n), dtype=torch.float64, device=x.device)
    # Blocks of rows of x and groups of chunks keep each cycle tensor near _ELEMENTS values:
    # a convolution's M (batch times positions) would otherwise take gigabytes.
    block = max(1, _ELEMENTS // (count * planes * n))
    for start in range(0, x.shape[0], block):
        x_cycles = _act_cycles(x[start:start + block], chunks, rows).to(gemm)
        m = x_cycles.shape[1] // count
        codes = torch.zeros((count, m, planes, n), dtype=torch.float64, device=x.device)
        group = max(1, _ELEMENTS // (count * m * planes * n))
        for first in range(0, x_cycles.shape[0], group):
            sums = torch.bmm(x_cycles[first:first + group], w_planes[first:first + group])
            scaled = sums.to(dtype).view(-1, count, m, planes, n).mul_(steps).div_(full)
            part = noise.convert(scaled, steps) if noise.on else scaled.round_()
            # Sums of codes over chunks are exact in float32 below 2**24 (C * L), and 8x
            # faster than summing into float64 (measured).
            codes += part.sum(0, dtype=torch.float64 if part.shape[0] * steps >= 1 << 24
                              else dtype)
        out[start:start + block] = codes.mul_(weights).sum((0, 2)).div_(steps)
    return out


class _Noise:
    """The analog noise of one call: deviations in ADC codes, the analog and voted cycles."""

    def __init__(self, config, generator, analog, voting):
        steps = (1 << config.adc_bits) - 1
        # Percent of full scale times L / 100.
        self.rand = config.noise_sigma / 100 * steps
        self.nonlinear = config.nonlinear_sigma / 100 * steps
        self.rows_per_code = config.rows / steps
        self.on = bool(self.rand or self.nonlinear) and bool(analog.any() or voting)
        self.generator, self.analog, self.voting = generator, analog, voting
        self.samples = config.voting_samples

    def _normal(self, shape, like):
        return torch.randn(shape, generator=self.generator, dtype=like.dtype,
                           device=like.device)

    def convert(self, scaled, steps):
        """ADC codes of ``scaled`` (``m * L``, shaped ``(C, J, M, planes, N)``) with noise."""
        deviation = _deviation(scaled, self.rand, self.nonlinear, self.rows_per_code)
        noise = self._normal(scaled.shape, scaled).mul_(deviation).mul_(self.analog)
        part = noise.add_(scaled).round_().clamp_(0, steps)
        for j, i in self.voting:
            base = scaled[:, j, :, i, :]
            spread = deviation if isinstance(deviation, float) else deviation[:, j, :, i, :]
            samples = self._normal((self.samples, *base.shape), base).mul_(spread).add_(base)
            part[:, j, :, i, :] = _mode(samples.round_().clamp_(0, steps))
        return part
