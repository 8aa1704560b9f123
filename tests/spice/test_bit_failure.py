import math
from dataclasses import replace

import numpy as np
import pytest

from dcim.eda import cache
from dcim.spice import Bitcell6T, Bitcell8T, Corner, failure_probability, importance_sampling
from dcim.spice import bit_failure as bit_failure_module
from dcim.spice.bit_failure import (
    BitFailure,
    FailureCriteria,
    ModeFailure,
    bit_failure_corners,
    bit_failure_probability,
    bit_failure_table,
    estimate_combined_failure,
    estimate_mode_failure,
    mirror_permutation,
    storage_transistors,
)
from dcim.spice.margins import hold_snm_batch, read_snm_batch, write_margin_batch

SIX = Bitcell6T()
MIRROR = mirror_permutation(SIX.transistor_names)


def symmetric_linear(beta, direction):
    """``beta - max(a . z, a . mirror(z))``: two mirror-image half-spaces at ``beta``."""
    unit = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    return lambda z: beta - np.maximum(z @ unit, z[:, MIRROR] @ unit)


def two_region_reference(beta, direction):
    """``P(a . z >= beta or b . z >= beta)`` for the unit ``a`` and its mirror image ``b``."""
    unit = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    rho = float(unit @ unit[MIRROR])
    # P(both) by quadrature over a . z = x: b . z = rho x + sqrt(1 - rho^2) y.
    x = np.linspace(beta, beta + 12.0, 200_001)
    density = np.exp(-x**2 / 2) / math.sqrt(2 * math.pi)
    tail = 0.5 * np.vectorize(math.erfc)((beta - rho * x) / math.sqrt(2 * (1 - rho**2)))
    both = float(np.trapezoid(density * tail, x))
    return 2 * failure_probability(beta) - both


def test_the_mirror_rule_swaps_the_halves():
    assert SIX.transistor_names == ("pd_l", "pu_l", "pg_l", "pd_r", "pu_r", "pg_r")
    assert MIRROR.tolist() == [3, 4, 5, 0, 1, 2]
    eight = mirror_permutation(Bitcell8T().transistor_names)
    assert eight.tolist() == [3, 4, 5, 0, 1, 2, 6, 7]
    with pytest.raises(ValueError, match="transistor 'pd_l' has no mirror 'pd_r'"):
        mirror_permutation(["pd_l", "pu_l"])


@pytest.mark.parametrize("beta", [4.5, 6.0])
def test_both_mirror_regions_are_counted(beta):
    # A weak pull-down and a strong pass gate on one side: the read-disturb direction.
    direction = [1.0, -0.3, -0.6, -0.2, 0.4, 0.0]
    truth = two_region_reference(beta, direction)
    assert truth == pytest.approx(2 * failure_probability(beta), rel=0.01)
    found = estimate_mode_failure(symmetric_linear(beta, direction), 6, mirror=MIRROR,
                                  target_rse=0.05, max_simulations=20_000, seed=1)
    assert found.method == "IS"
    assert found.converged
    assert found.regions == 2
    assert found.shift_sigma == pytest.approx(beta, abs=0.05)
    assert found.probability == pytest.approx(truth, rel=4 * 0.05)
    # Sampling round the one point a search finds sees one region: half the probability.
    one = importance_sampling(symmetric_linear(beta, direction), 6, regions=1,
                              target_rse=0.05, max_simulations=20_000, seed=1)
    assert one.probability == pytest.approx(truth / 2, rel=4 * 0.05)


def test_a_mirrored_twin_counts_twice():
    direction = [0.0, 0.5, -1.0, 0.0, 0.0, 0.0]
    limit_state = lambda z: 5.0 - z @ (np.array(direction) / np.linalg.norm(direction))  # noqa: E731
    twin = estimate_mode_failure(limit_state, 6, mirrored_twin=True, target_rse=0.05,
                                 max_simulations=20_000, seed=2)
    assert twin.probability == pytest.approx(2 * failure_probability(5.0), rel=0.2)
    assert twin.regions == 1


