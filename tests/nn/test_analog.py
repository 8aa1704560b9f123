"""analog_matmul against exact products (lossless ADC), against a plain loop over every
conversion (coarse ADC, bit for bit), noise statistics against their predicted deviation,
hybrid cycles and voting, every validation error of AnalogCiM and analog_matmul, and the
example in docs/nn.md."""

import dataclasses
import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from dcim.nn import AnalogCiM, analog_matmul
from dcim.nn import analog as analog_module
from dcim.nn.analog import MAX_ROWS, MAX_VOTING_SAMPLES, _mode

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def operands(seed, m, k, n, weight_bits, act_bits, signed):
    """Operands over the whole accepted ranges, with their extremes over-represented."""
    rng = np.random.default_rng(seed)
    w_low, w_high = -(1 << (weight_bits - 1)), (1 << (weight_bits - 1)) - 1
    x_low, x_high = ((-(1 << (act_bits - 1)), (1 << (act_bits - 1)) - 1) if signed
                     else (0, (1 << act_bits) - 1))

    def draw(low, high, shape):
        values = rng.integers(low, high + 1, shape)
        extremes = rng.choice(np.array([low, 0, high]), shape)
        return np.where(rng.random(shape) < 0.3, extremes, values)

    return draw(x_low, x_high, (m, k)), draw(w_low, w_high, (k, n))


def act_cycles(act_bits, encoding, signed):
    """``(shift, width, negative)`` per activation cycle, written out independently."""
    cycles, shift = [], 0
    mantissa = act_bits - 1 if signed else act_bits
    while shift < mantissa:
        width = min(encoding, mantissa - shift)
        cycles.append((shift, width, False))
        shift += width
    if signed:
        cycles.append((act_bits - 1, 1, True))
    return cycles


def loop_reference(x, w, config, signed, chunk_rows):
    """Every conversion of the noiseless array, one at a time, in exact fractions."""
    steps = 2 ** config.adc_bits - 1
    wb, ab = config.weight_bits, config.act_bits
    out = np.zeros((x.shape[0], w.shape[1]))
    for m in range(x.shape[0]):
        for n in range(w.shape[1]):
            total = Fraction(0)
            for first in range(0, x.shape[1], chunk_rows):
                ks = range(first, min(first + chunk_rows, x.shape[1]))
                for shift, width, negative in act_cycles(ab, config.act_encoding, signed):
                    full = (2 ** width - 1) * config.rows
                    for i in range(wb):
                        count = sum(((int(x[m, k]) % 2 ** ab) >> shift) % 2 ** width
                                    * (((int(w[k, n]) % 2 ** wb) >> i) % 2) for k in ks)
                        code = round(Fraction(count * steps, full))   # half to even
                        sign = (-1) ** ((i == wb - 1) + negative)
                        total += sign * Fraction(code * full, steps) * 2 ** (i + shift)
            out[m, n] = float(total)
    return out


# -- exactness and the loop reference ----------------------------------------------------------

@SETTINGS
@given(weight_bits=st.integers(2, 10), act_bits=st.integers(1, 10), encoding=st.integers(1, 4),
       signed=st.booleans(), adc_bits=st.integers(1, 16), m=st.integers(1, 5),
       k=st.integers(1, 40), n=st.integers(1, 5), split=st.booleans(),
       seed=st.integers(0, 1000), data=st.data())
@example(weight_bits=8, act_bits=8, encoding=1, signed=True, adc_bits=8, m=3, k=40, n=4,
         split=False, seed=1, data=255)
@example(weight_bits=16, act_bits=16, encoding=4, signed=False, adc_bits=8, m=2, k=30, n=3,
         split=True, seed=2, data=17)
