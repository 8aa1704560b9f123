"""Column-compression (Dadda and Wallace) trees with compressors assigned per column.

A :class:`ReductionPlan` is pure structure: which compressor takes which bits in which stage.
It is computed from column heights alone, so the hardware (:class:`~dcim.arith.logic.AmaranthLogic`)
and the bit-exact model (:class:`~dcim.arith.logic.NumpyLogic`) walk the very same plan.
"""

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from ..checks import check_int, short_repr
from ..toml_io import read_toml, write_toml
from .compressor import COMPRESSORS

__all__ = [
    "TREE_SCHEDULES",
    "Cell",
    "CompressorAssignment",
    "ReductionPlan",
    "check_assignment",
    "check_compressor_name",
    "live_bits",
    "plan_reduction",
    "reduce_columns",
    "replacement_compressors",
]

TREE_SCHEDULES = ("dadda", "wallace")
_MAX_STAGES = 64


def replacement_compressors():
    """Names of the registered compressors that can take a full adder's place in a tree.

    A tree places a compressor where a full adder would go; one that removes fewer than two
    bits from its column (a half adder) would not reduce the column as far.
    """
    return sorted(name for name, compressor in COMPRESSORS.items()
                  if compressor.height_reduction >= 2)


def check_compressor_name(parameter, name):
    """Raise ``ValueError`` naming ``parameter`` unless ``name`` can replace a full adder."""
    if not isinstance(name, str):
        raise TypeError(f"{parameter} must be a compressor name (a str), not "
                        f"{short_repr(name)}")
    acceptable = ", ".join(replacement_compressors())
    if name not in COMPRESSORS:
        raise ValueError(f"{parameter} names unknown compressor {short_repr(name)}; "
                         f"it must be one of {acceptable}")
    if COMPRESSORS[name].height_reduction < 2:
        raise ValueError(f"{parameter}: compressor {name!r} removes fewer than two bits "
                         f"from its column and cannot replace a full adder; it must be one "
                         f"of {acceptable}")