def test_common_failures_use_monte_carlo():
    # P(z1 >= 1) = 0.159: the presample promises convergence within the budget.
    found = estimate_mode_failure(lambda z: 1.0 - z[:, 0], 3, target_rse=0.05,
                                  max_simulations=20_000, seed=3)
    assert found.method == "MC"
    assert found.converged
    assert found.regions == 0
    assert found.probability == pytest.approx(failure_probability(1.0), rel=4 * 0.05)
    assert found.sigma == pytest.approx(1.0, abs=0.1)


def test_an_unreachable_mode_is_an_unconverged_zero():
    found = estimate_mode_failure(lambda z: 30.0 - z[:, 0], 2, max_simulations=2000, seed=0)
    assert (found.method, found.probability, found.converged) == ("IS", 0.0, False)
    assert found.sigma == math.inf
    assert found.simulations <= 2000


def half_space(beta, direction):
    """``beta - a . z`` for the unit ``a`` along ``direction``: ``P = Phi(-beta)``."""
    unit = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    return lambda z: beta - z @ unit


def estimated(limit_states, twins=(), seed=0):
    """Each mode's own estimate, as bit_failure_probability makes them."""
    return {mode: estimate_mode_failure(limit_state, 6, mirrored_twin=mode in twins,
                                        target_rse=0.05, max_simulations=6_000,
                                        presample_size=100, seed=seed, mode=mode)
            for mode, limit_state in limit_states.items()}


def assert_within(estimate, truth):
    assert estimate.converged
    assert abs(estimate.probability / truth - 1) < 3 * estimate.relative_standard_error


def test_nested_regions_are_counted_once(counting):
    # The hold region lies inside the read region (as a 6T cell that cannot hold cannot be
    # read): the union is the read region alone, which the union bound counts nearly twice.
    limit_states = {"hold": half_space(3.6, [1, 0, 0, 0, 0, 0]),
                    "read": half_space(3.5, [1, 0, 0, 0, 0, 0])}
    failures = estimated(limit_states)
    union_bound = sum(failure.probability for failure in failures.values())
    counted = {mode: counting(limit_state) for mode, limit_state in limit_states.items()}
    combined = estimate_combined_failure(counted, failures, 6, target_rse=0.05,
                                         max_samples=20_000, seed=1)
    assert combined.mode == "bit" and combined.method == "IS"
    assert_within(combined, failure_probability(3.5))
    assert combined.probability < union_bound / (1 + 4 * combined.relative_standard_error)
    assert combined.regions == 3  # the nominal share and each mode's point
    # Each sample is evaluated on the read limit state (the more probable) first, and on the
    # hold one only where read did not fail.
    reads, holds = sum(counted["read"].batches), sum(counted["hold"].batches)
    assert 0 < holds < reads and combined.simulations == reads + holds


def test_a_twin_mode_alone_is_sampled_for_its_two_events():
    # Writes that fail often from the nominal cell on (the mean margin near the minimum):
    # writing a 0 and writing a 1 overlap, and their union is well below twice one of them.
    direction = [0.5, 0.3, 0.4, 0.4, 0.3, 0.5]
    limit_states = {"write": half_space(0.3, direction)}
    failures = estimated(limit_states, twins=("write",))
    assert failures["write"].method == "MC"
    combined = estimate_combined_failure(limit_states, failures, 6, mirror=MIRROR,
                                         twins=("write",), target_rse=0.02,
                                         max_samples=20_000, seed=5)
    z = np.random.default_rng(0).standard_normal((400_000, 6))
    unit = np.asarray(direction) / np.linalg.norm(direction)
    truth = np.mean((z @ unit >= 0.3) | (z[:, MIRROR] @ unit >= 0.3))
    assert combined.simulations > 0
    assert_within(combined, truth)
    assert combined.probability < 0.7 * failures["write"].probability


