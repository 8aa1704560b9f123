"""Static noise margins and write margins of bitcells, many Monte Carlo samples per ngspice run.

Each function takes a bitcell, a corner and an array of threshold shifts, one row per sample
and one column per transistor (in the order of ``cell.transistor_names``; a positive shift
makes a transistor weaker), and returns one margin per sample. All samples are independent
copies of the cell in one deck, evaluated in one ngspice run, which is what makes Monte Carlo
cheap: ngspice's start and the models' set-up are paid once.

Static noise margins follow Seevinck, List and Lohstroh (JSSC 1987): the two inverters' voltage
transfer curves, with the storage loop broken, form a butterfly; in coordinates rotated by 45
degrees, the diagonal of the largest square in a lobe is the largest distance between the
curves along the rotated axis, and the SNM is the smaller lobe's square side. A sample whose
butterfly has lost a lobe (the cell is no longer bistable) gets a negative SNM: minus the side
of the smallest square that fits between the curves where the lost lobe was, which reaches
zero as the lobe reappears, so that the margin stays a continuous limit state for yield
estimation.

The write margin is the bitline voltage at which a cell holding ``q = 1`` flips when ``bl`` is
swept down from VDD with ``br`` at VDD and the word line on (a higher margin writes more
easily); a sample that does not flip even at ``bl = 0`` gets ``-inf``. It is found in two
transient runs: a ramp over the whole supply brackets each sample's flip to about 20 mV, then
each sample's own bitline ramps slowly through a window of +-30 mV round its bracket, which
resolves the flip to about a millivolt whatever the deck and its time steps. The same point can
be found by DC runs alone (``method="static"``): under the write bias the butterfly's ``q = 1``
lobe shrinks as ``bl`` falls, and the cell flips where it vanishes; regula falsi on the lobe's
signed size finds that voltage in about a dozen DC runs of a deck of 100 samples. That is a
check on the transient's answer rather than a faster way to it (measured: 43 against 65
samples/s on the 6T, 23 against 52 on the 8T); the slow ramp flips the cell 0.8 to 2.9 mV
after the lobe has gone (1.6 mV on average over 200 samples of 30 mV mismatch).

Large batches run in decks of at most 100 samples (10 for the transient write margin); a deck
on which ngspice fails even with relaxed options is split in halves, so that one awkward
sample costs a few reruns rather than the whole batch, and only a single sample that fails
alone raises.
"""

import numpy as np

from .corners import Corner
from .simulator import SimulationError, run_deck, simulator_identity

__all__ = ["MAX_SHIFT_FRACTION", "WRITE_METHODS", "butterfly_snm", "hold_snm_batch",
           "measurement_settings", "read_snm_batch", "sampler_shift_limit",
           "write_margin_batch"]

MAX_SHIFT_FRACTION = 0.5
"""The batches refuse threshold shifts beyond this fraction of the supply."""
_SAMPLER_SHIFT_FRACTION = 0.45


def sampler_shift_limit(corner):
    """Volts to clip a yield sampler's threshold shifts to at ``corner`` (for
    :func:`~dcim.spice.variation.mismatch_limit_state`'s ``shift_limit``): 0.45 of the supply,
    inside the :data:`MAX_SHIFT_FRACTION` the batches accept. Only samples some 20 sigma out
    (an importance sampler's widening presample) reach it, and their weight is nil."""
    return _SAMPLER_SHIFT_FRACTION * corner.vdd

