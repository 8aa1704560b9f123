"""Reading Liberty cell libraries: areas, logic functions, capacitances and power tables.

The flow needs from a Liberty file what Yosys and OpenSTA do not report: each cell's Boolean
``function`` (to simulate a mapped netlist on real operands), its ``internal_power`` tables
with their ``when`` conditions (to turn measured toggles into energy), and its state-dependent
``leakage_power``. :func:`read_liberty` parses a file (plain or gzipped) into a
:class:`Library` of :class:`Cell` objects; :func:`compile_function` turns a Liberty function
string into a NumPy evaluator over bit-packed words.

Only the parts the flow uses are kept: timing tables are skipped. Units follow the library:
:attr:`Library.energy_unit` (joules per table unit of internal energy) is the library's
capacitance unit times its voltage unit squared, as OpenSTA reads it.
"""

import functools
import gzip
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "Cell",
    "LibertyError",
    "Library",
    "Pin",
    "PowerGroup",
    "Table",
    "compile_function",
    "parse_function",
    "read_liberty",
    "unateness",
]


class LibertyError(ValueError):
    """A Liberty file could not be read or uses a construct the flow does not understand."""


# -- the generic group tree ---------------------------------------------------------------

# One statement of Liberty: a closing brace, a simple attribute ``name : value ;``, or a group
# or complex attribute ``name ( args ) { | ;``. Comments and line continuations are removed
# first, so every statement matches here.
_STATEMENT = re.compile(r"""
    \s*(?:
      (?P<close>\})
    | (?P<name>[A-Za-z_][\w.]*)\s*
      (?:
        :\s*(?P<value>"(?:[^"\\]|\\.)*"|[^;\n]*)\s*;?
      | \((?P<args>(?:[^()"]+|"[^"]*")*)\)\s*(?P<open>\{)?\s*;?
      )
    )""", re.X | re.S)
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_CONTINUATION = re.compile(r"\\[ \t]*\r?\n")


@dataclass
class _Group:
    kind: str
    args: list
    attributes: dict = field(default_factory=dict)
    complex: dict = field(default_factory=dict)
    groups: list = field(default_factory=list)

    def find(self, kind):
        return [group for group in self.groups if group.kind == kind]


