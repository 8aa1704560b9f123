"""Hostile inputs for the specifications: each ends in a working design or a clear error.

Wrong types, out-of-range values, NumPy scalars, hostile strings, malformed and unknown TOML
tables and keys are thrown at MultiplierSpec, MacroSpec and DCiMMacro, CompressorAssignment,
from_dict, from_toml, read_toml and the models. A case either builds a design whose model
then agrees with the exact product where there is one (and with itself through a TOML round
trip), or raises ValueError or TypeError whose message names a parameter the case gave.
"""

import tempfile
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dcim.arith import MULTIPLIER_KINDS, CompressorAssignment, MultiplierSpec
from dcim.macro import DCiMMacro, MacroSpec
from dcim.toml_io import read_toml

FUZZ = settings(derandomize=True, deadline=None, max_examples=60,
                suppress_health_check=[HealthCheck.too_slow])

OPTION_NAMES = ["partial_products", "tree", "final_adder", "compressor", "columns",
                "assignment", "truncate", "or_low", "k", "fraction_bits"]
MACRO_NAMES = ["rows", "cols", "weight_bits", "act_bits", "signed", "mult", "datapath",
               "col_mux", "tree", "assignment", "acc_width"]
HOSTILE_TEXT = ["", " ", "x; exec -- touch F", "} [exec touch F] {", "../../x", "a\x00b",
                "ä", "acci1 ", "ACCI1", "dadda\n", "1e3", "8", "-1", "${HOME}", "'\""]

numpy_ints = st.builds(lambda dtype, value: dtype(value),
                       st.sampled_from([np.int8, np.int16, np.int64, np.uint8, np.uint64]),
                       st.integers(0, 40))
hostile_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 70), st.sampled_from([2**31, 2**64, -(2**70)]),
    st.floats(allow_nan=True, allow_infinity=True), numpy_ints,
    st.sampled_from([np.True_, np.float64(8.0), np.int64(-1)]),
    st.sampled_from(HOSTILE_TEXT), st.text(max_size=6))
choices = st.sampled_from(["array", "booth4", "dadda", "wallace", "ripple", "behavioral",
                           "acci1", "kong2", "ha", "exact42", "half_adder", "full_adder",
                           "exact", "approx", "log", "drum", "mitchell", "multiplier",
                           "bitserial"])
values = st.one_of(hostile_scalars, choices,
                   st.lists(st.integers(0, 9), max_size=3), st.dictionaries(
                       st.sampled_from(["0", "3", "x", "columns"]), choices, max_size=2))


def mostly(valid, hostile):
    """Valid values three times in four: hostile ones also reach the checks behind them."""
    return st.sampled_from([True, True, True, False]).flatmap(
        lambda good: valid if good else hostile)


COMPRESSOR_NAMES = st.sampled_from(["acci1", "kong2", "ha", "exact42", "momeni", "sabetz"])


def assignments(valid_only=False):
    """Compressor assignments as dicts, good and bad, in their TOML form."""
    column_keys = st.integers(0, 20).map(str)
    if not valid_only:
        column_keys = mostly(column_keys, st.sampled_from(HOSTILE_TEXT))

    def pick(valid):
        return valid if valid_only else mostly(valid, hostile_scalars)

    entry = st.fixed_dictionaries({"stage": pick(st.integers(0, 5)),
                                   "column": pick(st.integers(0, 20)),
                                   "compressor": pick(st.sampled_from(["full_adder", "acci1"]))},
                                  optional={} if valid_only else {"extra": st.integers()})
    table = st.fixed_dictionaries({}, optional={
        "columns": st.dictionaries(column_keys, pick(COMPRESSOR_NAMES), max_size=4),
        "overrides": st.lists(entry, max_size=2)})
    return table if valid_only else mostly(table, values)


VALID_OPTIONS = {
    "partial_products": st.sampled_from(["array", "booth4"]),
    "tree": st.sampled_from(["dadda", "wallace"]),
    "final_adder": st.sampled_from(["behavioral", "ripple"]),
    "compressor": COMPRESSOR_NAMES,
    "columns": st.integers(0, 16),
    "assignment": assignments(valid_only=True),
    "truncate": st.integers(0, 4),
    "or_low": st.integers(0, 4),
    "k": st.integers(2, 8),
    "fraction_bits": st.integers(1, 7),
}
KIND_OPTIONS = {"exact": OPTION_NAMES[:3], "approx": OPTION_NAMES[:8], "drum": ["k"],
                "mitchell": ["fraction_bits"], "log": []}


def option_tables(kind, valid_only=False):
    """Options of ``kind`` (all names for an unknown kind), mostly valid, sometimes not."""
    names = KIND_OPTIONS.get(kind, OPTION_NAMES) if isinstance(kind, str) else OPTION_NAMES
    table = st.fixed_dictionaries({}, optional={
        name: VALID_OPTIONS[name] if valid_only else mostly(VALID_OPTIONS[name], values)
        for name in names})
    if valid_only:
        return table
    bogus = st.builds(lambda t, v: {**t, "bogus": v}, table, values)
    return st.one_of(table, table, table, bogus, st.none(), values)


