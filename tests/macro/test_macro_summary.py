import pytest

from dcim.macro import MacroSpec
from dcim.macro.summary import summarize_macro


def test_facts_come_from_the_spec_without_synthesis():
    spec = MacroSpec(rows=8, cols=4, weight_bits=4, act_bits=4, col_mux=2)
    summary = summarize_macro(spec)
    facts = summary.facts
    assert facts["name"] == spec.name
    assert (facts["rows"], facts["cols"], facts["lanes"]) == (8, 4, 2)
    assert facts["interval"] == 2 and facts["latency"] == 4
    assert facts["macs_per_cycle"] == 8 * 4 / 2
    assert facts["tree_width"] == spec.tree_width == 8 + 3
    assert facts["tree_max_height"] == max(spec.tree_heights)
    assert facts["tree_exact"] is True
    assert summary.ppa is None and summary.area_split == {}
    assert "ppa" not in summary.as_dict()


def test_bitserial_macros_name_no_multiplier():
    spec = MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=4, datapath="bitserial")
    facts = summarize_macro(spec).facts
    assert facts["mult"] is None
    assert facts["interval"] == 4 and facts["dot_width"] == spec.dot_width


def test_summary_rejects_what_is_not_a_macro_spec():
    with pytest.raises(TypeError, match="spec must be a MacroSpec, not 'rows=4'"):
        summarize_macro("rows=4")


def test_summary_refuses_a_report_of_another_design():
    class Report:
        design = "mul8u_exact"

    with pytest.raises(ValueError, match="ppa_report is for 'mul8u_exact', not for 'dcim_r4"):
        summarize_macro(MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=4),
                        ppa_report=Report())
