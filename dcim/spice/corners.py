"""Process, voltage and temperature corners of the FreePDK45 transistor models.

The corners are data: ``corners.toml`` beside this module lists the process corners with their
model cards, and the standard supplies and temperatures. The model cards themselves are found
below a *model folder* that comes from configuration: ``$DCIM_SPICE_MODELS`` when set, else the
folder ``share/dcim/freepdk45`` of the running Python environment, where ``scripts/setup.sh``
unpacks them from OpenRAM's wheel.
"""

import itertools
import math
import os
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["PROCESSES", "Corner", "ModelsNotFoundError", "model_folder", "resolve_corner",
           "standard_corners"]

MODELS_VARIABLE = "DCIM_SPICE_MODELS"
_DESCRIPTION = Path(__file__).with_name("corners.toml")


@cache
def _description():
    with _DESCRIPTION.open("rb") as file:
        return tomllib.load(file)


PROCESSES = tuple(_description()["process"])
"""The process corners by name: ``"TT"``, ``"FF"``, ``"SS"``, ``"FS"``, ``"SF"``."""


class ModelsNotFoundError(FileNotFoundError):
    """The FreePDK45 model cards are not where the configuration says."""


def model_folder():
    """Return the folder of the FreePDK45 model cards (``models_nom/NMOS_VTG.inc`` and so on).

    Raises
    ------
    ModelsNotFoundError
        If the folder lacks the nominal NMOS card; the message says how to get the cards.
    """
    configured = os.environ.get(MODELS_VARIABLE)
    folder = Path(configured) if configured else Path(sys.prefix) / "share" / "dcim" / "freepdk45"
    card = folder / _description()["process"]["TT"]["nmos"]
    if not card.is_file():
        source = f"{MODELS_VARIABLE}={configured!r}" if configured else "the default place"
        raise ModelsNotFoundError(
            f"the FreePDK45 model cards are not in {folder} ({source}): run scripts/setup.sh, "
            f"which unpacks them from `pip download --no-deps openram==1.2.48`, or set "
            f"{MODELS_VARIABLE} to a folder holding models_nom/, models_ff/ and models_ss/")
    return folder


def _check_number(name, value, bounds, unit):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of {unit}, not {value!r}")
    low, high = bounds
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high} {unit}, not {value!r}")


@dataclass(frozen=True)
class Corner:
    """One process-voltage-temperature corner.

    Parameters
    ----------
    process : str
        One of :data:`PROCESSES`; the first letter is the NMOS, the second the PMOS.
    vdd : float
        Supply in volts, within the range of ``corners.toml`` (0.5 to 1.3 V).
    temp_c : float
        Temperature in degrees Celsius, within -55 to 150 C.

    Raises
    ------
    ValueError
        If a parameter is unknown or out of range; the message names it and its value.
    """

    process: str = "TT"
    vdd: float = 1.0
    temp_c: float = 25.0

    def __post_init__(self):
        if self.process not in PROCESSES:
            raise ValueError(f"process must be one of {', '.join(PROCESSES)}, "
                             f"not {self.process!r}")
        description = _description()
        _check_number("vdd", self.vdd, description["supply"]["range"], "volts")
        _check_number("temp_c", self.temp_c, description["temperature"]["range"], "degrees C")
        object.__setattr__(self, "vdd", float(self.vdd))
        object.__setattr__(self, "temp_c", float(self.temp_c))

    @property
    def name(self):
        """A stable name for files and tables, e.g. ``"tt_1v00_25c"``."""
        temperature = f"{self.temp_c:g}".replace("-", "m").replace(".", "p")
        return f"{self.process.lower()}_{self.vdd:.2f}".replace(".", "v") + f"_{temperature}c"

    def model_cards(self):
        """Return the NMOS and PMOS model cards of this corner's process, as paths."""
        folder = model_folder()
        process = _description()["process"][self.process]
        return folder / process["nmos"], folder / process["pmos"]

    def deck_header(self):
        """Return the deck lines that load this corner's models and set its temperature."""
        nmos, pmos = self.model_cards()
        # Quoted: the path may hold spaces. The cards set tnom = 27 C themselves.
        return [f'.include "{nmos}"', f'.include "{pmos}"', f".temp {self.temp_c:g}"]


def resolve_corner(corner, vdd=None, temp_c=None):
    """The :class:`Corner` that a ``corner=..., vdd=..., temp_c=...`` call means.

    ``corner`` is a process name (``"SS"``, at its nominal supply and temperature) or a
    :class:`Corner`; ``vdd`` and ``temp_c``, when given, replace its supply and temperature.

    Raises
    ------
    ValueError
        If ``corner`` is neither, or the resulting corner is invalid.
    """
    if isinstance(corner, str):
        corner = Corner(corner)
    elif not isinstance(corner, Corner):
        raise ValueError(f"corner must be a process name or a dcim.spice.Corner, not {corner!r}")
    return Corner(corner.process, corner.vdd if vdd is None else vdd,
                  corner.temp_c if temp_c is None else temp_c)


def standard_corners(processes=("TT", "FF", "SS")):
    """Return every combination of the given processes with the standard supplies and
    temperatures of ``corners.toml`` (0.9 / 1.0 / 1.1 V, 0 / 25 / 100 C), process first.
    """
    description = _description()
    return [Corner(process, vdd, temp_c) for process, vdd, temp_c in itertools.product(
        processes, description["supply"]["corners"], description["temperature"]["corners"])]


NMOS_MODEL = _description()["nmos_model"]
PMOS_MODEL = _description()["pmos_model"]
