"""Stimuli for simulating clocked designs at gate level: the macro in streaming operation.

:func:`macro_stimulus` drives a :class:`~dcim.macro.DCiMMacro` netlist through its ports as
a system would: reset, write the weight matrix row by row, then stream one activation vector
per ``interval`` cycles with results always taken. Power is measured over the streaming
cycles once the pipeline is full, so that energy per MAC is that of steady operation. Each of
the (up to 64) lanes of the bit-parallel simulation is an independent copy of the macro with
its own weights and activations.
"""

import numpy as np

from .activity import Stimulus

__all__ = ["macro_stimulus"]


def _bits(values, width):
    """Two's-complement bits of integer ``values`` (any shape), bit 0 first on a new axis."""
    values = np.asarray(values, dtype=np.int64)
    return ((values[..., None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8)


def _field(layout, name):
    field = layout[name]
    return field.offset, field.width


def macro_stimulus(spec, operands="uniform", *, beats=48, lanes=64, seed=0):
    """A :class:`~dcim.flow.activity.Stimulus` that streams activations through a macro.

    Parameters
    ----------
    spec : MacroSpec
    operands : "uniform" or dict
        ``"uniform"``: weights and activations uniformly random over their ranges, different
        in every lane. A dict gives ``"weights"`` (``(rows, cols)``, or ``(lanes, rows,
        cols)``) and ``"activations"`` (``(n, rows)``; vector ``i`` goes to lane
        ``i % lanes``, so ``n`` sets the lanes when smaller than ``lanes``).
    beats : int
        Activation vectors streamed per lane (with uniform operands).
    lanes : int
        Independent copies simulated side by side (1 to 64).
    seed : int

    Returns
    -------
    Stimulus
        Its ``measure`` window covers the streaming cycles after the pipeline has filled.

    Raises
    ------
    ValueError
        For operands of the wrong shape or range.
    """
    if isinstance(lanes, bool) or not isinstance(lanes, int) or not 1 <= lanes <= 64:
        raise ValueError(f"lanes must be an int from 1 to 64, not {lanes!r}")
    rng = np.random.default_rng(seed)
    rows, cols = spec.rows, spec.cols
    weight_low, weight_high = spec.value_range(spec.weight_bits)
    act_low, act_high = spec.value_range(spec.act_bits)
    if isinstance(operands, str):
        if operands != "uniform":
            raise ValueError(f"operands must be 'uniform' or a dict of weights and "
                             f"activations, not {operands!r}")
        weights = rng.integers(weight_low, weight_high + 1, size=(lanes, rows, cols))
        acts = rng.integers(act_low, act_high + 1, size=(lanes, beats, rows))
    elif isinstance(operands, dict):
        weights = np.asarray(operands["weights"])
        acts = np.asarray(operands["activations"])
        if acts.ndim != 2 or acts.shape[1] != rows:
            raise ValueError(f"activations must have shape (n, {rows}), not {acts.shape}")
        lanes = min(lanes, acts.shape[0])
        beats = acts.shape[0] // lanes
        if beats < 2:
            raise ValueError(f"activations must hold at least 2 vectors per lane "
                             f"({2 * lanes}), not {acts.shape[0]}")
        acts = acts[:beats * lanes].reshape(beats, lanes, rows).transpose(1, 0, 2)
        if weights.shape == (rows, cols):
            weights = np.broadcast_to(weights, (lanes, rows, cols))
        elif weights.shape != (lanes, rows, cols):
            raise ValueError(f"weights must have shape ({rows}, {cols}) or ({lanes}, {rows}, "
                             f"{cols}), not {weights.shape}")
        for label, array, low, high in (("weights", weights, weight_low, weight_high),
                                        ("activations", acts, act_low, act_high)):
            if array.min() < low or array.max() > high:
                raise ValueError(f"{label} must lie in [{low}, {high}]")
    else:
        raise TypeError(f"operands must be 'uniform' or a dict, not {operands!r}")

    interval = spec.interval
    load = 1 + rows                     # reset, then one row written per cycle
    stream = beats * interval
    drain = spec.latency + 2
    cycles = load + stream + drain
    write_layout, act_layout = spec.write_layout, spec.act_layout
    write = np.zeros((cycles, lanes, write_layout.size), dtype=np.uint8)
    act = np.zeros((cycles, lanes, act_layout.size), dtype=np.uint8)
    ports = {
        "rst": np.zeros((cycles, lanes, 1), dtype=np.uint8),
        "write__valid": np.zeros((cycles, lanes, 1), dtype=np.uint8),
        "write__payload": write,
        "act__valid": np.zeros((cycles, lanes, 1), dtype=np.uint8),
        "act__payload": act,
        "result__ready": np.ones((cycles, lanes, 1), dtype=np.uint8),
    }
    ports["rst"][0] = 1
    addr_offset, addr_width = _field(write_layout, "addr")
    data_offset, _ = _field(write_layout, "data")
    mask_offset, mask_width = _field(write_layout, "mask")
    for row in range(rows):
        cycle = 1 + row
        ports["write__valid"][cycle] = 1
        write[cycle, :, addr_offset:addr_offset + addr_width] = _bits(row, addr_width)
        data = _bits(weights[:, row, :], spec.weight_bits).reshape(lanes, -1)
        write[cycle, :, data_offset:data_offset + data.shape[1]] = data
        write[cycle, :, mask_offset:mask_offset + mask_width] = 1
    act_offset, _ = _field(act_layout, "data")
    first, _ = _field(act_layout, "first")
    last, _ = _field(act_layout, "last")
    for beat in range(beats):
        # A beat is held for one interval: the macro accepts one vector per interval.
        span = slice(load + beat * interval, load + (beat + 1) * interval)
        ports["act__valid"][span] = 1
        data = _bits(acts[:, beat, :], spec.act_bits).reshape(lanes, -1)
        act[span, :, act_offset:act_offset + data.shape[1]] = data[None]
        act[span, :, first] = 1
        act[span, :, last] = 1
    # Measure once the pipeline is full, until the last beat enters it.
    start = min(load + spec.latency, load + stream - 2)
    return Stimulus(ports=ports, measure=(start, load + stream))
