"""The on-disk cache of tool results (synthesis, timing, power, builds), keyed by content.

Synthesis, timing and power results are stored as JSON under a key that is the SHA-256 of
everything that determines them: the exact Verilog given to Yosys and the script that reads
it, the PDK description and corner, the hash of the Liberty file, the clock, the analysis
options, the tool versions and :data:`FLOW_VERSION`. A design's name is never a key on its
own: a re-registered compressor or an edited source changes the Verilog, and so the key. A
repeated run, or a design-space search that meets a design again, reads the result instead
of running the tools. Each entry is a folder holding ``result.json`` and whatever files the
step produced (netlists, logs).

The cache lives in ``$DCIM_CACHE_DIR``, or ``~/.cache/dcim`` when that is not set. Entries
are written to a staging folder and renamed into place, so an interrupted run leaves no half
entry behind; folders are created readable by everyone (as the umask allows), so that a
team can share one cache. Deleting the folder is always safe.
:func:`cache_info` says what it holds per kind (``dcim cache info``), :func:`clear_cache`
removes entries (``dcim cache clear``).
"""

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["CACHE_KINDS", "FLOW_VERSION", "CacheInfo", "KindInfo", "cache_dir", "cache_entries",
           "cache_info", "cache_key", "clear_cache", "entry", "keep_failure", "load", "publish",
           "staging_folder", "store", "text_digest"]

FLOW_VERSION = "8"
"""Changes whenever the flow's scripts or report formats change, so old entries are ignored."""

_KIND = re.compile(r"[a-z][a-z0-9-]*")
_KEY = re.compile(r"[0-9a-f]{16,64}")
CACHE_KINDS = ("synth", "timing", "power", "liberty", "macro-sim", "nn-model", "nn-check",
               "spice-sizing", "verilog", "cell-char", "bit-failure", "bitcell-char", "failed")
"""The folders dcim keeps in the cache: flow results, parsed and filtered Liberty files,
compiled macro simulators, the trained weights of ``dcim.nn.tasks``' networks, the verdicts
of ``dcim.nn.check_design``, the bitcell evaluations and yield checks of
``dcim.spice.sizing``, the Verilog written for specs (``dcim.flow.design``), the cell
characterizations (NLDM tables) of ``dcim.spice.liberty_char``, the bit-failure estimates
of ``dcim.spice.bit_failure``, the bitcell figures of ``dcim.spice.array_figures`` (the SPICE
views of the SRAM array), and the kept work folders of failed synthesis runs. Only these are
listed and cleared: whatever else is in the folder is not dcim's."""


