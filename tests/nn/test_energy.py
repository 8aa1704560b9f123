"""Tests of dcim.nn.energy: a layer's operand sample, its error metrics and energy per MAC.

Energy tests synthesize 4-bit multipliers and a 4 x 2 macro (seconds each), cached for the
session (tests/conftest.py); the cache test uses a cache folder of its own.
"""

import json
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dcim.arith import MultiplierSpec
from dcim.eda import tools
from dcim.flow import ppa
from dcim.flow.activity import Stimulus
from dcim.flow.design import resolve_design
from dcim.macro import DCiMMacro, MacroSpec
from dcim.macro.model import macro_model
from dcim.nn import (
    MacEnergy,
    energy_per_mac,
    inference_energy,
    layer_macro_operands,
    layer_operand_sample,
    operand_metrics,
    uniform_metrics,
)
from dcim.nn.energy import MAX_SAMPLES

ROOT = Path(__file__).resolve().parents[2]
MUL4 = MultiplierSpec(4)
MUL4S = MultiplierSpec(4, signed=True)
MACRO = MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=4, signed=False)


def random_layer(seed, m=6, k=5, n=3, low=0, high=15):
    rng = np.random.default_rng(seed)
    return (rng.integers(low, high + 1, size=(k, n)), rng.integers(low, high + 1, size=(m, k)))


def pair_frequencies(w, x):
    """The exact joint distribution of ``(w[k, n], x[m, k])`` over every ``(m, k, n)``."""
    counts = Counter((int(w[k, n]), int(x[m, k])) for m in range(x.shape[0])
                     for k in range(x.shape[1]) for n in range(w.shape[1]))
    total = sum(counts.values())
    return {pair: count / total for pair, count in counts.items()}


# -- layer_operand_sample -------------------------------------------------------------------

@pytest.mark.parametrize("layer", [
    random_layer(1, m=3, k=4, n=2, high=3),
    # Weights and activations depend on each other through k: (7, 1) never occurs, although
    # both values are common.
    (np.array([[7, 7], [1, 1]]), np.array([[7, 1], [7, 1]])),
])
def test_sample_follows_the_layers_pair_distribution(layer):
    w, x = layer
    expected = pair_frequencies(w, x)
    a, b = layer_operand_sample(w, x, design=MUL4, samples=200_000, seed=3)
    assert a.dtype == b.dtype == np.int64 and a.shape == b.shape == (200_000,)
    drawn = Counter(zip(a.tolist(), b.tolist(), strict=True))
    assert set(drawn) == set(expected)
    for pair, probability in expected.items():
        assert drawn[pair] / a.size == pytest.approx(probability, abs=0.005)


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 2**32), m=st.integers(1, 4), k=st.integers(1, 4),
       n=st.integers(1, 4), samples=st.integers(2, 50))
def test_every_sampled_pair_is_a_product_of_the_layer(seed, m, k, n, samples):
    w, x = random_layer(seed, m, k, n, low=-8, high=7)
    a, b = layer_operand_sample(w, x, design=MUL4S, samples=samples, seed=seed)
    assert a.size == b.size == samples
    assert set(zip(a.tolist(), b.tolist(), strict=True)) <= set(pair_frequencies(w, x))


