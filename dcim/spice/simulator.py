"""Running SPICE decks through ngspice's shared library, in one place.

Every simulation of :mod:`dcim.spice` goes through :func:`run_deck`: it loads a deck (plain text)
into ngspice through PySpice's shared-library binding, runs it and returns the vectors of the
analysis as NumPy arrays. ngspice's shared library is a process-wide singleton, so one instance
serves every call. PySpice's subprocess mode is not used: it breaks with ngspice 39 and numpy 2.

The library is ``$NGSPICE_LIBRARY_PATH`` when set, else Debian's ``libngspice.so.0`` (Debian ships
no unversioned ``libngspice.so``, which is all PySpice looks for by itself).
"""

import contextlib
import ctypes.util
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ..eda.tools import ToolNotFoundError

__all__ = ["SimulationError", "find_ngspice_library", "informational_messages", "run_deck",
           "simulator_identity"]

LIBRARY_VARIABLE = "NGSPICE_LIBRARY_PATH"
_INSTALL_HINT = ("install it with `apt-get install ngspice libngspice0` and dcim's spice extra "
                 "(`pip install -e '.[spice]'`, which scripts/setup.sh does)")
_DEBIAN_LIBRARY = Path("/usr/lib/x86_64-linux-gnu/libngspice.so.0")
# Options of the second attempt after a run that did not converge: Gear integration, more
# iterations and a looser tolerance, the usual cures for a bistable cell's DC and transient runs.
_RELAXED_OPTIONS = ".options method=gear itl1=1000 itl2=1000 itl4=200 reltol=2e-3 gmin=1e-11"

_shared = None
_identity = None


class SimulationError(RuntimeError):
    """ngspice failed to run a deck, even with relaxed options.

    Members
    -------
    deck_path : Path
        The deck, kept for a rerun by hand.
    log_path : Path
        ngspice's messages of both attempts.
    """

    def __init__(self, message, deck_path, log_path):
        super().__init__(f"{message}; deck kept at {deck_path}, ngspice's log at {log_path}")
        self.deck_path = Path(deck_path)
        self.log_path = Path(log_path)


def find_ngspice_library():
    """Return the path of ngspice's shared library.

    Raises
    ------
    ToolNotFoundError
        If ``$NGSPICE_LIBRARY_PATH`` names no file, or no library is installed; the message
        says how to install it.
    """
    override = os.environ.get(LIBRARY_VARIABLE)
    if override:
        if not Path(override).is_file():
            raise ToolNotFoundError(
                "ngspice", f"{LIBRARY_VARIABLE} is set to {override!r}, which is not a file; "
                           f"point it at libngspice.so.0 or unset it, or {_INSTALL_HINT}")
        return Path(override)
    if _DEBIAN_LIBRARY.is_file():
        return _DEBIAN_LIBRARY
    found = ctypes.util.find_library("ngspice")
    if found and Path(found).is_file():
        return Path(found)
    raise ToolNotFoundError("ngspice", f"ngspice's shared library was not found: {_INSTALL_HINT}, "
                                       f"or set {LIBRARY_VARIABLE} to libngspice.so.0")


class _QuietFilter(logging.Filter):
    # PySpice logs each ngspice message (and, on every start, that it predates ngspice 39, whose
    # DC and transient results are nonetheless right). run_deck keeps the messages of a failed
    # run in a file instead, so they would only clutter the caller's log.
    def filter(self, record):
        return False


def _ngspice():
    global _shared
    if _shared is None:
        library = find_ngspice_library()
        os.environ[LIBRARY_VARIABLE] = str(library)
        try:
            from PySpice.Spice.NgSpice.Shared import NgSpiceShared
        except ImportError as error:
            raise ToolNotFoundError("ngspice", f"PySpice is not installed: {_INSTALL_HINT}") \
                from error
        logging.getLogger("PySpice.Spice.NgSpice.Shared.NgSpiceShared").addFilter(_QuietFilter())
        _shared = NgSpiceShared.new_instance()
    return _shared


def simulator_identity():
    """Return which ngspice build runs the decks, for the cache keys of simulated results.

    ngspice's own ``version -f`` banner gives the release and the build date, e.g.
    ``"ngspice-39, built Sun Feb  5 13:44:35 UTC 2023"``; a result simulated by another build
    (a Debian update, a library from ``$NGSPICE_LIBRARY_PATH``) then gets another key and is
    simulated again rather than read back.

    Raises
    ------
    ToolNotFoundError
        If ngspice's shared library is not installed; the message says how to install it.
    """
    global _identity
    if _identity is None:
        banner = _ngspice().exec_command("version -f")
        release = re.search(r"\b(ngspice-\S+)", banner)
        built = re.search(r"Creation Date:\s*(.+)", banner)
        if release is None:
            raise RuntimeError(f"ngspice's `version -f` printed no release: {banner[:200]!r}")
        _identity = release.group(1) + (f", built {built.group(1).strip()}" if built else "")
    return _identity


