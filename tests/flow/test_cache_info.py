"""Listing, measuring and clearing the cache (the keying is tested with the flow steps)."""

import os
from datetime import UTC, datetime

import pytest

from dcim.eda import cache


@pytest.fixture
def folder(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DCIM_CACHE_DIR", str(folder))
    return folder


def _entry(folder, kind, key, text):
    # Laid out as cache.store lays entries out, without depending on how keys are made.
    path = folder / kind / key[:2] / key
    path.mkdir(parents=True)
    (path / "result.json").write_text(text)
    return path


def _fill(folder):
    """Two synth entries, one timing entry, a compiled simulator and a half-written entry."""
    first = _entry(folder, "synth", "aa" + "0" * 62, '{"area": 1.0}')
    second = _entry(folder, "synth", "bb" + "1" * 62, '{"area": 2.0}')
    _entry(folder, "timing", "aa" + "2" * 62, '{"slack": 0.5}')
    simulator = folder / "macro-sim" / "dcim_r4c2-iverilog-0123"
    simulator.mkdir(parents=True)
    (simulator / "simulator.vvp").write_bytes(b"x" * 1000)
    staging = folder / "synth" / "aa" / ".aa000000-tmp"
    staging.mkdir()
    (staging / "result.json").write_bytes(b"y" * 10)
    os.utime(first, (1_700_000_000, 1_700_000_000))
    os.utime(second, (1_800_000_000, 1_800_000_000))
    return first, second


def _bytes(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def test_an_empty_cache_has_every_kind_with_nothing(folder):
    info = cache.cache_info()
    assert info.folder == folder
    assert [kind.kind for kind in info.kinds] == list(cache.CACHE_KINDS)
    assert info.entries == 0 and info.bytes == 0
    assert info.oldest is None and info.newest is None
    assert info.as_dict()["oldest"] is None


def test_info_counts_entries_sizes_and_ages_per_kind(folder):
    first, second = _fill(folder)
    info = cache.cache_info()
    kinds = {kind.kind: kind for kind in info.kinds}
    assert kinds["synth"].entries == 2          # the half-written entry is not one
    assert kinds["synth"].bytes == _bytes(folder / "synth")
    assert kinds["timing"].entries == 1 and kinds["macro-sim"].entries == 1
    assert kinds["macro-sim"].bytes == 1000
    assert kinds["power"].entries == 0 and kinds["power"].oldest is None
    assert info.entries == 4 and info.bytes == _bytes(folder)
    assert kinds["synth"].oldest == datetime.fromtimestamp(1_700_000_000, UTC)
    assert kinds["synth"].newest == datetime.fromtimestamp(1_800_000_000, UTC)
    assert info.oldest == kinds["synth"].oldest
    assert cache.cache_entries("synth") == sorted([first, second])
    assert info.as_dict()["kinds"][0] == {
        "kind": "synth", "entries": 2, "bytes": kinds["synth"].bytes,
        "oldest": "2023-11-14T22:13:20+00:00", "newest": "2027-01-15T08:00:00+00:00"}


def test_clear_one_kind_removes_only_that_kind(folder):
    _fill(folder)
    removed = cache.clear_cache("synth")
    assert [kind.kind for kind in removed.kinds] == ["synth"] and removed.entries == 2
    assert not (folder / "synth").exists()
    assert cache.cache_info().entries == 2      # timing and macro-sim are kept
    assert (folder / "timing" / "aa" / ("aa" + "2" * 62) / "result.json").is_file()


def test_clear_everything_leaves_what_is_not_dcims(folder):
    _fill(folder)
    (folder / "notes.txt").write_text("mine")
    (folder / "data").mkdir()
    removed = cache.clear_cache()
    assert removed.entries == 4
    assert cache.cache_info().entries == 0
    assert (folder / "notes.txt").read_text() == "mine" and (folder / "data").is_dir()


@pytest.mark.parametrize("kind", ["bogus", "..", "../outside", "synth/aa", ""])
def test_unknown_kinds_are_refused_naming_the_choices(folder, kind):
    outside = folder.parent / "outside"
    outside.mkdir()
    message = ("kind must be one of synth, timing, power, liberty, macro-sim, nn-model, nn-check, "
               "spice-sizing, verilog, cell-char, bit-failure, bitcell-char, failed, "
               f"not {kind!r}")
    for function in (cache.clear_cache, cache.cache_info, cache.cache_entries):
        with pytest.raises(ValueError, match=message.replace(".", r"\.")):
            function(kind)
    assert outside.is_dir()