def test_sample_is_seeded():
    w, x = random_layer(2)
    first = layer_operand_sample(w, x, design=MUL4, seed=5)
    again = layer_operand_sample(w, x, design=MUL4, seed=5)
    other = layer_operand_sample(w, x, design=MUL4, seed=6)
    assert all(np.array_equal(p, q) for p, q in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_sample_accepts_tensors_and_narrow_dtypes():
    w, x = random_layer(4, low=-8, high=7)
    expected = layer_operand_sample(w, x, design=MUL4S, samples=100)
    for ws, xs in ((torch.tensor(w, dtype=torch.int8), torch.tensor(x, dtype=torch.int16)),
                   (w.astype(np.int8), x.astype(np.int32))):
        got = layer_operand_sample(ws, xs, design=MUL4S, samples=100)
        assert all(np.array_equal(p, q) for p, q in zip(got, expected, strict=True))


def test_unsigned_designs_get_the_magnitudes_of_signed_values():
    w, x = random_layer(5, low=-8, high=7)
    signed = layer_operand_sample(w, x, design=MUL4S, samples=500)
    unsigned = layer_operand_sample(w, x, design=MUL4, samples=500)
    assert (signed[0] < 0).any() and (signed[1] < 0).any()
    assert np.array_equal(unsigned[0], np.abs(signed[0]))
    assert np.array_equal(unsigned[1], np.abs(signed[1]))


def test_macros_set_the_ranges_by_weight_and_activation_bits():
    spec = MacroSpec(rows=2, cols=1, weight_bits=2, act_bits=4)
    w, x = np.array([[-2], [1]]), np.array([[-8, 7]])
    a, b = layer_operand_sample(w, x, design=DCiMMacro(spec=spec), samples=50)
    assert set(a.tolist()) <= {-2, 1} and set(b.tolist()) <= {-8, 7}
    with pytest.raises(ValueError, match=r"weights must lie in \[-2, 1\] for "
                                         r"dcim_r2c1_w2a4s_mul4s_exact, not 2"):
        layer_operand_sample(np.array([[2], [1]]), x, design=spec)


W_OK, X_OK = np.ones((3, 2), dtype=np.int64), np.ones((4, 3), dtype=np.int64)

LAYER_ERRORS = [
    (dict(weights=W_OK.astype(float)), TypeError, "weights must hold integers, not float64"),
    (dict(activations=torch.ones(4, 3)), TypeError,
     "activations must hold integers, not torch.float32"),
    (dict(weights=W_OK.astype(bool)), TypeError, "weights must hold integers, not bool"),
    (dict(activations=[[1, 2], [3]]), ValueError, "activations must be an array of integers"),
    (dict(weights=np.full((3, 2), 2**63, dtype=np.uint64)), ValueError,
     "weights holds 9223372036854775808, beyond int64"),
    (dict(weights=np.ones(3, dtype=np.int64)), ValueError,
     r"weights must have shape \(K, N\) and activations shape \(M, K\), not \(3,\) and "
     r"\(4, 3\)"),
    (dict(activations=np.ones((4, 2), dtype=np.int64)), ValueError,
     r"not \(3, 2\) and \(4, 2\)"),
    (dict(activations=np.ones((0, 3), dtype=np.int64)), ValueError,
     r"weights and activations must hold at least one product, not shapes \(3, 2\) and "
     r"\(0, 3\)"),
    (dict(weights=np.ones((3, 0), dtype=np.int64)), ValueError,
     "must hold at least one product"),
    (dict(weights=W_OK * 16), ValueError,
     r"weights must lie in \[-15, 15\] for mul4u_exact in sign-magnitude, not 16"),
    (dict(activations=X_OK * -16), ValueError,
     r"activations must lie in \[-15, 15\] for mul4u_exact in sign-magnitude, not -16"),
    (dict(design=MUL4S, weights=W_OK * 8), ValueError,
     r"weights must lie in \[-8, 7\] for mul4s_exact, not 8"),
    (dict(design="mul4u_exact"), TypeError,
     "design must be a MultiplierSpec, MacroSpec or DCiMMacro, not 'mul4u_exact'"),
]
SAMPLE_ERRORS = [
    (dict(samples=1), ValueError, "samples must be from 2 to 1048576, not 1"),
    (dict(samples=MAX_SAMPLES + 1), ValueError, "samples must be from 2 to 1048576"),
    (dict(samples=True), TypeError, "samples must be an int, not True"),
    (dict(samples=100.0), TypeError, "samples must be an int, not 100.0"),
    (dict(seed=-1), ValueError, "seed must be at least 0, not -1"),
    (dict(seed="0"), TypeError, "seed must be an int, not '0'"),
]


@pytest.mark.parametrize(("changes", "error", "message"), LAYER_ERRORS + SAMPLE_ERRORS)
def test_sample_errors(changes, error, message):
    arguments = dict(weights=W_OK, activations=X_OK, design=MUL4) | changes
    with pytest.raises(error, match=message):
        layer_operand_sample(arguments.pop("weights"), arguments.pop("activations"),
                             **arguments)


@pytest.mark.parametrize(("changes", "error", "message"), LAYER_ERRORS)
def test_metrics_check_the_layer_alike(changes, error, message):
    arguments = dict(weights=W_OK, activations=X_OK, design=MUL4) | changes
    with pytest.raises(error, match=message):
        operand_metrics(arguments["design"], arguments["weights"], arguments["activations"])


# -- layer_macro_operands -------------------------------------------------------------------

def padded_tiles(spec, w):
    k, n = w.shape
    tiles_k, tiles_n = -(-k // spec.rows), -(-n // spec.cols)
    padded = np.pad(w, ((0, tiles_k * spec.rows - k), (0, tiles_n * spec.cols - n)))
    return {(i, j): padded[i * spec.rows:(i + 1) * spec.rows, j * spec.cols:(j + 1) * spec.cols]
            for i in range(tiles_k) for j in range(tiles_n)}


def lane_tile(tiles, weights):
    matches = [key for key, tile in tiles.items() if np.array_equal(tile, weights)]
    assert len(matches) == 1
    return matches[0]


def test_macro_lanes_hold_tiles_and_stream_consecutive_rows():
    spec = MacroSpec(rows=4, cols=2, weight_bits=8, act_bits=8)
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, size=(6, 3))
    x = rng.integers(-128, 128, size=(5, 6))
    driven = layer_macro_operands(spec, w, x, samples=20, seed=1)
    assert (driven.lanes, driven.passes, driven.vectors) == (10, 1, 20)
    assert driven.utilisation == 18 / 32 and driven.ops_per_mac == 32 / 18
    assert driven.weights.shape == (10, 4, 2) and driven.activations.shape == (20, 4)
    tiles = padded_tiles(spec, w)
    x_padded = np.pad(x, ((0, 0), (0, 2)))
    vectors = driven.activations.reshape(2, 10, 4)       # vector i goes to lane i % lanes
    for lane in range(driven.lanes):
        tile_k, _ = lane_tile(tiles, driven.weights[lane])
        columns = x_padded[:, tile_k * 4:(tile_k + 1) * 4]
        first = [m for m in range(5) if np.array_equal(columns[m], vectors[0, lane])]
        assert len(first) == 1
        assert np.array_equal(vectors[1, lane], columns[(first[0] + 1) % 5])


def test_macro_tiles_are_drawn_uniformly():
    spec = MacroSpec(rows=2, cols=1, weight_bits=8, act_bits=8)
    w = np.arange(8).reshape(4, 2) - 4    # four distinct tiles
    x = np.ones((3, 4), dtype=np.int64)
    tiles = padded_tiles(spec, w)
    counts = Counter()
    for seed in range(40):
        driven = layer_macro_operands(spec, w, x, samples=128, seed=seed)
        counts.update(lane_tile(tiles, lane) for lane in driven.weights)
    assert sum(counts.values()) == 40 * 64 and set(counts) == set(tiles)
    assert all(abs(count / 640 - 1) < 0.12 for count in counts.values())


@pytest.mark.parametrize(("w_low", "x_low", "passes"), [(0, 0, 1), (-15, 0, 2), (0, -15, 2),
                                                          (-15, -15, 4)])
def test_unsigned_macros_run_the_sign_parts_that_occur(w_low, x_low, passes):
    rng = np.random.default_rng(7)
    w = rng.integers(w_low, 16, size=(6, 3))
    x = rng.integers(x_low, 16, size=(9, 6))
    driven = layer_macro_operands(MACRO, w, x, samples=32, seed=2)
    assert driven.passes == passes and driven.lanes == 16 * passes
    assert driven.vectors == 32 and driven.ops_per_mac == passes * 32 / 18
    assert driven.weights.min() >= 0 and driven.activations.min() >= 0
    # A tile's lanes run (w+, x+), (w+, x-), (w-, x+), (w-, x-), those that occur; with the
    # mixed signs subtracted they give the layer's dot products.
    x_minus = 1 if x_low < 0 else None
    w_minus = (2 if x_low < 0 else 1) if w_low < 0 else None
    signs = {1: [1], 2: [1, -1], 4: [1, -1, -1, 1]}[passes]
    tiles = padded_tiles(MACRO, w)
    x_padded = np.pad(x, ((0, 0), (0, 2)))
    vectors = driven.activations.reshape(2, driven.lanes, 4)
    for tile in range(16):
        lane = tile * passes
        total = sum(sign * macro_model(MACRO, driven.weights[lane + i], vectors[:, lane + i])
                    for i, sign in enumerate(signs))
        weights = driven.weights[lane] - (0 if w_minus is None else
                                          driven.weights[lane + w_minus])
        acts = vectors[:, lane] - (0 if x_minus is None else vectors[:, lane + x_minus])
        tile_k, _ = lane_tile(tiles, weights)
        columns = x_padded[:, tile_k * 4:(tile_k + 1) * 4]
        assert any(np.array_equal(acts[0], row) for row in columns)
        assert np.array_equal(total, acts @ weights)


def test_macro_operands_make_a_stimulus():
    w, x = random_layer(3)
    driven = layer_macro_operands(DCiMMacro(spec=MACRO), w, x, samples=16)
    stimulus = driven.stimulus()
    assert isinstance(stimulus, Stimulus) and stimulus.lanes == driven.lanes == 8
    assert stimulus.cycles > 2 * MACRO.interval


def test_macro_operands_need_a_macro():
    with pytest.raises(TypeError, match="design must be a MacroSpec or DCiMMacro, not "
                                        "MultiplierSpec"):
        layer_macro_operands(MUL4, W_OK, X_OK)


@pytest.mark.parametrize(("changes", "error", "message"),
                         [case for case in LAYER_ERRORS if "design" not in case[0]]
                         + SAMPLE_ERRORS)
def test_macro_operand_errors(changes, error, message):
    arguments = dict(weights=W_OK, activations=X_OK) | changes
    message = message.replace("mul4u_exact", MACRO.name)
    with pytest.raises(error, match=message):
        layer_macro_operands(MACRO, arguments.pop("weights"),
                             arguments.pop("activations"), **arguments)


# -- error metrics --------------------------------------------------------------------------

def brute_force(model, wv, xv):
    """ER, MED, MRED, WCE, MSE and bias over every pair of a weight and an activation."""
    a, b = np.meshgrid(np.ravel(wv), np.ravel(xv), indexing="ij")
    exact = a * b
    error = model(a, b).astype(np.int64) - exact
    distance = np.abs(error)
    nonzero = exact != 0
    return {"er": np.mean(distance != 0), "med": distance.mean(),
            "mred": np.mean(distance[nonzero] / np.abs(exact[nonzero])),
            "wce": distance.max(), "mse": np.mean(distance ** 2), "bias": error.mean()}


def assert_metrics(metrics, expected):
    for name, value in expected.items():
        assert getattr(metrics, name) == pytest.approx(value, rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("design", [MultiplierSpec(4, kind="log"),
                                    MultiplierSpec(4, signed=True, kind="mitchell"),
                                    MultiplierSpec(6, kind="drum", options={"k": 3})])
def test_metrics_are_those_of_the_layers_histograms(design):
    low, high = design.operand_range
    rng = np.random.default_rng(11)
    # A skewed layer: small weights, activations mostly small.
    w = rng.integers(low // 2, high // 2 + 1, size=(7, 5))
    x = np.minimum(rng.geometric(0.3, size=(9, 7)) + low, high)
    metrics = operand_metrics(design, w, x)
    assert metrics.exhaustive and (metrics.width, metrics.signed) == (design.width,
                                                                      design.signed)
    assert_metrics(metrics, brute_force(design.model, w, x))
    assert metrics.mred != uniform_metrics(design).mred


def test_sign_magnitude_metrics_are_of_the_magnitudes():
    design = MultiplierSpec(4, kind="log")
    rng = np.random.default_rng(12)
    w, x = rng.integers(-15, 16, size=(6, 4)), rng.integers(-15, 16, size=(8, 6))
    metrics = operand_metrics(design, w, x)

    def signed_model(a, b):
        magnitude = design.model(np.abs(a), np.abs(b))
        return np.where((a < 0) ^ (b < 0), -magnitude, magnitude)

    signed = brute_force(signed_model, w, x)
    assert_metrics(metrics, {name: value for name, value in signed.items() if name != "bias"})
    assert_metrics(metrics, brute_force(design.model, np.abs(w), np.abs(x)))
    assert metrics.bias != pytest.approx(signed["bias"])


def test_macros_are_measured_by_their_multiplier():
    spec = MacroSpec(rows=4, cols=2, weight_bits=3, act_bits=4, signed=False, mult="log")
    w, x = random_layer(13, high=7)
    assert operand_metrics(spec, w, x) == operand_metrics(spec.mult, w, x)
    assert operand_metrics(DCiMMacro(spec=spec), w, x) == operand_metrics(spec.mult, w, x)


def test_bit_serial_macros_have_exact_products():
    spec = MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=4, datapath="bitserial",
                     assignment={"columns": {"2": "acci1"}})
    assert spec.assignment is not None          # its adder tree is approximate
    w, x = random_layer(14, low=-8, high=7)
    metrics = operand_metrics(spec, w, x)
    assert metrics.is_exact and metrics.width == 4 and metrics.pairs > 1
    assert uniform_metrics(spec).is_exact


def test_uniform_metrics():
    design = MultiplierSpec(4, kind="mitchell")
    assert uniform_metrics(design) == design.metrics()
    full = MacroSpec(rows=2, cols=1, weight_bits=4, act_bits=4, signed=False, mult="log")
    assert uniform_metrics(full) == full.mult.metrics()
    # Weights of 2 bits on a 4-bit multiplier: uniform over the values a weight can take.
    narrow = MacroSpec(rows=2, cols=1, weight_bits=2, act_bits=4, signed=False, mult="log")
    metrics = uniform_metrics(narrow)
    assert_metrics(metrics, brute_force(narrow.mult.model, np.arange(4), np.arange(16)))
    assert metrics != narrow.mult.metrics()


def test_metrics_errors():
    wide = MultiplierSpec(17)
    with pytest.raises(ValueError, match="design's multiplier must be at most 16 bits wide "
                                         "for an operand distribution, not 17 "
                                         r"\(mul17u_exact\)"):
        operand_metrics(wide, W_OK, X_OK)
    with pytest.raises(ValueError, match="must be at most 16 bits wide"):
        uniform_metrics(MacroSpec(rows=2, cols=1, weight_bits=4, act_bits=17))
    with pytest.raises(TypeError, match="design must be a MultiplierSpec, MacroSpec or "
                                        "DCiMMacro, not None"):
        uniform_metrics(None)


# -- energy ---------------------------------------------------------------------------------

def test_multiplier_energy_is_the_flows_on_the_layers_sample(pdk_root):
    w, x = random_layer(20, m=8, k=6, n=4)
    energy = energy_per_mac(MUL4, w, x, pdk_root=pdk_root, samples=1000, seed=4)
    a, b = layer_operand_sample(w, x, design=MUL4, samples=1000, seed=4)
    report = ppa(MUL4, pdk_root=pdk_root, operands=(a, b), metrics=False)
    assert report.power.cached and report.power.cycles == 1000
    assert energy == MacEnergy(design="mul4u_exact", energy_per_mac_pj=report.energy_per_op_pj,
                               clock_ns=report.power.clock_ns, samples=1000, corner="typ",
                               pdk="nangate45", seed=4,
                               energy_per_op_pj=report.energy_per_op_pj, ops_per_mac=1.0,
                               cached=energy.cached)
    assert energy.clock_ns == pytest.approx(report.delay_ns)
    data = energy.as_dict()
    assert MacEnergy(**json.loads(json.dumps(data))) == energy


@pytest.mark.parametrize("design", [MUL4, MACRO])
def test_zero_activations_cost_less_than_random_ones(design, pdk_root):
    w, x = random_layer(21, m=16, k=6, n=3)
    busy = energy_per_mac(design, w, x, pdk_root=pdk_root, samples=1024)
    idle = energy_per_mac(design, w, np.zeros_like(x), pdk_root=pdk_root, samples=1024)
    assert idle.design == busy.design == resolve_design(design).name
    assert idle.clock_ns == busy.clock_ns and idle.ops_per_mac == busy.ops_per_mac
    assert 0 < idle.energy_per_mac_pj < 0.5 * busy.energy_per_mac_pj


def test_small_operands_cost_less_than_large_ones(pdk_root):
    rng = np.random.default_rng(22)
    w = rng.integers(-8, 8, size=(8, 4))
    small = energy_per_mac(MUL4S, w, rng.integers(0, 2, size=(16, 8)), pdk_root=pdk_root)
    large = energy_per_mac(MUL4S, w, rng.integers(-8, 8, size=(16, 8)), pdk_root=pdk_root)
    assert small.energy_per_mac_pj < large.energy_per_mac_pj


def test_macro_energy_counts_padding_and_sign_passes(pdk_root):
    rng = np.random.default_rng(23)
    w, x = rng.integers(-15, 16, size=(6, 3)), rng.integers(0, 16, size=(10, 6))
    energy = energy_per_mac(MACRO, w, x, pdk_root=pdk_root, samples=256, seed=1)
    driven = layer_macro_operands(MACRO, w, x, samples=256, seed=1)
    report = ppa(MACRO, pdk_root=pdk_root, operands=driven.stimulus(), metrics=False)
    assert report.power.cached and energy.samples == driven.vectors == 256
    assert energy.ops_per_mac == pytest.approx(2 * 32 / 18)
    assert energy.energy_per_op_pj == report.energy_per_op_pj
    assert energy.energy_per_mac_pj == pytest.approx(report.energy_per_op_pj * 2 * 32 / 18)


def test_a_second_identical_call_runs_no_tool(pdk_root, tmp_path, monkeypatch):
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path / "cache"))
    calls = []
    run_tool = tools.run_tool

    def counted(args, **options):
        calls.append(args[0])
        return run_tool(args, **options)

    monkeypatch.setattr(tools, "run_tool", counted)
    design = MultiplierSpec(4, kind="drum", options={"k": 2})
    w, x = random_layer(24)
    start = time.perf_counter()
    cold = energy_per_mac(design, w, x, pdk_root=pdk_root, samples=500)
    cold_seconds = time.perf_counter() - start
    assert "yosys" in calls and "sta" in calls and not cold.cached
    calls.clear()
    start = time.perf_counter()
    warm = energy_per_mac(design, w, x, pdk_root=pdk_root, samples=500)
    warm_seconds = time.perf_counter() - start
    assert calls == [] and warm.cached
    assert warm.energy_per_mac_pj == cold.energy_per_mac_pj and warm_seconds < cold_seconds
    # Other operands are another power entry, on the same (cached) netlist: OpenSTA only.
    other = energy_per_mac(design, w, x, pdk_root=pdk_root, samples=500, seed=1)
    assert calls and "yosys" not in calls and not other.cached


