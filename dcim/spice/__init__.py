"""Transistor-level SRAM bitcells: netlists, corners, noise margins, delays, Monte Carlo.

dcim.spice simulates FreePDK45 bitcells with ngspice (through PySpice's shared-library mode)
and OpenRAM's BSIM4 model cards: :class:`Bitcell6T` and :class:`Bitcell8T` are frozen specs,
:class:`Corner` a validated process-voltage-temperature corner, :func:`characterize` measures a
cell into a :class:`CellReport`, and the ``*_batch`` functions evaluate many Monte Carlo samples
of threshold shifts in one ngspice run. PySpice is imported only when a deck runs.
"""

from .bitcell import BITCELLS, Bitcell, Bitcell6T, Bitcell8T, Transistor
from .characterize import CellReport, characterize
from .corners import PROCESSES, Corner, ModelsNotFoundError, model_folder, standard_corners
from .margins import butterfly_snm, hold_snm_batch, read_snm_batch, write_margin_batch
from .simulator import SimulationError, find_ngspice_library, run_deck

__all__ = ["BITCELLS", "PROCESSES", "Bitcell", "Bitcell6T", "Bitcell8T", "CellReport", "Corner",
           "ModelsNotFoundError", "SimulationError", "Transistor", "butterfly_snm",
           "characterize", "find_ngspice_library", "hold_snm_batch", "model_folder",
           "read_snm_batch", "run_deck", "standard_corners", "write_margin_batch"]