def test_separate_regions_add_up():
    limit_states = {"hold": half_space(4.0, [0, 1, 0, 0, 0, 0]),
                    "read": half_space(3.8, [1, 0, 0, 0, 0, 0])}
    failures = estimated(limit_states)
    combined = estimate_combined_failure(limit_states, failures, 6, target_rse=0.05,
                                         max_samples=20_000, seed=2)
    truth = 1 - (1 - failure_probability(4.0)) * (1 - failure_probability(3.8))
    assert_within(combined, truth)


def test_a_twin_mode_counts_its_mirror_image():
    # The write of a 0 fails along one direction, that of a 1 along its mirror image; the
    # read region is elsewhere.
    write_direction = [0.2, -1.0, 0.5, 0.0, 0.3, -0.2]
    limit_states = {"read": half_space(4.2, [0, 0, 0, 1, 1, 0]),
                    "write": half_space(4.0, write_direction)}
    failures = estimated(limit_states, twins=("write",))
    combined = estimate_combined_failure(limit_states, failures, 6, mirror=MIRROR,
                                         twins=("write",), target_rse=0.05,
                                         max_samples=30_000, seed=3)
    # The read half-space is nearly independent of the writes: add it by inclusion-exclusion.
    writes = two_region_reference(4.0, write_direction)
    read = failure_probability(4.2)
    assert_within(combined, writes + read - writes * read)
    assert combined.regions == 4


def test_a_common_mode_is_sampled_from_the_nominal_share():
    limit_states = {"hold": half_space(1.5, [1, 0, 0, 0, 0, 0]),
                    "read": half_space(3.0, [0, 0, 1, 0, 0, 0])}
    failures = estimated(limit_states)
    assert (failures["hold"].method, failures["read"].method) == ("MC", "IS")
    combined = estimate_combined_failure(limit_states, failures, 6, target_rse=0.05,
                                         max_samples=20_000, seed=4)
    truth = 1 - (1 - failure_probability(1.5)) * (1 - failure_probability(3.0))
    assert_within(combined, truth)


def test_one_mode_seen_is_its_own_estimate():
    limit_states = {"hold": half_space(40.0, [1, 0, 0, 0, 0, 0]),
                    "read": half_space(3.5, [1, 0, 0, 0, 0, 0])}
    failures = estimated(limit_states)
    assert failures["hold"].probability == 0.0
    combined = estimate_combined_failure(limit_states, failures, 6)
    assert (combined.mode, combined.simulations) == ("bit", 0)
    assert combined.probability == failures["read"].probability
    assert combined.relative_standard_error == failures["read"].relative_standard_error
    # A mode too rare to move the union is left out like an unseen one.
    rare = estimate_combined_failure(limit_states, failures | {"hold": replace(
        failures["read"], mode="hold", probability=1e-4 * failures["read"].probability)}, 6)
    assert rare.simulations == 0 and rare.probability == failures["read"].probability
    none = estimate_combined_failure({"hold": limit_states["hold"]},
                                     {"hold": failures["hold"]}, 6)
    assert (none.probability, none.converged, none.simulations) == (0.0, False, 0)


@pytest.mark.parametrize(("options", "message"), [
    ({"failures": {}}, "limit_states and failures must be dicts with the same modes"),
    ({"failures": {"read": 0.1}}, "failures must hold ModeFailure values"),
    ({"twins": ("write",)}, r"twins must be modes of \['read'\], not \('write',\)"),
    ({"twins": ("read",)}, "twins need the mirror permutation: give mirror as well"),
    ({"defensive_share": 1.0}, r"defensive_share must be a number in \(0, 1\), not 1.0"),
    ({"max_samples": 0}, "max_samples must be at least 1, not 0"),
    ({"target_rse": 2}, r"target_rse must be a number in \(0, 1\], not 2"),
    ({"mirror": [0, 1, 2], "twins": ("read",)}, r"mirror must be a permutation of range\(6\)"),
    ({"limit_states": {"read": 0.5}}, "limit_states must hold callables"),
])
def test_bad_combined_options_are_refused(options, message):
    read = ModeFailure(mode="read", probability=1e-4, relative_standard_error=0.1,
                       simulations=10, method="IS", converged=True, shift_sigma=3.7,
                       regions=1, shift_points=((3.7, 0, 0, 0, 0, 0),))
    arguments = {"limit_states": {"read": half_space(3.7, [1, 0, 0, 0, 0, 0])},
                 "failures": {"read": read}, "dimension": 6} | options
    with pytest.raises(ValueError, match=message):
        estimate_combined_failure(**arguments)


