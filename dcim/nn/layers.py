"""Linear and convolution layers that compute through a design: ``DCiMLinear``, ``DCiMConv2d``.

A layer keeps its float weights and bias (so that it can be fine-tuned, saved and turned back
into a float layer) and, at every forward pass:

1. quantizes its input per tensor with the calibrated scale ``act_scale``:
   ``x_int = clamp(round(x / act_scale), low, high)``, unsigned (``[0, high]``) when the
   calibration data was never negative (after a ReLU, or images in [0, 1]), else symmetric;
2. quantizes its weights per output channel, symmetric:
   ``w_int = clamp(round(w / s_n), -q, q)`` with ``s_n = max |w_n| / q``;
3. computes the integer products and sums through the design, bit-exactly
   (:class:`~dcim.nn.matmul.PreparedWeights`; a convolution as a product of its unfolded
   patches, one per group);
4. rescales in float: ``y = acc * (act_scale * s_n) + bias``, in the input's dtype.

The quantized weights and what the design's product needs of them (per-weight tables or
factors) are built once and kept until the weights change, so inference pays for them once.
In training mode the forward value is the same integer result, and the gradient is that of
the exact product of the quantized operands, with straight-through rounding: this is
approximation-aware fine-tuning.

Operand ranges follow the design. A signed design of ``b`` bits takes weights and
activations in ``[-(2**(b-1) - 1), 2**(b-1) - 1]`` (symmetric: the most negative code is left
out). An unsigned design of ``b`` bits takes magnitudes up to ``2**b - 1``, the sign applied
outside (sign-magnitude, see :func:`~dcim.nn.approx_matmul`), so its weights span
``[-(2**b - 1), 2**b - 1]``. ``weight_bits`` and ``act_bits`` narrow these to fewer bits of
the design.
"""

import dataclasses

import torch
from torch import nn
from torch.nn import functional

from ..arith.multiplier import MultiplierSpec
from ..checks import check_bool, check_int, short_repr
from .analog import AnalogCiM, analog_matmul
from .matmul import prepare_weights
from .operands import design_of

__all__ = ["DCiMConv2d", "DCiMLayer", "DCiMLinear", "LayerQuantization", "design_of",
           "layer_quantization"]

STATE_VERSION = 1
"""Version of the extra state a layer saves in its ``state_dict``."""


def _design_widths(design):
    """``(weight width, activation width)`` in bits of the design's operands."""
    if isinstance(design, MultiplierSpec):
        return design.width, design.width
    return design.weight_bits, design.act_bits


def _is_signed(design):
    """Whether the design takes two's-complement weights (an analog array always does)."""
    return True if isinstance(design, AnalogCiM) else design.signed


@dataclasses.dataclass(frozen=True)
class LayerQuantization:
    """How a layer's operands map onto a design's integers.

    Members
    -------
    weight_bits, act_bits : int
        Bits of the design's operands used: with the sign for signed designs, the magnitude
        for unsigned ones (whose sign is applied outside).
    weight_max : int
        Largest weight magnitude ``q``: weights lie in ``[-q, q]``.
    act_max : int
        Largest activation value.
    act_signed : bool
        Whether activations are signed (symmetric ``[-act_max, act_max]``) or in
        ``[0, act_max]``.
    sign_magnitude : bool
        Whether the products run sign-magnitude (an unsigned design).
    """

    weight_bits: int
    act_bits: int
    weight_max: int
    act_max: int
    act_signed: bool
    sign_magnitude: bool

    @property
    def act_min(self):
        return -self.act_max if self.act_signed else 0


