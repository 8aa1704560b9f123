"""``convert``: a float model's Linear and Conv2d layers replaced by layers on a design.

The shape of the API follows IBM aihwkit's ``convert_to_analog``, which our users know: a
converted deep copy by default, ``exclude`` by layer name, and a per-layer hook returning
that layer's design (or None to keep it float).
"""

import copy
import dataclasses

import numpy as np
import torch
from torch import nn
from torch.ao.quantization.observer import MinMaxObserver

from ..checks import check_bool, short_repr
from .check import DesignCheckError, check_design
from .layers import DCiMConv2d, DCiMLayer, DCiMLinear, design_of, layer_quantization

__all__ = ["convert", "converted_layers"]

_LAYERS = ((nn.Linear, DCiMLinear), (nn.Conv2d, DCiMConv2d))


def _convertible(model):
    """``{name: module}`` of the float Linear and Conv2d layers, in registration order."""
    return {name: module for name, module in model.named_modules()
            if isinstance(module, (nn.Linear, nn.Conv2d)) and not isinstance(module, DCiMLayer)}


def converted_layers(model):
    """``[(name, layer)]`` of the :class:`~dcim.nn.layers.DCiMLayer` layers of ``model``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, not {short_repr(model)}")
    return [(name, module) for name, module in model.named_modules()
            if isinstance(module, DCiMLayer)]


def _batches(calibration):
    """The calibration input batches, as a list of tensors (a DataLoader's ``(x, y)``
    pairs give their ``x``)."""
    if isinstance(calibration, torch.Tensor):
        batches = [calibration]
    else:
        try:
            batches = list(calibration)
        except TypeError:
            raise TypeError(f"calibration must be a tensor or an iterable of input batches, "
                            f"not {short_repr(calibration)}") from None
        batches = [batch[0] if isinstance(batch, (tuple, list)) and batch else batch
                   for batch in batches]
    if not batches:
        raise ValueError("calibration must hold at least one input batch, not none")
    for index, batch in enumerate(batches):
        if not isinstance(batch, torch.Tensor) or not batch.dtype.is_floating_point:
            raise TypeError(f"calibration batch {index} must be a float tensor, "
                            f"not {short_repr(batch)}")
        if batch.numel() == 0:
            raise ValueError(f"calibration batch {index} is empty (shape "
                             f"{tuple(batch.shape)!r})")
    return batches


class _Observers:
    """Both observers of one layer's input: symmetric signed and affine unsigned from 0.

    Which one applies is known only after the data is seen (unsigned when it was never
    negative), so both watch it; they cost two min/max passes.
    """

    def __init__(self, signed_max, unsigned_max):
        self.signed = MinMaxObserver(dtype=torch.qint32, qscheme=torch.per_tensor_symmetric,
                                     quant_min=-signed_max, quant_max=signed_max)
        self.unsigned = MinMaxObserver(dtype=torch.qint32, qscheme=torch.per_tensor_affine,
                                       quant_min=0, quant_max=unsigned_max)

    def __call__(self, module, inputs):
        x = inputs[0].detach().float()
        self.signed(x)
        self.unsigned(x)

    def scale(self):
        """``(act_scale, act_signed)`` from the data seen."""
        act_signed = bool(self.unsigned.min_val < 0)
        observer = self.signed if act_signed else self.unsigned
        scale, zero_point = observer.calculate_qparams()
        if int(zero_point.reshape(-1)[0]) != 0:
            raise AssertionError(f"observer gave zero point {zero_point}: the layers are "
                                 f"symmetric or start at 0")
        return float(scale.reshape(-1)[0]), act_signed


def _calibrate(model, targets, ranges, batches):
    """Run ``model`` on the batches and return each target's ``(act_scale, act_signed)``;
    ``ranges[name]`` is the layer's ``(signed, unsigned)`` largest activation code."""
    observers = {name: _Observers(*ranges[name]) for name in targets}
    handles = [targets[name].register_forward_pre_hook(observers[name]) for name in targets]
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for index, batch in enumerate(batches):
                device = next((p.device for p in model.parameters()), batch.device)
                try:
                    model(batch.to(device))
                except (RuntimeError, ValueError) as error:
                    raise ValueError(f"calibration batch {index} of shape "
                                     f"{tuple(batch.shape)!r} does not fit the model: "
                                     f"{error}") from error
    finally:
        for handle in handles:
            handle.remove()
        model.train(training)
    for name, observer in observers.items():
        if observer.signed.min_val.numel() == 0 or not torch.isfinite(observer.signed.min_val):
            raise ValueError(f"calibration never reached layer {name!r}: the model does not "
                             f"call it, so it cannot be calibrated (exclude it)")
    return {name: observer.scale() for name, observer in observers.items()}


def _layer_seed(seed, index):
    """Layer ``index``'s own seed from a model-wide one: independent streams per layer."""
    return int(np.random.SeedSequence((seed, index)).generate_state(1)[0])


