"""Technology descriptions: which Liberty file per corner, which cells tie, buffer and drive.

A PDK is described by a small TOML file (see ``dcim/flow/pdks/``): its corners and their
Liberty files, the tie, buffer and driver cells, the load on output ports, the wire-load
model, and, for the OpenROAD hand-off, its LEF files and ORFS platform name. The files
themselves are found below a *PDK root* that comes from configuration, never from code: the
``pdk_root`` argument, or else the ``DCIM_PDK_ROOT`` environment variable. Tests and CI point
it at ``../shared/pdk``.

Adding a library needs only a description: pass the path of a TOML file as ``pdk``, or drop
it into ``dcim/flow/pdks/`` to make it available by name.
"""

import fnmatch
import os
import pickle
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..eda import cache
from .liberty import file_digest, read_liberty, read_text

__all__ = ["PDKS", "Corner", "Pdk", "PdkCheck", "PdkError", "PdkFile", "check_pdk", "load_pdk",
           "resolve_pdk_root"]

_DESCRIPTIONS = Path(__file__).parent / "pdks"

PDKS = tuple(sorted(path.stem for path in _DESCRIPTIONS.glob("*.toml")))
"""Names of the PDK descriptions that ship with dcim."""

PDK_ROOT_VARIABLE = "DCIM_PDK_ROOT"


class PdkError(FileNotFoundError):
    """The PDK root, a description, or a technology file it names cannot be found."""


_LIBRARIES = {}


@dataclass(frozen=True)
class Corner:
    """One process-voltage-temperature corner of a PDK.

    Members
    -------
    name : str
        ``"typ"``, ``"fast"``, ``"slow"``, ...
    liberty : Path
        Its Liberty file (``.lib`` or ``.lib.gz``).
    description : str
    """

    name: str
    liberty: Path
    description: str = ""