def layer_quantization(design, *, weight_bits=None, act_bits=None, act_signed=False):
    """The :class:`LayerQuantization` of a layer on ``design``.

    Raises
    ------
    ValueError
        If ``weight_bits`` or ``act_bits`` exceeds the design's operand width (naming both),
        or is below the least that holds a signed value (2 for a signed design, 1 otherwise).
    """
    spec = design_of(design)
    act_signed = check_bool("act_signed", act_signed)
    signed = _is_signed(spec)
    widths = dict(zip(("weight_bits", "act_bits"), _design_widths(spec), strict=True))
    chosen = {}
    for label, value in (("weight_bits", weight_bits), ("act_bits", act_bits)):
        if value is None:
            chosen[label] = widths[label]
            continue
        value = check_int(label, value, low=2 if signed else 1)
        if value > widths[label]:
            raise ValueError(f"{label} must be at most the {widths[label]} bits of {spec.name}, "
                             f"not {value!r}")
        chosen[label] = value

    def largest(bits, signed):
        return (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1

    # An analog array takes unsigned activations of all its bits (a separate sign cycle
    # serves signed ones); a digital design's range is its own, the sign outside if unsigned.
    act_range_signed = act_signed if isinstance(spec, AnalogCiM) else signed
    return LayerQuantization(chosen["weight_bits"], chosen["act_bits"],
                             largest(chosen["weight_bits"], signed),
                             largest(chosen["act_bits"], act_range_signed),
                             act_signed, sign_magnitude=not signed)


def _exact_as(acc, dtype):
    """Exact integer sums ``acc`` (int64, or a float tensor holding them exactly) as ``dtype``,
    rounded as ``acc.to(torch.int64).to(dtype)`` rounds them.

    float32 and float64 hold the float sums (below ``2**24`` and ``2**53``) exactly, and a
    float64 sum rounds to float32 as its integer does (both round the same exact value once).
    """
    if acc.dtype == dtype:
        return acc
    if acc.dtype.is_floating_point and dtype in (torch.float32, torch.float64):
        return acc.to(dtype)
    return acc.to(torch.int64).to(dtype)


def _channels_last(x):
    """Whether a 4-D ``x`` is laid out channels-last; one that is both (one channel, or one
    pixel) counts as contiguous, as torch's convolutions take it."""
    return not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)


def _copy_parameters(target, source):
    """``target`` with a copy of ``source``'s weight and bias (a layer and its float twin)."""
    with torch.no_grad():
        target.weight.copy_(source.weight)
        if source.bias is not None:
            target.bias.copy_(source.bias)
    return target


def _round_ste(value):
    """``round(value)`` with the gradient of the identity (straight-through)."""
    return value + (torch.round(value) - value).detach()


