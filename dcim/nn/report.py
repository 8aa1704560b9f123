"""What a design costs a network: accuracy, its drop, error on the network's operands, energy.

:func:`evaluate_design` converts a task's trained CNN to a design, runs the test set on it,
and measures, layer by layer, the design's error metrics under that layer's own operand
histograms and its energy per MAC on operands drawn from that layer
(:mod:`dcim.nn.energy`). The design's exact counterpart (same width and signedness; for a
macro, the same macro with an exact multiplier and tree) is evaluated the same way, so the
report says "this much energy saved at this accuracy drop". :func:`compare_designs` does it
for many designs, with one exact reference per counterpart. Every step below is cached by
content (trained weights, netlist checks, synthesis, timing, power), so a search can call
these cheaply.
"""

import dataclasses
import time

import torch

from ..arith.multiplier import MultiplierSpec
from ..checks import check_int, short_repr
from . import tasks
from .analog import AnalogCiM
from .check import DesignCheck, check_design
from .convert import convert, converted_layers
from .energy import MacEnergy, energy_per_mac, operand_metrics, uniform_metrics
from .finetune import FineTuning, finetune
from .layers import design_of

__all__ = ["LayerFigures", "NetworkEvaluation", "compare_designs", "evaluate_design",
           "exact_counterpart"]


def exact_counterpart(design):
    """The exact design an approximate one is measured against.

    A multiplier: the exact multiplier of the same width and signedness. A macro: the same
    macro with an exact multiplier and an exact adder tree. An analog array: the same array
    without noise, one row per conversion and bit-serial (every partial sum is 0 or 1, so
    the ADC is exact): the integer network at the same bit widths.
    """
    from ..macro import MacroSpec

    spec = design_of(design)
    if isinstance(spec, MultiplierSpec):
        return MultiplierSpec(spec.width, signed=spec.signed, kind="exact")
    if isinstance(spec, AnalogCiM):
        return dataclasses.replace(spec, rows=1, act_encoding=1, noise_sigma=0.0,
                                   nonlinear_sigma=0.0, hybrid_levels=0, voting_levels=0,
                                   voting_samples=1)
    assert isinstance(spec, MacroSpec)
    return dataclasses.replace(spec, mult="exact", assignment=None)


@dataclasses.dataclass(frozen=True)
class LayerFigures:
    """One converted layer's figures.

    Members
    -------
    name : str
        The layer's name in the model.
    macs : int
        Multiply-accumulates per inference (one input sample).
    metrics : ErrorMetrics or None
        The design's error metrics under this layer's weight and activation histograms
        (None for an analog array, whose errors are in its sums, not its products).
    energy : MacEnergy or None
        Energy per MAC on operands drawn from this layer (None when energy was not asked,
        and for an analog array, which has no netlist to measure).
    """

    name: str
    macs: int
    metrics: object
    energy: MacEnergy | None

    @property
    def energy_pj(self):
        """Picojoules per inference in this layer, or None."""
        return None if self.energy is None else self.macs * self.energy.energy_per_mac_pj

    def as_dict(self):
        return {"name": self.name, "macs": self.macs, "metrics": _metrics_dict(self.metrics),
                "energy": None if self.energy is None else self.energy.as_dict(),
                "energy_pj": self.energy_pj}


def _metrics_dict(metrics):
    if metrics is None:
        return None
    return {key: getattr(metrics, key) for key in ("er", "med", "nmed", "mred", "wce", "wcre",
                                                   "mse", "bias")}


@dataclasses.dataclass(frozen=True)
class NetworkEvaluation:
    """What a design does to a task's network (:func:`evaluate_design`).

    Members
    -------
    task : str
    design : str
        The design's name.
    spec : MultiplierSpec or MacroSpec
    exact : str
        The exact counterpart's name.
    float_accuracy, exact_accuracy, accuracy : float
        Test accuracy of the float network, on the exact counterpart, and on the design
        (after fine-tuning, when it was asked for).
    accuracy_before_finetune : float or None
        The design's accuracy before fine-tuning, when fine-tuning was asked for.
    uniform_metrics : ErrorMetrics or None
        The design's metrics under uniform operands, beside the layers' own (None for an
        analog array).
    layers : tuple of LayerFigures
    exact_layers : tuple of LayerFigures
        The exact counterpart's figures, layer by layer.
    check : DesignCheck
        The netlist check of the design.
    seconds : float
        How long the evaluation took.
    """

    task: str
    design: str
    spec: object
    exact: str
    float_accuracy: float
    exact_accuracy: float
    accuracy: float
    accuracy_before_finetune: float | None
    uniform_metrics: object
    layers: tuple
    exact_layers: tuple
    check: DesignCheck
    seconds: float

    @property
    def drop(self):
        """Accuracy points lost against the exact counterpart (0.01 is one point)."""
        return self.exact_accuracy - self.accuracy

    @property
    def network_mred(self):
        """MRED over all the network's products: the layers' MREDs weighted by MACs (None
        for an analog array)."""
        if any(layer.metrics is None for layer in self.layers):
            return None
        total = sum(layer.macs for layer in self.layers)
        return sum(layer.metrics.mred * layer.macs for layer in self.layers) / total

    @property
    def energy_pj(self):
        """Picojoules per inference on the design, or None without energy."""
        return _total(self.layers)

    @property
    def exact_energy_pj(self):
        return _total(self.exact_layers)

    @property
    def energy_saved(self):
        """Fraction of the exact counterpart's energy per inference saved (negative when the
        design costs more), or None without energy."""
        if self.energy_pj is None or not self.exact_energy_pj:
            return None
        return 1 - self.energy_pj / self.exact_energy_pj

    def as_dict(self):
        """Every figure as plain JSON-ready data."""
        return {"task": self.task, "design": self.design, "spec": self.spec.to_dict(),
                "exact": self.exact, "float_accuracy": self.float_accuracy,
                "exact_accuracy": self.exact_accuracy, "accuracy": self.accuracy,
                "accuracy_before_finetune": self.accuracy_before_finetune, "drop": self.drop,
                "network_mred": self.network_mred,
                "uniform_metrics": _metrics_dict(self.uniform_metrics),
                "energy_pj": self.energy_pj, "exact_energy_pj": self.exact_energy_pj,
                "energy_saved": self.energy_saved,
                "layers": [layer.as_dict() for layer in self.layers],
                "exact_layers": [layer.as_dict() for layer in self.exact_layers],
                "check": self.check.as_dict(), "seconds": self.seconds}