def _unquote(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def _split_args(text):
    parts = re.findall(r'\s*("(?:[^"\\]|\\.)*"|[^,]+)', text)
    return [_unquote(part) for part in parts if part.strip()]


_TIMING_GROUP = re.compile(r"\btiming\s*\(\s*\)\s*\{")
_BRACE = re.compile(r"[{}]")


def _without_timing(text):
    """``text`` without its ``timing () { ... }`` groups, which the flow never reads.

    They are most of a library's text, so skipping them by brace matching before parsing
    saves most of the parsing time.
    """
    pieces, position = [], 0
    while True:
        match = _TIMING_GROUP.search(text, position)
        if match is None:
            break
        depth, end = 1, None
        for brace in _BRACE.finditer(text, match.end()):
            depth += 1 if brace[0] == "{" else -1
            if depth == 0:
                end = brace.end()
                break
        if end is None:
            break
        pieces.append(text[position:match.start()])
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _parse_tree(text, path):
    text = _without_timing(_CONTINUATION.sub(" ", _COMMENT.sub(" ", text)))
    root = _Group("root", [])
    stack = [root]
    position, end = 0, len(text)
    while True:
        match = _STATEMENT.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip():
                line = text.count("\n", 0, position) + 1
                raise LibertyError(f"{path}: cannot parse Liberty near line {line}: "
                                   f"{text[position:position + 60]!r}")
            break
        position = match.end()
        if match["close"]:
            if len(stack) == 1:
                raise LibertyError(f"{path}: unbalanced '}}' in Liberty file")
            stack.pop()
        elif match["value"] is not None:
            stack[-1].attributes[match["name"]] = _unquote(match["value"])
        elif match["open"]:
            group = _Group(match["name"], _split_args(match["args"]))
            stack[-1].groups.append(group)
            stack.append(group)
        else:
            stack[-1].complex.setdefault(match["name"], []).append(_split_args(match["args"]))
        if position >= end:
            break
    if len(stack) != 1:
        raise LibertyError(f"{path}: Liberty file ends inside group {stack[-1].kind!r}")
    libraries = root.find("library")
    if len(libraries) != 1:
        raise LibertyError(f"{path}: expected one library group, found {len(libraries)}")
    return libraries[0]


# -- tables ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    """A one- or two-dimensional lookup table, interpolated (and extrapolated) bilinearly.

    Members
    -------
    variables : tuple of str
        Liberty variable names of the axes, e.g. ``("input_transition_time",
        "total_output_net_capacitance")``; empty for a scalar.
    indices : tuple of numpy arrays
    values : numpy array
    """

    variables: tuple
    indices: tuple
    values: np.ndarray

    def lookup(self, **axes):
        """Values at points given per variable name (arrays broadcast), in library units.

        Axis names are ``slew`` (any transition-time variable) and ``load`` (any output
        capacitance variable); missing axes of the table are an error.
        """
        if not self.variables:
            shape = np.broadcast(*[np.asarray(v) for v in axes.values()]).shape if axes else ()
            return np.full(shape, float(self.values.reshape(-1)[0]))
        coordinates = []
        for variable in self.variables:
            key = "load" if "capacitance" in variable else "slew"
            if key not in axes:
                raise LibertyError(f"table over {variable} needs a {key} value")
            coordinates.append(np.asarray(axes[key], dtype=float))
        if len(coordinates) == 1:
            return _interpolate_1d(self.indices[0], self.values.reshape(-1), coordinates[0])
        return _interpolate_2d(self.indices[0], self.indices[1], self.values, *coordinates)


def _segment(index, x):
    """Lower index of the segment for ``x``; ends extrapolate from the outer segments."""
    if len(index) == 1:
        return np.zeros(np.shape(x), dtype=int), np.zeros(np.shape(x))
    low = np.clip(np.searchsorted(index, x, side="right") - 1, 0, len(index) - 2)
    fraction = (x - index[low]) / (index[low + 1] - index[low])
    return low, fraction


def _interpolate_1d(index, values, x):
    if len(index) == 1:
        return np.full(np.shape(x), values[0])
    low, t = _segment(index, x)
    return values[low] * (1 - t) + values[low + 1] * t


def _interpolate_2d(index1, index2, values, x, y):
    x, y = np.broadcast_arrays(x, y)
    if len(index1) == 1:
        return _interpolate_1d(index2, values.reshape(-1), y)
    if len(index2) == 1:
        return _interpolate_1d(index1, values.reshape(-1), x)
    i, s = _segment(index1, x)
    j, t = _segment(index2, y)
    return (values[i, j] * (1 - s) * (1 - t) + values[i + 1, j] * s * (1 - t)
            + values[i, j + 1] * (1 - s) * t + values[i + 1, j + 1] * s * t)


def _floats(text):
    return np.array(text.replace(",", " ").split(), dtype=float)


def _table(group, templates):
    template = templates.get(group.args[0] if group.args else "scalar", {})
    variables = template.get("variables", ())
    indices = []
    for axis, _ in enumerate(variables):
        key = f"index_{axis + 1}"
        own = group.complex.get(key)
        indices.append(_floats(own[0][0]) if own else template["indices"][axis])
    rows = [_floats(row) for row in group.complex.get("values", [[]])[0]]
    values = np.array(rows, dtype=float)
    if not variables:
        return Table((), (), values.reshape(-1)[:1])
    if len(variables) == 1:
        values = values.reshape(-1)
    else:
        values = values.reshape(len(indices[0]), len(indices[1]))
    return Table(tuple(variables), tuple(indices), values)


# -- cells ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PowerGroup:
    """One ``internal_power`` group of a pin.

    Members
    -------
    related_pin : str or None
        The input whose transition causes it (output pins); ``None`` for an input pin's own
        internal power.
    when : str or None
        Liberty condition under which the group applies.
    rise, fall : Table or None
        Energy per rising / falling transition of the pin, in library energy units.
    """

    related_pin: object
    when: object
    rise: object
    fall: object


@dataclass(frozen=True)
class Pin:
    """A pin of a cell: direction, capacitance, function and internal power groups."""

    name: str
    direction: str
    capacitance: float = 0.0
    function: object = None
    internal_power: tuple = ()


@dataclass(frozen=True)
class Cell:
    """A library cell.

    Members
    -------
    name : str
    area : float
        In the library's area unit (square micrometres for the supported libraries).
    pins : dict of str to Pin
    leakage : tuple of (when or None, value)
        State-dependent leakage groups, in library leakage units.
    cell_leakage : float or None
        The cell's ``cell_leakage_power``.
    sequential : dict or None
        For a flip-flop or latch, the Liberty ``ff``/``latch`` group's attributes plus
        ``kind`` and ``outputs`` (the internal state variable names).
    """

    name: str
    area: float
    pins: dict
    leakage: tuple = ()
    cell_leakage: object = None
    sequential: object = None

    @property
    def inputs(self):
        return [pin for pin in self.pins.values() if pin.direction == "input"]

    @property
    def outputs(self):
        return [pin for pin in self.pins.values() if pin.direction in ("output", "inout")]

    @property
    def is_sequential(self):
        return self.sequential is not None


@dataclass(frozen=True)
class Library:
    """A parsed Liberty library.

    Members
    -------
    name : str
    path : Path
    cells : dict of str to Cell
    voltage : float
        Nominal supply voltage in volts.
    time_unit, capacitance_unit, leakage_unit, energy_unit : float
        Seconds, farads, watts and joules per library unit.
    wire_loads : tuple of str
        Names of the wire-load models defined by the library.
    default_wire_load : str or None
    """

    name: str
    path: Path
    cells: dict
    voltage: float
    time_unit: float
    capacitance_unit: float
    leakage_unit: float
    energy_unit: float
    wire_loads: tuple = ()
    default_wire_load: object = None

    def cell(self, name):
        """The cell called ``name``; ``LibertyError`` naming the library if there is none."""
        try:
            return self.cells[name]
        except KeyError:
            raise LibertyError(f"cell {name!r} is not in library {self.name!r} "
                               f"({self.path})") from None


_SCALE = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3}


def _unit(text, suffix, path):
    match = re.fullmatch(rf"\s*([0-9.eE+-]*)\s*([fpnumk]?){suffix}\s*", text, re.I)
    if match is None:
        raise LibertyError(f"{path}: cannot read unit {text!r}")
    number = float(match[1]) if match[1] else 1.0
    return number * _SCALE[match[2].lower() if match[2] != "M" else "m"]


def _library_units(library, path):
    attributes = library.attributes
    time_unit = _unit(attributes.get("time_unit", "1ns"), "s", path)
    leakage_unit = _unit(attributes.get("leakage_power_unit", "1nW"), "W", path)
    voltage_unit = _unit(attributes.get("voltage_unit", "1V"), "V", path)
    capacitance = library.complex.get("capacitive_load_unit", [["1", "pf"]])[0]
    capacitance_unit = float(capacitance[0]) * _SCALE[capacitance[1].strip().lower()[:-1]]
    return time_unit, leakage_unit, voltage_unit, capacitance_unit


def _pin(group, templates):
    powers = []
    for power in group.find("internal_power"):
        tables = {}
        for kind in ("rise_power", "fall_power", "power"):
            found = power.find(kind)
            if found:
                tables[kind] = _table(found[0], templates)
        rise = tables.get("rise_power", tables.get("power"))
        fall = tables.get("fall_power", tables.get("power"))
        related = power.attributes.get("related_pin")
        # One group may name several related pins ("A B"): it applies to each of them.
        for name in (related.split() if related else [None]):
            powers.append(PowerGroup(name, power.attributes.get("when"), rise, fall))
    capacitance = group.attributes.get("capacitance")
    if capacitance is None:
        rise = float(group.attributes.get("rise_capacitance", 0.0))
        fall = float(group.attributes.get("fall_capacitance", 0.0))
        capacitance = (rise + fall) / 2
    return dict(direction=group.attributes.get("direction", "input"),
                capacitance=float(capacitance), function=group.attributes.get("function"),
                internal_power=tuple(powers))


def _bus_bits(bus, types):
    """The bit indices of a ``bus`` group, from its ``bus_type`` (``bit_from`` to ``bit_to``)."""
    kind = types.get(bus.attributes.get("bus_type"))
    if kind is None:
        raise LibertyError(f"bus {bus.args[0]!r} names no known bus_type "
                           f"({bus.attributes.get('bus_type')!r})")
    start, stop = int(kind["bit_from"]), int(kind["bit_to"])
    step = 1 if stop >= start else -1
    return range(start, stop + step, step)


def _cell(group, templates, types=None):
    pins = {}
    for pin_group in group.find("pin"):
        facts = _pin(pin_group, templates)
        for name in pin_group.args:
            pins[name] = Pin(name=name, **facts)
    if group.find("bundle"):
        raise LibertyError(f"cell {group.args[0]!r} has bundles, which are not supported")
    # A bus (a hard macro's) becomes one pin per bit, ``name[index]``, as netlists name them.
    for bus in group.find("bus"):
        facts = _pin(bus, templates)
        for index in _bus_bits(bus, types or {}):
            name = f"{bus.args[0]}[{index}]"
            pins[name] = Pin(name=name, **facts)
    leakage = tuple((power.attributes.get("when"), float(power.attributes["value"]))
                    for power in group.find("leakage_power") if "value" in power.attributes)
    cell_leakage = group.attributes.get("cell_leakage_power")
    sequential = None
    for kind in ("ff", "latch"):
        found = group.find(kind)
        if found:
            sequential = dict(found[0].attributes, kind=kind, outputs=tuple(found[0].args))
    return Cell(name=group.args[0], area=float(group.attributes.get("area", 0.0)), pins=pins,
                leakage=leakage,
                cell_leakage=None if cell_leakage is None else float(cell_leakage),
                sequential=sequential)


def _templates(library):
    templates = {}
    for kind in ("power_lut_template", "lu_table_template"):
        for group in library.find(kind):
            variables = tuple(group.attributes[f"variable_{axis}"] for axis in (1, 2, 3)
                              if f"variable_{axis}" in group.attributes)
            indices = tuple(_floats(group.complex[f"index_{axis + 1}"][0][0])
                            for axis in range(len(variables))
                            if f"index_{axis + 1}" in group.complex)
            templates[group.args[0]] = {"variables": variables, "indices": indices}
    return templates


def file_digest(path):
    """SHA-256 of a file's bytes, as hex (used to key caches on technology files)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_text(path):
    """The text of a Liberty file, gunzipped when its name ends in ``.gz``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Liberty file {str(path)!r} does not exist")
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as file:
            return file.read()
    return path.read_text(encoding="utf-8", errors="replace")


def read_liberty(path):
    """Parse the Liberty file at ``path`` (``.lib`` or ``.lib.gz``) into a :class:`Library`.

    Results are memoised per file path, size and modification time.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    LibertyError
        If it cannot be parsed.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"Liberty file {str(path)!r} does not exist")
    stat = path.stat()
    return _read_cached(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_cached(path, size, mtime):
    library = _parse_tree(read_text(path), path)
    time_unit, leakage_unit, voltage_unit, capacitance_unit = _library_units(library, path)
    templates = _templates(library)
    types = {group.args[0]: group.attributes for group in library.find("type")}
    cells = {}
    for group in library.find("cell"):
        cell = _cell(group, templates, types)
        cells[cell.name] = cell
    voltage = float(library.attributes.get("nom_voltage", 0.0))
    for conditions in library.find("operating_conditions"):
        if conditions.args and conditions.args[0] == library.attributes.get(
                "default_operating_conditions"):
            voltage = float(conditions.attributes.get("voltage", voltage))
    return Library(
        name=library.args[0] if library.args else path.stem, path=path, cells=cells,
        voltage=voltage * voltage_unit, time_unit=time_unit,
        capacitance_unit=capacitance_unit, leakage_unit=leakage_unit,
        energy_unit=capacitance_unit * voltage_unit ** 2,
        wire_loads=tuple(group.args[0] for group in library.find("wire_load")),
        default_wire_load=library.attributes.get("default_wire_load"))


# -- Boolean functions ----------------------------------------------------------------------

_FUNCTION_TOKEN = re.compile(r"\s*(?:([A-Za-z_][\w\[\]]*)|([01])|(\S))")


def parse_function(text):
    """Parse a Liberty function or condition into a nested tuple expression.

    The result uses ``("pin", name)``, ``("const", 0|1)``, ``("not", e)``, and
    ``("and"|"or"|"xor", e1, e2)``. Precedence, highest first: ``!`` and postfix ``'``,
    ``^``, ``&``/``*``/juxtaposition, ``|``/``+``.

    Raises
    ------
    LibertyError
        If the text is not a well-formed expression.
    """
    tokens = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _FUNCTION_TOKEN.match(text, position)
        if match is None:
            break
        position = match.end()
        if match[1]:
            tokens.append(("pin", match[1]))
        elif match[2]:
            tokens.append(("const", int(match[2])))
        elif match[3] in "!'()&*|+^":
            tokens.append(("op", match[3]))
        else:
            raise LibertyError(f"function {text!r}: unexpected character {match[3]!r}")
    index = 0

    def peek():
        return tokens[index] if index < len(tokens) else ("end", None)

    def take():
        nonlocal index
        token = peek()
        index += 1
        return token

    def parse_or():
        left = parse_and()
        while peek() in (("op", "|"), ("op", "+")):
            take()
            left = ("or", left, parse_and())
        return left

    def parse_and():
        left = parse_xor()
        while True:
            token = peek()
            if token in (("op", "&"), ("op", "*")):
                take()
            elif not (token[0] in ("pin", "const") or token in (("op", "!"), ("op", "("))):
                return left
            left = ("and", left, parse_xor())

    def parse_xor():
        left = parse_unary()
        while peek() == ("op", "^"):
            take()
            left = ("xor", left, parse_unary())
        return left

    def parse_unary():
        token = take()
        if token == ("op", "!"):
            result = ("not", parse_unary())
        elif token == ("op", "("):
            result = parse_or()
            if take() != ("op", ")"):
                raise LibertyError(f"function {text!r}: missing ')'")
        elif token[0] in ("pin", "const"):
            result = token
        else:
            raise LibertyError(f"function {text!r}: unexpected {token[1]!r}")
        while peek() == ("op", "'"):
            take()
            result = ("not", result)
        return result

    if not tokens:
        raise LibertyError("function must not be empty")
    expression = parse_or()
    if index != len(tokens):
        raise LibertyError(f"function {text!r}: unexpected {tokens[index][1]!r}")
    return expression


def expression_pins(expression):
    """Names of the pins an expression reads, in order of first use."""
    if expression[0] == "pin":
        return [expression[1]]
    if expression[0] == "const":
        return []
    names = []
    for operand in expression[1:]:
        for name in expression_pins(operand):
            if name not in names:
                names.append(name)
    return names


def _python(expression, names):
    kind = expression[0]
    if kind == "pin":
        return names[expression[1]]
    if kind == "const":
        return "ONES" if expression[1] else "ZERO"
    if kind == "not":
        return f"(~{_python(expression[1], names)})"
    symbol = {"and": "&", "or": "|", "xor": "^"}[kind]
    return f"({_python(expression[1], names)} {symbol} {_python(expression[2], names)})"


@functools.lru_cache(maxsize=4096)
def compile_function(text):
    """Compile a Liberty function into ``(pins, evaluate)``.

    ``evaluate(*values)`` takes one bit-packed ``uint64`` array per name in ``pins`` (all of
    one shape) and returns the function's value, bit for bit.
    """
    expression = parse_function(text)
    pins = expression_pins(expression)
    names = {pin: f"v{index}" for index, pin in enumerate(pins)}
    body = _python(expression, names)
    arguments = ", ".join(names[pin] for pin in pins)
    namespace = {"ONES": np.uint64(0xFFFF_FFFF_FFFF_FFFF), "ZERO": np.uint64(0)}
    evaluate = eval(f"lambda {arguments}: {body}", namespace)  # noqa: S307 - built from tokens
    return tuple(pins), evaluate


@functools.lru_cache(maxsize=4096)
def unateness(function, pin):
    """How ``function`` depends on ``pin``: ``"positive"``, ``"negative"``, ``"non"`` or
    ``"none"`` (it does not read it)."""
    names, evaluate = compile_function(function)
    if pin not in names:
        return "none"
    if len(names) > 6:
        return "non"
    # Each input is a 64-bit pattern enumerating every combination of the inputs.
    combinations = 1 << len(names)
    patterns = [np.uint64(sum(1 << row for row in range(combinations) if row >> bit & 1))
                for bit in range(len(names))]
    position = names.index(pin)
    ones = [np.uint64(0xFFFF_FFFF_FFFF_FFFF) if index == position else pattern
            for index, pattern in enumerate(patterns)]
    zeros = [np.uint64(0) if index == position else pattern
             for index, pattern in enumerate(patterns)]
    high, low = np.uint64(evaluate(*ones)), np.uint64(evaluate(*zeros))
    mask = np.uint64((1 << combinations) - 1) if combinations < 64 else np.uint64(
        0xFFFF_FFFF_FFFF_FFFF)
    rises_only = int(low & ~high & mask) == 0
    falls_only = int(high & ~low & mask) == 0
    if rises_only and falls_only:
        return "none"
    return "positive" if rises_only else "negative" if falls_only else "non"
