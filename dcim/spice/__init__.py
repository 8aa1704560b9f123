"""Transistor-level SRAM bitcells: netlists, corners, noise margins, delays, mismatch, yield.

dcim.spice simulates FreePDK45 bitcells with ngspice (through PySpice's shared-library mode)
and OpenRAM's BSIM4 model cards: :class:`Bitcell6T` and :class:`Bitcell8T` are frozen specs,
:class:`Corner` a validated process-voltage-temperature corner, :func:`characterize` measures a
cell into a :class:`CellReport`, and the ``*_batch`` functions evaluate many Monte Carlo samples
of threshold shifts in one ngspice run. :class:`MismatchModel` turns standard-normal samples
into Pelgrom threshold shifts, and :func:`monte_carlo` and :func:`importance_sampling` estimate
failure probabilities of a batched limit state (:func:`mismatch_limit_state` makes one of a
margin). :func:`bit_failure_probability` combines them into a bit's failure probability per
mode (hold, read, write) at a corner, which ``dcim.nn`` injects as a weight bit-error rate.

Standard cells and our own Liberty library: :mod:`dcim.spice.cells` describes static CMOS cells
(:class:`~dcim.spice.cells.Cell`), :func:`characterize_cell` measures one into NLDM tables over
a :class:`TableGrid` of slews and loads (a :class:`CharacterizedCell`, cached by content),
:func:`liberty_text` and :func:`write_liberty` write a Liberty library of such cells, and
:func:`build_pdk` characterizes :data:`LIBRARY_CELLS` (with compressor cells if asked) into a
PDK that dcim.flow synthesizes and times with; :func:`compare_libraries` puts a design's PPA
on it beside Nangate45's, and :func:`compressor_multiplier` writes a multiplier whose 4:2
compressors are instances of their library cells. PySpice is imported only when a deck runs.
"""

from .bit_failure import (
    BitFailure,
    FailureCriteria,
    ModeFailure,
    bit_failure_corners,
    bit_failure_probability,
    bit_failure_table,
)
from .bitcell import BITCELLS, Bitcell, Bitcell6T, Bitcell8T, Transistor
from .characterize import CellReport, characterize
from .corners import (
    PROCESSES,
    Corner,
    ModelsNotFoundError,
    model_folder,
    resolve_corner,
    standard_corners,
)
from .liberty_char import CharacterizedCell, TableGrid, TimingArc, characterize_cell
from .liberty_writer import liberty_text, write_liberty
from .library import (
    LIBRARY_CELLS,
    LibraryBuild,
    LibraryComparison,
    build_pdk,
    compare_libraries,
    compressor_multiplier,
)
from .margins import butterfly_snm, hold_snm_batch, read_snm_batch, write_margin_batch
from .simulator import SimulationError, find_ngspice_library, run_deck
from .variation import DEFAULT_A_VT_MV_UM, MismatchModel, mismatch_limit_state
from .yield_estimation import (
    ShiftPoint,
    YieldEstimate,
    equivalent_sigma,
    failure_probability,
    find_shift_point,
    importance_sampling,
    monte_carlo,
)

__all__ = ["BITCELLS", "DEFAULT_A_VT_MV_UM", "LIBRARY_CELLS", "PROCESSES", "BitFailure",
           "Bitcell", "Bitcell6T", "Bitcell8T", "CellReport", "CharacterizedCell", "Corner",
           "FailureCriteria", "LibraryBuild", "LibraryComparison", "MismatchModel",
           "ModeFailure", "ModelsNotFoundError", "ShiftPoint", "SimulationError", "TableGrid",
           "TimingArc", "Transistor", "YieldEstimate", "bit_failure_corners",
           "bit_failure_probability", "bit_failure_table", "build_pdk", "butterfly_snm",
           "characterize", "characterize_cell", "compare_libraries", "compressor_multiplier",
           "equivalent_sigma", "failure_probability", "find_ngspice_library", "find_shift_point",
           "hold_snm_batch", "importance_sampling", "liberty_text", "mismatch_limit_state",
           "model_folder", "monte_carlo", "read_snm_batch", "resolve_corner", "run_deck",
           "standard_corners",
           "write_liberty",
           "write_margin_batch"]
