import numpy as np
import pytest
from amaranth.sim import Simulator
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dcim.arith import MULTIPLIER_KINDS, ExactOptions, MultiplierSpec
from dcim.arith.compressor import APPROXIMATE_42


def simulate(spec, a_values, b_values):
    """Products of the Amaranth simulation of ``spec.component()``."""
    dut = spec.component()
    results = []

    async def testbench(ctx):
        for a, b in zip(a_values, b_values, strict=True):
            ctx.set(dut.a, int(a))
            ctx.set(dut.b, int(b))
            results.append(ctx.get(dut.p))

    sim = Simulator(dut)
    sim.add_testbench(testbench)
    sim.run()
    return np.array(results, dtype=np.int64)


tree_options = st.fixed_dictionaries({
    "partial_products": st.sampled_from(["array", "booth4"]),
    "tree": st.sampled_from(["dadda", "wallace"]),
    "final_adder": st.sampled_from(["behavioral", "ripple"]),
})


@st.composite
def tree_specs(draw):
    width = draw(st.integers(2, 10))
    options = draw(tree_options)
    kind = draw(st.sampled_from(["exact", "approx"]))
    if kind == "approx":
        options["compressor"] = draw(st.sampled_from(APPROXIMATE_42 + ("exact42",)))
        options["columns"] = draw(st.integers(0, 2 * width))
        options["truncate"] = draw(st.integers(0, width))
        options["or_low"] = draw(st.integers(0, width))
    return MultiplierSpec(width, draw(st.booleans()), kind, options)


@settings(max_examples=40, deadline=None)
@given(spec=tree_specs(), data=st.data())
def test_tree_hardware_equals_model(spec, data):
    low, high = spec.operand_range
    operands = st.lists(st.integers(low, high), min_size=1, max_size=24)
    a = np.array(data.draw(operands) + [low, high, 0, high])
    b = np.array(data.draw(operands, label="b")[:1] * len(a))
    b[:4] = [low, high, high, 0]
    assert np.array_equal(simulate(spec, a, b), spec.model(a, b))


@settings(max_examples=20, deadline=None)
@given(width=st.integers(2, 16), is_signed=st.booleans(), options=tree_options,
       a=st.integers(-(2**15), 2**16 - 1), b=st.integers(-(2**15), 2**16 - 1))
@example(width=16, is_signed=True, options={"partial_products": "booth4", "tree": "dadda",
                                            "final_adder": "behavioral"}, a=-(2**15), b=-(2**15))
def test_exact_hardware_equals_product(width, is_signed, options, a, b):
    spec = MultiplierSpec(width, is_signed, "exact", options)
    low, high = spec.operand_range
    a, b = min(max(a, low), high), min(max(b, low), high)
    assert simulate(spec, [a, low, high], [b, high, low]).tolist() == [a * b, low * high,
                                                                     high * low]


def test_name_is_stable_and_readable():
    assert MultiplierSpec(8).name == "mul8u_exact"
    assert MultiplierSpec(8, True, options={"partial_products": "booth4"}).name == \
        "mul8s_exact_booth4"
    assert MultiplierSpec(8, kind="approx").name == "mul8u_approx_acci1xw"
    spec = MultiplierSpec(8, kind="approx", options={"compressor": "ha", "columns": 6,
                                                     "truncate": 2})
    assert spec.name == "mul8u_approx_hax6_trunc2"
    assert spec.name.isidentifier()


def test_specs_are_hashable_and_compare_by_value():
    one = MultiplierSpec(8, kind="approx", options={"compressor": "ha"})
    two = MultiplierSpec(8, kind="approx", options={"compressor": "ha"})
    assert one == two and hash(one) == hash(two)
    assert len({one, two, MultiplierSpec(8)}) == 2