@dataclass(frozen=True)
class CompressorAssignment:
    """Which compressor a reduction tree uses where, instead of full adders.

    Parameters
    ----------
    columns : mapping of int to str
        Column (weight ``2**column``) to compressor name, for every stage.
    overrides : mapping of (int, int) to str
        ``(stage, column)`` to compressor name; wins over ``columns``. The name ``"full_adder"``
        keeps a stage of a column exact.

    A column without an entry uses full and half adders. Compressors with more inputs than
    the column holds at a stage are not used there.
    """

    columns: tuple = ()
    overrides: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "columns", _normalise("columns", self.columns, 1))
        object.__setattr__(self, "overrides", _normalise("overrides", self.overrides, 2))

    @classmethod
    def uniform(cls, compressor, columns):
        """The same compressor in every column of ``columns`` (an iterable or an int ``k``
        meaning columns ``0..k-1``)."""
        if not isinstance(columns, (str, bytes)) and not hasattr(columns, "__iter__"):
            columns = range(check_int("columns", columns, 0))
        return cls(columns={column: compressor for column in columns})

    def compressor_for(self, stage, column):
        overrides = dict(self.overrides)
        if (stage, column) in overrides:
            return overrides[(stage, column)]
        return dict(self.columns).get(column)

    @property
    def is_empty(self):
        return not self.columns and not self.overrides

    def summary(self, limit=40):
        """Short text for names: runs of equal compressors, ``acci10-7`` for acci1 in
        columns 0 to 7; a stable digest where that would be longer than ``limit``."""
        runs = []
        for column, name in self.columns:
            if runs and runs[-1][0] == name and runs[-1][2] == column - 1:
                runs[-1][2] = column
            else:
                runs.append([name, column, column])
        parts = [f"{name}{low}" if low == high else f"{name}{low}-{high}"
                 for name, low, high in runs]
        parts += [f"{name}s{stage}c{column}" for (stage, column), name in self.overrides]
        text = "_".join(parts)
        if len(text) > limit:
            # Verilog module and file names stay short; the digest is of the full content.
            text = "asg" + hashlib.sha256(text.encode()).hexdigest()[:10]
        return text

    def to_dict(self):
        data = {"columns": {str(column): name for column, name in self.columns}}
        if self.overrides:
            data["overrides"] = [{"stage": stage, "column": column, "compressor": name}
                                 for (stage, column), name in self.overrides]
        return data

    @classmethod
    def from_dict(cls, data):
        """An assignment from its TOML form: ``{"columns": {"3": name}, "overrides": [...]}``.

        Column keys are decimal strings (TOML keys are strings) or ints; each override is a
        table with exactly ``stage``, ``column`` and ``compressor``.

        Raises
        ------
        ValueError, TypeError
            Naming the key or entry at fault; also for a column or override given twice.
        """
        if not isinstance(data, dict):
            raise TypeError(f"compressor assignment must be a table, not {short_repr(data)}")
        unknown = sorted(map(repr, set(data) - {"columns", "overrides"}))
        if unknown:
            raise ValueError(f"compressor assignment has unknown keys [{', '.join(unknown)}]; "
                             f"it takes 'columns' and 'overrides'")
        table = data.get("columns", {})
        if not isinstance(table, dict):
            raise TypeError(f"compressor assignment columns must be a table, "
                            f"not {short_repr(table)}")
        columns = {}
        for key, name in table.items():
            if isinstance(key, str):
                # int() would also take " 3", "3_0" and non-ASCII digits.
                if not re.fullmatch(r"[0-9]+", key):
                    raise ValueError(f"compressor assignment column must be an integer, "
                                     f"not {short_repr(key)}")
                column = int(key)
            else:
                column = check_int("compressor assignment column", key, 0)
            if column in columns:
                raise ValueError(f"compressor assignment names column {column} twice")
            columns[column] = name
        entries = data.get("overrides", [])
        if not isinstance(entries, (list, tuple)):
            raise TypeError(f"compressor assignment overrides must be a list of tables, "
                            f"not {short_repr(entries)}")
        overrides = {}
        for entry in entries:
            if not isinstance(entry, dict) or set(entry) != {"stage", "column", "compressor"}:
                raise ValueError(f"compressor override needs stage, column and compressor, "
                                 f"not {short_repr(entry)}")
            key = (entry["stage"], entry["column"])
            if key in overrides:
                raise ValueError(f"compressor assignment overrides stage {key[0]!r}, column "
                                 f"{key[1]!r} twice")
            overrides[key] = entry["compressor"]
        return cls(columns=columns, overrides=overrides)

    def to_toml(self, path=None):
        """The assignment as TOML text; also written to ``path`` when given."""
        return write_toml(self.to_dict(), path)

    @classmethod
    def from_toml(cls, text_or_path):
        """Load from TOML text or from a ``.toml`` file path."""
        return cls.from_dict(read_toml(text_or_path))


def _normalise(parameter, entries, key_length):
    if isinstance(entries, dict):
        entries = entries.items()
    elif isinstance(entries, (str, bytes)) or not hasattr(entries, "__iter__"):
        raise TypeError(f"{parameter} must be a dict or pairs, not {short_repr(entries)}")
    normalised = {}
    for entry in entries:
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise ValueError(f"{parameter} must hold (key, compressor) pairs, "
                             f"not {short_repr(entry)}")
        key, name = entry
        keys = key if key_length > 1 else (key,)
        plain = _plain_keys(keys, key_length)
        if plain is None:
            raise ValueError(f"{parameter} key must be "
                             f"{'a non-negative int' if key_length == 1 else '(stage, column)'}"
                             f", not {short_repr(key)}")
        key = plain if key_length > 1 else plain[0]
        check_compressor_name(f"{parameter}[{key!r}]", name)
        if key in normalised:
            raise ValueError(f"{parameter} names {key!r} twice")
        normalised[key] = name
    return tuple(sorted(normalised.items()))


