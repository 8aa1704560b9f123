"""Failure probabilities of limit states with known answers: importance sampling and Monte Carlo.

    python -m benchmarks yield

For each case, ``importance_sampling`` (target relative standard error 10 %, at most 5,000
evaluations) or ``monte_carlo`` (the same target, at most 4 million), seed 1: the exact
probability (or a quadrature reference), the estimate, its error against the exact value,
the estimator's own relative standard error, the evaluations of the search and of the
sampling, the samples plain Monte Carlo would need for the same relative error,
``(1 - p) / (p rse^2)``, and the number of shift points sampled around. The two-sided case
shows single-point mean-shift sampling (``IS 1pt``, ``regions=1``) missing a second failure
region (its ``unexplained`` count is the presampling's warning) and the default finding both.

A second table checks the stopping rule's honesty: importance sampling on linear and
parabolic limit states over ``DCIM_BENCH_YIELD_SEEDS`` seeds (default 300): the mean error
and its standard error (a bias of the sequential stopping rule would show there), the spread
of the errors beside
the mean reported relative standard error, the share of runs within 10 % and the share
that converged within 5,000 evaluations.
"""

import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dcim.spice import failure_probability, importance_sampling, monte_carlo  # noqa: E402

__all__ = ["main"]


def _linear(beta, direction):
    unit = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    return lambda z: beta - z @ unit


def _parabolic(beta, curvature):
    return lambda z: beta - z[:, 0] + curvature * (z[:, 1:] ** 2).sum(axis=1)


def _parabolic_reference(beta, curvature, dimension):
    """P(z1 >= beta + curvature * chi2(dimension - 1)), by quadrature over the chi-square."""
    dof = dimension - 1
    y = np.linspace(1e-12, 400.0, 400_001)
    density = np.exp((dof / 2 - 1) * np.log(y) - y / 2 - dof / 2 * math.log(2)
                     - math.lgamma(dof / 2))
    tail = 0.5 * np.vectorize(math.erfc)((beta + curvature * y) / math.sqrt(2))
    return float(np.trapezoid(tail * density, y))


def _cases():
    rng = np.random.default_rng(5)
    direction = rng.standard_normal(8)
    direction /= np.linalg.norm(direction)
    offset = 0.4 * rng.standard_normal(8)
    rotated_beta = 4.8 + float(direction @ offset)
    cases = [(f"linear beta={beta:g} d={dimension}", "IS", _linear(beta, np.ones(dimension)),
              dimension, failure_probability(beta))
             for beta, dimension in [(3, 6), (4, 6), (6, 2), (6, 6), (6, 20)]]
    cases += [
        ("linear rotated offset d=8", "IS",
         lambda z: 2.4 - 0.5 * (z - offset) @ direction, 8, failure_probability(rotated_beta)),
        ("parabolic beta=5 k=+0.1 d=6", "IS", _parabolic(5.0, 0.1), 6,
         _parabolic_reference(5.0, 0.1, 6)),
        ("parabolic beta=5 k=-0.05 d=6", "IS", _parabolic(5.0, -0.05), 6,
         _parabolic_reference(5.0, -0.05, 6)),
        ("two-sided |z1|>=4 d=4", "IS", lambda z: 4.0 - np.abs(z[:, 0]), 4,
         2 * failure_probability(4.0)),
        ("two-sided |z1|>=4 d=4", "IS 1pt", lambda z: 4.0 - np.abs(z[:, 0]), 4,
         2 * failure_probability(4.0)),
        ("two-sided |z1|>=4 d=4", "MC", lambda z: 4.0 - np.abs(z[:, 0]), 4,
         2 * failure_probability(4.0)),
        ("linear beta=3.7 d=6", "IS", _linear(3.7, [1, -2, 0.5, 0, 1, 3]), 6,
         failure_probability(3.7)),
        ("linear beta=3.7 d=6", "MC", _linear(3.7, [1, -2, 0.5, 0, 1, 3]), 6,
         failure_probability(3.7)),
        ("chi-square |z|^2>=17 d=2", "MC", lambda z: 17.0 - (z**2).sum(axis=1), 2,
         math.exp(-8.5)),
    ]
    return cases


def main():
    header = (f"{'case':30}  {'method':6}  {'exact P':>9}  {'estimate':>9}  {'error':>7}  "
              f"{'rel SE':>6}  {'search':>6}  {'sampling':>8}  {'MC equiv':>8}  "
              f"{'shifts':>6}  {'unexplained':>11}  {'conv':>4}  {'cpu s':>5}  {'wall s':>6}")
    print(header)
    print("-" * len(header))
    for name, method, limit_state, dimension, exact in _cases():
        wall, cpu = time.monotonic(), _cpu()
        if method.startswith("IS"):
            estimate = importance_sampling(limit_state, dimension, seed=1,
                                           regions=1 if method == "IS 1pt" else 2)
        else:
            estimate = monte_carlo(limit_state, dimension, max_simulations=4_000_000, seed=1)
        rse = estimate.relative_standard_error
        equivalent = (1 - estimate.probability) / (estimate.probability * rse**2)
        print(f"{name:30}  {method:6}  {exact:9.3e}  {estimate.probability:9.3e}  "
              f"{estimate.probability / exact - 1:+7.1%}  {rse:6.1%}  "
              f"{estimate.search_simulations:6d}  {estimate.sampling_simulations:8d}  "
              f"{equivalent:8.1e}  {len(estimate.shifts):6d}  {estimate.unexplained_failures:11d}  "
              f"{'yes' if estimate.converged else 'no':>4}  {_cpu() - cpu:5.2f}  "
              f"{time.monotonic() - wall:6.2f}", flush=True)
    seeds = int(os.environ.get("DCIM_BENCH_YIELD_SEEDS", "300"))
    header = (f"\n{'case':22}  {'target':>6}  {'seeds':>5}  {'mean error':>10}  "
              f"{'+-':>5}  {'spread':>6}  {'mean rel SE':>11}  {'within 10%':>10}  "
              f"{'mean sims':>9}  {'converged':>9}")
    print(header)
    print("-" * (len(header) - 1))
    calibrations = [(f"linear beta={beta:g} d=6", _linear(beta, np.ones(6)),
                     failure_probability(beta), target)
                    for beta, target in [(4.0, 0.1), (6.0, 0.1), (6.0, 0.04)]]
    calibrations += [(f"parabolic k={curvature:+g} d=6", _parabolic(5.0, curvature),
                      _parabolic_reference(5.0, curvature, 6), 0.1)
                     for curvature in (0.1, -0.05)]
    for name, limit_state, exact, target in calibrations:
        runs = [importance_sampling(limit_state, 6, target_rse=target, seed=seed)
                for seed in range(seeds)]
        errors = np.array([run.probability / exact - 1 for run in runs])
        print(f"{name:22}  {target:6.0%}  {seeds:5d}  "
              f"{errors.mean():+10.2%}  {errors.std() / math.sqrt(seeds):5.2%}  "
              f"{errors.std():6.1%}  "
              f"{np.mean([run.relative_standard_error for run in runs]):11.1%}  "
              f"{np.mean(np.abs(errors) < 0.1):10.0%}  "
              f"{np.mean([run.simulations for run in runs]):9.0f}  "
              f"{np.mean([run.converged for run in runs]):9.0%}", flush=True)


def _cpu():
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


if __name__ == "__main__":
    main()
