"""MacroSpec: validation, derived facts, names and the TOML round trip."""

import pytest
from amaranth.back import rtlil
from amaranth.lib import wiring

from dcim.arith import MULTIPLIER_KINDS, CompressorAssignment, MultiplierSpec
from dcim.eda.verilog import is_verilog_identifier
from dcim.macro import DCiMMacro, MacroSpec


def test_defaults():
    spec = MacroSpec(rows=64, mult="log")
    assert spec.mult == MultiplierSpec(width=8, signed=True, kind="log")
    assert (spec.cols, spec.weight_bits, spec.act_bits, spec.signed) == (8, 8, 8, True)
    assert (spec.datapath, spec.col_mux, spec.tree, spec.assignment) == (
        "multiplier", 1, "dadda", None)
    assert spec.name == "dcim_r64c8_w8a8s_mul8s_log"
    assert spec.out_width == spec.acc_width == 16 + 6 + 8
    assert spec.latency == 3 and spec.interval == 1
    assert spec.throughput == 64 * 8


def test_component_signature():
    macro = DCiMMacro(rows=4, cols=2, weight_bits=3, act_bits=5, signed=False)
    members = dict(macro.signature.members)
    assert set(members) == {"write", "act", "result", "busy"}
    assert members["write"].flow == wiring.In and members["act"].flow == wiring.In
    assert members["result"].flow == wiring.Out and members["busy"].flow == wiring.Out
    assert macro.act.payload.shape() == macro.spec.act_layout
    assert macro.result.payload.shape() == macro.spec.result_layout
    assert macro.spec.write_layout["addr"].width == 2
    assert macro.spec.write_layout["mask"].width == 2
    assert macro.spec.act_layout.size == 4 * 5 + 2
    assert macro.spec.result_layout.size == 2 * macro.out_width
    assert (macro.rows, macro.cols, macro.name) == (4, 2, macro.spec.name)
    assert (macro.latency, macro.interval, macro.throughput) == (3, 1, 8)
    rtlil.convert(macro)
    twin = macro.spec.component()
    assert isinstance(twin, DCiMMacro) and twin.spec == macro.spec and twin is not macro
    assert rtlil.convert(twin) == rtlil.convert(DCiMMacro(spec=macro.spec))


@pytest.mark.parametrize("datapath, col_mux, interval", [
    ("multiplier", 1, 1), ("multiplier", 4, 4), ("bitserial", 1, 6), ("bitserial", 2, 12)])
def test_timing_facts(datapath, col_mux, interval):
    spec = MacroSpec(rows=16, cols=8, weight_bits=4, act_bits=6, datapath=datapath,
                     col_mux=col_mux)
    assert spec.interval == interval
    assert spec.latency == interval + 2
    assert spec.throughput == 16 * 8 / interval
    assert spec.lanes == 8 // col_mux


def test_widths():
    spec = MacroSpec(rows=64, weight_bits=4, act_bits=8, signed=False)
    assert spec.mult.width == 8 and spec.product_width == 16
    assert spec.tree_width == 16 + 6 == spec.dot_width
    bitserial = MacroSpec(rows=100, weight_bits=4, act_bits=8, datapath="bitserial")
    assert bitserial.product_width == 4 and bitserial.tree_width == 4 + 7
    assert bitserial.dot_width == 4 + 7 + 8
    assert MacroSpec(rows=1, weight_bits=1, act_bits=1).mult.width == 2


def test_tree_heights_include_sign_constants():
    unsigned = MacroSpec(rows=4, weight_bits=3, act_bits=3, signed=False)
    assert unsigned.tree_heights == (4,) * 6 + (0, 0)
    signed = MacroSpec(rows=4, weight_bits=3, act_bits=3, signed=True)
    # -4 * 2**5 modulo 2**8 is 128: one constant bit in column 7.
    assert signed.tree_heights == (4,) * 6 + (0, 1)


@pytest.mark.parametrize("spec", [
    MacroSpec(),
    MacroSpec(rows=64, mult="log", col_mux=2, tree="wallace", acc_width=40),
    MacroSpec(rows=8, cols=3, weight_bits=4, act_bits=2, signed=False, datapath="bitserial",
              assignment=CompressorAssignment.uniform("acci1", 3)),
    MacroSpec(rows=5, weight_bits=6, act_bits=5,
              mult=MultiplierSpec(width=6, signed=True, kind="approx",
                                  options={"compressor": "kong2", "columns": 4})),
])
def test_toml_round_trip(spec):
    text = spec.to_toml()
    assert text.startswith("[macro]")
    assert MacroSpec.from_toml(text) == spec
    assert MacroSpec.from_dict(spec.to_dict()) == spec
    assert is_verilog_identifier(spec.name)