class DCiMLayer(nn.Module):
    """What :class:`DCiMLinear` and :class:`DCiMConv2d` share: quantization and the product.

    Members
    -------
    design : MultiplierSpec, MacroSpec or AnalogCiM
    quantization : LayerQuantization
    act_scale : torch.Tensor (buffer)
        The calibrated activation scale, a scalar.
    faults : WeightFaults or None
        Stored-weight bit errors applied to the quantized weights.
    """

    def _setup(self, design, *, weight_bits, act_bits, act_signed, act_scale, faults):
        self.design = design_of(design)
        self.quantization = layer_quantization(self.design, weight_bits=weight_bits,
                                               act_bits=act_bits, act_signed=act_signed)
        act_scale = self._check_scale(act_scale)
        self.register_buffer("act_scale", torch.tensor(act_scale, dtype=torch.float32))
        self._prepared = None
        self._prepared_key = None
        self._prepared_source = None
        self.faults = faults
        self.noise_seed = self.design.seed if isinstance(self.design, AnalogCiM) else None
        self._noise = None

    def reseed(self, seed):
        """Restart an analog layer's noise from ``seed``: the next batches draw the same
        noise as after conversion with that seed (digital layers have none)."""
        self.noise_seed = check_int("seed", seed, low=0)
        self._noise = None

    def _noise_generator(self, device):
        if self._noise is None or self._noise.device != device:
            self._noise = torch.Generator(device=device).manual_seed(self.noise_seed)
        return self._noise

    @staticmethod
    def _check_scale(act_scale):
        if isinstance(act_scale, torch.Tensor):
            act_scale = act_scale.item() if act_scale.numel() == 1 else act_scale
        if isinstance(act_scale, bool) or not isinstance(act_scale, (int, float)) \
                or not act_scale > 0 or act_scale == float("inf"):
            raise ValueError(f"act_scale must be a positive finite number, "
                             f"not {short_repr(act_scale)}")
        return float(act_scale)

    @property
    def faults(self):
        """The stored weights' bit errors (:class:`~dcim.nn.WeightFaults`), or ``None``."""
        return self._faults

    @faults.setter
    def faults(self, faults):
        self._faults = self._check_faults(faults)
        self._prepared_key = None

    def set_faults(self, faults):
        """Store the weights with other bit errors (``None`` for none): the next call
        quantizes them again and draws the new faults. The same as assigning ``faults``."""
        self.faults = faults

    @staticmethod
    def _check_faults(faults):
        if faults is None:
            return None
        from .faults import WeightFaults

        if not isinstance(faults, WeightFaults):
            raise TypeError(f"faults must be a WeightFaults or None, not {short_repr(faults)}")
        return faults

    # -- quantization ------------------------------------------------------------------------

    def weight_scale(self):
        """Per-output-channel weight scales ``s_n = max |w_n| / q`` (1 for an all-zero row)."""
        flat = self.weight.detach().reshape(self.weight.shape[0], -1)
        peak = flat.abs().amax(dim=1)
        return torch.where(peak > 0, peak / self.quantization.weight_max,
                           torch.ones_like(peak))

    def quantized_weight(self):
        """The integer weights as stored in the design (faults applied), int64, the
        shape of ``weight``."""
        return self._prepared_weights()[0]

    def quantize_input(self, x):
        """``clamp(round(x / act_scale), low, high)`` in ``x``'s dtype (straight-through
        rounding in training)."""
        q = self.quantization
        scaled = x / self.act_scale.to(x.dtype)
        if self.training:
            return _round_ste(torch.clamp(scaled, q.act_min, q.act_max))
        # The quotient is a new tensor: clamped and rounded in place, the same values.
        return scaled.clamp_(q.act_min, q.act_max).round_()

    def _quantize_weight(self, weight, scale):
        q = self.quantization.weight_max
        view = scale.reshape(-1, *([1] * (weight.dim() - 1)))
        return torch.clamp(weight / view, -q, q)

    def _prepared_weights(self):
        """``(w_int, [PreparedWeights per group], scale)``, rebuilt only when the weights change.

        Whether they changed is judged on their values, against a copy kept with the prepared
        weights: ``weight._version`` misses writes through ``weight.data``, which has a version
        counter of its own. The comparison costs one pass over the weights per call, little
        beside the emulated products.
        """
        weight = self.weight
        key = (weight.device, weight.dtype, tuple(weight.shape))
        if self._prepared_key != key or not torch.equal(self._prepared_source, weight.detach()):
            scale = self.weight_scale()
            w_int = torch.round(self._quantize_weight(weight.detach(), scale)).to(torch.int64)
            if self.faults is not None:
                w_int = self._faulted(w_int)
            groups = self._weight_matrices(w_int)
            if isinstance(self.design, AnalogCiM):
                prepared = [_AnalogWeights(self, matrix) for matrix in groups]
            else:
                prepared = [prepare_weights(matrix, self.design,
                                            sign_magnitude=self.quantization.sign_magnitude,
                                            device=weight.device) for matrix in groups]
            self._prepared = (w_int, prepared, scale)
            self._prepared_source = weight.detach().clone()
            self._prepared_key = key
        return self._prepared

    def _faulted(self, w_int):
        """The stored weights with bit errors: a flip may give any value the stored bits
        can hold (the most negative code too), as the hardware would then compute."""
        from .faults import flip_weight_bits

        q = self.quantization
        encoding = "sign-magnitude" if q.sign_magnitude else "twos"
        bits = q.weight_bits
        return torch.as_tensor(flip_weight_bits(w_int.cpu().numpy(), bits=bits,
                                                encoding=encoding, rate=self.faults.rate,
                                                seed=self.faults.seed),
                               device=w_int.device)

    # -- the product ---------------------------------------------------------------------------

    def _product(self, patches, group):
        """The design's integer sums for one group: ``(M, K) -> (M, N)`` as the input dtype,
        with the exact product's gradient in training."""
        w_int, prepared, scale = self._prepared_weights()
        with torch.no_grad():
            # The quantization keeps the patches in the design's range: the unchecked path.
            acc = _exact_as(prepared[group]._sums(patches.detach()), patches.dtype)
        if not (self.training and torch.is_grad_enabled()):
            return acc
        w_q = _round_ste(self._quantize_weight(self.weight, scale))
        exact = patches @ self._weight_matrices(w_q)[group].to(patches.dtype)
        return exact + (acc - exact).detach()

    def _rescale(self, acc, channel_dim, memory_format=None):
        """``acc * (act_scale * s_n) + bias``, the channels along ``channel_dim``.

        ``acc`` is the layer's own new tensor: without gradients it is rescaled in place (the
        same two roundings, one pass less each), or into a new tensor laid out in
        ``memory_format`` when that differs from ``acc``'s.
        """
        scale = (self.act_scale * self._prepared_weights()[2]).to(acc.dtype)
        shape = [1] * acc.dim()
        shape[channel_dim] = -1
        scale = scale.reshape(shape)
        bias = None if self.bias is None else self.bias.to(acc.dtype).reshape(shape)
        if torch.is_grad_enabled() and (acc.requires_grad
                                        or (bias is not None and bias.requires_grad)):
            out = acc * scale
            return out if bias is None else out + bias
        if memory_format is None or acc.is_contiguous(memory_format=memory_format):
            out = acc.mul_(scale)
        else:
            out = torch.mul(acc, scale, out=torch.empty(acc.shape, dtype=acc.dtype,
                                                        device=acc.device,
                                                        memory_format=memory_format))
        return out if bias is None else out.add_(bias)

    # -- state -------------------------------------------------------------------------------

    def get_extra_state(self):
        """The design, quantization and faults, saved in the ``state_dict``."""
        from .. import __version__

        return {"version": STATE_VERSION, "dcim": __version__,
                "design": _design_dict(self.design),
                "quantization": dataclasses.asdict(self.quantization),
                "faults": None if self.faults is None else dataclasses.asdict(self.faults)}

    def set_extra_state(self, state):
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ValueError(f"layer state must come from dcim.nn layer state version "
                             f"{STATE_VERSION}, not {short_repr(state)}")
        design = _design_from_dict(state["design"])
        quantization = LayerQuantization(**state["quantization"])
        if design != self.design or quantization != self.quantization:
            raise ValueError(f"the saved layer was built for {design.name} with {quantization}, "
                             f"this one for {self.design.name} with {self.quantization}: "
                             f"convert the model for that design before loading")
        if state["faults"] is None:
            self.faults = None
        else:
            from .faults import WeightFaults

            self.faults = WeightFaults(**state["faults"])

    def _describe(self):
        q = self.quantization
        act = "signed" if q.act_signed else "unsigned"
        text = (f"design={self.design.name}, weight_bits={q.weight_bits}, "
                f"act_bits={q.act_bits} {act}, act_scale={float(self.act_scale):.4g}")
        if self.faults is not None:
            text += f", faults={self.faults.name}"
        return text