@dataclass(frozen=True)
class Pdk:
    """A technology as the flow uses it; made by :func:`load_pdk` from a description.

    Members
    -------
    name : str
    description : str
    folder : Path
        The folder of the technology files (PDK root / the description's ``folder``).
    corners : dict of str to Corner
    default_corner : str
    tie_high, tie_low : (cell, pin)
    buffer : (cell, input pin, output pin)
    driver : (cell, output pin)
        The cell assumed to drive every input port during analysis.
    dont_use : tuple of str
        Glob patterns of cells that synthesis must not use.
    output_load : float or (cell, pin)
        Load on every output port: femtofarads, or the input capacitance of a cell pin.
    wire_load : str or None
        Wire-load model of the Liberty file used for pre-layout net capacitance.
    layout : dict of str to Path
        LEF and Verilog model files (for the OpenROAD hand-off).
    orfs : dict
        OpenROAD-flow-scripts platform name and floorplan defaults.
    source : Path
        The description file.
    root : Path
        The PDK root the files were found under.
    """

    name: str
    description: str
    folder: Path
    corners: dict
    default_corner: str
    tie_high: tuple
    tie_low: tuple
    buffer: tuple
    driver: tuple
    dont_use: tuple = ()
    output_load: object = 0.0
    wire_load: object = None
    layout: dict = field(default_factory=dict)
    orfs: dict = field(default_factory=dict)
    source: Path = None
    root: Path = None

    def corner(self, name):
        """The :class:`Corner` called ``name``.

        Raises
        ------
        ValueError
            If the PDK has no such corner: ``corner must be one of typ, fast, slow, not 'hot'``.
        """
        if name not in self.corners:
            raise ValueError(f"corner must be one of {', '.join(self.corners)}, not {name!r}")
        return self.corners[name]

    def liberty(self, corner):
        """The Liberty file of ``corner``; :class:`PdkError` if it is missing."""
        path = self.corner(corner).liberty
        if not path.is_file():
            raise PdkError(
                f"Liberty file for corner {corner!r} of PDK {self.name!r} not found: "
                f"{str(path)!r} (the PDK root is {str(self.root)!r}; set "
                f"{PDK_ROOT_VARIABLE} or pass pdk_root to point at a folder like "
                f"../shared/pdk)")
        return path

    def liberty_digest(self, corner):
        """SHA-256 of the Liberty file of ``corner`` (part of every cache key)."""
        return file_digest(self.liberty(corner))

    def library(self, corner):
        """The parsed :class:`~dcim.flow.liberty.Library` of ``corner`` (cached on disk)."""
        path = self.liberty(corner)
        digest = file_digest(path)
        # Unpickling a parsed library takes a sixth of a second, which every cached look-up
        # would pay; the file's digest keys the in-process copy, so an edited file is re-read.
        memo_key = (str(path.resolve()), digest)
        if memo_key in _LIBRARIES:
            return _LIBRARIES[memo_key]
        _LIBRARIES[memo_key] = self._load_library(path, digest)
        return _LIBRARIES[memo_key]

    def _load_library(self, path, digest):
        stored = cache.entry("liberty", digest) / "library.pickle"
        try:
            with open(stored, "rb") as file:
                library = pickle.load(file)  # noqa: S301 - our own cache, keyed by content
            if library.path == path.resolve():
                return library
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            pass
        library = read_liberty(path)
        stored.parent.mkdir(parents=True, exist_ok=True)
        temporary = stored.with_suffix(f".{os.getpid()}")
        with open(temporary, "wb") as file:
            pickle.dump(library, file)
        temporary.replace(stored)
        return library

    def synthesis_liberty(self, corner):
        """A plain-text copy of the Liberty file for Yosys, without the ``dont_use`` cells.

        Yosys 0.23 reads only uncompressed Liberty files and its ``abc`` has no
        ``-dont_use``, so the copy is unzipped and filtered once into the cache.
        """
        return self._plain_liberty(corner, self.dont_use)

    def analysis_liberty(self, corner):
        """A plain-text copy of the whole Liberty file (Debian's OpenSTA reads no gzip)."""
        return self._plain_liberty(corner, ())

    def _plain_liberty(self, corner, dont_use):
        path = self.liberty(corner)
        if path.suffix != ".gz" and not dont_use:
            return path
        digest = cache.cache_key(liberty=file_digest(path), dont_use=list(dont_use))
        suffix = "_synthesis" if dont_use else ""
        target = cache.entry("liberty", digest) / f"{self.name}_{corner}{suffix}.lib"
        if not target.is_file():
            text = _drop_cells(read_text(path), dont_use)
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(f".{os.getpid()}")
            temporary.write_text(text)
            temporary.replace(target)
        return target

    def output_load_farads(self, corner):
        """The load on each output port, in farads."""
        if isinstance(self.output_load, (int, float)):
            return float(self.output_load) * 1e-15
        cell, pin = self.output_load
        library = self.library(corner)
        return library.cell(cell).pins[pin].capacitance * library.capacitance_unit

    def layout_file(self, key):
        """A layout file named by the description (``tech_lef``, ``cell_lef``, ...)."""
        if key not in self.layout:
            raise PdkError(f"PDK {self.name!r} names no {key} file in {self.source}")
        path = self.layout[key]
        if not path.is_file():
            raise PdkError(f"{key} of PDK {self.name!r} not found: {str(path)!r}")
        return path


def _drop_cells(text, patterns):
    """Liberty text without the ``cell`` groups whose names match any glob in ``patterns``."""
    if not patterns:
        return text
    header = re.compile(r'^\s*cell\s*\(\s*"?([^")\s]+)"?\s*\)\s*\{', re.M)
    pieces, position = [], 0
    for match in header.finditer(text):
        if match.start() < position or not any(fnmatch.fnmatchcase(match[1], pattern)
                                                 for pattern in patterns):
            continue
        depth, index = 0, match.end() - 1
        while index < len(text):
            character = text[index]
            if character == "{":
                depth += 1
            elif character == "}":
                depth -= 1
                if depth == 0:
                    break
            elif character == '"':
                index = text.index('"', index + 1)
            index += 1
        pieces.append(text[position:match.start()])
        position = index + 1
    pieces.append(text[position:])
    return "".join(pieces)