def _replace(model, name, module):
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def convert(model, design, *, calibration, exclude=(), per_layer=None, inplace=False,
            weight_bits=None, act_bits=None, faults=None, check=True):
    """``model`` with its Linear and Conv2d layers computing through ``design``.

    Parameters
    ----------
    model : torch.nn.Module
        Any model with ``nn.Linear`` or ``nn.Conv2d`` layers (zero padding).
    design : MultiplierSpec, MacroSpec, DCiMMacro, AnalogCiM or None
        The design of every converted layer; ``None`` only with ``per_layer``. An
        :class:`~dcim.nn.AnalogCiM` array draws its noise per layer, from the seed
        ``SeedSequence((design.seed, i))`` gives layer ``i``.
    calibration : tensor or iterable of tensors (or of ``(x, y)`` pairs)
        Input batches that the float model is run on once, to fix each layer's activation
        scale with PyTorch's ``MinMaxObserver``: unsigned when a layer's input was never
        negative, symmetric otherwise.
    exclude : iterable of str
        Names (as ``model.named_modules()`` gives them) of layers to keep float.
    per_layer : callable or None
        ``per_layer(name, module)`` returns that layer's design, or None to keep it float;
        it overrides ``design``.
    inplace : bool
        Convert ``model`` itself instead of a deep copy.
    weight_bits, act_bits : int or None
        Bits of the designs' operands to use (see :func:`~dcim.nn.layers.layer_quantization`).
    faults : WeightFaults or None
        Bit errors in every converted layer's stored weights; layer ``i`` (in the order of
        ``named_modules``) draws them with the seed ``SeedSequence((faults.seed, i))`` gives,
        so that layers fail independently and reproducibly.
    check : bool
        Check each distinct design against its gate netlist first (:func:`check_design`,
        once per design and cached).

    Returns
    -------
    torch.nn.Module
        The converted model (the copy, or ``model`` with ``inplace``), in the mode ``model``
        was in.

    Raises
    ------
    ValueError
        If the model has no layer to convert; a name in ``exclude`` is not a convertible
        layer; ``weight_bits`` or ``act_bits`` exceeds a design's width; a calibration batch
        does not fit the model (its index and shape named); a layer is never reached.
    TypeError
        For a model, design, calibration or ``per_layer`` result of the wrong type.
    DesignCheckError
        If a design's netlist disagrees with what the network would compute.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, not {short_repr(model)}")
    inplace = check_bool("inplace", inplace)
    check = check_bool("check", check)
    if per_layer is not None and not callable(per_layer):
        raise TypeError(f"per_layer must be a callable (name, module) -> design or None, "
                        f"not {short_repr(per_layer)}")
    if design is None and per_layer is None:
        raise ValueError("design must be a design when per_layer is not given, not None")
    default = None if design is None else design_of(design)
    faults = DCiMLayer._check_faults(faults)
    if isinstance(exclude, str) or not all(isinstance(name, str) for name in exclude):
        raise TypeError(f"exclude must be a collection of layer names, not "
                        f"{short_repr(exclude)}")
    exclude = set(exclude)
    candidates = _convertible(model)
    if not candidates:
        raise ValueError(f"model has no nn.Linear or nn.Conv2d layer to convert "
                         f"({type(model).__name__})")
    unknown = sorted(exclude - set(candidates))
    if unknown:
        raise ValueError(f"exclude names {', '.join(map(repr, unknown))}, not among the "
                         f"model's convertible layers ({', '.join(candidates)})")
    batches = _batches(calibration)

    designs = {}
    for name, module in candidates.items():
        if name in exclude:
            continue
        chosen = default if per_layer is None else per_layer(name, module)
        if chosen is not None:
            try:
                designs[name] = design_of(chosen)
            except TypeError:
                raise TypeError(f"per_layer({name!r}, ...) must return a design or None, "
                                f"not {short_repr(chosen)}") from None
    if not designs:
        raise ValueError("no layer is left to convert: every one is excluded or kept float "
                         "by per_layer")
    ranges = {name: tuple(layer_quantization(spec, weight_bits=weight_bits, act_bits=act_bits,
                                             act_signed=signed).act_max
                          for signed in (True, False))
              for name, spec in designs.items()}
    if check:
        for spec in dict.fromkeys(designs.values()):
            verdict = check_design(spec)
            if not verdict.ok:
                raise DesignCheckError(f"{spec.name}: its gate netlist differs from what the "
                                       f"network would compute ({verdict.mismatches} of "
                                       f"{verdict.vectors} pairs, e.g. {verdict.examples[0]})")

    target = model if inplace else copy.deepcopy(model)
    modules = {name: target.get_submodule(name) for name in designs}
    scales = _calibrate(target, modules, ranges, batches)
    for index, (name, module) in enumerate(modules.items()):
        layer_class = next(new for old, new in _LAYERS if isinstance(module, old))
        act_scale, act_signed = scales[name]
        layer_faults = None if faults is None else dataclasses.replace(
            faults, seed=_layer_seed(faults.seed, index))
        layer = layer_class.from_float(module, designs[name], act_scale=act_scale,
                                       act_signed=act_signed, weight_bits=weight_bits,
                                       act_bits=act_bits, faults=layer_faults)
        if layer.noise_seed is not None:
            layer.reseed(_layer_seed(layer.noise_seed, index))
        layer.train(module.training)
        _replace(target, name, layer)
    return target
