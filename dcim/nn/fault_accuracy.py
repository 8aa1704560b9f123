"""A network's accuracy with bit errors in its stored weights, over seeded fault draws.

One draw of faults is one chip: which cells fail is random, so the accuracy at a bit-error
rate is a distribution over draws. :func:`accuracy_with_faults` converts a task's trained
network onto a design (or takes a converted network), then for each rate evaluates it
``trials`` times, each time with other faults in every layer, and returns the mean and the
spread beside the fault-free accuracy. A rate can come from a SPICE estimate
(:class:`dcim.spice.BitFailure`, through :func:`~dcim.nn.faults.bit_error_rate`), which gives
the accuracy at a corner's yield.

Trial ``t`` of faults ``WeightFaults(rate, seed)`` is the network that ``convert(...,
faults=WeightFaults(rate, seed + t))`` makes: layer ``i`` draws its flips with the seed
``SeedSequence((seed + t, i))`` gives.
"""

import copy
import statistics
from dataclasses import dataclass

from torch import nn

from ..checks import check_int, short_repr
from . import tasks
from .convert import _layer_seed, convert
from .faults import WeightFaults, bit_error_rate
from .layers import DCiMLayer

__all__ = ["FaultAccuracy", "accuracy_with_faults"]


@dataclass(frozen=True)
class FaultAccuracy:
    """The accuracy of a network with stored-weight bit errors at one rate.

    Members
    -------
    task : str
    design : str
        The name of the (first converted layer's) design.
    rate : float
        The bit-error rate of every stored weight bit.
    seed : int
        The first trial's fault seed (trial ``t`` uses ``seed + t``).
    accuracies : tuple of float
        The test accuracy (0 to 1) of each trial.
    fault_free_accuracy : float
        The same network without faults.
    """

    task: str
    design: str
    rate: float
    seed: int
    accuracies: tuple
    fault_free_accuracy: float

    @property
    def trials(self):
        return len(self.accuracies)

    @property
    def mean(self):
        """The mean accuracy over the trials."""
        return statistics.fmean(self.accuracies)

    @property
    def spread(self):
        """The sample standard deviation of the accuracy over the trials (0 for one)."""
        return statistics.stdev(self.accuracies) if len(self.accuracies) > 1 else 0.0

    @property
    def worst(self):
        return min(self.accuracies)

    @property
    def drop(self):
        """Fault-free accuracy minus the mean, in accuracy units (0.01 is a point)."""
        return self.fault_free_accuracy - self.mean


def _faults_of(item, seed):
    from ..spice.bit_failure import BitFailure

    if isinstance(item, WeightFaults):
        return item
    if isinstance(item, BitFailure):
        return WeightFaults(rate=bit_error_rate(item), seed=seed)
    if isinstance(item, bool) or not isinstance(item, int | float):
        raise TypeError(f"faults_or_rates must hold rates, WeightFaults or BitFailure "
                        f"estimates, not {short_repr(item)}")
    return WeightFaults(rate=item, seed=seed)


def _with_faults(model, layers, faults):
    for index, layer in enumerate(layers):
        layer.set_faults(None if faults is None else WeightFaults(
            rate=faults.rate, seed=_layer_seed(faults.seed, index)))
    return model


def accuracy_with_faults(model_or_design, task, faults_or_rates, *, trials=5, seed=0,
                         calibration_inputs=512):
    """Test accuracy of a network with stored-weight bit errors, over ``trials`` draws.

    Parameters
    ----------
    model_or_design : torch.nn.Module or design
        A converted network (holding :class:`~dcim.nn.DCiMLinear` or
        :class:`~dcim.nn.DCiMConv2d` layers; it is copied, not changed), or a design
        (:class:`~dcim.arith.MultiplierSpec`, ``MacroSpec``, ...) onto which ``task``'s
        trained network (training seed 0, from the cache) is converted.
    task : Task or str
        A task of :mod:`dcim.nn.tasks`.
    faults_or_rates : float, WeightFaults, dcim.spice.BitFailure, or a list of them
        The bit-error rates: a rate (drawn from ``seed``), faults (their own seed), or a
        SPICE estimate (its :func:`~dcim.nn.faults.bit_error_rate`, drawn from ``seed``).
    trials : int
        Fault draws per rate, 1 to 1000.
    seed : int
        The first trial's seed for rates given as numbers or estimates.
    calibration_inputs : int
        Training inputs that calibrate the activation scales when converting a design.

    Returns
    -------
    FaultAccuracy, or a tuple of them for a list

    Raises
    ------
    TypeError, ValueError
        For a bad model, design, task, rate or count, naming it, before any evaluation.
    """
    if isinstance(task, str):
        task = tasks.load_task(task)
    elif not isinstance(task, tasks.Task):
        raise TypeError(f"task must be a Task or a task's name, not {short_repr(task)}")
    trials = check_int("trials", trials, 1, 1000)
    seed = check_int("seed", seed, 0)
    calibration_inputs = check_int("calibration_inputs", calibration_inputs, 1)
    single = not isinstance(faults_or_rates, list | tuple)
    items = [faults_or_rates] if single else list(faults_or_rates)
    if not items:
        raise ValueError("faults_or_rates must hold at least one rate, not none")
    faults = [_faults_of(item, seed) for item in items]
    if isinstance(model_or_design, nn.Module):
        model = copy.deepcopy(model_or_design)
    else:
        trained = tasks.trained_model(task)
        x_train, _ = task.tensors("train")
        model = convert(trained.model, model_or_design,
                        calibration=x_train[:calibration_inputs])
    layers = [module for module in model.modules() if isinstance(module, DCiMLayer)]
    if not layers:
        raise ValueError(f"model_or_design must be a design or a converted network with "
                         f"DCiMLinear or DCiMConv2d layers, not a plain "
                         f"{type(model_or_design).__name__}")
    design = layers[0].design.name
    fault_free = tasks.evaluate(_with_faults(model, layers, None), task)
    results = []
    for entry in faults:
        accuracies = tuple(
            tasks.evaluate(_with_faults(model, layers, WeightFaults(entry.rate,
                                                                    entry.seed + trial)), task)
            for trial in range(trials))
        results.append(FaultAccuracy(task=task.name, design=design, rate=entry.rate,
                                     seed=entry.seed, accuracies=accuracies,
                                     fault_free_accuracy=fault_free))
    return results[0] if single else tuple(results)
