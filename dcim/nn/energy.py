"""Per-layer figures of a design: the energy of a layer's MACs and the error of its products.

A network layer is an integer matrix product ``out[m, n] = sum_k p(w[k, n], x[m, k])`` (see
:func:`~dcim.nn.approx_matmul`: the weight is operand ``a``, the activation operand ``b``).
Its own operands, not uniformly random ones, decide both what the design errs and what it
costs, so both figures are measured on them:

- :func:`operand_metrics` gives the design's error metrics under the layer's operand
  distribution: the exact histograms of all its weights and of all its activations, taken as
  independent (:class:`~dcim.arith.OperandDistribution`). :func:`uniform_metrics` is the
  same figure for uniformly random operands, to set beside it.
- :func:`energy_per_mac` synthesizes the design, simulates its netlist on operands drawn
  from the layer and prices every transition with the Liberty data, through
  :func:`dcim.flow.ppa` (each step cached by content, so a second call runs no tool).
  :func:`inference_energy` adds the layers of a network up.

Where the operands come from:

- **A multiplier** sees the product pairs ``(w[k, n], x[m, k])``: :func:`layer_operand_sample`
  draws them uniformly over ``(m, k, n)``, one pair per simulated cycle. Consecutive pairs
  are independent, as in the flow's uniform figure, so the two compare directly; an array
  that holds a weight still for several products would toggle its ``a`` inputs less. The
  figure is the energy of one multiply: the accumulation of a multiplier-based array is
  not included (the flow measures no accumulator on its own).
- **A macro** is driven as it runs a layer (:func:`layer_macro_operands`): the weight
  matrix is cut into tiles of ``rows x cols`` (the last ones padded with zeros, as the
  hardware holds them), each simulated copy of the macro holds one tile drawn uniformly and
  streams a run of consecutive activation vectors from a random start, the rows of ``x``
  that meet that tile. The figure includes the adder tree, the accumulator, the pipeline
  and the weight array's clocking, and is per MAC *of the layer*: the macro's energy per
  MAC slot times ``ops_per_mac``, which counts the padded slots and the sign passes below.

Unsigned designs and signed values: as :func:`~dcim.nn.approx_matmul` computes them. A
multiplier runs sign-magnitude, so the magnitudes go through it (the sign is applied
outside, and not priced). An unsigned macro runs the positive and negative parts of the
weights and of the activations as separate passes and subtracts the mixed ones; only the
parts that occur are run (activations after a ReLU have no negative part), so a layer costs
one, two or four passes. The error metrics are then those of the magnitudes' products: ER,
MED, NMED, MAE%, MRED, WCE, WCRE and MSE equal those of the signed products, and the bias is
that of the magnitudes (before the sign is applied).

A macro's error metrics are those of its multiplier (``spec.mult``): the error of its
products. An approximate adder tree errs on sums, not on products, and is not in them;
measure it at the layer's output. A bit-serial macro's 1-bit products are exact, so its
figures are those of the exact multiplier of its width: zero error.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..arith.metrics import OperandDistribution
from ..arith.multiplier import MultiplierSpec
from ..checks import check_int, check_integer_range, short_repr
from ..flow import macro_stimulus, ppa
from ..macro import MacroSpec
from .operands import as_int64, design_of

__all__ = ["MAX_SAMPLES", "MacEnergy", "MacroOperands", "energy_per_mac", "inference_energy",
           "layer_macro_operands", "layer_operand_sample", "operand_metrics",
           "uniform_metrics"]

MAX_SAMPLES = 1 << 20
"""Most product pairs (or activation vectors) one energy figure simulates."""

_MAX_LANES = 64            # independent macro copies in one bit-parallel simulation
_MAX_DISTRIBUTION_WIDTH = 16  # widest operands an OperandDistribution holds


# -- the layer's operands -------------------------------------------------------------------

def _ranges(spec):
    """``(weight range, activation range)`` of a design, inclusive."""
    if isinstance(spec, MultiplierSpec):
        return spec.operand_range, spec.operand_range
    return spec.value_range(spec.weight_bits), spec.value_range(spec.act_bits)


def _layer(design, weights, activations):
    """The checked layer: ``(spec, w, x)`` with ``w`` (K, N) and ``x`` (M, K) int64 arrays.

    An unsigned design accepts values down to minus its largest one (sign-magnitude).
    """
    spec = design_of(design, analog=False)
    w = as_int64("weights", weights, "cpu").numpy()
    x = as_int64("activations", activations, "cpu").numpy()
    if w.ndim != 2 or x.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"weights must have shape (K, N) and activations shape (M, K), not "
                         f"{w.shape!r} and {x.shape!r}")
    if 0 in x.shape or w.shape[1] == 0:
        raise ValueError(f"weights and activations must hold at least one product, not "
                         f"shapes {w.shape!r} and {x.shape!r}")
    for label, values, (low, high) in zip(("weights", "activations"), (w, x), _ranges(spec),
                                          strict=True):
        if spec.signed:
            check_integer_range(label, values, low, high, spec.name)
        else:
            check_integer_range(label, values, -high, high, f"{spec.name} in sign-magnitude")
    return spec, w, x


def _samples_and_seed(samples, seed):
    return check_int("samples", samples, 2, MAX_SAMPLES), check_int("seed", seed, 0)


def layer_operand_sample(weights, activations, *, design, samples=4096, seed=0):
    """Product pairs of a layer, drawn as its multipliers see them: ``(w[k, n], x[m, k])``.

    ``(m, k, n)`` is drawn uniformly, ``samples`` times, by ``numpy.random.default_rng(seed)``,
    so that the pairs follow the layer's joint distribution of weight and activation
    (including any dependence through ``k``).

    Parameters
    ----------
    weights : int array or tensor of shape (K, N)
        Operand ``a`` of every product.
    activations : int array or tensor of shape (M, K)
        Operand ``b`` of every product.
    design : MultiplierSpec, MacroSpec or DCiMMacro
        Sets the operand ranges (a macro's ``weight_bits`` and ``act_bits``). An unsigned
        design accepts signed values in sign-magnitude and gets their magnitudes.
    samples : int
        Pairs drawn, 2 to :data:`MAX_SAMPLES`.
    seed : int
        Seed of the draw (non-negative).

    Returns
    -------
    (a, b) : two int64 arrays of ``samples`` values
        Weights and activations, ready for the design's ports.

    Raises
    ------
    TypeError
        If ``design`` is of another type, an array does not hold integers, or ``samples`` or
        ``seed`` is not an int.
    ValueError
        If a shape is not 2-D, ``K`` differs (naming both shapes) or a dimension is empty;
        if a value lies outside the design's range (naming the array and the value); if
        ``samples`` or ``seed`` is out of range.
    """
    spec, w, x = _layer(design, weights, activations)
    samples, seed = _samples_and_seed(samples, seed)
    rng = np.random.default_rng(seed)
    m = rng.integers(0, x.shape[0], size=samples)
    k = rng.integers(0, x.shape[1], size=samples)
    n = rng.integers(0, w.shape[1], size=samples)
    a, b = w[k, n], x[m, k]
    if not spec.signed:
        a, b = np.abs(a), np.abs(b)
    return a.astype(np.int64), b.astype(np.int64)


@dataclass(frozen=True, eq=False)
class MacroOperands:
    """Weights and activations that drive a macro as it runs a layer (see the module).

    Members
    -------
    spec : MacroSpec
    weights : int64 array of shape (lanes, rows, cols)
        The weight tile each simulated copy (lane) of the macro holds.
    activations : int64 array of shape (beats * lanes, rows)
        Vector ``i`` goes to lane ``i % lanes``, as :func:`~dcim.flow.macro_stimulus` reads.
    lanes : int
        Simulated copies: ``tiles * passes``.
    passes : int
        Sign passes per layer MAC: 1, or 2 or 4 for an unsigned macro fed signed values.
        The lanes of one tile run its passes side by side on the same vectors, in the order
        ``(w+, x+), (w+, x-), (w-, x+), (w-, x-)`` of the parts that occur (``w-`` is the
        magnitude of the negative weights); the dot product is the first less the mixed
        ones plus the last.
    vectors : int
        The layer's activation vectors streamed in all (``beats * tiles``).
    utilisation : float
        The layer's MACs over the MAC slots of its padded tiles: ``K * N`` over
        ``ceil(K / rows) * rows * ceil(N / cols) * cols``.
    """

    spec: MacroSpec
    weights: np.ndarray
    activations: np.ndarray
    lanes: int
    passes: int
    vectors: int
    utilisation: float

    @property
    def ops_per_mac(self):
        """Macro MAC slots spent per MAC of the layer: ``passes / utilisation``."""
        return self.passes / self.utilisation

    def stimulus(self):
        """The :class:`~dcim.flow.activity.Stimulus` that streams these operands."""
        return macro_stimulus(self.spec, {"weights": self.weights,
                                          "activations": self.activations},
                              lanes=self.lanes)


def _sign_parts(values, split):
    """``[values]``, or its positive and negative parts (as magnitudes) when ``split``."""
    if not split:
        return [values]
    return [np.maximum(values, 0), np.maximum(-values, 0)]


def layer_macro_operands(design, weights, activations, *, samples=4096, seed=0):
    """Tiles of a layer's weights and runs of its activations, to drive a macro's netlist.

    Each of up to 64 simulated copies of the macro (per sign pass) holds one weight tile
    drawn uniformly from the layer's ``ceil(K / rows) x ceil(N / cols)`` tiles (padded with
    zeros) and streams ``beats`` consecutive activation vectors ``x[m0:m0 + beats]`` (wrapping
    around ``M``) from a uniformly drawn ``m0``, their columns of that tile's rows.

    Parameters
    ----------
    design : MacroSpec or DCiMMacro
    weights : int array or tensor of shape (K, N)
    activations : int array or tensor of shape (M, K)
    samples : int
        Activation vectors to stream in all, 2 to :data:`MAX_SAMPLES`: ``min(64 / passes,
        samples // 2)`` tiles, ``samples // tiles`` vectors each (so a few may be left out).
    seed : int

    Returns
    -------
    MacroOperands

    Raises
    ------
    TypeError, ValueError
        As :func:`layer_operand_sample`; a TypeError also for a multiplier design.
    """
    spec = design_of(design, analog=False)
    if not isinstance(spec, MacroSpec):
        raise TypeError(f"design must be a MacroSpec or DCiMMacro, not {short_repr(design)}")
    spec, w, x = _layer(spec, weights, activations)
    samples, seed = _samples_and_seed(samples, seed)
    rng = np.random.default_rng(seed)
    (m, k), n = x.shape, w.shape[1]
    rows, cols = spec.rows, spec.cols
    tiles_k, tiles_n = -(-k // rows), -(-n // cols)
    w = np.pad(w, ((0, tiles_k * rows - k), (0, tiles_n * cols - n)))
    x = np.pad(x, ((0, 0), (0, tiles_k * rows - k)))
    pairs = [(wp, xp) for wp in _sign_parts(w, not spec.signed and w.min() < 0)
             for xp in _sign_parts(x, not spec.signed and x.min() < 0)]
    passes = len(pairs)
    tiles = min(_MAX_LANES // passes, samples // 2)
    beats = samples // tiles
    lanes = tiles * passes
    tile_k = rng.integers(0, tiles_k, size=tiles)
    tile_n = rng.integers(0, tiles_n, size=tiles)
    start = rng.integers(0, m, size=tiles)
    lane_weights = np.empty((lanes, rows, cols), dtype=np.int64)
    lane_acts = np.empty((beats, lanes, rows), dtype=np.int64)
    for tile in range(tiles):
        ks = slice(tile_k[tile] * rows, (tile_k[tile] + 1) * rows)
        ns = slice(tile_n[tile] * cols, (tile_n[tile] + 1) * cols)
        ms = (start[tile] + np.arange(beats)) % m
        for index, (wp, xp) in enumerate(pairs):
            lane = tile * passes + index
            lane_weights[lane] = wp[ks, ns]
            lane_acts[:, lane] = xp[ms, ks]
    return MacroOperands(spec=spec, weights=lane_weights,
                         activations=lane_acts.reshape(beats * lanes, rows), lanes=lanes,
                         passes=passes, vectors=beats * tiles,
                         utilisation=k * n / (tiles_k * rows * tiles_n * cols))


# -- error metrics --------------------------------------------------------------------------

def _multiplier_of(spec):
    return spec if isinstance(spec, MultiplierSpec) else spec.mult


def _check_distribution_width(mult):
    if mult.width > _MAX_DISTRIBUTION_WIDTH:
        raise ValueError(f"design's multiplier must be at most {_MAX_DISTRIBUTION_WIDTH} bits "
                         f"wide for an operand distribution, not {mult.width!r} ({mult.name})")


def operand_metrics(design, weights, activations):
    """The design's error metrics under a layer's operand distribution.

    The distribution is the exact histogram of all the weights (operand ``a``) and of all
    the activations (operand ``b``), taken as independent; pairs are evaluated exhaustively
    (weighted) where the values that occur give at most 2**24 pairs, which covers every
    design up to 12 bits. See the module description for unsigned designs fed signed values,
    macros and bit-serial macros.

    Parameters
    ----------
    design : MultiplierSpec, MacroSpec or DCiMMacro
        A macro is measured by its multiplier, ``spec.mult``.
    weights : int array or tensor of shape (K, N)
    activations : int array or tensor of shape (M, K)

    Returns
    -------
    ErrorMetrics

    Raises
    ------
    TypeError, ValueError
        As :func:`layer_operand_sample`; a ValueError also for a multiplier wider than 16
        bits (an operand distribution holds one weight per value).
    """
    spec, w, x = _layer(design, weights, activations)
    mult = _multiplier_of(spec)
    _check_distribution_width(mult)
    if not spec.signed:
        w, x = np.abs(w), np.abs(x)
    distribution = OperandDistribution.from_samples(w, x, width=mult.width,
                                                    signed=mult.signed)
    return mult.metrics(distribution=distribution)


def uniform_metrics(design):
    """The design's error metrics for uniformly random operands over its own ranges.

    For a multiplier, :meth:`~dcim.arith.MultiplierSpec.metrics`. For a macro, its
    multiplier's, with the weights uniform over ``weight_bits`` and the activations over
    ``act_bits``, which may be narrower than the multiplier.

    Parameters
    ----------
    design : MultiplierSpec, MacroSpec or DCiMMacro

    Returns
    -------
    ErrorMetrics

    Raises
    ------
    TypeError
        If ``design`` is of another type.
    ValueError
        If a macro's operands are narrower than its multiplier and that is wider than 16
        bits.
    """
    spec = design_of(design, analog=False)
    mult = _multiplier_of(spec)
    full = mult.operand_range
    ranges = _ranges(spec)
    if ranges == (full, full):
        return mult.metrics()
    _check_distribution_width(mult)
    values = np.arange(full[0], full[1] + 1)
    weights_hist, acts_hist = ((values >= low) & (values <= high) for low, high in ranges)
    distribution = OperandDistribution.from_histograms(weights_hist, acts_hist,
                                                       width=mult.width, signed=mult.signed)
    return mult.metrics(distribution=distribution)


# -- energy ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class MacEnergy:
    """Energy per MAC of a design on a layer's operands, from :func:`energy_per_mac`.

    Members
    -------
    design : str
        The design's name.
    energy_per_mac_pj : float
        Picojoules per MAC of the layer: ``energy_per_op_pj * ops_per_mac``.
    clock_ns : float
        The clock period the energy is given at.
    samples : int
        Product pairs simulated (a multiplier), or activation vectors streamed (a macro).
    corner, pdk : str
    seed : int
        Seed of the operand draw.
    energy_per_op_pj : float
        The flow's figure: picojoules per multiply, or per MAC slot of a macro.
    ops_per_mac : float
        Design operations per MAC of the layer: 1 for a multiplier; for a macro, its sign
        passes over the utilisation of its padded tiles.
    cached : bool
        Whether synthesis, timing and power all came from the cache (no tool ran).
    """

    design: str
    energy_per_mac_pj: float
    clock_ns: float
    samples: int
    corner: str
    pdk: str
    seed: int
    energy_per_op_pj: float
    ops_per_mac: float
    cached: bool

    def as_dict(self):
        """All fields as a plain, JSON-ready ``dict``."""
        return asdict(self)


def energy_per_mac(design, weights, activations, *, corner="typ", pdk="nangate45",
                   pdk_root=None, clock_ns=None, samples=4096, seed=0):
    """Energy per MAC of a design on a layer's own operands, by :func:`dcim.flow.ppa`.

    A multiplier is simulated on :func:`layer_operand_sample`'s pairs, one per cycle (the
    energy of the multiply; no accumulation). A macro streams
    :func:`layer_macro_operands`, and its energy per MAC slot is scaled to the layer's MACs
    by ``ops_per_mac``. Synthesis, timing and power are cached by content (the operands'
    hash included): an identical call runs no tool.

    Parameters
    ----------
    design : MultiplierSpec, MacroSpec or DCiMMacro
    weights : int array or tensor of shape (K, N)
    activations : int array or tensor of shape (M, K)
    corner, pdk, pdk_root, clock_ns :
        As for :func:`dcim.flow.ppa`; ``clock_ns=None`` runs the design at its own minimum
        period.
    samples : int
        Product pairs (a multiplier) or activation vectors (a macro), 2 to
        :data:`MAX_SAMPLES`.
    seed : int

    Returns
    -------
    MacEnergy

    Raises
    ------
    TypeError, ValueError
        As :func:`layer_operand_sample`, and for a bad corner, PDK or clock, before any tool
        runs.
    ToolNotFoundError, ToolError, SynthesisError
        If Yosys or OpenSTA is missing or fails.
    TimingViolationWarning
        (A warning.) When ``clock_ns`` is shorter than the design's minimum period.
    """
    spec = design_of(design, analog=False)
    if isinstance(spec, MultiplierSpec):
        a, b = layer_operand_sample(weights, activations, design=spec, samples=samples,
                                    seed=seed)
        operands, used, ops_per_mac = {"a": a, "b": b}, a.size, 1.0
    else:
        driven = layer_macro_operands(spec, weights, activations, samples=samples, seed=seed)
        operands, used, ops_per_mac = driven.stimulus(), driven.vectors, driven.ops_per_mac
    report = ppa(spec, corner, clock_ns, pdk_root, pdk=pdk, operands=operands, metrics=False)
    return MacEnergy(design=report.design,
                     energy_per_mac_pj=report.energy_per_op_pj * ops_per_mac,
                     clock_ns=report.power.clock_ns, samples=int(used),
                     corner=report.synthesis.corner, pdk=report.synthesis.pdk, seed=seed,
                     energy_per_op_pj=report.energy_per_op_pj, ops_per_mac=ops_per_mac,
                     cached=report.synthesis.cached and report.timing.cached
                     and report.power.cached)


def inference_energy(layers):
    """Picojoules per inference: the sum of each layer's MACs times its energy per MAC.

    Parameters
    ----------
    layers : iterable of (macs, MacEnergy)
        A layer's MAC count (``M * K * N`` of its integer matrix product) and its figure.
        Every figure must be of one corner and one PDK: energies of different technologies
        do not add up.

    Returns
    -------
    float
        0.0 for no layers.

    Raises
    ------
    TypeError
        If an entry is not a ``(macs, MacEnergy)`` pair or ``macs`` is not an int.
    ValueError
        If ``macs`` is negative, or the figures' corners or PDKs differ (naming both).
    """
    total = []
    first = None
    for index, entry in enumerate(layers):
        if not isinstance(entry, (tuple, list)) or len(entry) != 2 \
                or not isinstance(entry[1], MacEnergy):
            raise TypeError(f"layers[{index}] must be a (macs, MacEnergy) pair, "
                            f"not {short_repr(entry)}")
        macs = check_int(f"layers[{index}] macs", entry[0], 0)
        energy = entry[1]
        if first is None:
            first = energy
        if (energy.corner, energy.pdk) != (first.corner, first.pdk):
            raise ValueError(f"layers must share one corner and PDK: layers[{index}] is "
                             f"{energy.pdk} {energy.corner}, not {first.pdk} {first.corner}")
        total.append(macs * energy.energy_per_mac_pj)
    return math.fsum(total)
