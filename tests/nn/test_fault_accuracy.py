"""accuracy_with_faults: rate 0 is the fault-free accuracy exactly, a large rate degrades it,
trials are seeded draws equal to converting with those faults, SPICE estimates become rates,
and every validation error."""

import math

import pytest
import torch
from nn_helpers import loaded

from dcim.arith import MultiplierSpec
from dcim.nn import (
    FaultAccuracy,
    WeightFaults,
    accuracy_with_faults,
    bit_error_rate,
    convert,
    tasks,
)
from dcim.spice import BitFailure, Corner, FailureCriteria, ModeFailure

EXACT_S8 = MultiplierSpec(8, signed=True, kind="exact")


def estimate(hold, read, write, combined=None):
    modes = {name: ModeFailure(mode=name, probability=p, relative_standard_error=0.1,
                               simulations=100, method="IS", converged=True)
             for name, p in (("hold", hold), ("read", read), ("write", write))}
    if combined is not None:
        combined = ModeFailure(mode="bit", probability=combined, relative_standard_error=0.1,
                               simulations=100, method="IS", converged=True)
    return BitFailure(cell="sram6t", corner=Corner(), criteria=FailureCriteria(),
                      mismatch="pelgrom_avt1.2", combined=combined, **modes)


@pytest.fixture(scope="module")
def converted(trained):
    task = loaded("digits")
    x_train, _ = task.tensors("train")
    return convert(trained("digits").model, EXACT_S8, calibration=x_train[:512])


def test_rate_0_is_the_fault_free_accuracy_and_a_large_rate_degrades_it(converted):
    task = loaded("digits")
    clean, heavy = accuracy_with_faults(converted, task, [0.0, 0.05], trials=3, seed=1)
    assert isinstance(clean, FaultAccuracy)
    assert clean.fault_free_accuracy == tasks.evaluate(converted, task)
    assert clean.accuracies == (clean.fault_free_accuracy,) * 3
    assert clean.drop == 0.0 and clean.spread == 0.0
    assert clean.fault_free_accuracy > 0.9
    # One flip in 20 bits: most weights have a bit wrong, many of them a high one.
    assert heavy.mean < clean.fault_free_accuracy - 0.2
    assert heavy.spread > 0
    assert heavy.worst <= heavy.mean
    assert (heavy.rate, heavy.seed, heavy.trials) == (0.05, 1, 3)
    assert heavy.design == EXACT_S8.name and heavy.task == "digits"
    # The model given is copied, not changed.
    assert all(layer.faults is None for layer in converted.modules()
               if hasattr(layer, "faults"))


def test_trials_are_the_networks_convert_makes(trained, converted):
    task = loaded("digits")
    x_train, _ = task.tensors("train")
    result = accuracy_with_faults(converted, task, WeightFaults(0.01, seed=7), trials=2)
    for trial, accuracy in enumerate(result.accuracies):
        faulty = convert(trained("digits").model, EXACT_S8, calibration=x_train[:512],
                         faults=WeightFaults(0.01, seed=7 + trial))
        assert accuracy == tasks.evaluate(faulty, task)
    assert accuracy_with_faults(converted, task, WeightFaults(0.01, seed=7),
                                trials=2).accuracies == result.accuracies


def test_a_design_is_converted_from_the_trained_network(trained, converted):
    trained("digits")
    result = accuracy_with_faults(EXACT_S8, "digits", 0.0, trials=1)
    assert result.fault_free_accuracy == tasks.evaluate(converted, loaded("digits"))


def test_a_bit_failure_becomes_half_its_probability():
    failure = estimate(1e-9, 4e-4, 1e-4)
    assert failure.probability == pytest.approx(5.00001e-4)
    assert bit_error_rate(failure) == pytest.approx(2.500005e-4)
    assert bit_error_rate(failure, bound="lower") == pytest.approx(2e-4)
    faults = WeightFaults.from_bit_failure(failure, seed=3)
    assert (faults.rate, faults.seed) == (bit_error_rate(failure), 3)
    with pytest.raises(TypeError, match="bit_failure must be a dcim.spice.BitFailure, not 0.1"):
        bit_error_rate(0.1)
    with pytest.raises(ValueError, match=r"bound must be one of \('estimate', 'union', "
                                         r"'lower'\), not 'upper'"):
        bit_error_rate(failure, bound="upper")
    # With a combined estimate, that is the rate; the bounds stay the modes'.
    together = estimate(1e-9, 4e-4, 1e-4, combined=4.5e-4)
    assert bit_error_rate(together) == pytest.approx(2.25e-4)
    assert bit_error_rate(together, bound="union") == pytest.approx(2.500005e-4)
    assert bit_error_rate(together, bound="lower") == pytest.approx(2e-4)
    assert WeightFaults.from_bit_failure(together).rate == bit_error_rate(together)


def test_an_estimate_is_a_rate(converted):
    failure = estimate(0.0, 0.02, 0.0)
    from_estimate = accuracy_with_faults(converted, loaded("digits"), failure, trials=1,
                                         seed=2)
    assert from_estimate.rate == 0.01
    assert from_estimate.accuracies == accuracy_with_faults(
        converted, loaded("digits"), 0.01, trials=1, seed=2).accuracies


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"task": 3}, TypeError, "task must be a Task or a task's name, not 3"),
    ({"trials": 0}, ValueError, "trials must be from 1 to 1000, not 0"),
    ({"seed": -1}, ValueError, "seed must be at least 0, not -1"),
    ({"faults_or_rates": []}, ValueError, "faults_or_rates must hold at least one rate"),
    ({"faults_or_rates": ["0.1"]}, TypeError, "faults_or_rates must hold rates, WeightFaults"),
    ({"faults_or_rates": 1.5}, ValueError, "rate must be from 0 to 1, not 1.5"),
    ({"faults_or_rates": math.nan}, ValueError, "rate must be from 0 to 1, not nan"),
    ({"model_or_design": torch.nn.Linear(2, 2)}, ValueError,
     "model_or_design must be a design or a converted network .* not a plain Linear"),
])
def test_bad_arguments_are_refused(converted, arguments, error, message):
    options = {"model_or_design": converted, "task": loaded("digits"),
               "faults_or_rates": 0.01} | arguments
    with pytest.raises(error, match=message):
        accuracy_with_faults(options.pop("model_or_design"), options.pop("task"),
                             options.pop("faults_or_rates"), **options)