@pytest.mark.parametrize("spec", [
    MultiplierSpec(8),
    MultiplierSpec(6, True, "exact", ExactOptions(tree="wallace")),
    MultiplierSpec(8, kind="approx", options={"assignment": {"columns": {"3": "kong2"}},
                                              "or_low": 2}),
])
def test_toml_round_trip(spec, tmp_path):
    path = tmp_path / "design.toml"
    spec.to_toml(path)
    assert MultiplierSpec.from_toml(path) == spec
    assert MultiplierSpec.from_toml(spec.to_toml()) == spec


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"width": 1}, ValueError, "width must be 2 to 32, not 1"),
    ({"width": 33}, ValueError, "width must be 2 to 32, not 33"),
    ({"width": 8.0}, TypeError, "width must be an int, not 8.0"),
    ({"width": True}, TypeError, "width must be an int, not True"),
    ({"width": 8, "signed": 1}, TypeError, "signed must be a bool, not 1"),
    ({"width": 8, "kind": "nonesuch"}, ValueError, "kind must be one of .*not 'nonesuch'"),
    ({"width": 8, "options": {"tre": "dadda"}}, ValueError, r"options \['tre'\] are unknown"),
    ({"width": 8, "options": {"tree": "oak"}}, ValueError, "tree must be one of .*not 'oak'"),
    ({"width": 8, "options": 3}, TypeError, "options for kind 'exact' must be a dict"),
    ({"width": 8, "kind": "approx", "options": {"truncate": 17}}, ValueError,
     "truncate must be at most 2.width = 16, not 17"),
    ({"width": 8, "kind": "approx", "options": {"truncate": -1}}, ValueError,
     "truncate must be a non-negative int, not -1"),
    ({"width": 8, "kind": "approx", "options": {"compressor": "zz"}}, ValueError,
     "compressor must be one of .*not 'zz'"),
])
def test_invalid_parameters_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        MultiplierSpec(**kwargs)


@pytest.mark.parametrize("compressor", ["half_adder", "nonesuch", 5, ["acci1"]])
def test_approx_compressor_must_replace_a_full_adder(compressor):
    # half_adder used to pass the options and fail only in model().
    with pytest.raises(ValueError, match=r"compressor must be one of acci1, akbar1, .*exact42, "
                                         r"full_adder, .*replace a full adder\), not "):
        MultiplierSpec(8, kind="approx", options={"compressor": compressor})
    with pytest.raises(ValueError, match="half_adder") as error:
        MultiplierSpec(8, kind="approx", options={"compressor": "half_adder"})
    assert "half_adder," not in str(error.value)


def test_model_checks_operands():
    spec = MultiplierSpec(4, signed=True)
    with pytest.raises(ValueError, match=r"operand a must lie in \[-8, 7\] for mul4s_exact, "
                                         "not 8"):
        spec.model([8], [1])
    with pytest.raises(TypeError, match="operand b must hold integers"):
        spec.model([1], [0.5])
    assert spec.model(np.array([[-8]]), np.array([[-8]])).tolist() == [[64]]


def test_unsigned_32_bit_products_use_all_64_bits():
    spec = MultiplierSpec(32)
    top = 2**32 - 1
    assert int(spec.model([top], [top])[0]) == top * top
    signed_spec = MultiplierSpec(32, True)
    assert int(signed_spec.model([-(2**31)], [-(2**31)])[0]) == 2**62


_option_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 70),
                           st.sampled_from(["array", "booth4", "dadda", "wallace", "ripple",
                                            "acci1", "exact42", "zz", ""]),
                           st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=300, deadline=None)
@given(width=st.one_of(st.integers(-2, 40), st.booleans(), st.floats(), st.text(max_size=2)),
       is_signed=st.one_of(st.booleans(), st.integers(0, 1), st.none()),
       kind=st.one_of(st.sampled_from(sorted(MULTIPLIER_KINDS)), st.text(max_size=6)),
       options=st.one_of(st.none(), st.dictionaries(
           st.sampled_from(["partial_products", "tree", "final_adder", "compressor",
                            "columns", "truncate", "or_low", "k", "bogus"]),
           _option_values, max_size=3)))