class _AnalogWeights:
    """An analog layer's weights with ``matmul(x)``, as :class:`PreparedWeights` has: the
    layer's noise generator advances batch by batch, and a convolution's rows per
    conversion hold whole input channels (``channels * kernel area <= rows``)."""

    def __init__(self, layer, w_int):
        self.layer, self.w_int = layer, w_int
        area = 1
        for size in getattr(layer, "kernel_size", ()):
            area *= size
        rows = layer.design.rows
        self.chunk_rows = rows // area * area if rows >= area else rows

    def matmul(self, x):
        return analog_matmul(x, self.w_int, self.layer.design,
                             act_signed=self.layer.quantization.act_signed,
                             chunk_rows=self.chunk_rows,
                             generator=self.layer._noise_generator(x.device))

    def _sums(self, x):
        """The array's float64 output for the layer's (in-range) activations."""
        return self.matmul(x.to(torch.int64))

    def _conv2d(self, *args):
        """No convolution path: the layer unfolds its patches (conversions follow them)."""
        return None


_DESIGN_TYPES = {"multiplier": MultiplierSpec, "analog": AnalogCiM}


def _design_dict(design):
    from ..macro import MacroSpec

    kind = ("macro" if isinstance(design, MacroSpec)
            else "analog" if isinstance(design, AnalogCiM) else "multiplier")
    return {"type": kind, "spec": design.to_dict()}


