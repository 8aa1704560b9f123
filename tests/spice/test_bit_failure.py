import math

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
    estimate_mode_failure,
    mirror_permutation,
)

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


@pytest.mark.parametrize(("options", "message"), [
    ({"hold_snm_min": 0.6}, "hold_snm_min must be a number of volts from -0.5 to 0.5, not 0.6"),
    ({"read_snm_min": math.nan}, "read_snm_min must be a number of volts .* not nan"),
    ({"write_margin_min": "0.1"}, "write_margin_min must be a number of volts .* not '0.1'"),
    ({"write_margin_min": True}, "write_margin_min must be a number of volts .* not True"),
])
def test_bad_criteria_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        FailureCriteria(**options)


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
    assert {"ff_1v00_25c", "ss_1v00_25c", "fs_1v00_25c", "sf_1v00_25c", "tt_0v70_25c",
            "tt_1v10_25c", "tt_1v00_0c", "tt_1v00_100c"} <= set(names)


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
    assert first.lower_bound <= first.probability <= 1.0
    assert first.probability == pytest.approx(sum(mode.probability for mode in first.modes))
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