def test_random_parameters_build_a_working_design_or_fail_clearly(width, is_signed, kind,
                                                                  options):
    try:
        spec = MultiplierSpec(width=width, signed=is_signed, kind=kind, options=options)
    except (ValueError, TypeError) as error:
        message = str(error)
        assert any(word in message for word in
                   ["width", "signed", "kind", "options", "partial_products", "tree",
                    "final_adder", "compressor", "columns", "truncate", "or_low", "k"]), message
        return
    low, high = spec.operand_range
    rng = np.random.default_rng(0)
    a, b = rng.integers(low, high + 1, 64), rng.integers(low, high + 1, 64)
    product = spec.model(a, b)
    assert product.shape == (64,)
    assert spec.name.isidentifier()
    if spec.kind == "exact":
        assert np.array_equal(product, a * b)


@pytest.mark.parametrize(("a", "b", "message"), [
    (2**70, 1, r"operand a must lie in \[0, 255\] for mul8u_exact, not 1180591620717411303424"),
    (1, [1, -(2**70)], r"operand b must lie in \[0, 255\] .*not -1180591620717411303424"),
    ([], [], r"operand a must hold at least one value, not an empty array of shape \(0,\)"),
    ([1], np.zeros((0, 2), int), r"operand b must hold at least one value.* \(0, 2\)"),
    ([1, 2], [1, 2, 3], r"operands a and b must have shapes that broadcast together, "
                        r"not \(2,\) and \(3,\)"),
    (np.ones((2, 3), int), np.ones((2,), int), r"not \(2, 3\) and \(2,\)"),
    ([[1], [1, 2]], 1, r"operand a must be an array of integers, not \[\[1\], \[1, 2\]\]"),
])
def test_model_names_the_bad_operand(a, b, message):
    with pytest.raises(ValueError, match=message):
        MultiplierSpec(8).model(a, b)


def test_model_takes_python_integers_in_object_arrays():
    product = MultiplierSpec(8).model(np.array([3, 255], dtype=object), [2, 255])
    assert product.dtype == np.int64 and product.tolist() == [6, 255 * 255]
    with pytest.raises(TypeError, match=r"operand a must hold integers, not 2.5"):
        MultiplierSpec(8).model(np.array([1, 2.5], dtype=object), 1)


@pytest.mark.parametrize(("kwargs", "plain"), [
    ({"width": np.int64(8), "signed": np.bool_(True)}, {"width": 8, "signed": True}),
    ({"width": np.uint8(8), "kind": "drum", "options": {"k": np.int16(4)}},
     {"width": 8, "kind": "drum", "options": {"k": 4}}),
    ({"width": 8, "kind": "mitchell", "options": {"fraction_bits": np.int8(3)}},
     {"width": 8, "kind": "mitchell", "options": {"fraction_bits": 3}}),
    ({"width": 8, "kind": "approx", "options": {"columns": np.int32(6),
                                                "truncate": np.int64(1),
                                                "or_low": np.uint16(3)}},
     {"width": 8, "kind": "approx", "options": {"columns": 6, "truncate": 1, "or_low": 3}}),
])
def test_numpy_integers_are_stored_as_plain_ints(kwargs, plain):
    spec, expected = MultiplierSpec(**kwargs), MultiplierSpec(**plain)
    assert spec == expected and hash(spec) == hash(expected) and spec.name == expected.name
    assert type(spec.width) is int and type(spec.signed) is bool
    for field in ("k", "fraction_bits", "columns", "truncate", "or_low"):
        assert type(getattr(spec.options, field, 0)) is int


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"width": np.True_}, TypeError, r"width must be an int, not np.True_"),
    ({"width": np.float64(8)}, TypeError, r"width must be an int, not np.float64\(8.0\)"),
    ({"width": 8, "signed": np.int64(1)}, TypeError, r"signed must be a bool, not np.int64"),
    ({"width": 8, "kind": ["log"]}, ValueError, r"kind must be one of .*, not \['log'\]"),
    ({"width": 8, "kind": "drum", "options": {"k": np.float32(4)}}, TypeError,
     r"k must be an int, not np.float32\(4.0\)"),
    ({"width": 8, "kind": "approx", "options": {"columns": 2.0}}, ValueError,
     r"columns must be a non-negative int or None, not 2.0"),
    ({"width": 8, "options": {1: 2, "x": 3}}, ValueError, r"options \['x', 1\] are unknown"),
])
def test_wrong_types_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        MultiplierSpec(**kwargs)


