"""Every file in designs/ loads, builds and passes its checks."""

from pathlib import Path

import numpy as np
import pytest

from dcim.arith import MultiplierSpec
from dcim.flow.design import load_design
from dcim.macro import DCiMMacro, MacroSpec, simulate
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


@pytest.mark.parametrize("path", [p for p in DESIGNS if "[macro]" in p.read_text()],
                         ids=lambda p: p.stem)
def test_macro_design_is_built_and_simulated_against_its_model(path):
    spec = load_design(path)
    assert isinstance(spec, MacroSpec)
    assert MacroSpec.from_toml(spec.to_toml()) == spec
    macro = DCiMMacro(spec=spec)
    rng = np.random.default_rng(len(spec.name))
    if spec.signed:
        low, high = -(1 << (spec.weight_bits - 1)), (1 << (spec.weight_bits - 1)) - 1
        act_low, act_high = -(1 << (spec.act_bits - 1)), (1 << (spec.act_bits - 1)) - 1
    else:
        low, high, act_low, act_high = 0, (1 << spec.weight_bits) - 1, 0, (1 << spec.act_bits) - 1
    weights = rng.integers(low, high + 1, (spec.rows, spec.cols))
    activations = rng.integers(act_low, act_high + 1, (12, spec.rows))
    run = simulate(macro, weights, activations)
    assert np.array_equal(run.results, macro.model(weights, activations))
    if spec.mult.kind == "exact" and spec.assignment is None:
        assert np.array_equal(run.results, activations @ weights)


def test_mixed_design_override_places_a_full_adder():
    # It once named stage 3 of column 9, which holds only a half adder: a new name, the same
    # circuit.
    import dataclasses

    from dcim.arith import CompressorAssignment
    from dcim.arith.tree_multiplier import tree_plan

    spec = load_design(DESIGNS[0].parent / "mul8u_approx_mixed.toml")
    (stage, column), name = spec.options.assignment.overrides[0]
    without = dataclasses.replace(spec, options=dataclasses.replace(
        spec.options, assignment=CompressorAssignment(spec.options.assignment.columns)))

    def held(plan):
        return [c.compressor for c in plan.cells if (c.stage, c.column) == (stage, column)]

    assert name == "full_adder" and name in held(tree_plan(spec))
    assert "acci1" in held(tree_plan(without)) and "acci1" not in held(tree_plan(spec))