def _design_from_dict(data):
    from ..macro import MacroSpec

    types = {**_DESIGN_TYPES, "macro": MacroSpec}
    if not isinstance(data, dict) or data.get("type") not in types:
        raise ValueError(f"saved design must be a table with type 'macro', 'multiplier' or "
                         f"'analog', not {short_repr(data)}")
    return types[data["type"]].from_dict(data["spec"])


class DCiMLinear(DCiMLayer):
    """``nn.Linear`` computed through a design (see the module description).

    Parameters
    ----------
    in_features, out_features : int
    design : MultiplierSpec, MacroSpec, DCiMMacro or AnalogCiM
        A digital design computes bit-exactly; an analog array adds its ADC's rounding and
        noise (seeded: see :meth:`DCiMLayer.reseed`).
    bias : bool
    weight_bits, act_bits : int or None
        Bits of the design's operands to use (default: all).
    act_signed : bool
        Signed activations (symmetric) or unsigned ones (after a ReLU).
    act_scale : float
        The activation scale (from calibration, see :func:`dcim.nn.convert`).
    faults : WeightFaults or None
        Bit errors in the stored weights.

    Members
    -------
    weight, bias : torch.nn.Parameter
        The float weights, as ``nn.Linear``'s.
    """

    def __init__(self, in_features, out_features, design, *, bias=True, weight_bits=None,
                 act_bits=None, act_signed=False, act_scale=1.0, faults=None):
        super().__init__()
        self.in_features = check_int("in_features", in_features, low=1)
        self.out_features = check_int("out_features", out_features, low=1)
        template = nn.Linear(in_features, out_features, bias=check_bool("bias", bias))
        self.weight = template.weight
        self.bias = template.bias
        self._setup(design, weight_bits=weight_bits, act_bits=act_bits, act_signed=act_signed,
                    act_scale=act_scale, faults=faults)

    @classmethod
    def from_float(cls, module, design, *, act_scale, act_signed=False, weight_bits=None,
                   act_bits=None, faults=None):
        """A layer with ``module``'s weights and bias (copied), computing through ``design``."""
        if not isinstance(module, nn.Linear):
            raise TypeError(f"module must be a torch.nn.Linear, not {short_repr(module)}")
        layer = cls(module.in_features, module.out_features, design,
                    bias=module.bias is not None, weight_bits=weight_bits, act_bits=act_bits,
                    act_signed=act_signed, act_scale=act_scale, faults=faults)
        return _copy_parameters(layer.to(device=module.weight.device), module)

    def to_float(self):
        """The ``nn.Linear`` with this layer's float weights and bias (copied)."""
        module = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None,
                           device=self.weight.device, dtype=self.weight.dtype)
        return _copy_parameters(module, self)

    def _weight_matrices(self, weight):
        return [weight.t()]

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"input must have {self.in_features} features in its last "
                             f"dimension, not shape {tuple(x.shape)!r}")
        x_q = self.quantize_input(x)
        flat = x_q.reshape(-1, self.in_features)
        acc = self._product(flat, 0)
        return self._rescale(acc, 1).reshape(*x.shape[:-1], self.out_features)

    def operands(self, x):
        """The integer operands of the products this input makes: ``[(x_int, w_int)]``, one
        pair per group, ``x_int`` of shape (M, K) and ``w_int`` (K, N), both int64."""
        x_q = self.quantize_input(x.detach()).reshape(-1, self.in_features)
        return [(x_q.to(torch.int64), self._prepared_weights()[0].t())]

    def macs(self, x):
        """Multiply-accumulates of one forward pass of ``x`` (all its samples)."""
        return x.numel() // self.in_features * self.in_features * self.out_features

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}, {self._describe()}")