def test_energy_errors_come_before_any_tool(pdk_root, monkeypatch):
    def refuse(args, **options):
        raise AssertionError(f"{args[0]} ran")

    monkeypatch.setattr(tools, "run_tool", refuse)
    with pytest.raises(ValueError, match="corner must be one of .*, not 'hot'"):
        energy_per_mac(MultiplierSpec(5), W_OK, X_OK, corner="hot", pdk_root=pdk_root)
    with pytest.raises(ValueError, match="clock_ns must be a finite positive number"):
        energy_per_mac(MultiplierSpec(5), W_OK, X_OK, clock_ns=-1.0, pdk_root=pdk_root)
    with pytest.raises(ValueError, match=r"weights must have shape \(K, N\)"):
        energy_per_mac(MACRO, W_OK[0], X_OK, pdk_root=pdk_root)
    with pytest.raises(TypeError, match="design must be a MultiplierSpec"):
        energy_per_mac(object(), W_OK, X_OK, pdk_root=pdk_root)
    with pytest.raises(ValueError, match="samples must be from 2"):
        energy_per_mac(MACRO, W_OK, X_OK, samples=1, pdk_root=pdk_root)


# -- inference_energy -----------------------------------------------------------------------

def figure(energy, corner="typ", pdk="nangate45"):
    return MacEnergy(design="d", energy_per_mac_pj=energy, clock_ns=1.0, samples=2,
                     corner=corner, pdk=pdk, seed=0, energy_per_op_pj=energy, ops_per_mac=1.0,
                     cached=True)