def _total(layers):
    if any(layer.energy is None for layer in layers):
        return None
    return sum(layer.energy_pj for layer in layers)


@dataclasses.dataclass(frozen=True)
class _Options:
    seed: int
    energy: bool
    corner: str
    pdk: str
    pdk_root: object
    samples: int
    operand_inputs: int
    calibration_inputs: int
    finetune: FineTuning | None


def _layer_figures(model, inputs, spec, options):
    """Per converted layer: MACs per sample, metrics and energy on its own operands."""
    captured = {}
    hooks = [layer.register_forward_pre_hook(
        lambda module, args, name=name: captured.setdefault(name, args[0].detach()))
        for name, layer in converted_layers(model)]
    try:
        with torch.no_grad():
            model.eval()(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    figures = []
    analog = isinstance(spec, AnalogCiM)
    for name, layer in converted_layers(model):
        x = captured[name]
        groups = layer.operands(x)
        x_all = torch.cat([x_int for x_int, _ in groups], dim=0)
        w_all = torch.cat([w_int for _, w_int in groups], dim=1)
        metrics = None if analog else operand_metrics(spec, w_all, x_all)
        energy = None
        if options.energy and not analog:
            # Groups share K: one sample over their stacked operands weights each group by
            # its MACs, as the hardware runs them.
            energy = energy_per_mac(spec, groups[0][1], groups[0][0], corner=options.corner,
                                    pdk=options.pdk, pdk_root=options.pdk_root,
                                    samples=options.samples, seed=options.seed) \
                if len(groups) == 1 else _grouped_energy(spec, groups, options)
        figures.append(LayerFigures(name, layer.macs(x) // len(inputs), metrics, energy))
    return tuple(figures)


def _grouped_energy(spec, groups, options):
    """Energy per MAC of a grouped convolution: the groups' figures weighted by MACs."""
    parts = [energy_per_mac(spec, w_int, x_int, corner=options.corner, pdk=options.pdk,
                            pdk_root=options.pdk_root, samples=options.samples,
                            seed=options.seed + g)
             for g, (x_int, w_int) in enumerate(groups)]
    macs = [x_int.shape[0] * w_int.shape[0] * w_int.shape[1] for x_int, w_int in groups]
    mean = sum(p.energy_per_mac_pj * m for p, m in zip(parts, macs, strict=True)) / sum(macs)
    return dataclasses.replace(parts[0], energy_per_mac_pj=mean,
                               cached=all(p.cached for p in parts))


def _run(task, trained, spec, options):
    """``(accuracy, accuracy before fine-tuning or None, converted model)`` on ``spec``."""
    x_train, _ = task.tensors("train")
    converted = convert(trained.model, spec, calibration=x_train[:options.calibration_inputs])
    if options.finetune is None:
        return tasks.evaluate(converted, task), None, converted
    tuned = finetune(converted, task, training=options.finetune)
    return tuned.accuracy_after, tuned.accuracy_before, tuned.model


def _check_options(specs, task, seed, energy, samples, operand_inputs, calibration_inputs,
                   finetune_with, corner, pdk, pdk_root):
    if not isinstance(energy, bool):
        raise TypeError(f"energy must be True or False, not {short_repr(energy)}")
    if finetune_with is not None and not isinstance(finetune_with, FineTuning):
        raise TypeError(f"finetune must be a FineTuning or None, not {short_repr(finetune_with)}")
    options = _Options(check_int("seed", seed, low=0), energy, corner, pdk, pdk_root,
                       check_int("samples", samples, low=2),
                       check_int("operand_inputs", operand_inputs, low=1),
                       check_int("calibration_inputs", calibration_inputs, low=1),
                       finetune_with)
    if isinstance(task, str):
        task = tasks.load_task(task)
    elif not isinstance(task, tasks.Task):
        raise TypeError(f"task must be a Task or a task's name, not {short_repr(task)}")
    if energy and not all(isinstance(spec, AnalogCiM) for spec in specs):
        from ..flow.pdk import load_pdk

        # Before any network runs: a bad corner or PDK is an error now, not minutes later.
        load_pdk(pdk, pdk_root).corner(corner)
    return task, options


def _evaluate(task, trained, spec, options, exact_memo):
    start = time.perf_counter()
    exact = exact_counterpart(spec)
    x_test, _ = task.tensors("test")
    inputs = x_test[:options.operand_inputs]
    if exact not in exact_memo:
        accuracy, _, model = _run(task, trained, exact, dataclasses.replace(options,
                                                                            finetune=None))
        exact_memo[exact] = (accuracy, _layer_figures(model, inputs, exact, options))
    exact_accuracy, exact_layers = exact_memo[exact]
    accuracy, before, model = _run(task, trained, spec, options)
    return NetworkEvaluation(
        task=task.name, design=spec.name, spec=spec, exact=exact.name,
        float_accuracy=trained.accuracy, exact_accuracy=exact_accuracy, accuracy=accuracy,
        accuracy_before_finetune=before,
        uniform_metrics=None if isinstance(spec, AnalogCiM) else uniform_metrics(spec),
        layers=_layer_figures(model, inputs, spec, options), exact_layers=exact_layers,
        check=check_design(spec), seconds=time.perf_counter() - start)


def evaluate_design(task, design, *, seed=0, energy=True, corner="typ", pdk="nangate45",
                    pdk_root=None, samples=4096, operand_inputs=256, calibration_inputs=512,
                    finetune=None):
    """Accuracy, drop, error on the network's operands and energy of ``design`` on ``task``.

    Parameters
    ----------
    task : Task or str
        A task of :mod:`dcim.nn.tasks` (its CNN trained with ``seed``, from the cache).
    design : MultiplierSpec, MacroSpec, DCiMMacro or AnalogCiM
        An analog array gets accuracy and drop (its noise seeded by its ``seed``), with no
        product metrics or energy.
    seed : int
        Training seed of the network, and seed of the energy's operand draws.
    energy : bool
        Measure energy per inference (synthesis and power runs, cached); False gives the
        accuracy and metrics alone, in seconds.
    corner, pdk, pdk_root :
        Where the energy is measured (see :func:`dcim.flow.ppa`).
    samples : int
        Operand pairs (or macro vectors) simulated per layer for its energy.
    operand_inputs : int
        Test inputs whose layer operands give the histograms and the energy samples.
    calibration_inputs : int
        Training inputs that calibrate the activation scales.
    finetune : FineTuning or None
        Fine-tune the converted network (see :func:`dcim.nn.finetune`) before measuring;
        the exact counterpart is never fine-tuned.

    Returns
    -------
    NetworkEvaluation

    Raises
    ------
    ValueError, TypeError
        For an unknown task, a bad design, seed, count, corner or PDK, before any network
        runs.
    """
    spec = design_of(design)
    task, options = _check_options((spec,), task, seed, energy, samples, operand_inputs,
                                   calibration_inputs, finetune, corner, pdk, pdk_root)
    trained = tasks.trained_model(task, seed=options.seed)
    return _evaluate(task, trained, spec, options, {})


def compare_designs(task, designs, *, progress=None, **options):
    """:func:`evaluate_design` for each of ``designs``, sharing the network and the exact
    references.

    ``progress(done, total)`` is called before the first design and after each one. Other
    keywords are :func:`evaluate_design`'s. Returns a tuple of NetworkEvaluation in the
    order of ``designs``.

    Raises
    ------
    ValueError
        If ``designs`` is empty; as :func:`evaluate_design` otherwise (every design is checked
        before the first is evaluated).
    """
    if isinstance(designs, (str, bytes)) or not hasattr(designs, "__iter__"):
        raise TypeError(f"designs must be a list of designs, not {short_repr(designs)}")
    specs = []
    for index, design in enumerate(designs):
        try:
            specs.append(design_of(design))
        except TypeError as error:
            raise TypeError(f"designs[{index}]: {error}") from None
    if not specs:
        raise ValueError("designs must hold at least one design, not none")
    defaults = dict(seed=0, energy=True, corner="typ", pdk="nangate45", pdk_root=None,
                    samples=4096, operand_inputs=256, calibration_inputs=512, finetune=None)
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise TypeError(f"compare_designs got unknown keywords {', '.join(unknown)}")
    merged = {**defaults, **options}
    merged["finetune_with"] = merged.pop("finetune")
    task, checked = _check_options(specs, task, **merged)
    trained = tasks.trained_model(task, seed=checked.seed)
    exact_memo = {}
    results = []
    if progress is not None:
        progress(0, len(specs))
    for done, spec in enumerate(specs, 1):
        results.append(_evaluate(task, trained, spec, checked, exact_memo))
        if progress is not None:
            progress(done, len(specs))
    return tuple(results)