def _plain_keys(keys, key_length):
    """``keys`` as a tuple of plain non-negative ints (NumPy ones accepted), or ``None``."""
    if not isinstance(keys, tuple) or len(keys) != key_length:
        return None
    try:
        plain = tuple(check_int("key", k, 0) for k in keys)
    except (TypeError, ValueError):
        return None
    return plain


@dataclass(frozen=True)
class Cell:
    """One compressor instance: reads bits ``inputs`` and drives bits ``outputs``."""

    stage: int
    column: int
    compressor: str
    inputs: tuple
    outputs: tuple


@dataclass(frozen=True)
class ReductionPlan:
    """The stages of a reduction tree and the two rows it leaves for the final adder.

    Bits are numbered: ``0 .. n_inputs - 1`` are the tree's inputs in column order, higher
    numbers are compressor outputs. ``final_rows[column]`` lists the (at most two) bits left in
    each column; ``or_columns`` lists columns whose bits are OR-ed instead of added.
    """

    input_heights: tuple
    cells: tuple
    final_columns: tuple
    n_bits: int
    schedule: str
    stages: int
    or_columns: int = 0

    def compressor_counts(self):
        """Per column, how many of each compressor the tree uses: ``[Counter, ...]``."""
        per_column = [Counter() for _ in self.input_heights]
        for cell in self.cells:
            per_column[cell.column][cell.compressor] += 1
        return per_column

    def totals(self):
        """How many of each compressor the whole tree uses."""
        return sum(self.compressor_counts(), Counter())


def _holding(counts):
    if not counts:
        return "no compressor"
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))


def check_assignment(assignment, heights, *, schedule="dadda", or_columns=0,
                     label="assignment"):
    """The entries of ``assignment`` that shape the tree planned for ``heights``.

    An entry that places nothing would change a design's name but not its circuit. A
    ``columns`` entry means "this compressor where it fits in this column": one that fits in
    no stage (too few bits, an OR-ed column) or that names ``"full_adder"`` (what the column
    uses anyway) is dropped, so that equal circuits get equal assignments. An override names
    one stage of one column, so one that leaves the plan as it is without it is an error. The
    other arguments are those of :func:`plan_reduction`; ``label`` names the assignment in
    messages.

    Returns
    -------
    (CompressorAssignment, ReductionPlan)
        The assignment without the dropped entries (possibly empty) and its plan, which is
        the plan of ``assignment``.

    Raises
    ------
    ValueError
        For a column beyond the tree, or an override that places nothing, naming the stage
        and column and what the plan holds there.
    """
    n_columns = len(heights)
    for column in [c for c, _ in assignment.columns] + [c for (_, c), _ in assignment.overrides]:
        if column >= n_columns:
            raise ValueError(f"{label} names column {column}, beyond the {n_columns} columns "
                             f"of the tree")
    plan = plan_reduction(heights, schedule=schedule, assignment=assignment,
                          or_columns=or_columns)
    used = {(cell.column, cell.compressor) for cell in plan.cells}
    assignment = CompressorAssignment(
        columns=tuple((column, name) for column, name in assignment.columns
                      if name != "full_adder" and (column, name) in used),
        overrides=assignment.overrides)
    held = {}
    for cell in plan.cells:
        held.setdefault((cell.stage, cell.column), Counter())[cell.compressor] += 1
    for (stage, column), name in assignment.overrides:
        where = f"{label} override at stage {stage}, column {column} ({name!r})"
        if column < or_columns:
            raise ValueError(f"{where} places nothing: column {column} is OR-ed, not reduced")
        if stage >= plan.stages:
            stages = (f"only {plan.stages} stage{'s' if plan.stages != 1 else ''} (0 to "
                      f"{plan.stages - 1})" if plan.stages else "no stages")
            raise ValueError(f"{where} places nothing: the tree has {stages}")
        others = tuple(item for item in assignment.overrides if item[0] != (stage, column))
        without = plan_reduction(heights, schedule=schedule, or_columns=or_columns,
                                 assignment=CompressorAssignment(assignment.columns, others))
        if without.cells == plan.cells:
            column_choice = dict(assignment.columns).get(column, "full_adder")
            raise ValueError(f"{where} places nothing new: stage {stage} of column {column} "
                             f"holds {_holding(held.get((stage, column)))} with or without "
                             f"it (the column uses {column_choice!r} where it fits)")
    return assignment, plan