def test_toml_file(tmp_path):
    spec = MacroSpec(rows=32, mult="mitchell", datapath="multiplier")
    path = tmp_path / "macro.toml"
    spec.to_toml(path)
    assert MacroSpec.from_toml(str(path)) == spec


def test_mult_as_table():
    spec = MacroSpec(weight_bits=6, act_bits=6, mult={"kind": "drum", "options": {"k": 4}})
    assert spec.mult == MultiplierSpec(width=6, signed=True, kind="drum", options={"k": 4})


def test_names_are_distinct():
    specs = [MacroSpec(), MacroSpec(mult="log"), MacroSpec(datapath="bitserial"),
             MacroSpec(col_mux=2), MacroSpec(signed=False), MacroSpec(tree="wallace"),
             MacroSpec(acc_width=48), MacroSpec(assignment=CompressorAssignment.uniform("ha", 4)),
             MacroSpec(rows=32), MacroSpec(cols=4), MacroSpec(weight_bits=4)]
    names = [spec.name for spec in specs]
    assert len(set(names)) == len(names)
    assert all(is_verilog_identifier(name) for name in names)


def test_replace_rederives():
    spec = MacroSpec(rows=8)
    wider = spec.replace(weight_bits=12)
    assert wider.mult.width == 12 and wider.acc_width == wider.dot_width + 8
    # At width 3 no 4:2 compressor fits: the default approx options read columns=0 there.
    narrow = MacroSpec(rows=8, weight_bits=3, act_bits=3, mult="approx")
    assert narrow.replace(weight_bits=8).mult == MultiplierSpec(8, True, "approx")


def test_spec_and_parameters_exclusive():
    with pytest.raises(TypeError, match="either spec or keyword parameters"):
        DCiMMacro(spec=MacroSpec(), rows=4)
    with pytest.raises(TypeError, match="spec must be a MacroSpec"):
        DCiMMacro(spec="rows=4")


@pytest.mark.parametrize("parameters, error, message", [
    ({"rows": 0}, ValueError, r"rows must be from 1 to 1024, not 0"),
    ({"rows": 1025}, ValueError, r"rows must be from 1 to 1024, not 1025"),
    ({"rows": 4.0}, TypeError, r"rows must be an int, not 4.0"),
    ({"cols": 0}, ValueError, r"cols must be from 1 to 4096, not 0"),
    ({"weight_bits": 33}, ValueError, r"weight_bits must be from 1 to 32, not 33"),
    ({"act_bits": 40}, ValueError, r"act_bits must be from 1 to 32, not 40"),
    ({"act_bits": 0}, ValueError, r"act_bits must be from 1 to 32, not 0"),
    ({"signed": 1}, TypeError, r"signed must be a bool, not 1"),
    ({"mult": "wallace"}, ValueError, r"mult must be a MultiplierSpec or one of .*exact.*"
                                      r"not 'wallace'"),
    ({"mult": 3}, TypeError, r"mult must be a kind name, a dict or a MultiplierSpec, not 3"),
    ({"mult": MultiplierSpec(8, signed=False)}, ValueError,
     r"mult.signed must equal signed \(True\), not False"),
    ({"mult": MultiplierSpec(4, signed=True)}, ValueError,
     r"mult.width must be at least max\(weight_bits, act_bits\) = 8, not 4"),
    ({"datapath": "analog"}, ValueError, r"datapath must be one of .*, not 'analog'"),
    ({"datapath": "bitserial", "mult": "log"}, ValueError,
     r"mult must be of kind 'exact' for datapath 'bitserial'.* not 'log'"),
    ({"cols": 6, "col_mux": 4}, ValueError, r"col_mux must divide cols \(6\), not 4"),
    ({"col_mux": 0}, ValueError, r"col_mux must be from 1 to 8, not 0"),
    ({"tree": "array"}, ValueError, r"tree must be one of .*, not 'array'"),
    ({"assignment": "acci1"}, TypeError, r"assignment must be a CompressorAssignment"),
    ({"assignment": CompressorAssignment.uniform("acci1", [40])}, ValueError,
     r"assignment names column 40, beyond the 22 columns of the adder tree"),
    ({"acc_width": 10}, ValueError, r"acc_width must be at least dot_width = 22 .* not 10"),
    ({"acc_width": 300}, ValueError, r"acc_width must be .* at most 256, not 300"),
    ({"pipeline": -1}, ValueError, r"pipeline must be from 0 to 64, not -1"),
    ({"pipeline": 65}, ValueError, r"pipeline must be from 0 to 64, not 65"),
    ({"pipeline": 2.0}, TypeError, r"pipeline must be an int, not 2.0"),
    ({"pipeline": True}, TypeError, r"pipeline must be an int, not True"),
])
def test_invalid_parameters(parameters, error, message):
    with pytest.raises(error, match=message):
        MacroSpec(**parameters)
    with pytest.raises(error, match=message):
        DCiMMacro(**parameters)   # raises before a component exists: nothing left unused