@pytest.mark.parametrize(("options", "message"), [
    ({"hold_snm_min": 0.6}, "hold_snm_min must be a number of volts from -0.5 to 0.5, not 0.6"),
    ({"read_snm_min": math.nan}, "read_snm_min must be a number of volts .* not nan"),
    ({"write_margin_min": "0.1"}, "write_margin_min must be a number of volts .* not '0.1'"),
    ({"write_margin_min": True}, "write_margin_min must be a number of volts .* not True"),
])
def test_bad_criteria_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        FailureCriteria(**options)


def test_the_bounds_count_the_two_writes_as_two_events():
    def mode(name, probability):
        return ModeFailure(mode=name, probability=probability, relative_standard_error=0.1,
                           simulations=100, method="IS", converged=True)

    failure = BitFailure(cell="sram6t", corner=Corner(), criteria=FailureCriteria(),
                         mismatch="pelgrom_avt1.2", hold=mode("hold", 1e-5),
                         read=mode("read", 1e-4), write=mode("write", 4e-4))
    assert failure.union_bound == pytest.approx(5.1e-4)
    # The write mode's 4e-4 is the union bound of writing a 0 and writing a 1, 2e-4 each.
    assert failure.lower_bound == pytest.approx(2e-4)
    assert failure.combined is None and failure.probability == failure.union_bound
    # Without a combined estimate the error is the modes' in quadrature, weighted.
    assert failure.relative_standard_error == pytest.approx(
        0.1 * math.sqrt(1e-5**2 + 1e-4**2 + 4e-4**2) / 5.1e-4)
    reads = replace(failure, write=mode("write", 1e-4))
    assert reads.lower_bound == pytest.approx(1e-4)


def test_criteria_defaults_and_name():
    criteria = FailureCriteria()
    assert (criteria.minimum("hold"), criteria.minimum("read"),
            criteria.minimum("write")) == (0.2, 0.1, 0.15)
    assert criteria.name == "hold200mv_read100mv_write150mv"
    assert FailureCriteria(read_snm_min=0).name == "hold200mv_read0mv_write150mv"


@pytest.mark.parametrize(("options", "message"), [
    ({"cell": "6t"}, "cell must be a Bitcell6T or Bitcell8T, not '6t'"),
    ({"corner": "TT"}, "corner must be a dcim.spice.Corner, not 'TT'"),
    ({"criteria": 0.1}, "criteria must be a FailureCriteria, not 0.1"),
    ({"mismatch": 1.2}, "mismatch must be a MismatchModel, not 1.2"),
    ({"target_rse": 0}, r"target_rse must be a number in \(0, 1\], not 0"),
    ({"max_simulations": 100}, "max_simulations must be at least 402, not 100"),
    ({"max_simulations": {"hold": 500}}, "max_simulations must give a budget to each of"),
    ({"max_simulations": {"hold": 500, "read": 500, "write": 10}},
     r"max_simulations\['write'\] must be at least 402, not 10"),
    ({"max_presample_sigma": 20}, "max_presample_sigma must be a number from 3 to 10 sigma"),
    ({"combined_samples": 0}, "combined_samples must be at least 1, not 0"),
    ({"seed": -1}, "seed must be at least 0, not -1"),
])
def test_bad_options_are_refused(options, message):
    arguments = {"cell": SIX, "corner": Corner()} | options
    with pytest.raises(ValueError, match=message):
        bit_failure_probability(arguments.pop("cell"), arguments.pop("corner"), **arguments)


def test_bad_tables_are_refused():
    with pytest.raises(ValueError, match="corners must be a non-empty sequence"):
        bit_failure_table(SIX, ["TT"])


