"""Every file in designs/ loads, builds and passes its checks."""

from pathlib import Path

import pytest

from dcim.arith import MultiplierSpec
from dcim.flow.design import load_design
from dcim.verify.netlist import check_exhaustive

DESIGNS = sorted((Path(__file__).resolve().parent.parent / "designs").glob("*.toml"))


def test_there_are_designs():
    assert len(DESIGNS) >= 4


@pytest.mark.parametrize("path", [p for p in DESIGNS if "[multiplier]" in p.read_text()],
                         ids=lambda p: p.stem)
def test_multiplier_design_is_verified_exhaustively(path):
    spec = load_design(path)
    assert isinstance(spec, MultiplierSpec)
    assert MultiplierSpec.from_toml(spec.to_toml()) == spec
    report = check_exhaustive(spec)
    assert report.exhaustive
    report.raise_for_mismatch()
    metrics = spec.metrics()
    assert metrics.is_exact == (spec.kind == "exact")
