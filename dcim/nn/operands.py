"""Checks and facts about designs and integer operands, shared by the products of :mod:`dcim.nn`.

:func:`~dcim.nn.approx_matmul`, :func:`~dcim.nn.analog_matmul` and the per-layer figures of
:mod:`dcim.nn.energy` take the same designs and NumPy or torch integer arrays and refuse bad
ones with the same messages, naming the argument and the value.
"""

import numpy as np
import torch

from ..checks import short_repr

__all__ = ["as_int64", "check_range", "check_shapes", "design_of", "ieee_float32_gemm",
           "value_extremes"]


def design_of(design, *, analog=True):
    """The frozen spec behind a design argument: a ``DCiMMacro`` gives its ``spec``.

    Parameters
    ----------
    design : MultiplierSpec, MacroSpec, DCiMMacro or AnalogCiM
    analog : bool
        Whether an :class:`~dcim.nn.AnalogCiM` is accepted; what needs a digital design's
        multiplier or gates passes ``False``.

    Raises
    ------
    TypeError
        For anything else, naming the kinds accepted and the value.
    """
    from ..arith.multiplier import MultiplierSpec
    from ..macro import DCiMMacro, MacroSpec
    from .analog import AnalogCiM

    if isinstance(design, DCiMMacro):
        return design.spec
    kinds = (MultiplierSpec, MacroSpec, AnalogCiM) if analog else (MultiplierSpec, MacroSpec)
    if isinstance(design, kinds):
        return design
    accepted = ("a MultiplierSpec, MacroSpec, DCiMMacro or AnalogCiM" if analog
                else "a MultiplierSpec, MacroSpec or DCiMMacro")
    raise TypeError(f"design must be {accepted}, not {short_repr(design)}")


def as_int64(label, value, device):
    """``value`` as an int64 tensor on ``device``; a TypeError unless it holds integers."""
    if isinstance(value, torch.Tensor):
        if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
            raise TypeError(f"{label} must hold integers, not {value.dtype}")
        return value.to(device=device, dtype=torch.int64)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise ValueError(f"{label} must be an array of integers, not "
                         f"{short_repr(value)}") from None
    if array.dtype.kind not in "iu":
        raise TypeError(f"{label} must hold integers, not {array.dtype}")
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{label} holds {int(array.max())}, beyond int64")
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.int64)).to(device)


def value_extremes(values):
    """``(lowest, highest)`` of a tensor as ints, ``(0, 0)`` when empty: one pass."""
    if values.numel() == 0:
        return 0, 0
    lowest, highest = torch.aminmax(values)
    return int(lowest), int(highest)


def check_range(label, values, extremes, low, high, design):
    if extremes[0] < low or extremes[1] > high:
        outside = (values < low) | (values > high)
        bad = int(values[outside][0])
        raise ValueError(f"{label} must lie in [{low}, {high}] for {design}, not {bad!r}")


def check_shapes(x, w):
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"x must have shape (M, K) and w shape (K, N), not "
                         f"{tuple(x.shape)!r} and {tuple(w.shape)!r}")


def ieee_float32_gemm(device):
    """Whether float32 GEMMs on ``device`` round as IEEE float32 (no TF32 or bfloat16)."""
    backends = {"cpu": torch.backends.mkldnn, "cuda": torch.backends.cuda}
    if device.type not in backends:
        return False
    precision = backends[device.type].matmul.fp32_precision
    if precision == "none":
        precision = torch.backends.fp32_precision
    return precision in ("ieee", "none")