def test_unknown_keys():
    with pytest.raises(ValueError, match=r"unknown keys \['depth'\]"):
        MacroSpec.from_dict({"rows": 4, "depth": 3})
    with pytest.raises(ValueError, match=r"has no \[macro\] table"):
        MacroSpec.from_toml("[multiplier]\nwidth = 4\n")


def test_every_registered_kind_is_accepted():
    for kind in sorted(MULTIPLIER_KINDS):
        assert MacroSpec(mult=kind).mult.kind == kind


def test_describe():
    facts = MacroSpec(rows=16, datapath="bitserial").describe()
    assert facts["macs_per_cycle"] == 16 * 8 / 8
    assert facts["latency"] == 10
    assert "full_adder" in facts["tree_compressors"]


def test_numpy_integers_are_stored_as_plain_ints():
    import numpy as np

    spec = MacroSpec(rows=np.int64(16), cols=np.uint8(4), weight_bits=np.int32(4),
                     act_bits=np.int16(6), signed=np.bool_(False), col_mux=np.int64(2),
                     acc_width=np.uint16(40))
    plain = MacroSpec(rows=16, cols=4, weight_bits=4, act_bits=6, signed=False, col_mux=2,
                      acc_width=40)
    assert spec == plain and hash(spec) == hash(plain) and spec.name == plain.name
    for field in ("rows", "cols", "weight_bits", "act_bits", "col_mux", "acc_width"):
        assert type(getattr(spec, field)) is int, field
    assert type(spec.signed) is bool
    with pytest.raises(TypeError, match=r"rows must be an int, not np.float64\(4.0\)"):
        MacroSpec(rows=np.float64(4))
    with pytest.raises(TypeError, match=r"acc_width must be an int or None, not np.True_"):
        MacroSpec(acc_width=np.True_)


@pytest.mark.parametrize("text, error, message", [
    ("[macro]\nrows = '4'", TypeError, r"rows must be an int, not '4'"),
    ("[macro]\nmult = 5", TypeError, r"mult must be a kind name, a dict or a MultiplierSpec"),
    ("[macro]\nmult = ['log']", TypeError, r"mult must be .*, not \['log'\]"),
    ("[macro]\ndatapath = ['bitserial']", ValueError, r"datapath must be one of .*\['bitser"),
    ("[macro]\ntree = {}", ValueError, r"tree must be one of .*, not \{\}"),
    ("[macro]\nassignment = 5", TypeError, r"assignment must be a CompressorAssignment"),
    ("[macro]\n[macro.mult]\nkind = 'drum'\noptions = 5", TypeError,
     r"multiplier options must be a table, not 5"),
    ("[macro]\n[macro.mult]\nkind = 'drum'\n[macro.mult.options]\nk = '4'", TypeError,
     r"k must be an int, not '4'"),
    ("[macro]\n[macro.assignment]\ncolumns = 5", TypeError,
     r"compressor assignment columns must be a table, not 5"),
    ("[macro]\n[macro.assignment.columns]\n' 3' = 'acci1'", ValueError,
     r"compressor assignment column must be an integer, not ' 3'"),
    ("[macro]\n[macro.assignment.columns]\n'3_0' = 'acci1'", ValueError,
     r"column must be an integer, not '3_0'"),
    ("[macro]\n[macro.assignment.columns]\n3 = 'acci1'\n03 = 'ha'", ValueError,
     r"compressor assignment names column 3 twice"),
    ("macro = 5", ValueError, r"macro in TOML text must be a table, not 5"),
    ("[macro]\nrows = 4\n[multiplier]\nwidth = 4", ValueError,
     r"TOML text holds \[macro\] and also 'multiplier'"),
])
def test_bad_toml_names_the_key(text, error, message):
    with pytest.raises(error, match=message):
        MacroSpec.from_toml(text)


