"""The on-disk cache of flow results.

Synthesis, timing and power results are stored as JSON under a key that is the SHA-256 of
everything that determines them: the design's stable name (or a hash of its Verilog), the
PDK and corner, the hash of the Liberty file, the clock, the analysis options, the tool
versions and :data:`FLOW_VERSION`. A repeated run, or a design-space search that meets a
design again, reads the result instead of running the tools. Each entry is a folder holding
``result.json`` and whatever files the step produced (netlists, logs).

The cache lives in ``$DCIM_CACHE_DIR``, or ``~/.cache/dcim`` when that is not set. Deleting
the folder is always safe.
"""

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["FLOW_VERSION", "cache_dir", "cache_key", "clear_cache", "entry", "load", "store"]

FLOW_VERSION = "1"
"""Changes whenever the flow's scripts or report formats change, so old entries are ignored."""


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


def entry(kind, key):
    """The folder of cache entry ``key`` of ``kind`` (``"synth"``, ``"timing"``, ...)."""
    return cache_dir() / kind / key[:2] / key


def load(kind, key):
    """The stored result of entry ``key``, or ``None`` if there is none (or it is damaged)."""
    path = entry(kind, key) / "result.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def store(kind, key, result, files=None):
    """Store ``result`` (JSON-serialisable) and ``files`` (``{name: path}``) under ``key``.

    The entry is written to a temporary folder and renamed into place, so concurrent runs
    never see half an entry. Returns the entry's folder.
    """
    final = entry(kind, key)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key[:8]}-", dir=final.parent))
    for name, source in (files or {}).items():
        shutil.copyfile(source, staging / name)
    (staging / "result.json").write_text(json.dumps(result, indent=1, default=str))
    if final.exists():
        shutil.rmtree(final, ignore_errors=True)
    try:
        staging.rename(final)
    except OSError:
        # Another process stored the same entry first; its result is equally valid.
        shutil.rmtree(staging, ignore_errors=True)
    return final


def clear_cache(kind=None):
    """Delete every cache entry (of one ``kind`` when given)."""
    folder = cache_dir() if kind is None else cache_dir() / kind
    shutil.rmtree(folder, ignore_errors=True)
