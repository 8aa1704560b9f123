import math

import numpy as np
import pytest

from dcim.spice import (
    YieldEstimate,
    equivalent_sigma,
    failure_probability,
    find_shift_point,
    importance_sampling,
    monte_carlo,
)


def linear(beta, direction):
    """``beta - a . z`` with ``|a| = 1``: fails with probability ``Phi(-beta)``."""
    unit = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    return lambda z: beta - z @ unit


def chi2_density(y, dof):
    return np.exp((dof / 2 - 1) * np.log(y) - y / 2 - dof / 2 * math.log(2)
                  - math.lgamma(dof / 2))


def parabolic_reference(beta, curvature, dimension):
    """P(z1 >= beta + curvature * chi2(dimension - 1)) by quadrature over the chi-square."""
    y = np.linspace(1e-12, 400.0, 400_001)
    tail = 0.5 * np.vectorize(math.erfc)((beta + curvature * y) / math.sqrt(2))
    return float(np.trapezoid(tail * chi2_density(y, dimension - 1), y))


def test_normal_tail_and_equivalent_sigma():
    assert failure_probability(6.0) == pytest.approx(9.8659e-10, rel=1e-4)
    for sigma in (-1.0, 0.0, 3.0, 6.0, 8.0):
        assert equivalent_sigma(failure_probability(sigma)) == pytest.approx(sigma, abs=1e-9)
    assert equivalent_sigma(0.0) == math.inf and equivalent_sigma(1.0) == -math.inf
    with pytest.raises(ValueError, match=r"probability must lie in \[0, 1\], not 1.5"):
        equivalent_sigma(1.5)
    with pytest.raises(ValueError, match="sigma must be a finite number"):
        failure_probability("6")


@pytest.mark.parametrize("dimension", [2, 6, 20])
@pytest.mark.parametrize("beta", [3.0, 4.0, 6.0])
def test_importance_sampling_of_a_linear_limit_state(beta, dimension, counting):
    exact = failure_probability(beta)
    counted = counting(linear(beta, np.ones(dimension)))
    # At 6 sigma, 4 % standard error makes 10 % two and a half standard errors.
    target = 0.04 if beta == 6.0 else 0.05
    estimate = importance_sampling(counted, dimension, target_rse=target, seed=dimension)
    assert isinstance(estimate, YieldEstimate) and estimate.converged
    assert estimate.relative_standard_error <= target
    assert estimate.simulations == sum(counted.batches) <= 5_000
    assert max(counted.batches) <= 200
    assert estimate.shift_sigma == pytest.approx(beta, abs=0.02)
    assert abs(estimate.probability / exact - 1) < 3 * estimate.relative_standard_error
    if beta == 6.0:
        assert abs(estimate.probability / exact - 1) < 0.1
    assert estimate.sigma == pytest.approx(beta, abs=0.05)
    assert estimate.unexplained_failures == 0 and len(estimate.shifts) == 1


def test_a_rotated_offset_linear_limit_state_finds_its_shift():
    # 2.4 - 0.5 a . (z - offset) with a random direction a: beta = 4.8 + a . offset.
    rng = np.random.default_rng(5)
    direction = rng.standard_normal(8)
    direction /= np.linalg.norm(direction)
    offset = 0.4 * rng.standard_normal(8)
    beta = 4.8 + float(direction @ offset)
    estimate = importance_sampling(lambda z: 2.4 - 0.5 * (z - offset) @ direction, 8,
                                   target_rse=0.05, seed=1)
    assert estimate.converged and estimate.simulations <= 5_000
    np.testing.assert_allclose(estimate.shift, beta * direction, atol=0.03)
    assert estimate.probability == pytest.approx(failure_probability(beta), rel=0.15)


@pytest.mark.parametrize("curvature", [0.1, -0.05])
def test_importance_sampling_of_a_curved_limit_state(curvature):
    # Fails where z1 >= 5 + curvature * sum(z_i^2, i > 1): the nearest failure is (5, 0, ...),
    # and the curvature moves the probability away from Phi(-5) by 6x either way.
    reference = parabolic_reference(5.0, curvature, 6)
    assert abs(math.log(reference / failure_probability(5.0))) > 1.5
    estimate = importance_sampling(
        lambda z: 5.0 - z[:, 0] + curvature * (z[:, 1:] ** 2).sum(axis=1), 6, seed=2)
    assert estimate.converged and estimate.simulations <= 5_000
    assert estimate.shift_sigma == pytest.approx(5.0, abs=0.05)
    assert abs(estimate.probability / reference - 1) < 3 * estimate.relative_standard_error