# DC sweep steps over 0..VDD. ngspice's time is almost all in the sweep's points (each one
# evaluates every transistor of the deck), so the sweep is coarse, 20 mV at 1 V, and the curves
# are refined to _REFINED_STEPS by monotone cubic (PCHIP) interpolation before the SNM is taken:
# within 0.5 mV of a 400-step sweep on nominal and 30-60 mV-shifted 6T cells, where linear
# interpolation of the same 50 points is up to 1.8 mV low; 400 steps take 4-5 times as long.
_SWEEP_STEPS = 50
_REFINED_STEPS = 400
# A tighter Newton tolerance than ngspice's 1e-3: with 20 mV steps, a sample's converged point
# otherwise depends by up to 0.2 mV on the other cells of its deck (which keep iterating after
# it has converged); at 1e-4 a batch equals single runs to a few uV, at no measurable cost.
_SWEEP_OPTIONS = ".options reltol=1e-4"
# Samples per deck. A transient's time steps grow with the number of cells flipping at
# different moments, so its cost per sample grows with the deck: write decks are kept small.
# A DC sweep's Newton iterations at each point are those of its slowest cell, which likewise
# grow with the deck: 400 6T samples took 2.3 s in decks of 50 or 100, 3.3 s in 200, 3.8 s
# in 400 (and decks of 25 were slower again). 80 write samples of 3-sigma mismatch took 10 s
# in decks of 10 and 34 s in decks of 40 (on a loaded machine).
_DECK_SAMPLES = {"_butterfly_deck": 100, "_write_deck": 10, "_static_write_deck": 100}
# The write sweep is a slow transient ramp of bl (VDD in 10 ns): a DC sweep would have to
# follow hundreds of cells flipping at different points, where ngspice's gmin stepping loses
# the stored states. Its time steps (100 of them gave 10 mV each) leave the flip point
# depending by up to 12 mV on the deck and the steps (the other cells' flips change the
# shared time steps), so this first run only brackets each flip, in 50 steps of 20 mV. A
# second run gives every sample its own bitline, dropped quickly to _WRITE_WINDOW above the
# first run's flip and then ramped through twice that in 6 ns: 60 steps of 1 mV, a ramp 10
# times slower than the first, so that the cell's lag is a fraction of a millivolt (3 ns
# gave margins 1.5 mV lower). Past the window the bitline falls on to 0, so a flip outside
# it is still found (coarsely). The margin then moves by about 1 mV between decks and step
# choices, and both runs together cost less than 100 steps of the first alone.
_WRITE_RAMP_START = 0.1e-9
_WRITE_RAMP = 10e-9
_WRITE_STEPS = 50
_WRITE_DROP = 0.2e-9
_WRITE_WINDOW = 0.03
_WRITE_FINE_RAMP = 6e-9
_WRITE_FINE_STEPS = 60
_ROTATED_POINTS = 2001
# The static write margin's root finding on the bitline voltage: Illinois steps until the
# bracket is this narrow (the margin is its midpoint), at most so many DC runs.
_STATIC_WRITE_TOLERANCE = 0.5e-3
_STATIC_WRITE_ITERATIONS = 40


def measurement_settings():
    """The settings the margins depend on beyond the cell and the corner (sweep and ramp steps,
    solver options, samples per deck, the shift clip) and the ngspice build, for the cache keys
    of results built on these batches: a change to any of them gives new keys."""
    return {"simulator": simulator_identity(), "sweep_steps": _SWEEP_STEPS,
            "refined_steps": _REFINED_STEPS, "sweep_options": _SWEEP_OPTIONS,
            "deck_samples": dict(_DECK_SAMPLES), "max_shift_fraction": MAX_SHIFT_FRACTION,
            "sampler_shift_fraction": _SAMPLER_SHIFT_FRACTION,
            "write": (_WRITE_RAMP_START, _WRITE_RAMP, _WRITE_STEPS, _WRITE_DROP, _WRITE_WINDOW,
                      _WRITE_FINE_RAMP, _WRITE_FINE_STEPS),
            "rotated_points": _ROTATED_POINTS,
            "static_write": (_STATIC_WRITE_TOLERANCE, _STATIC_WRITE_ITERATIONS)}


def _check_batch(cell, corner, vt_shifts):
    if not isinstance(corner, Corner):
        raise ValueError(f"corner must be a dcim.spice.Corner, not {corner!r}")
    shifts = np.asarray(vt_shifts, dtype=float)
    count = len(cell.transistors)
    if shifts.ndim != 2 or shifts.shape[1] != count or shifts.shape[0] == 0:
        raise ValueError(f"vt_shifts must be an array of shape (n_samples, {count}), one column "
                         f"per transistor {cell.transistor_names}, not {shifts.shape}")
    largest = MAX_SHIFT_FRACTION * corner.vdd
    if not np.all(np.isfinite(shifts)) or np.max(np.abs(shifts)) > largest:
        raise ValueError(f"vt_shifts must be finite and within +-{largest:g} V, "
                         f"not up to {float(np.max(np.abs(shifts))):g} V")
    return shifts