def cache_dir():
    """The cache folder: ``$DCIM_CACHE_DIR`` or ``~/.cache/dcim`` (created on demand)."""
    configured = os.environ.get("DCIM_CACHE_DIR")
    folder = Path(configured).expanduser() if configured else Path.home() / ".cache" / "dcim"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cache_key(**parts):
    """SHA-256 (hex) of ``parts`` with :data:`FLOW_VERSION`, as canonical JSON."""
    text = json.dumps({"flow_version": FLOW_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def text_digest(text):
    """SHA-256 (hex) of ``text``: how a Verilog source or a script enters a cache key."""
    return hashlib.sha256(text.encode()).hexdigest()


def entry(kind, key):
    """The folder of cache entry ``key`` of ``kind`` (``"synth"``, ``"timing"``, ...).

    Both are checked, so that an entry can never lie outside the cache folder.
    """
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise ValueError(f"cache kind must be lower-case letters, digits and dashes, "
                         f"not {kind!r}")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"cache key must be a hexadecimal digest, not {key!r}")
    return cache_dir() / kind / key[:2] / key


def load(kind, key):
    """The stored result of entry ``key``, or ``None`` if there is none (or it is damaged)."""
    path = entry(kind, key) / "result.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _shareable(folder):
    # mkdtemp creates 0700 folders; a renamed staging folder would keep that mode and hide
    # the entry from the other users of a shared cache.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)


@contextlib.contextmanager
def staging_folder(final):
    """A fresh folder beside ``final`` that is removed on any exit, interrupts included.

    Write an entry there, then :func:`publish` it; whatever is left is deleted, so an
    interrupted or failed step never leaves a partial entry.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name[:24]}-", dir=final.parent))
    _shareable(staging)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging, final):
    """Rename a complete ``staging`` folder to ``final``; keep ``final`` if it exists."""
    if Path(final).exists():
        # Another process stored the same entry first; its result is equally valid.
        return final
    try:
        Path(staging).rename(final)
    except OSError:
        if not Path(final).exists():
            raise
    return final


def store(kind, key, result, files=None):
    """Store ``result`` (JSON-serialisable) and ``files`` (``{name: path}``) under ``key``.

    The entry is written to a staging folder and renamed into place, so concurrent or
    interrupted runs never see half an entry. Returns the entry's folder.
    """
    final = entry(kind, key)
    with staging_folder(final) as staging:
        for name, source in (files or {}).items():
            shutil.copyfile(source, staging / name)
        (staging / "result.json").write_text(json.dumps(result, indent=1, default=str))
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        publish(staging, final)
    return final


def keep_failure(workdir, step, key, ignore=()):
    """Copy a failed run's ``workdir`` to ``<cache>/failed/<step>-<key>`` and return it.

    Temporary folders vanish when the run ends; the copy is what an error message names, so
    the log it points at is still there when the user looks.
    """
    if not _KIND.fullmatch(step):
        raise ValueError(f"step must be lower-case letters, digits and dashes, not {step!r}")
    kept = cache_dir() / "failed" / f"{step}-{key[:16]}"
    shutil.rmtree(kept, ignore_errors=True)
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(workdir, kept, ignore=shutil.ignore_patterns(*ignore))
    return kept


@dataclass(frozen=True)
class KindInfo:
    """What the cache holds of one kind.

    Members
    -------
    kind : str
    entries : int
    bytes : int
        Size of every file of the kind, unfinished entries included.
    oldest, newest : datetime or None
        Modification times (UTC) of the oldest and newest entry; ``None`` without entries.
    """

    kind: str
    entries: int
    bytes: int
    oldest: datetime | None
    newest: datetime | None

    def as_dict(self):
        return {"kind": self.kind, "entries": self.entries, "bytes": self.bytes,
                "oldest": self.oldest and self.oldest.isoformat(),
                "newest": self.newest and self.newest.isoformat()}


@dataclass(frozen=True)
class CacheInfo:
    """What the cache folder holds, per kind (:func:`cache_info`, :func:`clear_cache`).

    Members
    -------
    folder : Path
    kinds : tuple of KindInfo
        One per kind of :data:`CACHE_KINDS` (or the one kind asked for), empty ones included.
    """

    folder: Path
    kinds: tuple

    @property
    def entries(self):
        return sum(kind.entries for kind in self.kinds)

    @property
    def bytes(self):
        return sum(kind.bytes for kind in self.kinds)

    @property
    def oldest(self):
        return min((k.oldest for k in self.kinds if k.oldest is not None), default=None)

    @property
    def newest(self):
        return max((k.newest for k in self.kinds if k.newest is not None), default=None)

    def as_dict(self):
        return {"folder": str(self.folder), "entries": self.entries, "bytes": self.bytes,
                "oldest": self.oldest and self.oldest.isoformat(),
                "newest": self.newest and self.newest.isoformat(),
                "kinds": [kind.as_dict() for kind in self.kinds]}


def _check_kind(kind):
    if kind not in CACHE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(CACHE_KINDS)}, not {kind!r}")


_SHARD = re.compile(r"[0-9a-f]{2}")


def cache_entries(kind):
    """The entries of ``kind`` in the cache, as paths, sorted.

    Entries stored by :func:`store` and :func:`entry` sit in two-character shard folders
    (``kind/ab/abcd...``); other kinds keep theirs directly in the kind's folder. Folders
    whose names start with a dot are entries being written, and are not listed.

    Raises
    ------
    ValueError
        If ``kind`` is not one of :data:`CACHE_KINDS`.
    """
    _check_kind(kind)
    folder = cache_dir() / kind
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        if child.name.startswith("."):
            continue
        if _SHARD.fullmatch(child.name) and child.is_dir() and not child.is_symlink():
            found += [path for path in child.iterdir() if not path.name.startswith(".")]
        else:
            found.append(child)
    return sorted(found)


def _size(path):
    if path.is_symlink() or not path.is_dir():
        return path.lstat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):   # removed meanwhile by a concurrent run
                total += Path(folder, name).lstat().st_size
    return total


def _kind_info(kind):
    entries = cache_entries(kind)
    folder = cache_dir() / kind
    times = []
    for path in entries:
        with contextlib.suppress(OSError):
            times.append(path.lstat().st_mtime)
    oldest = datetime.fromtimestamp(min(times), UTC) if times else None
    newest = datetime.fromtimestamp(max(times), UTC) if times else None
    size = _size(folder) if folder.exists() else 0
    return KindInfo(kind, len(entries), size, oldest, newest)


def cache_info(kind=None):
    """What the cache holds: entries, bytes and ages per kind (one ``kind`` when given).

    Raises
    ------
    ValueError
        If ``kind`` is not one of :data:`CACHE_KINDS`.
    """
    if kind is not None:
        _check_kind(kind)
    kinds = CACHE_KINDS if kind is None else (kind,)
    return CacheInfo(cache_dir(), tuple(_kind_info(name) for name in kinds))


def clear_cache(kind=None):
    """Delete every cache entry (of one ``kind`` when given); returns what was removed.

    Only the folders of :data:`CACHE_KINDS` are deleted, so a cache folder pointed at a
    folder that also holds other files leaves those alone.

    Raises
    ------
    ValueError
        If ``kind`` is not one of :data:`CACHE_KINDS`.
    """
    removed = cache_info(kind)
    for name in (info.kind for info in removed.kinds):
        shutil.rmtree(removed.folder / name, ignore_errors=True)
    return removed