def test_inference_energy_adds_the_layers():
    layers = [(100, figure(0.5)), (10, figure(2.0)), (np.int64(0), figure(9.0))]
    assert inference_energy(layers) == 70.0
    assert inference_energy(iter(layers)) == 70.0
    assert inference_energy([]) == 0.0


@pytest.mark.parametrize(("layers", "error", "message"), [
    ([figure(1.0)], TypeError, r"layers\[0\] must be a \(macs, MacEnergy\) pair, not MacE"),
    ([(1, 2.0)], TypeError, r"layers\[0\] must be a \(macs, MacEnergy\) pair, not \(1, 2.0\)"),
    ([(1, figure(1.0), 3)], TypeError, r"layers\[0\] must be a \(macs, MacEnergy\) pair"),
    ([(1, figure(1.0)), (-1, figure(1.0))], ValueError, r"layers\[1\] macs must be at least 0"),
    ([(1.5, figure(1.0))], TypeError, r"layers\[0\] macs must be an int, not 1.5"),
    ([(1, figure(1.0)), (1, figure(1.0, corner="slow"))], ValueError,
     r"layers must share one corner and PDK: layers\[1\] is nangate45 slow, not nangate45 typ"),
    ([(1, figure(1.0)), (1, figure(1.0, pdk="sky130hd"))], ValueError,
     r"layers\[1\] is sky130hd typ, not nangate45 typ"),
])
def test_inference_energy_errors(layers, error, message):
    with pytest.raises(error, match=message):
        inference_energy(layers)


# -- documentation --------------------------------------------------------------------------

def test_the_energy_example_in_docs_nn_runs(pdk_root, monkeypatch, capsys):
    monkeypatch.setenv("DCIM_PDK_ROOT", str(pdk_root))
    text = (ROOT / "docs" / "nn.md").read_text()
    section = re.search(r"\n## Energy and error per layer.*?(?=\n## |\Z)", text, re.S).group(0)
    examples = re.findall(r"```python\n(.*?)\n```", section, re.S)
    assert examples
    for example in examples:
        exec(compile(example, "docs/nn.md", "exec"), {})
    mred, uniform_mred, energy, clock, total = capsys.readouterr().out.split()
    assert 0 < float(mred) != float(uniform_mred) > 0
    assert float(energy) > 0 and float(clock) > 0 and float(total) > float(energy)