def test_monte_carlo_of_a_chi_square_tail():
    # |z|^2 >= r^2 in two dimensions fails with probability exp(-r^2 / 2) exactly: every
    # direction fails, which no single shift covers, but plain Monte Carlo does not care.
    radius_squared = 17.0
    exact = math.exp(-radius_squared / 2)
    estimate = monte_carlo(lambda z: radius_squared - (z**2).sum(axis=1), 2, seed=3)
    assert estimate.converged and estimate.relative_standard_error <= 0.1
    assert estimate.failures >= 100
    assert abs(estimate.probability / exact - 1) < 3 * estimate.relative_standard_error
    assert estimate.relative_standard_error == pytest.approx(
        math.sqrt((1 - estimate.probability) / (estimate.probability * estimate.simulations)))


def test_importance_sampling_agrees_with_monte_carlo_at_3_7_sigma():
    limit_state = linear(3.7, [1.0, -2.0, 0.5, 0.0, 1.0, 3.0])
    crude = monte_carlo(limit_state, 6, seed=4)
    shifted = importance_sampling(limit_state, 6, seed=4)
    assert crude.converged and shifted.converged
    assert shifted.simulations < crude.simulations / 100
    assert abs(crude.probability - shifted.probability) < 3 * math.hypot(
        crude.standard_error, shifted.standard_error)


def two_sided(z):
    """``4 - |z1|`` fails on both sides: ``P = 2 Phi(-4)``."""
    return 4.0 - np.abs(z[:, 0])


def test_two_failure_regions_are_both_sampled():
    exact = 2 * failure_probability(4.0)
    estimate = importance_sampling(two_sided, 4, seed=2)
    assert estimate.converged and estimate.unexplained_failures == 0
    assert sorted(shift[0] for shift in estimate.shifts) == pytest.approx([-4, 4], abs=0.02)
    assert abs(estimate.probability / exact - 1) < 3 * estimate.relative_standard_error
    crude = monte_carlo(two_sided, 4, max_simulations=2_000_000, seed=2)
    assert crude.converged
    assert abs(crude.probability / exact - 1) < 3 * crude.relative_standard_error


def test_one_shift_misses_a_second_failure_region():
    # Sampling around one shift practically never sees the other side, so the estimate is
    # Phi(-4), half the truth, with a standard error that does not show the miss; only the
    # presampling's count of failures away from the shift does.
    exact = 2 * failure_probability(4.0)
    estimate = importance_sampling(two_sided, 4, regions=1, seed=2)
    assert estimate.converged and estimate.unexplained_failures > 0
    assert len(estimate.shifts) == 1 and abs(estimate.shift[0]) == pytest.approx(4, abs=0.02)
    assert abs(estimate.probability / (exact / 2) - 1) < 3 * estimate.relative_standard_error
    assert estimate.probability < 0.7 * exact


def test_given_shifts_make_a_mixture():
    estimate = importance_sampling(two_sided, 2, shift=[[4.0, 0.0], [-4.0, 0.0]], seed=0)
    assert estimate.search_simulations == 0 and len(estimate.shifts) == 2
    assert estimate.probability == pytest.approx(2 * failure_probability(4.0),
                                                 rel=3 * estimate.relative_standard_error)


def test_given_shares_weight_the_mixture():
    # Two regions of unequal probability, 3 and 5 sigma out, and a defensive share at the
    # origin: the mixture's shares follow the regions' probabilities and the estimate is
    # unbiased whatever they are.
    def two_unequal(z):
        return np.minimum(3.0 - z[:, 0], 5.0 + z[:, 0])

    exact = failure_probability(3.0) + failure_probability(5.0)
    means = [[3.0, 0.0], [-5.0, 0.0], [0.0, 0.0]]
    for shares in ([0.8, 0.1, 0.1], [1.0, 1.0, 1.0]):
        drawn = []

        def recording(z, drawn=drawn):
            drawn.append(z)
            return two_unequal(z)

        estimate = importance_sampling(recording, 2, shift=means, shares=shares,
                                       target_rse=0.03, max_simulations=50_000, seed=1)
        assert estimate.converged
        assert estimate.probability == pytest.approx(exact,
                                                     rel=3 * estimate.relative_standard_error)
        # The samples come from the components in the proportions given (nearest mean).
        points = np.concatenate(drawn)
        nearest = np.argmin(np.abs(points[:, :1] - np.array([[3.0, -5.0, 0.0]])), axis=1)
        fractions = np.bincount(nearest, minlength=3) / len(points)
        expected = np.array(shares) / sum(shares)
        assert fractions == pytest.approx(expected, abs=0.06)