def test_default_corners():
    names = [corner.name for corner in bit_failure_corners()]
    assert names[0] == "tt_1v00_25c"
    assert {"ff_1v00_25c", "ss_1v00_25c", "fs_1v00_25c", "sf_1v00_25c", "tt_0v60_25c",
            "tt_0v70_25c",
            "tt_1v10_25c", "tt_1v00_0c", "tt_1v00_100c"} <= set(names)


def test_the_read_port_leaves_the_margins_alone():
    # What lets the estimates vary the storage core alone: shifting the 8T read port's
    # thresholds by 100 mV (about eight sigma) moves no margin beyond the write margin's
    # millivolt resolution.
    eight = Bitcell8T()
    assert storage_transistors(SIX) == (0, 1, 2, 3, 4, 5)
    with pytest.raises(ValueError, match="cell must be a Bitcell6T or Bitcell8T, not '8t'"):
        storage_transistors("8t")
    assert [eight.transistor_names[index] for index in storage_transistors(eight)] == [
        "pd_l", "pu_l", "pg_l", "pd_r", "pu_r", "pg_r"]
    corner = Corner(vdd=0.7)
    rng = np.random.default_rng(0)
    core = rng.normal(0, 0.03, (8, 8))
    core[:, 6:] = 0
    moved = core.copy()
    moved[:, 6:] = rng.choice([-0.1, 0.1], size=(8, 2))
    for margin, tolerance in ((hold_snm_batch, 1e-6), (read_snm_batch, 1e-6),
                              (write_margin_batch, 2e-3)):
        assert np.max(np.abs(margin(eight, corner, core) - margin(eight, corner, moved))) \
            < tolerance


def test_an_8t_cell_is_searched_in_its_core_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path))
    failure = bit_failure_probability(
        Bitcell8T(), Corner(vdd=0.7), presample_size=20,
        max_simulations={"hold": 42, "read": 42, "write": 200}, seed=1)
    points = [point for mode in failure.modes for point in mode.shift_points]
    assert failure.write.probability > 0 and points
    assert all(len(point) == 6 for point in points)


def test_a_small_real_cell_run_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path))
    # At 0.7 V the read SNM fails at about 3.3 sigma, within a small budget's reach.
    corner = Corner(vdd=0.7)
    options = {"presample_size": 20, "max_simulations": {"hold": 120, "read": 120, "write": 60},
               "seed": 4}
    first = bit_failure_probability(SIX, corner, **options)
    assert not first.cached
    assert isinstance(first, BitFailure)
    assert [mode.mode for mode in first.modes] == ["hold", "read", "write"]
    assert all(isinstance(mode, ModeFailure) for mode in first.modes)
    assert all(mode.simulations <= budget for mode, budget in zip(first.modes, (120, 120, 60),
                                                                   strict=True))
    assert first.read.probability > 0
    assert 2.0 < first.read.shift_sigma < 5.0
    assert first.union_bound == pytest.approx(sum(mode.probability for mode in first.modes))
    assert first.combined is not None and first.combined.mode == "bit"
    assert first.probability == first.combined.probability
    # The union lies between the largest mode and the sum of the modes, up to sampling noise.
    spread = 4 * first.relative_standard_error * first.probability
    assert first.lower_bound - spread <= first.probability <= first.union_bound + spread
    assert first.simulations == sum(mode.simulations for mode in first.modes) \
        + first.combined.simulations
    assert len(cache.cache_entries("bit-failure")) == 1

    class EstimateRanError(Exception):
        pass

    def refuse(*args, **kwargs):
        raise EstimateRanError

    monkeypatch.setattr(bit_failure_module, "estimate_mode_failure", refuse)
    again = bit_failure_probability(SIX, corner, **options)
    assert again.cached
    assert again.as_dict() == first.as_dict()
    other = bit_failure_table(SIX, [corner], criteria=FailureCriteria(read_snm_min=0.1),
                              **options)
    assert other[0].cached
    # Another seed is another estimate.
    with pytest.raises(EstimateRanError):
        bit_failure_probability(SIX, corner, **(options | {"seed": 5}))