@pytest.mark.parametrize(("text", "error", "message"), [
    ("[multiplier]\nwidth = 8\noptions = 5", TypeError,
     "multiplier options must be a table, not 5"),
    ('[multiplier]\nwidth = "8"', TypeError, "width must be an int, not '8'"),
    ("[multiplier]\nwidth = 8\nkind = 5", ValueError, "kind must be one of .*, not 5"),
    ("[multiplier]\nwidth = 8\nkind = ['log']", ValueError, r"kind must be one of .*\['log'\]"),
    ("[multiplier]\nwidth = 8\nsigned = 'yes'", TypeError, "signed must be a bool, not 'yes'"),
    ("[multiplier]\nwidth = 8\ndepth = 2", ValueError, r"unknown keys \['depth'\]"),
    ("[multiplier]\nsigned = true", ValueError, "needs a width"),
    ("multiplier = 5", ValueError, "multiplier in TOML text must be a table, not 5"),
    ("[multiplier]\nwidth = 8\n[macro]\nrows = 4", ValueError,
     r"TOML text holds \[multiplier\] and also 'macro'"),
    ("[multiplier]\nwidth = 8\n[multiplier.options]\ntree = 5", ValueError,
     "tree must be one of .*not 5"),
    ("[multiplier]\nwidth = 8\nkind = 'drum'\n[multiplier.options]\nk = 4.0", TypeError,
     "k must be an int, not 4.0"),
    ("[multiplier]\nwidth = 8\nkind = 'approx'\n[multiplier.options]\nassignment = 5",
     TypeError, "assignment must be a CompressorAssignment or dict, not 5"),
    ("[multiplier]\nwidth = 8\nkind = 'approx'\n[multiplier.options.assignment]\ncolumns = 5",
     TypeError, "compressor assignment columns must be a table, not 5"),
    ("[multiplier]\nwidth = 8\nkind = 'approx'\n[multiplier.options.assignment]\n"
     "overrides = 5", TypeError, "compressor assignment overrides must be a list of tables"),
    ("width = 8", ValueError, r"TOML text has no \[multiplier\] table"),
    ("[multiplier\nwidth = 8", ValueError, "TOML text is not valid: "),
])
def test_bad_toml_names_the_key(text, error, message):
    with pytest.raises(error, match=message):
        MultiplierSpec.from_toml(text)


def test_approx_assignment_must_place_what_it_names():
    # The override once shipped in designs/mul8u_approx_mixed.toml: that stage of column 9
    # holds only a half adder, yet the override changed the design's name.
    assignment = {"columns": {"8": "acci1", "9": "acci1"},
                  "overrides": [{"stage": 3, "column": 9, "compressor": "full_adder"}]}
    with pytest.raises(ValueError, match=r"override at stage 3, column 9 \('full_adder'\) "
                                         r"places nothing new: .* holds 1 half_adder"):
        MultiplierSpec(8, kind="approx", options={"assignment": assignment})
    assignment["overrides"][0]["stage"] = 999
    with pytest.raises(ValueError, match=r"stage 999, column 9 .* the tree has only 4 stages"):
        MultiplierSpec(8, kind="approx", options={"assignment": assignment})
    assignment["overrides"][0]["stage"] = 2
    spec = MultiplierSpec(8, kind="approx", options={"assignment": assignment})
    assert spec.options.assignment.overrides == (((2, 9), "full_adder"),)