@st.composite
def multiplier_parameters(draw, valid_only=False):
    def pick(valid):
        return draw(valid if valid_only else mostly(valid, hostile_scalars))

    kind = pick(st.sampled_from(sorted(MULTIPLIER_KINDS)))
    return {"width": pick(st.integers(2, 12)), "signed": pick(st.booleans()), "kind": kind,
            "options": draw(option_tables(kind, valid_only))}


@st.composite
def macro_parameters(draw, valid_only=False):
    def pick(valid):
        return valid if valid_only else mostly(valid, st.one_of(hostile_scalars, values))

    mult = st.sampled_from(sorted(MULTIPLIER_KINDS))
    mult = st.one_of(mult, mult, st.builds(
        lambda kind, options: {"kind": kind, "options": options}, mult,
        st.sampled_from([{}, {"k": 3}, {"compressor": "ha"}, {"tree": "wallace"}])))
    valid = {"rows": st.integers(1, 8), "cols": st.integers(1, 4),
             "weight_bits": st.integers(1, 8), "act_bits": st.integers(1, 8),
             "signed": st.booleans(), "mult": mult,
             "datapath": st.sampled_from(["multiplier", "bitserial"]),
             "col_mux": st.integers(1, 2), "tree": st.sampled_from(["dadda", "wallace"]),
             "assignment": assignments(valid_only), "acc_width": st.integers(10, 40)}
    return draw(st.fixed_dictionaries({}, optional={name: pick(strategy)
                                                    for name, strategy in valid.items()}))


def given_names(data):
    """Every key of a nested dict or list: the parameters a case names."""
    names = set()
    if isinstance(data, dict):
        for key, value in data.items():
            names.add(str(key))
            names |= given_names(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            names |= given_names(value)
    return names


def assert_clear(error, names):
    """The error is a ValueError or TypeError naming one of ``names``."""
    event(f"refused: {type(error).__name__}")
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    message = str(error)
    assert any(name in message for name in names), (message, sorted(names))
    assert "PosixPath" not in message and "Traceback" not in message


def check_multiplier(spec):
    """A built multiplier works: its model, its name and its TOML round trip."""
    event(f"built a {spec.kind} multiplier")
    low, high = spec.operand_range
    rng = np.random.default_rng(spec.width)
    a = np.concatenate([[low, high, 0], rng.integers(low, high + 1, 13)])
    b = np.concatenate([[low, low, high], rng.integers(low, high + 1, 13)])
    product = spec.model(a, b)
    assert product.shape == a.shape
    if spec.kind == "exact":
        assert [int(p) for p in product] == [int(x) * int(y) for x, y in zip(a, b, strict=True)]
    assert spec.name.isidentifier()
    twin = MultiplierSpec.from_toml(spec.to_toml())
    assert twin == spec and hash(twin) == hash(spec) and twin.name == spec.name
    assert np.array_equal(twin.model(a, b), product)


def check_macro(spec):
    event("built a macro")
    low, high = spec.value_range(spec.weight_bits)
    act_low, act_high = spec.value_range(spec.act_bits)
    rng = np.random.default_rng(spec.rows)
    weights = rng.integers(low, high + 1, (spec.rows, spec.cols))
    activations = rng.integers(act_low, act_high + 1, (3, spec.rows))
    results = spec.model(weights, activations)
    assert results.shape == (3, spec.cols)
    if spec.mult.kind == "exact" and spec.assignment is None:
        exact = activations.astype(object) @ weights.astype(object)
        assert [[int(v) for v in row] for row in results] == exact.tolist()
    assert MacroSpec.from_toml(spec.to_toml()) == spec


@FUZZ
@given(given=st.one_of(multiplier_parameters(), st.fixed_dictionaries(
    {"width": st.integers(2, 8), "kind": st.just(["log"])})))
def test_multiplier_spec(given):
    try:
        spec = MultiplierSpec(**given)
    except Exception as error:  # noqa: BLE001  (the assertion checks the type)
        assert_clear(error, given_names(given))
        return
    check_multiplier(spec)


@FUZZ
@given(parameters=macro_parameters())
def test_macro_spec_and_component(parameters):
    try:
        spec = MacroSpec(**parameters)
    except Exception as error:  # noqa: BLE001
        assert_clear(error, given_names(parameters))
        # The component refuses the same parameters before it exists: no unused component.
        with pytest.raises(type(error)) as again:
            DCiMMacro(**parameters)
        assert str(again.value) == str(error)
        return
    check_macro(spec)


@FUZZ
@given(data=assignments())
def test_compressor_assignment(data):
    try:
        assignment = CompressorAssignment.from_dict(data)
    except Exception as error:  # noqa: BLE001
        assert_clear(error, given_names(data) | {"assignment", "override"})
        return
    assert CompressorAssignment.from_dict(assignment.to_dict()) == assignment
    assert CompressorAssignment.from_toml(assignment.to_toml()) == assignment
    for width in (4, 8):
        options = {"assignment": assignment}
        try:
            spec = MultiplierSpec(width, kind="approx", options=options)
        except Exception as error:  # noqa: BLE001
            assert_clear(error, {"assignment"})
            continue
        check_multiplier(spec)


@FUZZ
@given(columns=st.one_of(values, st.dictionaries(st.one_of(st.integers(-2, 12), numpy_ints,
                                                            hostile_scalars),
                                                  st.one_of(choices, hostile_scalars),
                                                  max_size=3)),
       overrides=st.one_of(values, st.dictionaries(
           st.one_of(st.tuples(st.integers(-1, 4), st.integers(0, 12)),
                     st.tuples(numpy_ints, numpy_ints), hostile_scalars),
           st.one_of(choices, hostile_scalars), max_size=2)))
def test_compressor_assignment_constructor(columns, overrides):
    try:
        assignment = CompressorAssignment(columns=columns, overrides=overrides)
    except Exception as error:  # noqa: BLE001
        assert_clear(error, {"columns", "overrides"})
        return
    assert hash(assignment) == hash(CompressorAssignment.from_dict(assignment.to_dict()))


toml_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-3, 70), st.floats(allow_nan=False), choices,
              st.sampled_from(HOSTILE_TEXT)),
    lambda inner: st.one_of(st.lists(inner, max_size=2),
                            st.dictionaries(st.sampled_from([*OPTION_NAMES, *MACRO_NAMES,
                                                             "width", "kind", "options",
                                                             "columns", "overrides", "9",
                                                             "bogus"]),
                                            inner, max_size=3)),
    max_leaves=8)


