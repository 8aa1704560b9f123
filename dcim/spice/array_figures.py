"""The figures of one bitcell in an array, from SPICE: what an SRAM macro's views need.

:func:`bitcell_figures` characterizes a bitcell (:func:`~dcim.spice.characterize`) at a corner
with the bitline load of ``rows`` cells and turns the measurements into per-bit figures of an
array: read and write delay, bitline capacitance, energy per access, leakage and area.
:meth:`dcim.macro.sram.SramTechnology.from_bitcell` builds the macro's views from them.

The bitline capacitance is measured, not assumed: during the read transient the accessed cell
sinks its read current ``I`` from the precharged bitline until it has fallen by the sense
swing ``dV`` after the read delay ``t``, so ``C = I t / dV`` (the read current is taken with
the bitline at VDD, so at the end of the swing the cell sinks a little less and ``C`` is a
few per cent high). The precharge then restores that charge from the supply: a read costs
``C dV VDD`` per bit line and a write, which swings one bitline of the pair fully,
``C VDD^2``. The word lines and the periphery stay the analytical model's.

Results are cached by content (kind ``bitcell-char`` of :mod:`dcim.eda.cache`: the cell's
netlist, the corner, the rows and the model cards' text).
"""

from dataclasses import asdict, dataclass

from ..checks import check_int
from ..eda import cache
from .bitcell import Bitcell6T, Bitcell8T
from .characterize import characterize, measurement_settings
from .corners import resolve_corner
from .sizing import bitcell_area

__all__ = ["FIGURES_VERSION", "BitcellFigures", "bitcell_figures"]

FIGURES_VERSION = 1
"""Changes whenever the figures' measurement changes, so that old cache entries are unused."""
_CACHE_KIND = "bitcell-char"


@dataclass(frozen=True)
class BitcellFigures:
    """One bitcell of an array with ``rows`` cells per bitline, from SPICE; SI units.

    Members
    -------
    cell : str
        The bitcell's name.
    kind : str
        ``"6t"`` or ``"8t"``.
    process : str
    vdd : float
        Volts.
    temp_c : float
        Degrees Celsius.
    rows : int
    area : float
        Square metres, by :func:`dcim.spice.sizing.bitcell_area`.
    read_delay, write_delay : float
        Seconds, with the bitline load of ``rows`` cells (see
        :class:`~dcim.spice.CellReport`).
    sense_swing : float
        Volts.
    read_current : float
        Amperes.
    bitline_capacitance : float
        Farads, ``read_current * read_delay / sense_swing``.
    read_energy, write_energy : float
        Joules per bit and access: ``C dV VDD`` and ``C VDD^2``.
    leakage_power : float
        Watts per bit in hold.
    """

    cell: str
    kind: str
    process: str
    vdd: float
    temp_c: float
    rows: int
    area: float
    read_delay: float
    write_delay: float
    sense_swing: float
    read_current: float
    bitline_capacitance: float
    read_energy: float
    write_energy: float
    leakage_power: float

    def as_dict(self):
        return asdict(self)


def bitcell_figures(cell=None, corner="TT", *, rows=64, vdd=None, temp_c=None,
                    sense_swing=0.1):
    """Characterize ``cell`` in an array of ``rows`` rows and return its per-bit figures.

    Parameters
    ----------
    cell : Bitcell6T or Bitcell8T or None
        ``None`` for the default :class:`~dcim.spice.Bitcell8T` (the macro's cell).
    corner : Corner or str
        As :func:`~dcim.spice.characterize`; ``vdd`` and ``temp_c`` override it.
    rows : int
        Cells per bitline, 1 to 1024.
    sense_swing : float
        Volts, as :func:`~dcim.spice.characterize`.

    Returns
    -------
    BitcellFigures

    Raises
    ------
    ValueError
        For a bad parameter, naming it and its value.
    SimulationError, ToolNotFoundError, ModelsNotFoundError
        As :func:`~dcim.spice.characterize`.
    """
    cell = Bitcell8T() if cell is None else cell
    if not isinstance(cell, Bitcell6T | Bitcell8T):
        raise ValueError(f"cell must be a Bitcell6T or Bitcell8T, not {cell!r}")
    corner = resolve_corner(corner, vdd, temp_c)
    rows = check_int("rows", rows, 1, 1024)
    key = cache.cache_key(step="bitcell-figures", version=FIGURES_VERSION,
                          netlist=cell.subcircuit(), corner=asdict(corner), rows=rows,
                          sense_swing=float(sense_swing), settings=measurement_settings(),
                          models=sorted(cache.text_digest(card.read_text())
                                        for card in corner.model_cards()))
    stored = cache.load(_CACHE_KIND, key)
    if stored is not None:
        return BitcellFigures(**stored)
    report = characterize(cell, corner, rows=rows, sense_swing=sense_swing)
    capacitance = report.read_current * report.read_delay / report.sense_swing
    figures = BitcellFigures(
        cell=cell.name, kind="8t" if isinstance(cell, Bitcell8T) else "6t",
        process=corner.process, vdd=corner.vdd, temp_c=corner.temp_c, rows=rows,
        area=bitcell_area(cell).area, read_delay=report.read_delay,
        write_delay=report.write_delay, sense_swing=report.sense_swing,
        read_current=report.read_current, bitline_capacitance=capacitance,
        read_energy=capacitance * report.sense_swing * corner.vdd,
        write_energy=capacitance * corner.vdd ** 2, leakage_power=report.leakage_power)
    cache.store(_CACHE_KIND, key, figures.as_dict())
    return figures
