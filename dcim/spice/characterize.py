"""Characterizing a bitcell at one corner: margins, currents and delays in one typed report.

:func:`characterize` is a recipe in public steps: the cell (a frozen spec) and the corner
build the decks, :func:`dcim.spice.simulator.run_deck` runs them, and the measurements are
collected into a frozen :class:`CellReport`. The static margins come from
:mod:`dcim.spice.margins` with no threshold shifts; the read and write delays are transients of
one accessed cell on bitlines loaded by ``rows - 1`` unaccessed cells and the bitline wire.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np

from . import margins
from .bitcell import Bitcell
from .corners import Corner, resolve_corner
from .margins import hold_snm_batch, read_snm_batch, write_margin_batch
from .simulator import run_deck

__all__ = ["CellReport", "characterize", "measurement_settings"]

# Bitline wire per row: about 0.2 fF/um of minimum-width metal over the 1.345 um of OpenRAM's
# FreePDK45 cell_1rw; a stated estimate, since no extracted bitline is at hand.
WIRE_CAPACITANCE_PER_ROW = 0.27e-15
# The write driver pulling bl low: an NMOS five times the pull-down's width.
WRITE_DRIVER_WIDTH = 1.0e-6
_EDGE = 20e-12
_START = 20e-12


def measurement_settings():
    """The settings a :class:`CellReport` depends on beyond the cell, corner, rows and sense
    swing (the bitline wire, write driver and edges, and the margins' own settings with the
    ngspice build), for the cache keys of results built on :func:`characterize`."""
    return {"wire_capacitance_per_row": WIRE_CAPACITANCE_PER_ROW,
            "write_driver_width": WRITE_DRIVER_WIDTH, "edge": _EDGE, "start": _START,
            "margins": margins.measurement_settings()}


@dataclass(frozen=True)
class CellReport:
    """What :func:`characterize` measured; SI units (volts, amperes, watts, seconds).

    Members
    -------
    cell : str
        The bitcell's name.
    corner : Corner
    rows : int
        Cells on each bitline, the accessed one included.
    hold_snm, read_snm : float
        Static noise margins, word line off and on (the 8T's read port leaves it at hold).
    write_margin : float
        The ``bl`` voltage at which the cell flips (see :mod:`dcim.spice.margins`).
    read_current : float
        Current the accessed cell sinks from the (read) bitline held at VDD.
    leakage_current, leakage_power : float
        Current drawn from the supply and bitlines (all at VDD) by a cell in hold, and its
        power.
    read_delay : float
        From the word line's 50 % point until the bitlines differ by ``sense_swing`` (the 6T's
        differential pair) or the read bitline has fallen by it (the 8T's single-ended port).
    write_delay : float
        From the word line's 50 % point, with the write driver switching on at the same time,
        until ``q`` and ``qb`` cross.
    sense_swing : float
    """

    cell: str
    corner: Corner
    rows: int
    hold_snm: float
    read_snm: float
    write_margin: float
    read_current: float
    leakage_current: float
    leakage_power: float
    read_delay: float
    write_delay: float
    sense_swing: float

    def as_dict(self):
        """Return the report as plain data (the corner as its process, vdd and temp_c)."""
        return asdict(self)


def _static_currents(cell, corner):
    # Two copies in one operating point: one read (word line on, bitlines at VDD) storing
    # q = 0, one in hold; each has its own sources, so their currents are read apart.
    vdd = corner.vdd
    read_nodes = {"bl": "blr", "br": "brr", "wl": "vdd" if not cell.single_ended_read else "0",
                  "rbl": "rblr", "rwl": "vdd", "vdd": "vdd", "gnd": "0"}
    hold_nodes = {"bl": "blh", "br": "brh", "wl": "0", "rbl": "rblh", "rwl": "0",
                  "vdd": "vddh", "gnd": "0"}
    pick = cell.external_nodes
    lines = [f"* {cell.name} read current and leakage, {corner.name}", *corner.deck_header(),
             f"vdd vdd 0 {vdd:g}", f"vddh vddh 0 {vdd:g}"]
    for node in ("blr", "brr", "rblr", "blh", "brh", "rblh"):
        lines.append(f"v{node} {node} 0 {vdd:g}")
    lines += cell.netlist("r_", {name: read_nodes[name] for name in pick})
    lines += cell.netlist("h_", {name: hold_nodes[name] for name in pick})
    lines += [f".nodeset v(r_q)=0 v(r_qb)={vdd:g} v(h_q)=0 v(h_qb)={vdd:g}", ".op", ".end"]
    vectors = run_deck("\n".join(lines) + "\n", name=f"{cell.kind}-currents")
    if not vectors["r_q"][0] < vdd / 2 < vectors["r_qb"][0]:
        raise RuntimeError(f"{cell.name} lost its state while read at {corner.name}")
    # A source's branch current flows into its positive terminal: drawn current is its negation.
    read_source = "vrblr" if cell.single_ended_read else "vblr"
    read_current = -vectors[f"{read_source}#branch"][0]
    hold_sources = ["vddh", "vblh", "vbrh"] + (["vrblh"] if cell.single_ended_read else [])
    leakage = -sum(vectors[f"{source}#branch"][0] for source in hold_sources)
    return read_current, leakage


def _crossing_time(time, signal, level):
    above = np.flatnonzero(signal >= level)
    if not above.size or above[0] == 0:
        return math.nan
    after = above[0]
    before = after - 1
    fraction = (level - signal[before]) / (signal[after] - signal[before])
    return time[before] + fraction * (time[after] - time[before])


def _bitline_deck(cell, corner, rows, title, *, word_line, read_word_line, accessed_q,
                  bystander_q, extra):
    """The accessed cell c0 and rows - 1 bystanders on bitlines bl, br (and rbl)."""
    vdd = corner.vdd
    pulse = f"pulse(0 {vdd:g} {_START:g} {_EDGE:g} {_EDGE:g} 1 2)"
    lines = [f"* {cell.name} {title}, {rows} rows, {corner.name}", *corner.deck_header(),
             f"vdd vdd 0 {vdd:g}", f"vwl wl 0 {pulse if word_line else 0}",
             f"vrwl rwl 0 {pulse if read_word_line else 0}", *extra]
    wire = WIRE_CAPACITANCE_PER_ROW * rows
    bitlines = ("bl", "br", "rbl") if cell.single_ended_read else ("bl", "br")
    lines += [f"cw_{line} {line} 0 {wire:g}" for line in bitlines]
    initial = []
    for row in range(rows):
        prefix = f"c{row}_"
        nodes = {"bl": "bl", "br": "br", "rbl": "rbl", "vdd": "vdd", "gnd": "0",
                 "wl": "wl" if row == 0 else "0", "rwl": "rwl" if row == 0 else "0"}
        lines += cell.netlist(prefix, {name: nodes[name] for name in cell.external_nodes})
        q = accessed_q if row == 0 else bystander_q
        initial.append(f"v({prefix}q)={q * vdd:g} v({prefix}qb)={(1 - q) * vdd:g}")
    lines += [f".ic {entry}" for entry in initial]
    return lines


def _read_delay(cell, corner, rows, sense_swing):
    vdd = corner.vdd
    single = cell.single_ended_read
    # The accessed cell stores q = 0, which discharges bl (6T) or, through qb, rbl (8T). The
    # bystanders leak against it: opposite data on the 6T's pair, read drivers on for the 8T.
    lines = _bitline_deck(cell, corner, rows, "read delay", word_line=not single,
                          read_word_line=single, accessed_q=0, bystander_q=0 if single else 1,
                          extra=[])
    lines.append(".ic " + " ".join(f"v({line})={vdd:g}" for line in ("bl", "br", "rbl")
                                   if single or line != "rbl"))
    stop = _START + 0.2e-9 + rows * 40e-12
    lines += [".save v(bl) v(br) v(rbl) v(wl) v(rwl)" if single else ".save v(bl) v(br) v(wl)",
              f".tran {stop / 400:g} {stop:g}", ".end"]
    vectors = run_deck("\n".join(lines) + "\n", name=f"{cell.kind}-read-delay")
    time = vectors["time"]
    start = _START + _EDGE / 2
    swing = vdd - vectors["rbl"] if single else vectors["br"] - vectors["bl"]
    delay = _crossing_time(time, swing, sense_swing) - start
    if not delay > 0:
        raise RuntimeError(f"{cell.name}'s bitline did not swing {sense_swing:g} V within "
                           f"{stop * 1e9:.2f} ns at {corner.name} with {rows} rows")
    return delay


def _write_delay(cell, corner, rows):
    vdd = corner.vdd
    pulse = f"pulse(0 {vdd:g} {_START:g} {_EDGE:g} {_EDGE:g} 1 2)"
    driver = [f"vwe we 0 {pulse}", f"mdrv bl we 0 0 NMOS_VTG w={WRITE_DRIVER_WIDTH:g} l=50n",
              f"vbr br 0 {vdd:g}", f"vrbl rbl 0 {vdd:g}"]
    lines = _bitline_deck(cell, corner, rows, "write delay", word_line=True,
                          read_word_line=False, accessed_q=1, bystander_q=1, extra=driver)
    lines.append(f".ic v(bl)={vdd:g}")
    stop = _START + 0.3e-9 + rows * 20e-12
    lines += [".save v(c0_q) v(c0_qb) v(bl)", f".tran {stop / 400:g} {stop:g}", ".end"]
    vectors = run_deck("\n".join(lines) + "\n", name=f"{cell.kind}-write-delay")
    flip = _crossing_time(vectors["time"], vectors["c0_qb"] - vectors["c0_q"], 0.0)
    delay = flip - (_START + _EDGE / 2)
    if not delay > 0:
        raise RuntimeError(f"{cell.name} was not written within {stop * 1e9:.2f} ns at "
                           f"{corner.name} with {rows} rows")
    return delay


def characterize(cell, corner="TT", *, vdd=None, temp_c=None, rows=64, sense_swing=0.1):
    """Characterize a bitcell at one corner.

    Parameters
    ----------
    cell : Bitcell
        A :class:`~dcim.spice.Bitcell6T` or :class:`~dcim.spice.Bitcell8T`.
    corner : Corner or str
        The corner, or a process name (``"TT"``) at nominal supply and temperature.
    vdd, temp_c : float or None
        Override the corner's supply (volts) and temperature (degrees Celsius).
    rows : int
        Cells per bitline, 1 to 1024; the delays' load.
    sense_swing : float
        The bitline swing a read needs, in volts (0 < sense_swing < VDD / 2).

    Returns
    -------
    CellReport

    Raises
    ------
    ValueError
        If a parameter is of the wrong type or out of range; the message names it.
    SimulationError, ToolNotFoundError, ModelsNotFoundError
        If ngspice fails, or it or the model cards are missing.
    """
    if not isinstance(cell, Bitcell):
        raise ValueError(f"cell must be a dcim.spice bitcell (Bitcell6T, Bitcell8T), "
                         f"not {cell!r}")
    corner = resolve_corner(corner, vdd, temp_c)
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 1024:
        raise ValueError(f"rows must be an integer from 1 to 1024, not {rows!r}")
    if isinstance(sense_swing, bool) or not isinstance(sense_swing, int | float) \
            or not 0 < sense_swing < corner.vdd / 2:
        raise ValueError(f"sense_swing must be a voltage between 0 and VDD / 2 = "
                         f"{corner.vdd / 2:g} V, not {sense_swing!r}")
    nominal = np.zeros((1, len(cell.transistors)))
    read_current, leakage = _static_currents(cell, corner)
    return CellReport(
        cell=cell.name, corner=corner, rows=rows,
        hold_snm=float(hold_snm_batch(cell, corner, nominal)[0]),
        read_snm=float(read_snm_batch(cell, corner, nominal)[0]),
        write_margin=float(write_margin_batch(cell, corner, nominal)[0]),
        read_current=float(read_current), leakage_current=float(leakage),
        leakage_power=float(leakage * corner.vdd),
        read_delay=float(_read_delay(cell, corner, rows, sense_swing)),
        write_delay=float(_write_delay(cell, corner, rows)),
        sense_swing=float(sense_swing))