def _dadda_targets(limit):
    targets = [2]
    while targets[-1] < limit:
        targets.append(targets[-1] * 3 // 2)
    return targets


def plan_reduction(heights, *, schedule="dadda", assignment=None, or_columns=0):
    """Plan the reduction of columns with ``heights[k]`` bits to at most two bits each.

    Parameters
    ----------
    heights : sequence of int
        Bits per column, least significant column first. Carries out of the top column are
        dropped (the result is modulo ``2**len(heights)``).
    schedule : str
        ``"dadda"`` (reduce each stage only as far as the next Dadda height, fewest cells) or
        ``"wallace"`` (reduce as early as possible, fewest stages).
    assignment : CompressorAssignment or None
    or_columns : int
        The lowest ``or_columns`` columns are not reduced; their bits are OR-ed.
    """
    if schedule not in TREE_SCHEDULES:
        raise ValueError(f"tree must be one of {TREE_SCHEDULES}, not {schedule!r}")
    assignment = assignment or CompressorAssignment()
    n_columns = len(heights)
    next_bit = 0
    columns = []
    for height in heights:
        columns.append(list(range(next_bit, next_bit + height)))
        next_bit += height
    cells = []
    stage = 0

    def tallest():
        return max((len(c) for c in columns[or_columns:]), default=0)

    while tallest() > 2:
        if stage >= _MAX_STAGES:
            raise RuntimeError(f"reduction of heights {heights!r} did not converge")
        target = max(t for t in _dadda_targets(tallest()) if t < tallest())
        following = [[] for _ in range(n_columns)]
        for column in range(n_columns):
            bits = columns[column]
            if column < or_columns:
                following[column].extend(bits)
                continue
            chosen = assignment.compressor_for(stage, column)
            height = len(bits) + len(following[column])
            wallace = schedule == "wallace"
            while True:
                excess = height - target
                # Wallace compresses every full group as early as it can; both schedules use
                # a half adder only where the column would otherwise stay above the target.
                greedy = wallace and len(bits) >= 3
                if excess <= 0 and not greedy:
                    break
                compressor = _pick(chosen, bits, excess, greedy)
                if compressor is None:
                    break
                inputs, bits = bits[:compressor.n_inputs], bits[compressor.n_inputs:]
                outputs = []
                for _, weight in compressor.outputs:
                    outputs.append(next_bit)
                    if column + weight < n_columns:
                        following[column + weight].append(next_bit)
                    next_bit += 1
                cells.append(Cell(stage, column, compressor.name, tuple(inputs),
                                  tuple(outputs)))
                height -= compressor.height_reduction
            following[column].extend(bits)
        columns = following
        stage += 1
    return ReductionPlan(tuple(heights), tuple(cells), tuple(tuple(c) for c in columns),
                         next_bit, schedule, stage, or_columns)


def _pick(chosen, bits, excess, greedy):
    """The compressor to place next in a column with ``bits`` available."""
    if chosen is not None:
        compressor = COMPRESSORS[chosen]
        if len(bits) >= compressor.n_inputs and (greedy or excess >= 2):
            return compressor
    if len(bits) >= 3 and (greedy or excess >= 2):
        return COMPRESSORS["full_adder"]
    if len(bits) >= 2:
        return COMPRESSORS["half_adder"]
    return None


def live_bits(plan, stage):
    """The bits that cross from stage ``stage`` to the next: made by then, read later.

    Bit numbers (see :class:`ReductionPlan`), ascending; what a pipeline register between
    the two stages must hold. ``stage`` counts from 0; the final adder reads after the last.
    """
    made = set(range(sum(plan.input_heights)))
    read_later = {bit for column in plan.final_columns for bit in column}
    for cell in plan.cells:
        if cell.stage <= stage:
            made.update(cell.outputs)
        else:
            read_later.update(cell.inputs)
    return sorted(made & read_later)


def reduce_columns(plan, logic, columns, *, final_adder="behavioral", name="tree",
                   register_stages=(), register=None):
    """Evaluate ``plan`` on ``columns`` of bits; returns the sum's bits, least significant first.

    Parameters
    ----------
    plan : ReductionPlan
    logic : NumpyLogic or AmaranthLogic
        Or any back-end with their methods; one with ``place_compressor(compressor, bits,
        name)`` is asked to place each compressor itself and returns its output bits, or
        ``None`` to have the compressor's function applied as usual.
    columns : list of list
        Input bits per column; their counts must equal ``plan.input_heights``.
    final_adder : str
        ``"behavioral"`` (a word-level ``+``, the synthesis tool picks the adder) or
        ``"ripple"`` (a chain of full adders).
    register_stages : iterable of int
        Stages (from 0) followed by a pipeline register: the bits that cross from such a
        stage to the next (:func:`live_bits`, in that order) are replaced by
        ``register(stage, values)``, which returns their registered values.
    register : callable or None
        Needed when ``register_stages`` is not empty.
    """
    heights = tuple(len(column) for column in columns)
    if heights != plan.input_heights:
        raise ValueError(f"columns have heights {heights}, the plan expects "
                         f"{plan.input_heights}")
    bits = [bit for column in columns for bit in column]
    bits += [None] * (plan.n_bits - len(bits))
    pending = sorted(set(register_stages))

    def register_until(stage):
        # Every register after a stage before `stage`, even a stage without cells.
        while pending and pending[0] < stage:
            done = pending.pop(0)
            crossing = live_bits(plan, done)
            values = register(done, [bits[bit] for bit in crossing])
            for bit_id, value in zip(crossing, values, strict=True):
                bits[bit_id] = value

    for index, cell in enumerate(plan.cells):
        register_until(cell.stage)
        compressor = COMPRESSORS[cell.compressor]
        inputs = [bits[i] for i in cell.inputs]
        instance = f"{name}_s{cell.stage}_c{cell.column}_{index}_{cell.compressor}"
        # A back-end may place a compressor as a whole (a library cell's instance, in a
        # netlist writer); None leaves it to the compressor's own function.
        place = getattr(logic, "place_compressor", None)
        outputs = None if place is None else place(compressor, inputs, instance)
        if outputs is None:
            outputs = compressor.apply(logic, inputs, name=instance)
        for bit_id, value in zip(cell.outputs, outputs, strict=True):
            bits[bit_id] = value
    register_until(plan.stages)
    width = len(columns)
    result = []
    for column in range(plan.or_columns):
        value = logic.const(0)
        for bit_id in plan.final_columns[column]:
            value = value | bits[bit_id]
        result.append(logic.net(f"{name}_or{column}", value))
    rows = [[], []]
    for column in range(plan.or_columns, width):
        final = [bits[i] for i in plan.final_columns[column]]
        final += [logic.const(0)] * (2 - len(final))
        rows[0].append(final[0])
        rows[1].append(final[1])
    adder_width = width - plan.or_columns
    if final_adder == "behavioral":
        result += logic.add(f"{name}_sum", rows, adder_width)
    elif final_adder == "ripple":
        carry = logic.const(0)
        full_adder = COMPRESSORS["full_adder"]
        for position in range(adder_width):
            total, carry = full_adder.apply(
                logic, [rows[0][position], rows[1][position], carry],
                name=f"{name}_cpa{position}")
            result.append(total)
    else:
        raise ValueError(f"final_adder must be 'behavioral' or 'ripple', not {final_adder!r}")
    return result