def _pair(data, key, length, source):
    value = data.get(key)
    # The names reach Yosys and Tcl scripts, so they must be plain identifiers there.
    if (not isinstance(value, list) or len(value) != length
            or not all(isinstance(part, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part)
                       for part in value)):
        raise ValueError(f"PDK description {str(source)!r}: cells.{key} must be a list of "
                         f"{length} cell or pin names (identifiers), not {value!r}")
    return tuple(value)


def resolve_pdk_root(pdk_root=None):
    """The PDK root folder: ``pdk_root`` if given, else ``$DCIM_PDK_ROOT``.

    Raises
    ------
    PdkError
        If neither is set, or the folder does not exist.
    """
    if pdk_root is not None and not isinstance(pdk_root, (str, os.PathLike)):
        raise TypeError(f"pdk_root must be a folder path (str or Path) or None, "
                        f"not {pdk_root!r}")
    if pdk_root is None:
        pdk_root = os.environ.get(PDK_ROOT_VARIABLE)
        if not pdk_root:
            raise PdkError(f"no PDK root: set {PDK_ROOT_VARIABLE} to the folder that holds the "
                           f"technology files (a folder like ../shared/pdk), or pass pdk_root")
        origin = f"{PDK_ROOT_VARIABLE}={pdk_root}"
    else:
        origin = f"pdk_root={str(pdk_root)!r}"
    root = Path(pdk_root).expanduser()
    if not root.is_dir():
        raise PdkError(f"PDK root {str(root)!r} (from {origin}) is not a folder; point it at "
                       f"a folder like ../shared/pdk")
    return root.resolve()


def load_pdk(pdk="nangate45", pdk_root=None):
    """Read a PDK description and locate its files below the PDK root.

    Parameters
    ----------
    pdk : str, path-like or Pdk
        A name from :data:`PDKS` (``"nangate45"``, ``"sky130hd"``), or the path of a TOML
        description. A :class:`Pdk` is returned as it is.
    pdk_root : path-like or None
        The folder holding the technology files; ``None`` reads ``$DCIM_PDK_ROOT``.

    Raises
    ------
    ValueError
        If ``pdk`` names no known description, or the description is malformed.
    PdkError
        If the PDK root is not configured or does not exist.
    """
    if isinstance(pdk, Pdk):
        return pdk
    if not isinstance(pdk, (str, os.PathLike)):
        raise TypeError(f"pdk must be a PDK name ({', '.join(PDKS)}), the path of a .toml "
                        f"description or a Pdk, not {pdk!r}")
    text = str(pdk)
    if text in PDKS:
        source = _DESCRIPTIONS / f"{text}.toml"
    elif text.endswith(".toml"):
        source = Path(text)
        if not source.is_file():
            raise PdkError(f"PDK description {text!r} does not exist")
    else:
        raise ValueError(f"pdk must be one of {', '.join(PDKS)} or a .toml description, "
                         f"not {pdk!r}")
    try:
        with open(source, "rb") as file:
            data = tomllib.load(file)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"PDK description {text!r} is not valid TOML: {error}") from None
    root = resolve_pdk_root(pdk_root)
    name = data.get("name", source.stem)
    folder = root / data.get("folder", name)
    corners_data = data.get("corners")
    if not isinstance(corners_data, dict) or not corners_data:
        raise ValueError(f"PDK description {source}: needs at least one [corners.<name>] table")
    corners = {}
    for corner_name, corner in corners_data.items():
        if "liberty" not in corner:
            raise ValueError(f"PDK description {source}: corner {corner_name!r} names no "
                             f"liberty file")
        corners[corner_name] = Corner(corner_name, folder / corner["liberty"],
                                      corner.get("description", ""))
    default_corner = data.get("default_corner", next(iter(corners)))
    if default_corner not in corners:
        raise ValueError(f"PDK description {source}: default_corner must be one of "
                         f"{', '.join(corners)}, not {default_corner!r}")
    cells = data.get("cells", {})
    analysis = data.get("analysis", {})
    output_load = analysis.get("output_load", 0.0)
    if isinstance(output_load, list):
        output_load = tuple(output_load)
    return Pdk(
        name=name, description=data.get("description", ""), folder=folder, corners=corners,
        default_corner=default_corner,
        tie_high=_pair(cells, "tie_high", 2, source), tie_low=_pair(cells, "tie_low", 2, source),
        buffer=_pair(cells, "buffer", 3, source), driver=_pair(cells, "driver", 2, source),
        dont_use=tuple(cells.get("dont_use", ())), output_load=output_load,
        wire_load=analysis.get("wire_load"),
        layout={key: folder / value for key, value in data.get("layout", {}).items()},
        orfs=dict(data.get("orfs", {})), source=source, root=root)