@pytest.mark.parametrize(("options", "message"), [
    ({"shift": [[3.0, 0.0], [0.0, 0.0]], "shares": [1.0]},
     r"shares must be 2 positive numbers, one per shift, not \[1.0\]"),
    ({"shift": [[3.0, 0.0], [0.0, 0.0]], "shares": [1.0, 0.0]},
     r"shares must be 2 positive numbers, one per shift, not \[1.0, 0.0\]"),
    ({"shares": [1.0]}, "shares needs the shifts they belong to: give shift as well"),
    ({"shift": [[3.0, 0.0], [0.0, 0.0]], "shares": ["a", "b"]},
     r"shares must be 2 positive numbers, one per shift, not \['a', 'b'\]"),
])
def test_bad_shares_are_refused(options, message, counting):
    counted = counting(linear(3.0, [1.0, 0.0]))
    with pytest.raises(ValueError, match=message):
        importance_sampling(counted, 2, seed=0, **options)
    assert not counted.batches


def test_monte_carlo_stops_at_its_budget():
    estimate = monte_carlo(linear(6.0, [1.0]), 1, max_simulations=25_000, batch_size=10_000,
                           seed=0)
    assert not estimate.converged
    assert estimate.simulations == 25_000 and estimate.failures == 0
    assert estimate.probability == 0.0 and estimate.relative_standard_error == math.inf
    assert estimate.sigma == math.inf


def test_importance_sampling_stops_at_its_budget(counting):
    counted = counting(linear(6.0, [1.0, 1.0]))
    estimate = importance_sampling(counted, 2, target_rse=0.01, max_simulations=1_000, seed=0)
    assert not estimate.converged and estimate.relative_standard_error > 0.01
    assert estimate.simulations == sum(counted.batches) == 1_000


def test_no_failure_found_gives_an_unconverged_zero():
    estimate = importance_sampling(lambda z: 1e3 - z[:, 0], 3, max_simulations=1_000, seed=0)
    assert not estimate.converged and estimate.probability == 0.0
    assert estimate.shift is None and estimate.sampling_simulations == 0
    assert estimate.search_simulations <= 500


def test_a_failing_nominal_point_is_its_own_shift():
    point = find_shift_point(lambda z: -1.0 - z[:, 0], 2, seed=0)
    assert point.point == (0.0, 0.0) and point.sigma == 0.0 and point.simulations == 1
    estimate = importance_sampling(lambda z: -1.0 - z[:, 0], 2, seed=0)
    assert estimate.probability == pytest.approx(failure_probability(-1.0), rel=0.1)


def test_a_given_shift_skips_the_search(counting):
    counted = counting(linear(6.0, [0.0, 1.0]))
    estimate = importance_sampling(counted, 2, shift=[0.0, 6.0], seed=0)
    assert estimate.search_simulations == 0 and estimate.converged
    assert estimate.sampling_simulations == sum(counted.batches)


def test_the_search_counts_every_evaluation(counting):
    counted = counting(lambda z: 5.0 - z[:, 0] + 0.1 * (z[:, 1:] ** 2).sum(axis=1))
    point = find_shift_point(counted, 4, seed=1)
    assert point.simulations == sum(counted.batches)
    assert point.sigma == pytest.approx(5.0, abs=0.05)


@pytest.mark.parametrize("size", [1.0, math.inf])
def test_a_pass_fail_margin_still_gives_an_estimate(size):
    # A margin that is only a sign (or infinite, as a write margin that never flips) has no
    # gradient to follow: the search bisects along rays and keeps a failing point.
    def pass_fail(z):
        return np.where(z.sum(axis=1) / math.sqrt(3) >= 4.0, -size, size)

    estimate = importance_sampling(pass_fail, 3, seed=1)
    assert estimate.converged and 4.0 <= estimate.shift_sigma < 4.5
    assert abs(estimate.probability / failure_probability(4.0) - 1) < (
        3 * estimate.relative_standard_error)


def test_infinite_margins_are_margins():
    estimate = monte_carlo(lambda z: np.where(z[:, 0] > 2.0, -np.inf, np.inf), 1, seed=0)
    assert estimate.probability == pytest.approx(failure_probability(2.0), rel=0.3)