def _sources(cell, vdd, *, word_line, read_word_line):
    lines = [f"vdd vdd 0 {vdd:g}", f"vwl wl 0 {word_line:g}", f"vbl bl 0 {vdd:g}"]
    if cell.single_ended_read:
        lines += [f"vrwl rwl 0 {read_word_line:g}", f"vrbl rbl 0 {vdd:g}"]
    return lines


def _nodes(cell, **overrides):
    nodes = {"bl": "bl", "br": "bl", "wl": "wl", "vdd": "vdd", "gnd": "0", "rbl": "rbl",
             "rwl": "rwl"}
    nodes.update(overrides)
    return {name: nodes[name] for name in cell.external_nodes}


def _lobes_margin(grid, gap):
    # The lobe where q < qb (u below the metastable point) has curve A above B (gap > 0), the
    # other the opposite, so the metastable point is where the gap falls through zero; at the
    # stable points it rises through zero (or they lie at the ends of the grid, for ideal
    # inverters). A diagonal d is a square's side d / sqrt 2 (applied by the caller).
    falling = np.flatnonzero((gap[:-1] > 0) & (gap[1:] <= 0))
    if falling.size:
        middle = falling[len(falling) // 2]
        return min(gap[:middle + 1].max(), -gap[middle + 1:].min())
    # One state left: minus the smallest distance between the curves on the side where the
    # lost state's lobe was, which shrinks to zero as the lobe is about to appear.
    rising = np.flatnonzero((gap[:-1] <= 0) & (gap[1:] > 0))
    survivor = grid[rising[0]] if rising.size else 0.0
    lost = grid >= 0 if survivor < 0 else grid <= 0
    return -np.abs(gap[lost]).min() if lost.any() else 0.0


def _one_lobe(grid, gap):
    """The signed size (a diagonal) of the lobe of the ``q = 1`` state (``u > 0``, where curve A
    lies below B): its largest diagonal while the state exists, else minus the smallest
    distance between the curves where it was, which reaches zero as the lobe reappears."""
    falling = np.flatnonzero((gap[:-1] > 0) & (gap[1:] <= 0))
    if falling.size:
        return -gap[falling[len(falling) // 2] + 1:].min()
    # One state left: if it is q = 1, the gap on u >= 0 dips below zero by the lobe's size;
    # if it is q = 0, the gap there stays positive and its least value is how far the lobe
    # is from reappearing.
    return -gap[grid >= 0].min() if (grid >= 0).any() else -gap[-1]


def _rotated_gaps(sweep, q_curve, qb_curve):
    """For each sample, the butterfly in rotated coordinates: ``(grid, gap)`` with the gap the
    distance along w from curve B up to curve A, as a function of u (see butterfly_snm)."""
    root2 = np.sqrt(2.0)
    for q_of_in, qb_of_in in zip(q_curve, qb_curve, strict=True):
        # In the (q, qb) plane, curve A is (in, qb(in)) and curve B is (q(in), in). With
        # u = (q - qb) / sqrt 2 and w = (q + qb) / sqrt 2, both are single-valued in u
        # (each inverter's curve falls), so their distance along w is a function of u.
        u_a = (sweep - qb_of_in) / root2
        w_a = (sweep + qb_of_in) / root2
        u_b = (q_of_in - sweep)[::-1] / root2
        w_b = (q_of_in + sweep)[::-1] / root2
        low, high = max(u_a[0], u_b[0]), min(u_a[-1], u_b[-1])
        grid = np.linspace(low, high, _ROTATED_POINTS)
        yield grid, np.interp(grid, u_a, w_a) - np.interp(grid, u_b, w_b)


def butterfly_snm(sweep, q_curve, qb_curve):
    """Return the static noise margin of butterfly curves, one per sample.

    Parameters
    ----------
    sweep : numpy.ndarray, shape (n_points,)
        The common input of the two inverters (increasing).
    q_curve : numpy.ndarray, shape (n_samples, n_points)
        ``q`` as a function of the input of the inverter that drives it.
    qb_curve : numpy.ndarray, shape (n_samples, n_points)
        ``qb`` as a function of the input of the other inverter.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)
        The side of the largest square in the smaller lobe, in volts; negative when a lobe
        is missing (see the module's description).
    """
    sweep = np.asarray(sweep, dtype=float)
    gaps = _rotated_gaps(sweep, np.atleast_2d(q_curve), np.atleast_2d(qb_curve))
    return np.array([_lobes_margin(grid, gap) for grid, gap in gaps]) / np.sqrt(2.0)


def _butterfly_deck(cell, corner, shifts, *, read):
    vdd = corner.vdd
    sources = _sources(cell, vdd, word_line=vdd if read and not cell.single_ended_read else 0.0,
                       read_word_line=vdd if read else 0.0)
    return butterfly_snm(*_butterfly_curves(cell, corner, shifts, sources,
                                            "read" if read else "hold"))


def _butterfly_curves(cell, corner, shifts, sources, name, bitlines=None):
    """One DC run of the samples' broken storage loops under ``sources``: the refined
    ``(sweep, q_curve, qb_curve)`` of :func:`butterfly_snm`. With ``bitlines``, each sample's
    ``bl`` is its own source at ``bitlines[n]`` volts (``br`` stays on the sources' ``bl``)."""
    vdd = corner.vdd
    lines = [f"* {cell.name} butterfly, {name}, {corner.name}", *corner.deck_header(),
             *sources, "vin in 0 0"]
    saved = []
    for sample, row in enumerate(shifts):
        prefix = f"c{sample}_"
        nodes = _nodes(cell)
        if bitlines is not None:
            lines.append(f"vwbl{sample} {prefix}bl 0 {bitlines[sample]:.9g}")
            nodes = _nodes(cell, bl=f"{prefix}bl")
        lines += cell.netlist(prefix, nodes, row, gate_nodes={"q": "in", "qb": "in"})
        saved.append(f".save v({prefix}q) v({prefix}qb)")
    lines += [*saved, _SWEEP_OPTIONS, f".dc vin 0 {vdd:g} {vdd / _SWEEP_STEPS:g}", ".end"]
    vectors = run_deck("\n".join(lines) + "\n", name=f"{cell.kind}-{name}")
    sweep = vectors["v-sweep"]
    q_curve = np.stack([vectors[f"c{sample}_q"] for sample in range(len(shifts))])
    qb_curve = np.stack([vectors[f"c{sample}_qb"] for sample in range(len(shifts))])
    return _refined(sweep, q_curve, qb_curve)


def _refined(sweep, *curves):
    # PCHIP rather than a cubic spline: it keeps each transfer curve monotone (no overshoot
    # beside the steep transition, which would bend the butterfly's lobes), and scipy comes
    # with PySpice, which the simulations need anyway.
    from scipy.interpolate import PchipInterpolator

    fine = np.linspace(sweep[0], sweep[-1], _REFINED_STEPS + 1)
    return (fine, *(PchipInterpolator(sweep, curve, axis=1)(fine) for curve in curves))


def hold_snm_batch(cell, corner, vt_shifts):
    """Return the hold static noise margin (word lines off) of each sample, in volts.

    Parameters
    ----------
    cell : Bitcell
    corner : Corner
    vt_shifts : array-like, shape (n_samples, len(cell.transistors))
        Threshold shifts in volts, columns in the order of ``cell.transistor_names``;
        positive = weaker. ``numpy.zeros((1, n))`` gives the nominal cell.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)

    Raises
    ------
    ValueError
        If ``corner`` is not a :class:`Corner`, or ``vt_shifts`` has the wrong shape or holds
        values that are not finite or beyond half the supply.
    SimulationError
        If ngspice fails on the deck.
    """
    return _in_decks(_butterfly_deck, cell, corner, _check_batch(cell, corner, vt_shifts),
                     read=False)


def read_snm_batch(cell, corner, vt_shifts):
    """Return the read static noise margin of each sample, in volts.

    The 6T cell is read with its word line on and both bitlines held at VDD (the start of a
    read, the worst case for disturb). The 8T cell's read port only loads the storage nodes
    with a gate, so its read SNM equals its hold SNM: the netlist shows it rather than assumes
    it. Parameters, returns and errors as :func:`hold_snm_batch`.
    """
    return _in_decks(_butterfly_deck, cell, corner, _check_batch(cell, corner, vt_shifts),
                     read=True)


WRITE_METHODS = ("transient", "static")
"""The ways :func:`write_margin_batch` finds the flip point."""


def write_margin_batch(cell, corner, vt_shifts, *, method="transient"):
    """Return the write margin of each sample: the ``bl`` voltage at which the cell flips.

    ``method="transient"``: every copy starts with ``q = 1`` and ``bl`` ramps down from VDD in
    10 ns; a second run ramps each copy's own bitline through +-30 mV round the first run's
    flip in 6 ns, which resolves the flip to about a millivolt (see the module's description).

    ``method="static"``: the same flip point found by DC runs alone, in decks of 100. Under
    the write bias (word line on, ``br`` at VDD, ``bl`` at a voltage v; the 8T's read port
    off) the butterfly's ``q = 1`` lobe shrinks as v falls, and the cell flips where the lobe
    vanishes: the margin is the v at which the lobe's signed size (as in the SNM: negative
    once it is gone) crosses zero, found per sample by Illinois regula falsi over [0, VDD] to
    within 0.5 mV. A slow ramp is quasi-static, so both methods find nearly the same point
    (the ramp's flip lags by 1 to 3 mV); the DC method is the slower (see the module's text),
    a check on the transient that needs no time steps.

    Parameters, returns and errors as :func:`hold_snm_batch`; ``-inf`` for a cell that does
    not flip even at ``bl = 0``; ``method`` must be one of :data:`WRITE_METHODS`.
    """
    if method not in WRITE_METHODS:
        raise ValueError(f"method must be one of {WRITE_METHODS}, not {method!r}")
    deck = _write_deck if method == "transient" else _static_write_deck
    return _in_decks(deck, cell, corner, _check_batch(cell, corner, vt_shifts))


def _write_lobes(cell, corner, shifts, bitlines):
    """The signed ``q = 1`` lobe (square side, volts) of each sample's write-biased butterfly
    with its own ``bl`` at ``bitlines[n]`` volts."""
    if len(bitlines) != len(shifts):
        raise ValueError(f"bitlines must hold one voltage per sample ({len(shifts)}), "
                         f"not {len(bitlines)}")
    sources = _sources(cell, corner.vdd, word_line=corner.vdd, read_word_line=0.0)
    gaps = _rotated_gaps(*_butterfly_curves(cell, corner, shifts, sources, "static-write",
                                            bitlines))
    return np.array([_one_lobe(grid, gap) for grid, gap in gaps]) / np.sqrt(2.0)


def _static_write_deck(cell, corner, shifts):
    vdd = corner.vdd
    count = len(shifts)
    low, high = np.zeros(count), np.full(count, vdd)
    lobe_low = _write_lobes(cell, corner, shifts, low)
    lobe_high = _write_lobes(cell, corner, shifts, high)
    # Still holding 1 at bl = 0: not writable (-inf). Lost at bl = VDD already: the cell
    # flips as soon as the bitline moves, a margin of VDD.
    margins = np.where(lobe_high <= 0, vdd, -np.inf)
    writable = (lobe_low <= 0) & (lobe_high > 0)
    active = writable.copy()
    last_side = np.zeros(count)
    for _ in range(_STATIC_WRITE_ITERATIONS):
        active &= high - low > _STATIC_WRITE_TOLERANCE
        if not active.any():
            break
        index = np.flatnonzero(active)
        # Illinois: the secant of the bracket's ends, with an end's value halved when the
        # other end moved twice running, so that the bracket closes from both sides.
        step = lobe_high[index] * (high[index] - low[index]) \
            / (lobe_high[index] - lobe_low[index])
        guess = np.clip(high[index] - step, low[index], high[index])
        lobe = _write_lobes(cell, corner, shifts[index], guess)
        holds = lobe > 0
        for position, sample in enumerate(index):
            if holds[position]:
                high[sample], lobe_high[sample] = guess[position], lobe[position]
                if last_side[sample] > 0:
                    lobe_low[sample] /= 2
                last_side[sample] = 1
            else:
                low[sample], lobe_low[sample] = guess[position], lobe[position]
                if last_side[sample] < 0:
                    lobe_high[sample] /= 2
                last_side[sample] = -1
    # The bracket's midpoint: within half the tolerance of the flip point (40 Illinois steps
    # are far more than a smooth lobe needs to get there).
    margins[writable] = (low[writable] + high[writable]) / 2
    return margins


def _in_decks(deck_function, cell, corner, shifts, **options):
    most = _DECK_SAMPLES[deck_function.__name__]
    if len(shifts) > most:
        return np.concatenate([_in_decks(deck_function, cell, corner, part, **options)
                               for part in np.array_split(shifts, -(-len(shifts) // most))])
    try:
        return deck_function(cell, corner, shifts, **options)
    except SimulationError:
        if len(shifts) == 1:
            raise
        half = len(shifts) // 2
        return np.concatenate([_in_decks(deck_function, cell, corner, part, **options)
                               for part in (shifts[:half], shifts[half:])])


def _write_deck(cell, corner, shifts):
    coarse = _write_run(cell, corner, shifts, windows=None)
    flipped = np.isfinite(coarse)
    margins = coarse.copy()
    if flipped.any():
        margins[flipped] = _write_run(cell, corner, shifts[flipped], windows=coarse[flipped])
    return margins


def _write_run(cell, corner, shifts, *, windows):
    """One write transient: the shared full ramp (``windows`` None), or each sample's own slow
    ramp round ``windows[n]`` volts (see _WRITE_WINDOW)."""
    vdd = corner.vdd
    ramp_end = _WRITE_RAMP_START + _WRITE_RAMP
    lines = [f"* {cell.name} write margin, {corner.name}", *corner.deck_header(),
             f"vdd vdd 0 {vdd:g}", f"vwl wl 0 {vdd:g}", f"vbr br 0 {vdd:g}"]
    if windows is None:
        lines.append(f"vbl bl 0 pwl(0 {vdd:g} {_WRITE_RAMP_START:g} {vdd:g} {ramp_end:g} 0)")
        end = ramp_end
    else:
        slow_start = _WRITE_RAMP_START + _WRITE_DROP
        slow_end = slow_start + _WRITE_FINE_RAMP
        end = slow_end + _WRITE_DROP
    if cell.single_ended_read:
        lines += ["vrwl rwl 0 0", f"vrbl rbl 0 {vdd:g}"]
    saved = []
    for sample, row in enumerate(shifts):
        prefix = f"c{sample}_"
        bitline = "bl"
        if windows is not None:
            bitline = f"{prefix}bl"
            high = min(vdd, windows[sample] + _WRITE_WINDOW)
            low = max(0.0, windows[sample] - _WRITE_WINDOW)
            lines.append(f"vbl{sample} {bitline} 0 pwl(0 {vdd:g} {_WRITE_RAMP_START:g} {vdd:g} "
                         f"{slow_start:g} {high:.6g} {slow_end:g} {low:.6g} {end:g} 0)")
            saved.append(f".save v({bitline})")
        lines += cell.netlist(prefix, _nodes(cell, br="br", bl=bitline), row)
        lines.append(f".ic v({prefix}q)={vdd:g} v({prefix}qb)=0")
        saved.append(f".save v({prefix}q) v({prefix}qb)")
    if windows is None:
        saved.append(".save v(bl)")
    step = _WRITE_RAMP / _WRITE_STEPS if windows is None else _WRITE_FINE_RAMP / _WRITE_FINE_STEPS
    lines += [*saved, f".tran {step:g} {end:g} uic", ".end"]
    vectors = run_deck("\n".join(lines) + "\n", name=f"{cell.kind}-write")
    margins = np.full(len(shifts), -np.inf)
    for sample in range(len(shifts)):
        bitline = vectors["bl" if windows is None else f"c{sample}_bl"]
        difference = vectors[f"c{sample}_q"] - vectors[f"c{sample}_qb"]
        flipped = np.flatnonzero(difference <= 0)
        if flipped.size:
            # Linear interpolation between the last point holding 1 and the first flipped one.
            after = flipped[0]
            if after == 0:
                raise RuntimeError(f"sample {sample} of {cell.name} did not start from q = 1 "
                                   f"at {corner.name}: ngspice ignored the initial condition")
            before = after - 1
            fraction = difference[before] / (difference[before] - difference[after])
            margins[sample] = bitline[before] + fraction * (bitline[after] - bitline[before])
    return margins