# Words that mark a line of ngspice's stderr as a real failure; anything else there (its
# "Note: Starting dynamic gmin stepping", "Trying gmin = ...", "Warning: ..." lines) is
# progress information of a run that may well succeed.
_FAILURE_WORDS = ("error", "abort", "fail", "too small", "singular", "cannot", "can't")


def informational_messages(stderr):
    """Whether every line of ngspice's ``stderr`` text is informational (notes, warnings,
    gmin and source stepping progress), so that a run that printed it still counts.

    PySpice raises on any stderr line but a ``Warning:``, which would abort a good run on
    ngspice's ``Note:`` lines; :func:`run_deck` asks this instead.
    """
    return not any(word in line.lower() for line in stderr.splitlines()
                   for word in _FAILURE_WORDS)


def _run(ngspice):
    from PySpice.Spice.NgSpice.Shared import NgSpiceCommandError

    try:
        ngspice.run()
    except NgSpiceCommandError:
        # PySpice's flag also covers stdout lines naming an error, which stay fatal.
        if "error" in ngspice.stdout.lower() or not informational_messages(ngspice.stderr):
            raise


def _attempt(deck):
    ngspice = _ngspice()
    ngspice.clear_output()
    vectors = None
    try:
        ngspice.load_circuit(deck)
        _run(ngspice)
        plot_name = ngspice.last_plot
        if plot_name != "const" and "simulation(s) aborted" not in ngspice.stderr:
            plot = ngspice.plot(None, plot_name)
            vectors = {name.lower(): np.real(np.asarray(vector._data))
                       for name, vector in plot.items()}
    # PySpice signals every ngspice error with a bare exception (NgSpiceCommandError, or a
    # NameError of its own parser); all of them mean this attempt failed.
    except Exception as error:
        log = f"{ngspice.stdout}{ngspice.stderr}\n{type(error).__name__}: {error}"
    else:
        log = ngspice.stdout + ngspice.stderr
    for command in ("destroy all", "remcirc"):
        # Fails harmlessly when the deck never loaded; either way the next deck starts clean.
        with contextlib.suppress(Exception):
            ngspice.exec_command(command)
    return vectors, log


def run_deck(deck, *, name="deck"):
    """Run a SPICE deck and return the vectors of its analysis.

    ngspice's informational messages (notes on gmin stepping and the like, which PySpice
    takes for errors) do not fail a run; error messages and aborted analyses do. A run that
    fails (no convergence, aborted analysis) is tried once more with relaxed options
    (Gear integration, more iterations, a looser tolerance); if that fails too, the deck and
    ngspice's messages are kept in a folder whose path the error names.

    Parameters
    ----------
    deck : str
        The whole deck: a title line, elements, one analysis, ``.end``.
    name : str
        A short name for the kept files.

    Returns
    -------
    dict of str to numpy.ndarray
        Every saved vector by its lower-case ngspice name (``"v-sweep"``, ``"time"``, node
        names, ``"vdd#branch"``). Branch currents flow into the source's positive terminal.

    Raises
    ------
    ToolNotFoundError
        If ngspice's shared library or PySpice is missing.
    SimulationError
        If the deck fails twice.
    """
    vectors, first_log = _attempt(deck)
    if vectors is not None:
        return vectors
    lines = deck.rstrip().splitlines()
    end = max(i for i, line in enumerate(lines) if line.strip().lower() == ".end") \
        if any(line.strip().lower() == ".end" for line in lines) else len(lines)
    relaxed = "\n".join([*lines[:end], _RELAXED_OPTIONS, *lines[end:]]) + "\n"
    vectors, second_log = _attempt(relaxed)
    if vectors is not None:
        return vectors
    folder = Path(tempfile.mkdtemp(prefix=f"dcim-spice-{name}-"))
    deck_path = folder / f"{name}.sp"
    log_path = folder / f"{name}.log"
    deck_path.write_text(deck)
    (folder / f"{name}-relaxed.sp").write_text(relaxed)
    log_path.write_text(f"* first attempt\n{first_log}\n* relaxed options\n{second_log}\n")
    raise SimulationError(f"ngspice could not run {name!r}", deck_path, log_path)