@pytest.mark.parametrize(("options", "message"), [
    ({"dimension": 0}, "dimension must be from 1 to 10000, not 0"),
    ({"target_rse": 0.0}, "target_rse must be above 0, not 0.0"),
    ({"target_rse": 1.5}, "target_rse must be at most 1, not 1.5"),
    ({"target_rse": math.nan}, "target_rse must be a finite number, not nan"),
    ({"max_simulations": 0}, "max_simulations must be at least 1, not 0"),
    ({"min_failures": 0}, "min_failures must be at least 1, not 0"),
    ({"shift": [1.0, 2.0]}, r"shift must be 3 finite numbers or rows of them, not \[1.0, 2"),
    ({"regions": 0}, "regions must be from 1 to 16, not 0"),
    ({"presample_sigma": 0.5}, "presample_sigma must be at least 1, not 0.5"),
    ({"search_simulations": 10_000}, "search_simulations must be from 2 to 5000"),
    ({"max_presample_sigma": 2.0}, "max_presample_sigma must be at least presample_sigma = 3, "
                                   "not 2.0"),
    ({"max_presample_sigma": math.inf}, "max_presample_sigma must be a finite number, not inf"),
    ({"max_simulations": 300}, r"search_simulations must be at least presample_size \+ 1 = "
                               r"201, not 150 \(by default half of max_simulations\)"),
])
def test_bad_options_are_refused(options, message):
    arguments = {"dimension": 3} | options
    with pytest.raises(ValueError, match=message):
        importance_sampling(linear(3.0, [1.0, 0.0, 0.0]), **arguments)


def test_bad_limit_states_are_refused():
    with pytest.raises(TypeError, match="limit_state must be callable, not 3"):
        monte_carlo(3, 2)
    with pytest.raises(TypeError, match="batch_size must be an int, not True"):
        monte_carlo(linear(3.0, [1.0, 0.0]), 2, batch_size=True)
    with pytest.raises(ValueError, match=r"one margin per sample, shape \(10,\), not \(10, 2\)"):
        monte_carlo(lambda z: z, 2, batch_size=10)
    with pytest.raises(ValueError, match=r"returned NaN for sample 0 of the batch, z = \["):
        monte_carlo(lambda z: np.full(len(z), np.nan), 2, batch_size=10)
    with pytest.raises(ValueError, match="max_simulations must be at least presample_size"):
        find_shift_point(linear(3.0, [1.0]), 1, max_simulations=100, presample_size=200)


def test_the_search_finds_each_region_once():
    # Three failure regions: z1 >= 4, z1 <= -4.5 and z2 >= 5; at most ``regions`` are kept.
    def three_sided(z):
        return np.minimum(np.minimum(4.0 - z[:, 0], 4.5 + z[:, 0]), 5.0 - z[:, 1])

    found = find_shift_point(three_sided, 3, regions=3, seed=0)
    np.testing.assert_allclose(found.points, [[4, 0, 0], [-4.5, 0, 0], [0, 5, 0]], atol=0.03)
    one = find_shift_point(three_sided, 3, regions=1, seed=0)
    assert one.others == () and one.unexplained_failures > 0
    assert one.points == (one.point,)


def test_the_presampling_scale_stops_at_its_limit():
    # Nothing fails: the scale would grow 1.5 times a batch, to 3 * 1.5**5 = 23 sigma.
    seen = []

    def never_fails(z):
        seen.append(float(np.std(z)))
        return np.ones(len(z))

    found = find_shift_point(never_fails, 4, max_simulations=1201, presample_size=200,
                             max_presample_sigma=4.0, seed=0)
    assert found.point is None
    scales = seen[1:]
    assert len(scales) == 6
    assert scales[0] == pytest.approx(3.0, rel=0.1)
    assert all(scale == pytest.approx(4.0, rel=0.1) for scale in scales[1:])
    seen.clear()
    find_shift_point(never_fails, 4, max_simulations=1201, presample_size=200, seed=0)
    assert seen[-1] == pytest.approx(3.0 * 1.5**5, rel=0.1)


def test_a_budget_spent_by_presampling_gives_the_nearest_presampled_failure():
    # Once failed at max_simulations = presample_size + 1: the search had no evaluation left
    # to follow a failure and found no point at all.
    limit_state = linear(2.0, [1.0, 0.0])
    found = find_shift_point(limit_state, 2, max_simulations=201, presample_size=200, seed=0)
    assert found.simulations == 201
    assert found.point is not None
    assert limit_state(np.array([found.point]))[0] <= 0
    assert found.sigma >= 2.0