_LAYOUT_ROLES = {
    "tech_lef": "technology LEF: layers, vias, sites (place and route)",
    "cell_lef": "cell abstracts, LEF (place and route)",
    "verilog_models": "Verilog models of the cells (gate-level simulation)",
}


@dataclass(frozen=True)
class PdkFile:
    """One technology file a PDK description needs.

    Members
    -------
    role : str
        ``"liberty"``, or the description's ``[layout]`` key (``"tech_lef"``, ...).
    corner : str or None
        The corner of a Liberty file; ``None`` for files every corner uses.
    path : Path
        Where the description expects it.
    found : bool
    what : str
        What the file is and what the flow uses it for.
    """

    role: str
    corner: str | None
    path: Path
    found: bool
    what: str

    def as_dict(self):
        return {"role": self.role, "corner": self.corner, "path": str(self.path),
                "found": self.found, "what": self.what}


@dataclass(frozen=True)
class PdkCheck:
    """Which files of a PDK description are found below a PDK root: :func:`check_pdk`.

    Members
    -------
    pdk : str
    source : Path
        The description file.
    root : Path
        The PDK root searched.
    folder : Path
        Where the description expects its files (the root / its ``folder``).
    files : tuple of PdkFile
        Each corner's Liberty file, then the files every corner uses.
    """

    pdk: str
    source: Path
    root: Path
    folder: Path
    files: tuple

    @property
    def missing(self):
        return tuple(file for file in self.files if not file.found)

    @property
    def ok(self):
        return not self.missing

    def as_dict(self):
        return {"pdk": self.pdk, "source": str(self.source), "root": str(self.root),
                "folder": str(self.folder), "ok": self.ok,
                "files": [file.as_dict() for file in self.files]}


def check_pdk(pdk="nangate45", pdk_root=None):
    """Say which technology files the description ``pdk`` needs and which are found.

    Parameters
    ----------
    pdk, pdk_root :
        As for :func:`load_pdk`.

    Returns
    -------
    PdkCheck

    Raises
    ------
    ValueError
        If ``pdk`` names no known description, or the description is malformed.
    PdkError
        If the PDK root is not configured or is not a folder.
    """
    loaded = load_pdk(pdk, pdk_root)
    files = [PdkFile("liberty", corner.name, corner.liberty, corner.liberty.is_file(),
                     f"Liberty: cells, timing, power ({corner.description or corner.name})")
             for corner in loaded.corners.values()]
    files += [PdkFile(role, None, path, path.is_file(), _LAYOUT_ROLES.get(role, role))
              for role, path in loaded.layout.items()]
    return PdkCheck(loaded.name, loaded.source, loaded.root, loaded.folder, tuple(files))