def _without_none(table):
    return {key: value for key, value in table.items() if value is not None}


@st.composite
def documents(draw):
    """TOML documents: a design table, mostly valid, then perhaps spoilt."""
    top = draw(st.sampled_from(["multiplier", "macro"]))
    if top == "multiplier":
        table = _without_none(draw(multiplier_parameters(valid_only=True)))
    else:
        table = draw(macro_parameters(valid_only=True))
    spoil = draw(st.sampled_from(["none", "none", "value", "key", "table", "type"]))
    if spoil == "value" and table:
        table[draw(st.sampled_from(sorted(table)))] = draw(toml_values)
    elif spoil == "key":
        table[draw(st.sampled_from(["bogus", "Width", " rows", "opti\u00f6ns"]))] = 1
    elif spoil == "type":
        return {top: draw(toml_values)}
    document = {top: table}
    if spoil == "table":
        document[draw(st.sampled_from(["extra", "multiplier", "macro"]))] = {"rows": 4,
                                                                             "width": 4}
    return document


@settings(FUZZ, max_examples=80)
@given(document=documents(), suffix=st.sampled_from(["", ".toml", ".txt", ".d/x"]),
       garble=st.sampled_from([None, None, None, "[", "= 1", "\x00", "\n[multiplier]\n"]))
def test_toml_files_and_text(document, suffix, garble):
    text = tomli_w.dumps(document)
    if garble is not None:
        text = text[:len(text) // 2] + garble + text[len(text) // 2:]
    names = given_names(document) | {"TOML", "multiplier", "macro"}
    with tempfile.TemporaryDirectory(prefix="dcim fuzz ä ") as folder:
        path = Path(folder) / f"design{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        for source in (text, path, str(path)):
            for reader in (MultiplierSpec.from_toml, MacroSpec.from_toml, read_toml):
                try:
                    result = reader(source)
                except Exception as error:  # noqa: BLE001
                    assert_clear(error, names | ({str(path)} if source is not text else set()))
                    continue
                if isinstance(result, MultiplierSpec):
                    check_multiplier(result)
                elif isinstance(result, MacroSpec):
                    check_macro(result)
                else:
                    assert isinstance(result, dict)


operands = st.one_of(
    st.integers(-300, 300), st.sampled_from([2**70, -(2**70), 2**63, 2**64 - 1]),
    hostile_scalars, st.lists(st.integers(-300, 300), max_size=4),
    st.lists(st.one_of(st.integers(0, 9), hostile_scalars), min_size=1, max_size=3),
    st.just([[1], [1, 2]]), st.just([]),
    st.builds(lambda shape, dtype: np.ones(shape, dtype=dtype),
              st.sampled_from([(0,), (2,), (3,), (2, 3), (3, 1)]),
              st.sampled_from([np.int64, np.uint8, np.float32, bool, object])))


@settings(FUZZ, max_examples=100)
@given(spec=st.sampled_from([MultiplierSpec(8), MultiplierSpec(6, True, "log"),
                             MultiplierSpec(4, kind="approx"), MultiplierSpec(32)]),
       a=operands, b=operands)
def test_model_operands(spec, a, b):
    try:
        product = spec.model(a, b)
    except Exception as error:  # noqa: BLE001
        assert_clear(error, {"operand a", "operand b", "operands a and b"})
        return
    event("computed products")
    low, high = spec.operand_range
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    assert product.shape == a.shape
    assert all(low <= int(x) <= high for x in np.concatenate([a.ravel(), b.ravel()]))
    if spec.kind == "exact":
        assert [int(p) for p in product.ravel()] == [int(x) * int(y) for x, y in
                                                      zip(a.ravel(), b.ravel(), strict=True)]