def test_approx_assignment_entries_that_place_nothing_do_not_change_the_name():
    plain = MultiplierSpec(8, kind="approx", options={"assignment": {"columns": {"7": "ha"}}})
    padded = MultiplierSpec(8, kind="approx", options={"assignment": {
        "columns": {"0": "ha", "1": "ha", "7": "ha", "12": "full_adder"}}})
    assert padded == plain and hash(padded) == hash(plain) and padded.name == plain.name
    a = np.arange(256).repeat(256)
    b = np.tile(np.arange(256), 256)
    assert np.array_equal(padded.model(a, b), plain.model(a, b))


def _approx(**options):
    return {"kind": "approx", "options": options}


@pytest.mark.parametrize(("one", "other"), [
    # acci1xw and acci1x8: the default columns=None means width.
    (_approx(), _approx(columns=8)),
    (_approx(compressor="kong2", columns=13), _approx(compressor="kong2", columns=16)),
    # No 4:2 compressor fits in columns 0 to 2 of an 8x8 array: nothing approximate.
    (_approx(columns=0), _approx(compressor="ha", columns=3)),
    (_approx(columns=0), _approx(compressor="full_adder")),
    (_approx(columns=0), _approx(assignment={})),
    (_approx(compressor="kong2", columns=8),
     _approx(assignment={"columns": {str(c): "kong2" for c in range(8)}})),
    (_approx(assignment={"columns": {"9": "ha"}}),
     _approx(compressor="kong2", columns=3, assignment={"columns": {"9": "ha"}})),
    (_approx(truncate=15), _approx(truncate=16)),
    (_approx(), _approx(or_low=1)),
    (_approx(truncate=3), _approx(truncate=3, or_low=3)),
    ({"kind": "mitchell"}, {"kind": "mitchell", "options": {"fraction_bits": 7}}),
    ({"width": 2}, {"width": 2, "options": {"tree": "wallace"}}),
    ({"width": 2, **_approx()}, {"width": 2, **_approx(tree="wallace", columns=3)}),
])
def test_equal_circuits_have_one_spec_and_one_name(one, other):
    one, other = MultiplierSpec(**{"width": 8, **one}), MultiplierSpec(**{"width": 8, **other})
    assert one == other and hash(one) == hash(other) and one.name == other.name
    assert MultiplierSpec.from_toml(other.to_toml()) == one
    low, high = one.operand_range
    a, b = np.meshgrid(np.arange(low, high + 1), np.arange(low, high + 1))
    assert np.array_equal(one.model(a, b), other.model(a, b))


def test_canonical_names_of_designs_that_had_no_alias():
    assert MultiplierSpec(8, kind="approx", options={"columns": 8}).name == \
        "mul8u_approx_acci1xw"
    assert MultiplierSpec(8, kind="approx", options={"compressor": "ha", "columns": 6,
                                                     "truncate": 2}).name == \
        "mul8u_approx_hax6_trunc2"
    assert MultiplierSpec(8, kind="approx", options={"compressor": "ha", "columns": 3}).name \
        == "mul8u_approx_acci1x0"
    assert MultiplierSpec(8, kind="mitchell", options={"fraction_bits": 6}).name == \
        "mul8u_mitchell_frac6"
    assert MultiplierSpec(3, options={"tree": "wallace"}).name == "mul3u_exact_wallace"


def test_a_multiplier_is_a_leaf_block():
    from amaranth.hdl import Fragment

    from dcim.eda.blocks import block_order, is_block

    spec = MultiplierSpec(width=4, signed=True, kind="log")
    assert is_block(spec) and spec.blocks() == () and block_order(spec) == (spec,)
    assert not getattr(spec, "clocked", False)
    component = spec.component()
    Fragment.get(component, None)
    assert component.signature == spec.signature
    assert spec.signature != MultiplierSpec(width=5, signed=True, kind="log").signature