def test_assignment_must_place_what_it_names():
    override = CompressorAssignment(overrides={(99, 0): "acci1"})
    for build in (MacroSpec, DCiMMacro):
        with pytest.raises(ValueError, match=r"assignment override at stage 99, column 0 "
                                             r"\('acci1'\) places nothing: the tree has only "
                                             r"\d+ stages"):
            build(rows=16, assignment=override)
    # Two rows never give a column four bits: the tree stays exact, and so does the name.
    idle = MacroSpec(rows=2, cols=1, assignment=CompressorAssignment.uniform("acci1", 8))
    assert idle.assignment is None and idle == MacroSpec(rows=2, cols=1)
    assert idle.name == MacroSpec(rows=2, cols=1).name


@pytest.mark.parametrize("one, other", [
    # One row: the tree has nothing to reduce, either schedule plans no cell.
    ({"rows": 1}, {"rows": 1, "tree": "wallace"}),
    # A bit-serial macro has no multiplier: whichever exact one it was given.
    ({"datapath": "bitserial"},
     {"datapath": "bitserial", "mult": MultiplierSpec(12, True, options={"tree": "wallace"})}),
    ({"assignment": {"columns": {"3": "acci1"}}},
     {"assignment": {"columns": {"3": "acci1", "4": "full_adder", "19": "acci1"}}}),
    ({}, {"assignment": {"columns": {"4": "full_adder"}}}),
    # Beyond the tree's 6 stages only the terms are registered, whatever the setting.
    ({"pipeline": 7}, {"pipeline": 64}),
])
def test_equal_circuits_have_one_spec_and_one_name(one, other):
    one, other = MacroSpec(**{"rows": 16, **one}), MacroSpec(**{"rows": 16, **other})
    assert one == other and hash(one) == hash(other) and one.name == other.name
    assert MacroSpec.from_toml(other.to_toml()) == one


def test_wallace_stays_where_it_plans_otherwise():
    assert MacroSpec(rows=16, tree="wallace").tree == "wallace"


def test_errors_of_the_derived_multiplier_say_they_come_from_mult():
    # The width is derived from weight_bits and act_bits: "k must be at most width" alone
    # named no parameter of the macro.
    with pytest.raises(ValueError, match=r"^mult: k must be at most width = 2, not 6$"):
        MacroSpec(weight_bits=2, act_bits=2, mult="drum")
    with pytest.raises(ValueError, match=r"^mult: options \['x'\] are unknown"):
        MacroSpec(mult={"kind": "log", "options": {"x": 1}})


def test_replace_keeps_a_multiplier_whose_kind_has_no_default_at_that_width():
    from dcim.arith import MultiplierSpec

    drum = MultiplierSpec(width=2, signed=True, kind="drum", options={"k": 2})
    spec = MacroSpec(rows=2, cols=1, weight_bits=2, act_bits=2, mult=drum)
    assert spec.replace(rows=4).mult == drum


def test_a_macro_used_only_for_its_model_is_not_reported_unused():
    import gc
    import warnings

    from dcim.macro import DCiMMacro

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        macro = DCiMMacro(rows=2, cols=1, weight_bits=2, act_bits=2)
        assert macro.model([[1], [1]], [[1, 1]]).tolist() == [[2]]
        del macro
        gc.collect()


@pytest.mark.parametrize("datapath", ["multiplier", "bitserial"])
def test_pipeline_registers_and_latency(datapath):
    """Registers after the terms and after every k-th tree stage; the latency grows by them."""
    base = MacroSpec(rows=64, datapath=datapath, col_mux=2)
    stages = base.tree_plan.stages
    assert (base.pipeline, base.register_stages, base.lane_latency) == (0, (), 0)
    for k in range(1, stages + 2):
        spec = base.replace(pipeline=k)
        assert spec.register_stages == tuple(range(k - 1, stages, k))
        assert spec.lane_latency == 1 + stages // k
        assert spec.latency == base.latency + spec.lane_latency
        assert (spec.interval, spec.throughput) == (base.interval, base.throughput)
        assert spec.name == f"{base.name}_p{k}"
        assert spec.describe()["pipeline"] == k
        assert MacroSpec.from_toml(spec.to_toml()) == spec
        macro = DCiMMacro(spec=spec)
        assert (macro.spec, macro.latency) == (spec, spec.latency)
    assert MacroSpec(rows=64, pipeline=3).register_stages == (2, 5, 8)


def test_a_combinational_macro_keeps_its_name_and_description():
    spec = MacroSpec(rows=16, pipeline=0)
    assert spec == MacroSpec(rows=16) and spec.name == "dcim_r16c8_w8a8s_mul8s_exact"
    assert "pipeline" not in spec.to_dict()
    assert MacroSpec(rows=16, pipeline=2).to_dict()["pipeline"] == 2