def test_a_lossless_adc_without_noise_is_exact(weight_bits, act_bits, encoding, signed,
                                               adc_bits, m, k, n, split, seed, data):
    assume(not signed or act_bits >= 2)
    encoding = min(encoding, act_bits)
    steps = 2 ** adc_bits - 1
    # Lossless: every full scale (2**width - 1) * rows divides 2**adc_bits - 1.
    scale = math.lcm(*(2 ** width - 1 for _, width, _ in act_cycles(act_bits, encoding, signed)))
    assume(steps % scale == 0)
    divisors = [rows for rows in range(1, steps // scale + 1) if steps // scale % rows == 0]
    rows = data if isinstance(data, int) else data.draw(st.sampled_from(divisors), "rows")
    config = AnalogCiM(weight_bits, act_bits, adc_bits, rows, act_encoding=encoding)
    assert config.adc_is_lossless(signed)
    x, w = operands(seed, m, k, n, weight_bits, act_bits, signed)
    chunk_rows = max(1, rows // 2) if split else None
    out = analog_matmul(x, w, config, act_signed=signed, chunk_rows=chunk_rows)
    assert out.dtype == np.float64 and out.shape == (m, n)
    assert np.array_equal(out, (x @ w).astype(np.float64))


def test_a_layer_sized_product_is_exact_and_follows_x_type():
    # 255 rows on an 8-bit ADC: one code per popcount.
    config = AnalogCiM(rows=255, adc_bits=8)
    x, w = operands(0, 256, 576, 64, 8, 8, signed=False)
    out = analog_matmul(torch.from_numpy(x), torch.from_numpy(w), config)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    assert torch.equal(out, torch.from_numpy(x @ w).double())
    assert config.adc_is_lossless() and not AnalogCiM().adc_is_lossless()


@SETTINGS
@given(weight_bits=st.integers(2, 5), act_bits=st.integers(1, 5), encoding=st.integers(1, 3),
       signed=st.booleans(), adc_bits=st.integers(1, 5), rows=st.integers(1, 9),
       chunk=st.integers(1, 9), m=st.integers(1, 3), k=st.integers(1, 12), n=st.integers(1, 3),
       seed=st.integers(0, 1000))
@example(weight_bits=4, act_bits=4, encoding=1, signed=True, adc_bits=2, rows=8, chunk=8, m=2,
         k=12, n=2, seed=3)
@example(weight_bits=3, act_bits=5, encoding=3, signed=False, adc_bits=3, rows=6, chunk=4, m=2,
         k=11, n=2, seed=4)
def test_a_coarse_adc_matches_the_loop_reference_bit_for_bit(weight_bits, act_bits, encoding,
                                                             signed, adc_bits, rows, chunk, m, k,
                                                             n, seed):
    assume(not signed or act_bits >= 2)
    config = AnalogCiM(weight_bits, act_bits, adc_bits, rows,
                       act_encoding=min(encoding, act_bits))
    chunk_rows = min(chunk, rows)
    x, w = operands(seed, m, k, n, weight_bits, act_bits, signed)
    out = analog_matmul(x, w, config, act_signed=signed, chunk_rows=chunk_rows)
    assert np.array_equal(out, loop_reference(x, w, config, signed, chunk_rows))


@pytest.mark.parametrize("elements", [1, 200, 5000])
def test_blocks_of_rows_and_groups_of_chunks_give_the_same_result(monkeypatch, elements):
    # _ELEMENTS bounds one cycle tensor; at 1, every row of x and every chunk runs alone.
    config = AnalogCiM(4, 5, 3, 6, act_encoding=2)
    x, w = operands(7, 7, 40, 3, 4, 5, signed=True)
    whole = analog_matmul(x, w, config, act_signed=True, chunk_rows=5)
    monkeypatch.setattr(analog_module, "_ELEMENTS", elements)
    assert np.array_equal(analog_matmul(x, w, config, act_signed=True, chunk_rows=5), whole)
    assert np.array_equal(whole, loop_reference(x, w, config, True, 5))
    noisy = analog_matmul(x, w, dataclasses.replace(config, noise_sigma=5.0), act_signed=True,
                          chunk_rows=5)
    assert not np.array_equal(noisy, whole) and np.abs(noisy - whole).max() < 2 * np.abs(
        x @ w).max()


def test_empty_operands_give_zeros():
    out = analog_matmul(np.zeros((3, 0), np.int64), np.zeros((0, 2), np.int64), AnalogCiM())
    assert out.shape == (3, 2) and out.dtype == np.float64 and not out.any()
    assert analog_matmul(np.zeros((0, 4), np.int64), np.zeros((4, 2), np.int64),
                         AnalogCiM()).shape == (0, 2)


def test_the_adc_error_shrinks_with_its_bits():
    x, w = operands(5, 32, 256, 8, 8, 8, signed=False)
    errors = [np.abs(analog_matmul(x, w, AnalogCiM(adc_bits=bits)) - x @ w).mean()
              for bits in (4, 6, 8, 10)]
    assert errors == sorted(errors, reverse=True) and errors[-1] > 0


# -- noise ---------------------------------------------------------------------------------

def test_noise_adds_its_predicted_deviation():
    # 255 rows on 8 bits: a code is a popcount. Every bit of the operands is a fair coin, so
    # popcounts lie near 64 and the clamp never acts: each analog cycle of the 2 chunks adds
    # round(popcount + N(0, s)) - popcount, of variance s**2 + 1/12 (for s >= 0.5), times
    # 2**(i + j). The top level (i + j = 6, weight 4**6 of 7,225 in all) is digital.
    sigma = 2.0
    config = AnalogCiM(4, 4, 8, 255, hybrid_levels=1).with_noise_lsb(sigma)
    rng = np.random.default_rng(0)
    x, w = rng.integers(0, 16, (256, 510)), rng.integers(-8, 8, (510, 32))
    error = analog_matmul(x, w, config) - x @ w
    variance = 2 * sum(4.0 ** (i + j) for i in range(4) for j in range(4) if i + j <= 5)
    expected = math.sqrt(variance * (sigma ** 2 + 1 / 12))
    assert abs(error.mean()) < 3 * expected / math.sqrt(error.size)
    assert error.std() == pytest.approx(expected, rel=0.03)


def code_error_moments(count, deviation, steps=255):
    """Mean and deviation of ``clamp(round(count + N(0, deviation)), 0, steps) - count``."""
    def below(t):
        return 0.5 * (1 + math.erf(t / (deviation * math.sqrt(2))))

    probabilities = {}
    for code in range(steps + 1):
        low = -math.inf if code == 0 else code - 0.5 - count
        high = math.inf if code == steps else code + 0.5 - count
        probabilities[code - count] = below(high) - below(low)
    mean = sum(e * p for e, p in probabilities.items())
    return mean, math.sqrt(sum((e - mean) ** 2 * p for e, p in probabilities.items()))


def test_the_nonlinear_deviation_falls_with_the_partial_sum():
    # One analog conversion per output (one weight plane, the top one digital, and 1-bit
    # activations on 255 rows and 8 bits): the error is that of one code, of deviation
    # nonlinear / sqrt(popcount + 1), clamped at 0 for a popcount of 0.
    config = AnalogCiM(2, 1, 8, 255, hybrid_levels=1).with_noise_lsb(0, nonlinear_lsb=6)
    ones = np.ones((4000, 255), np.int64)
    counts = (0, 3, 120)
    w = np.zeros((255, len(counts)), np.int64)
    for column, count in enumerate(counts):
        w[:count, column] = 1
    error = analog_matmul(ones, w, config) - ones @ w
    for column, count in enumerate(counts):
        mean, deviation = code_error_moments(count, 6 / math.sqrt(count + 1))
        assert error[:, column].mean() == pytest.approx(mean, abs=4 * deviation / 60)
        assert error[:, column].std() == pytest.approx(deviation, rel=0.04)


def test_the_error_grows_with_the_noise_in_lsb():
    x, w = operands(1, 64, 256, 16, 8, 8, signed=False)
    exact = x @ w
    errors = [np.sqrt(((analog_matmul(x, w, AnalogCiM().with_noise_lsb(s)) - exact) ** 2)
                      .mean()) for s in (0, 0.5, 1, 2)]
    assert errors == sorted(errors) and errors[0] < errors[1] / 2


def test_bit_parallel_activations_are_more_sensitive_to_noise():
    x, w = operands(2, 64, 256, 16, 8, 8, signed=False)
    exact = x @ w

    def rms(config):
        return np.sqrt(((analog_matmul(x, w, config) - exact) ** 2).mean())

    serial = AnalogCiM(adc_bits=8).with_noise_lsb(1)
    parallel = dataclasses.replace(serial, act_encoding=4)
    assert rms(parallel) > 1.2 * rms(serial)
    assert parallel.cycles_per_mac() == serial.cycles_per_mac() / 4


def test_noise_is_reproducible_by_seed_and_generator():
    x, w = operands(3, 8, 64, 4, 8, 8, signed=True)
    config = AnalogCiM(noise_sigma=1.0, nonlinear_sigma=0.5)
    first = analog_matmul(x, w, config, act_signed=True)
    assert np.array_equal(first, analog_matmul(x, w, config, act_signed=True))
    other = analog_matmul(x, w, dataclasses.replace(config, seed=1), act_signed=True)
    assert not np.array_equal(first, other)
    generator = torch.Generator().manual_seed(0)
    from_generator = analog_matmul(x, w, config, act_signed=True, generator=generator)
    assert np.array_equal(from_generator, first)
    # The generator advanced: the next call draws new noise.
    assert not np.array_equal(analog_matmul(x, w, config, act_signed=True,
                                            generator=generator), first)


def test_hybrid_levels_reduce_the_error():
    x, w = operands(4, 64, 256, 16, 8, 8, signed=False)
    exact = x @ w
    noiseless = analog_matmul(x, w, AnalogCiM())
    errors = []
    for levels in (0, 2, 4, 8):
        config = AnalogCiM(hybrid_levels=levels).with_noise_lsb(2)
        errors.append(np.sqrt(((analog_matmul(x, w, config) - exact) ** 2).mean()))
    assert errors == sorted(errors, reverse=True)
    # Every level digital: no noise left, only the ADC's rounding.
    all_digital = AnalogCiM(hybrid_levels=15).with_noise_lsb(2)
    assert np.array_equal(analog_matmul(x, w, all_digital), noiseless)


def test_voting_reduces_the_error_variance():
    x, w = operands(6, 64, 256, 16, 8, 8, signed=False)
    exact = x @ w
    noisy = AnalogCiM().with_noise_lsb(0.5)
    base = np.var(analog_matmul(x, w, noisy) - exact)
    voted = [np.var(analog_matmul(x, w, dataclasses.replace(
        noisy, voting_levels=4, voting_samples=samples)) - exact) for samples in (3, 7)]
    assert voted[1] < voted[0] < 0.8 * base
    # Voting without noise changes nothing.
    quiet = AnalogCiM(voting_levels=4, voting_samples=7)
    assert np.array_equal(analog_matmul(x, w, quiet), analog_matmul(x, w, AnalogCiM()))


def test_the_mode_keeps_the_most_frequent_code_and_the_earliest_of_a_tie():
    samples = torch.tensor([[1.0, 4.0, 2.0, 7.0],
                            [3.0, 5.0, 2.0, 8.0],
                            [3.0, 4.0, 6.0, 9.0]])
    assert torch.equal(_mode(samples), torch.tensor([3.0, 4.0, 2.0, 7.0]))


# -- the configuration -------------------------------------------------------------------

def test_names_ranges_and_facts():
    config = AnalogCiM()
    assert config.name == "acim_w8a8_adc8_r64"
    assert config.lsb_percent == pytest.approx(100 / 255)
    assert config.weight_range == (-127, 127)
    assert config.act_range() == (0, 255) and config.act_range(signed=True) == (-127, 127)
    noisy = AnalogCiM(adc_bits=6, act_encoding=2, hybrid_levels=2, voting_levels=0,
                      seed=7).with_noise_lsb(0.5, nonlinear_lsb=1)
    assert noisy.name == "acim_w8a8_adc6_r64_e2_n0.5lsb_nl1lsb_h2_seed7"
    assert noisy.noise_lsb == pytest.approx(0.5) and noisy.nonlinear_lsb == pytest.approx(1)
    assert AnalogCiM(noise_sigma=0.3).name == "acim_w8a8_adc8_r64_n0.3"
    assert AnalogCiM(voting_levels=2, voting_samples=5).name == "acim_w8a8_adc8_r64_v2x5"
    # Names and hashes do not depend on where a number came from.
    numpy_made = AnalogCiM(np.int64(8), rows=np.int64(64), noise_sigma=np.float32(0.5))
    assert numpy_made == AnalogCiM(noise_sigma=0.5) and hash(numpy_made) == hash(
        AnalogCiM(noise_sigma=0.5))
    assert len({AnalogCiM(noise_sigma=s).name for s in (0.1, 0.1 + 1e-12, 100 / 255)}) == 3


def test_cycles_and_energy_facts():
    config = AnalogCiM(act_encoding=3, hybrid_levels=1)
    assert config.act_chunks() == ((0, 3), (3, 3), (6, 2))
    assert config.act_chunks(signed=True) == ((0, 3), (3, 3), (6, 1), (7, 1))
    assert config.cycles_per_mac() == 8 * 3 and config.cycles_per_mac(signed=True) == 8 * 4
    cycles = config.cycles()
    assert [c for c in cycles if not c.analog] == [(7, 2, 6, 2, -1, False, False)]
    signed = AnalogCiM(4, 4).cycles(signed=True)
    signs = {(c.weight_bit, c.act_cycle): c.sign for c in signed}
    assert signs[(3, 3)] == 1 and signs[(3, 0)] == -1 and signs[(0, 3)] == -1
    assert signs[(0, 0)] == 1
    voting = AnalogCiM(voting_levels=2, voting_samples=5)
    assert sum(c.voting for c in voting.cycles()) == 3
    assert voting.conversions_per_mac() == 64 + 3 * 4
    facts = AnalogCiM(rows=255, hybrid_levels=2).with_noise_lsb(1).describe()
    assert facts["name"] == "acim_w8a8_adc8_r255_n1lsb_h2" and facts["act_cycles"] == 8
    assert facts["digital_cycles"] == 3 and facts["analog_cycles"] == 61
    assert facts["voting_cycles"] == 0 and facts["conversions_per_mac"] == 64
    assert facts["adc_lossless"] and facts["noise_lsb"] == pytest.approx(1)


def test_round_trip_through_a_dict():
    config = AnalogCiM(6, 4, 7, 32, act_encoding=2, noise_sigma=0.25, nonlinear_sigma=1.5,
                       hybrid_levels=3, seed=9)
    assert AnalogCiM.from_dict(config.to_dict()) == config
    assert AnalogCiM.from_dict({}) == AnalogCiM()
    voting = AnalogCiM(voting_levels=3, voting_samples=3)
    assert AnalogCiM.from_dict(voting.to_dict()) == voting


@pytest.mark.parametrize(("fields", "error", "match"), [
    ({"weight_bits": 1}, ValueError, r"weight_bits must be from 2 to 16, not 1"),
    ({"weight_bits": 17}, ValueError, r"weight_bits must be from 2 to 16, not 17"),
    ({"weight_bits": 8.0}, TypeError, r"weight_bits must be an int, not 8.0"),
    ({"act_bits": 0}, ValueError, r"act_bits must be from 1 to 16, not 0"),
    ({"adc_bits": 17}, ValueError, r"adc_bits must be from 1 to 16, not 17"),
    ({"adc_bits": True}, TypeError, r"adc_bits must be an int, not True"),
    ({"rows": 0}, ValueError, rf"rows must be from 1 to {MAX_ROWS}, not 0"),
    ({"act_encoding": 0}, ValueError, r"act_encoding must be from 1 to 8, not 0"),
    ({"act_encoding": 5, "act_bits": 4}, ValueError, r"act_encoding must be from 1 to 4, not 5"),
    ({"noise_sigma": -0.1}, ValueError, r"noise_sigma must be a finite number of at least 0, "
                                        r"not -0.1"),
    ({"noise_sigma": math.nan}, ValueError, r"noise_sigma must be a finite .* not nan"),
    ({"nonlinear_sigma": math.inf}, ValueError, r"nonlinear_sigma must be a finite .* not inf"),
    ({"nonlinear_sigma": "1"}, TypeError, r"nonlinear_sigma must be a number, not '1'"),
    ({"noise_sigma": False}, TypeError, r"noise_sigma must be a number, not False"),
    ({"hybrid_levels": 16}, ValueError, r"hybrid_levels must be from 0 to 15, not 16"),
    ({"hybrid_levels": -1}, ValueError, r"hybrid_levels must be from 0 to 15, not -1"),
    ({"voting_levels": 16, "voting_samples": 3}, ValueError,
     r"voting_levels must be from 0 to 15, not 16"),
    ({"voting_samples": 0}, ValueError,
     rf"voting_samples must be from 1 to {MAX_VOTING_SAMPLES}, not 0"),
    ({"voting_levels": 2, "voting_samples": 4}, ValueError, r"voting_samples must be odd, not 4"),
    ({"voting_levels": 2}, ValueError, r"voting_levels needs voting_samples of at least 3, "
                                       r"not 1"),
    ({"voting_samples": 3}, ValueError, r"voting_samples applies with voting_levels only"),
    ({"voting_levels": 2, "voting_samples": 3, "act_encoding": 2}, ValueError,
     r"voting_levels needs bit-serial activations \(act_encoding = 1\), not act_encoding = 2"),
    ({"seed": -1}, ValueError, r"seed must be from 0 to \d+, not -1"),
])
def test_invalid_configurations(fields, error, match):
    with pytest.raises(error, match=match):
        AnalogCiM(**fields)


def test_invalid_descriptions_and_noise_in_lsb():
    with pytest.raises(ValueError, match=r"analog CiM description has unknown keys "
                                         r"\['bits', 'noise'\]; it takes \['weight_bits'"):
        AnalogCiM.from_dict({"noise": 1, "bits": 2})
    with pytest.raises(TypeError, match=r"analog CiM description must be a table, not \[1\]"):
        AnalogCiM.from_dict([1])
    with pytest.raises(ValueError, match=r"sigma_lsb must be a finite number of at least 0, "
                                         r"not -1.0"):
        AnalogCiM().with_noise_lsb(-1)
    with pytest.raises(TypeError, match=r"nonlinear_lsb must be a number, not 'x'"):
        AnalogCiM().with_noise_lsb(1, nonlinear_lsb="x")
    with pytest.raises(ValueError, match=r"signed activations need act_bits of at least 2, "
                                         r"not 1"):
        AnalogCiM(act_bits=1).act_chunks(signed=True)
    with pytest.raises(TypeError, match=r"signed must be a bool, not 1"):
        AnalogCiM().act_range(1)


# -- analog_matmul's arguments -----------------------------------------------------------

def test_invalid_arguments():
    config = AnalogCiM(4, 4)
    x = np.zeros((2, 3), np.int64)
    w = np.zeros((3, 2), np.int64)
    with pytest.raises(TypeError, match=r"config must be an AnalogCiM, not 'acim'"):
        analog_matmul(x, w, "acim")
    with pytest.raises(TypeError, match=r"act_signed must be a bool, not 1"):
        analog_matmul(x, w, config, act_signed=1)
    with pytest.raises(ValueError, match=r"chunk_rows must be from 1 to 64, not 0"):
        analog_matmul(x, w, config, chunk_rows=0)
    with pytest.raises(ValueError, match=r"chunk_rows must be from 1 to 64, not 65"):
        analog_matmul(x, w, config, chunk_rows=65)
    with pytest.raises(TypeError, match=r"generator must be a torch.Generator or None, not 0"):
        analog_matmul(x, w, config, generator=0)
    with pytest.raises(ValueError, match=r"generator must be on x's device \(meta\), not on cpu"):
        analog_matmul(torch.zeros((2, 3), dtype=torch.int64, device="meta"), w, config,
                      generator=torch.Generator())
    with pytest.raises(TypeError, match=r"x must hold integers, not float64"):
        analog_matmul(x.astype(float), w, config)
    with pytest.raises(TypeError, match=r"w must hold integers, not torch.float32"):
        analog_matmul(x, torch.zeros((3, 2)), config)
    with pytest.raises(ValueError, match=r"x must have shape \(M, K\) and w shape \(K, N\), "
                                         r"not \(2, 3\) and \(2, 2\)"):
        analog_matmul(x, w[:2], config)
    with pytest.raises(ValueError, match=r"signed activations need act_bits of at least 2"):
        analog_matmul(x, w, AnalogCiM(act_bits=1), act_signed=True)


@pytest.mark.parametrize(("label", "value", "signed", "bounds"), [
    ("x", 16, False, "[0, 15]"), ("x", -1, False, "[0, 15]"), ("x", 8, True, "[-8, 7]"),
    ("x", -9, True, "[-8, 7]"), ("w", 8, False, "[-8, 7]"), ("w", -9, False, "[-8, 7]"),
])
def test_operands_out_of_range(label, value, signed, bounds):
    config = AnalogCiM(4, 4)
    x = np.zeros((2, 3), np.int64)
    w = np.zeros((3, 2), np.int64)
    (x if label == "x" else w)[1, 1] = value
    with pytest.raises(ValueError, match=rf"{label} must lie in \{bounds[:-1]}\] for "
                                         rf"acim_w4a4_adc8_r64, not {value}"):
        analog_matmul(x, w, config, act_signed=signed)


def test_the_analog_example_in_docs_nn_runs():
    # tests/nn/test_tasks.py runs every example after a training; this one needs none.
    text = (Path(__file__).resolve().parents[2] / "docs" / "nn.md").read_text()
    examples = [example for example in re.findall(r"```python\n(.*?)\n```", text, re.S)
                if "analog_matmul(" in example]
    assert len(examples) == 1
    exec(compile(examples[0], "docs/nn.md", "exec"), {})