def _pair(label, value):
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"{label} must be an int or a pair of ints, not {short_repr(value)}")
    return tuple(value)


class DCiMConv2d(DCiMLayer):
    """``nn.Conv2d`` computed through a design (see the module description).

    Takes ``nn.Conv2d``'s ``stride``, ``padding`` (numbers, ``"valid"`` or ``"same"``),
    ``dilation``, ``groups`` and ``bias``, with zero padding (the padded zeros are zero
    activations, as the hardware sees them). Each group's patches are one product through the
    design: ``K = in_channels / groups * kernel area``, the channels outermost.

    Other parameters are :class:`DCiMLinear`'s.
    """

    def __init__(self, in_channels, out_channels, kernel_size, design, *, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", weight_bits=None,
                 act_bits=None, act_signed=False, act_scale=1.0, faults=None):
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"padding_mode must be 'zeros', not {short_repr(padding_mode)}")
        template = nn.Conv2d(check_int("in_channels", in_channels, low=1),
                             check_int("out_channels", out_channels, low=1),
                             _pair("kernel_size", kernel_size), stride=_pair("stride", stride),
                             padding=padding if isinstance(padding, str)
                             else _pair("padding", padding),
                             dilation=_pair("dilation", dilation),
                             groups=check_int("groups", groups, low=1),
                             bias=check_bool("bias", bias))
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                     "dilation", "groups"):
            setattr(self, name, getattr(template, name))
        self.weight = template.weight
        self.bias = template.bias
        self._setup(design, weight_bits=weight_bits, act_bits=act_bits, act_signed=act_signed,
                    act_scale=act_scale, faults=faults)

    @classmethod
    def from_float(cls, module, design, *, act_scale, act_signed=False, weight_bits=None,
                   act_bits=None, faults=None):
        """A layer with ``module``'s weights and bias (copied), computing through ``design``."""
        if not isinstance(module, nn.Conv2d):
            raise TypeError(f"module must be a torch.nn.Conv2d, not {short_repr(module)}")
        layer = cls(module.in_channels, module.out_channels, module.kernel_size, design,
                    stride=module.stride, padding=module.padding, dilation=module.dilation,
                    groups=module.groups, bias=module.bias is not None,
                    padding_mode=module.padding_mode, weight_bits=weight_bits,
                    act_bits=act_bits, act_signed=act_signed, act_scale=act_scale,
                    faults=faults)
        return _copy_parameters(layer.to(device=module.weight.device), module)

    def to_float(self):
        """The ``nn.Conv2d`` with this layer's float weights and bias (copied)."""
        module = nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size,
                           stride=self.stride, padding=self.padding, dilation=self.dilation,
                           groups=self.groups, bias=self.bias is not None,
                           device=self.weight.device, dtype=self.weight.dtype)
        return _copy_parameters(module, self)

    def _weight_matrices(self, weight):
        """Per group, the (K, N) matrix of the unfolded kernel."""
        per_group = self.out_channels // self.groups
        return [weight[g * per_group:(g + 1) * per_group].reshape(per_group, -1).t()
                for g in range(self.groups)]

    def _padding_amounts(self):
        """``(left, right, top, bottom)`` zero padding, as ``functional.pad`` takes it."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            amounts = []
            for size, dilation in zip(reversed(self.kernel_size), reversed(self.dilation),
                                      strict=True):
                total = dilation * (size - 1)
                amounts += [total // 2, total - total // 2]
            return tuple(amounts)
        top, left = self.padding
        return (left, left, top, top)

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"input must have shape (batch, {self.in_channels}, height, "
                             f"width), not {tuple(x.shape)!r}")
        x_q = self.quantize_input(x)
        pads = self._padding_amounts()
        height = (x_q.shape[2] + pads[2] + pads[3] - self.dilation[0]
                  * (self.kernel_size[0] - 1) - 1) // self.stride[0] + 1
        width = (x_q.shape[3] + pads[0] + pads[1] - self.dilation[1]
                 * (self.kernel_size[1] - 1) - 1) // self.stride[1] + 1
        if height < 1 or width < 1:
            raise ValueError(f"input of shape {tuple(x.shape)!r} is smaller than the kernel "
                             f"{self.kernel_size} (dilation {self.dilation})")
        if not (self.training and torch.is_grad_enabled()):
            with torch.no_grad():
                # As _product: the integer sums carry no gradient outside training.
                acc = self._convolved(x_q, pads)
            if acc is not None:
                # Laid out as the input is, as nn.Conv2d's output is.
                layout = (torch.channels_last if _channels_last(x_q)
                          else torch.contiguous_format)
                return self._rescale(_exact_as(acc, x_q.dtype), 1, layout)
        x_q = functional.pad(x_q, pads)
        patches = functional.unfold(x_q, self.kernel_size, dilation=self.dilation,
                                    stride=self.stride)
        batch, k_all, positions = patches.shape
        k = k_all // self.groups
        outs = []
        for g in range(self.groups):
            group = patches[:, g * k:(g + 1) * k].transpose(1, 2).reshape(-1, k)
            outs.append(self._product(group, g).reshape(batch, positions, -1))
        acc = torch.cat(outs, dim=2).transpose(1, 2)
        out = self._rescale(acc, 1)
        return out.reshape(batch, self.out_channels, height, width)

    def operands(self, x):
        """The integer operands of the products this input makes: ``[(x_int, w_int)]``, one
        pair per group, ``x_int`` (the patches, padding zeros included) of shape (M, K) and
        ``w_int`` (K, N), both int64."""
        with torch.no_grad():
            x_q = functional.pad(self.quantize_input(x.detach()), self._padding_amounts())
            patches = functional.unfold(x_q, self.kernel_size, dilation=self.dilation,
                                        stride=self.stride)
        k = patches.shape[1] // self.groups
        weights = self._weight_matrices(self._prepared_weights()[0])
        return [(patches[:, g * k:(g + 1) * k].transpose(1, 2).reshape(-1, k).to(torch.int64),
                 weights[g]) for g in range(self.groups)]

    def macs(self, x):
        """Multiply-accumulates of one forward pass of ``x`` (all its samples)."""
        return sum(int(x_int.shape[0]) * int(w_int.shape[0]) * int(w_int.shape[1])
                   for x_int, w_int in self.operands(x))
    def _convolved(self, x_q, pads):
        """The integer sums of every group straight from the activations, padded by
        ``pads`` (see :meth:`~dcim.nn.matmul.PreparedWeights._conv2d`), or None to unfold
        instead."""
        prepared = self._prepared_weights()[1]
        q = self.quantization
        per_group = self.in_channels // self.groups
        sums = []
        for g, weights in enumerate(prepared):
            group = x_q if self.groups == 1 else x_q[:, g * per_group:(g + 1) * per_group]
            acc = weights._conv2d(group, self.kernel_size, self.stride, self.dilation, pads,
                                  (q.act_min, q.act_max))
            if acc is None:
                return None
            sums.append(acc)
        if len(sums) == 1:
            return sums[0]
        if len({acc.dtype for acc in sums}) > 1:
            sums = [acc.to(torch.int64) for acc in sums]
        return torch.cat(sums, dim=1)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + f", bias={self.bias is not None}, {self._describe()}"
