"""The one description of a digital compute-in-memory macro: :class:`MacroSpec`.

Every view of a macro (the Amaranth component, the NumPy golden model, the testbenches, the
Verilog module name and the TOML file) derives from one frozen, hashable :class:`MacroSpec`.
"""

import dataclasses
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from amaranth.hdl import Shape, signed, unsigned
from amaranth.lib import data
from amaranth.utils import ceil_log2

from ..arith.multiplier import MULTIPLIER_KINDS, MultiplierSpec
from ..arith.tree import (
    TREE_SCHEDULES,
    CompressorAssignment,
    check_assignment,
    plan_reduction,
)
from ..checks import check_bool, check_int, short_repr
from ..toml_io import read_toml, write_toml

__all__ = ["DATAPATHS", "MAX_BITS", "MAX_COLS", "MAX_PIPELINE", "MAX_ROWS", "MacroSpec"]

DATAPATHS = ("multiplier", "bitserial")
"""Datapath styles: word-parallel multipliers, or the classic bit-serial array."""

MAX_ROWS = 1024
MAX_COLS = 4096
MAX_BITS = 32
GUARD_BITS = 8
"""Accumulator bits above one pass's dot product by default: 256 passes cannot overflow."""
MAX_ACC_WIDTH = 256

MAX_PIPELINE = 64
"""Largest ``pipeline`` accepted; larger trees than that do not exist (1024 rows: 16 stages)."""

_FIELDS = ("rows", "cols", "weight_bits", "act_bits", "signed", "mult", "datapath", "col_mux",
           "tree", "assignment", "acc_width", "pipeline")


@dataclass(frozen=True)
class MacroSpec:
    """One SRAM compute-in-memory macro: ``rows``-long dot products for ``cols`` columns.

    The macro stores a ``rows`` x ``cols`` weight matrix and, for each activation vector
    ``x`` of length ``rows``, produces ``y[c] = sum_r f(w[r, c], x[r])`` for every column
    ``c``, where ``f`` is the multiplier and the sum is the column adder tree (exact, or
    approximate where :attr:`assignment` puts approximate compressors).

    Parameters
    ----------
    rows : int
        Dot-product length (SRAM rows, one weight of each column per row), 1 to 1024.
    cols : int
        Output columns (dot products per activation vector), 1 to 4096.
    weight_bits, act_bits : int
        Weight and activation widths, 1 to 32.
    signed : bool
        Two's-complement weights, activations and results, or unsigned ones.
    mult : str, dict or MultiplierSpec
        The multiplier: a kind name from :data:`dcim.arith.MULTIPLIER_KINDS` (``"exact"``,
        ``"approx"``, ``"mitchell"``, ``"log"``, ``"drum"``, ...), which means
        ``MultiplierSpec(width=max(2, weight_bits, act_bits), signed=signed, kind=mult)``; a
        ``{"kind": ..., "options": ...}`` table (width and signedness filled in the same way);
        or a full :class:`~dcim.arith.MultiplierSpec` whose ``signed`` equals ``signed`` and
        whose width is at least ``max(weight_bits, act_bits)``. Multipliers take operands of
        one width: the narrower of weight and activation is sign- or zero-extended to it. The
        weight is operand ``a``, the activation operand ``b``.
    datapath : str
        ``"multiplier"`` (one multiplier per row, products summed by the column adder tree,
        one dot product per column per cycle) or ``"bitserial"`` (the classic all-digital
        macro: one activation bit per cycle, 1-bit products in the array, adder tree, shift
        and accumulate). ``"bitserial"`` needs ``mult`` of kind ``"exact"``; its only
        approximation is the adder tree's.
    col_mux : int
        Columns that share one datapath lane, a divisor of ``cols``: ``cols // col_mux``
        lanes each serve ``col_mux`` columns one after another.
    tree : str
        Reduction schedule of the column adder tree: ``"dadda"`` or ``"wallace"``.
    assignment : CompressorAssignment, dict or None
        Compressors used in the column adder tree instead of full adders (OpenACM-style
        per-column or per-stage assignment; ``None`` keeps the tree exact). Its columns are
        bit weights of the tree's sum (see :attr:`tree_width`). An override that does
        not change the tree is refused, a ``columns`` entry that places nothing is dropped
        (see :func:`dcim.arith.tree.check_assignment`).
    acc_width : int or None
        Accumulator (and result) width, at least :attr:`dot_width`; ``None`` gives
        ``dot_width + 8``, so that 256 passes never overflow. Sums wrap around modulo
        ``2**acc_width`` (two's complement when signed).
    pipeline : int
        Registers inside each lane. ``0`` (the default): the lane is combinational, its tree
        sum registered by the controller. ``k >= 1``: a register after the lane's terms (the
        multiplier products, bit-serially the 1-bit products) and after every ``k``-th
        compression stage of the adder tree (stages ``k, 2k, ...`` counted from 1; the last
        level, the carry-propagate adder, ends at the controller's register). The lane then
        takes :attr:`lane_latency` ``= 1 + tree_stages // k`` cycles, which the latency
        grows by; the interval and the results are unchanged. Values above
        ``tree_stages + 1`` make the same circuit (only the terms registered) and are
        stored as ``tree_stages + 1``.

    Raises
    ------
    ValueError, TypeError
        For any invalid parameter, naming it and its value.
    """

    rows: int = 64
    cols: int = 8
    weight_bits: int = 8
    act_bits: int = 8
    signed: bool = True
    mult: object = "exact"
    datapath: str = "multiplier"
    col_mux: int = 1
    tree: str = "dadda"
    assignment: object = None
    acc_width: object = None
    pipeline: int = 0

    def __post_init__(self):
        # NumPy integers and booleans are stored as Python ones: equal specs, equal hashes.
        for parameter, high in (("rows", MAX_ROWS), ("cols", MAX_COLS),
                                ("weight_bits", MAX_BITS), ("act_bits", MAX_BITS)):
            object.__setattr__(self, parameter,
                               check_int(parameter, getattr(self, parameter), 1, high))
        object.__setattr__(self, "signed", check_bool("signed", self.signed))
        object.__setattr__(self, "pipeline",
                           check_int("pipeline", self.pipeline, 0, MAX_PIPELINE))
        if not isinstance(self.datapath, str) or self.datapath not in DATAPATHS:
            raise ValueError(f"datapath must be one of {', '.join(map(repr, DATAPATHS))}, "
                             f"not {short_repr(self.datapath)}")
        object.__setattr__(self, "col_mux", check_int("col_mux", self.col_mux, 1, self.cols))
        if self.cols % self.col_mux:
            raise ValueError(f"col_mux must divide cols ({self.cols}), not {self.col_mux!r}")
        if not isinstance(self.tree, str) or self.tree not in TREE_SCHEDULES:
            raise ValueError(f"tree must be one of {', '.join(map(repr, TREE_SCHEDULES))}, "
                             f"not {short_repr(self.tree)}")
        object.__setattr__(self, "mult", self._resolve_mult(self.mult))
        if self.datapath == "bitserial" and self.mult.kind != "exact":
            raise ValueError(f"mult must be of kind 'exact' for datapath 'bitserial' (its "
                             f"1-bit products are exact; approximate the adder tree through "
                             f"assignment instead), not {self.mult.kind!r}")
        assignment = self.assignment
        if isinstance(assignment, dict):
            assignment = CompressorAssignment.from_dict(assignment)
        elif assignment is not None and not isinstance(assignment, CompressorAssignment):
            raise TypeError(f"assignment must be a CompressorAssignment, a dict or None, "
                            f"not {short_repr(assignment)}")
        if assignment is not None and assignment.is_empty:
            assignment = None
        object.__setattr__(self, "assignment", assignment)
        if assignment is not None:
            top = max([c for c, _ in assignment.columns]
                      + [c for (_, c), _ in assignment.overrides])
            if top >= self.tree_width:
                raise ValueError(f"assignment names column {top}, beyond the "
                                 f"{self.tree_width} columns of the adder tree")
        if self.acc_width is None:
            object.__setattr__(self, "acc_width", self.dot_width + GUARD_BITS)
        if isinstance(self.acc_width, (bool, np.bool_)) or not isinstance(self.acc_width,
                                                                          (int, np.integer)):
            raise TypeError(f"acc_width must be an int or None, not {short_repr(self.acc_width)}")
        object.__setattr__(self, "acc_width", int(self.acc_width))
        if not self.dot_width <= self.acc_width <= MAX_ACC_WIDTH:
            raise ValueError(f"acc_width must be at least dot_width = {self.dot_width} (one "
                             f"pass never overflows) and at most {MAX_ACC_WIDTH}, "
                             f"not {self.acc_width!r}")
        self._canonicalise()

    def _canonicalise(self):
        """Give every parameter the one form shared by all specs of the same circuit.

        The adder tree's assignment loses the entries that place nothing (and refuses
        overrides that place nothing); ``tree`` is ``"dadda"`` where Wallace's schedule plans
        the same cells; a bit-serial macro, which has no multiplier, holds the default one.
        """
        from .datapath import tree_heights

        if self.datapath == "bitserial":
            object.__setattr__(self, "mult", MultiplierSpec(
                width=max(2, self.weight_bits, self.act_bits), signed=self.signed))
        if self.assignment is None and self.tree == "dadda":
            self._canonicalise_pipeline()
            return
        # Computed here, not through the cached properties: those would keep what they saw
        # of a spec that is still changing.
        heights = tree_heights(self)
        plan = None
        if self.assignment is not None:
            # Here, not when the tree is built: an entry that places nothing would give the
            # macro another name for the same circuit.
            assignment, plan = check_assignment(self.assignment, heights, schedule=self.tree)
            object.__setattr__(self, "assignment", None if assignment.is_empty else assignment)
        if self.tree != "dadda":
            dadda = plan_reduction(heights, assignment=self.assignment)
            plan = plan or plan_reduction(heights, schedule=self.tree,
                                          assignment=self.assignment)
            if dadda.cells == plan.cells:
                object.__setattr__(self, "tree", "dadda")
                plan = dadda
        # The spec is final now: keep what was computed for the cached properties.
        self.__dict__["tree_heights"] = heights
        if plan is not None:
            self.__dict__["tree_plan"] = plan
        self._canonicalise_pipeline()

    def _canonicalise_pipeline(self):
        # Every k above the number of tree stages registers the terms alone: one value for
        # that circuit. The plan does not depend on the pipeline, so caching it here is safe.
        if self.pipeline > self.tree_plan.stages + 1:
            object.__setattr__(self, "pipeline", self.tree_plan.stages + 1)

    def _resolve_mult(self, mult):
        width = max(2, self.weight_bits, self.act_bits)
        if isinstance(mult, str):
            if mult not in MULTIPLIER_KINDS:
                raise ValueError(f"mult must be a MultiplierSpec or one of "
                                 f"{', '.join(sorted(MULTIPLIER_KINDS))}, "
                                 f"not {short_repr(mult)}")
            return self._derived_mult(MultiplierSpec, width=width, signed=self.signed,
                                      kind=mult)
        if isinstance(mult, dict):
            table = {"width": width, "signed": self.signed, **mult}
            return self._resolve_mult(self._derived_mult(MultiplierSpec.from_dict, table))
        if not isinstance(mult, MultiplierSpec):
            raise TypeError(f"mult must be a kind name, a dict or a MultiplierSpec, "
                            f"not {short_repr(mult)}")
        if mult.signed != self.signed:
            raise ValueError(f"mult.signed must equal signed ({self.signed!r}), "
                             f"not {mult.signed!r}")
        if mult.width < max(self.weight_bits, self.act_bits):
            raise ValueError(f"mult.width must be at least max(weight_bits, act_bits) = "
                             f"{max(self.weight_bits, self.act_bits)}, not {mult.width!r}")
        return mult

    @staticmethod
    def _derived_mult(build, *args, **kwargs):
        # The width comes from weight_bits and act_bits, not from the user: say where the
        # multiplier's own complaint ("k must be at most width = 2") comes from.
        try:
            return build(*args, **kwargs)
        except (ValueError, TypeError) as error:
            raise type(error)(f"mult: {error}") from None

    # -- derived facts ---------------------------------------------------------------------

    @property
    def lanes(self):
        """Datapath lanes: ``cols // col_mux``."""
        return self.cols // self.col_mux

    @property
    def steps(self):
        """Cycles a lane spends on one column of one vector: ``act_bits`` bit-serially, else 1."""
        return self.act_bits if self.datapath == "bitserial" else 1

    @property
    def interval(self):
        """Cycles between successive activation vectors at full rate: ``col_mux * steps``."""
        return self.col_mux * self.steps

    @property
    def register_stages(self):
        """Compression stages of the adder tree (from 0) followed by a pipeline register."""
        if not self.pipeline:
            return ()
        return tuple(stage for stage in range(self.tree_plan.stages)
                     if (stage + 1) % self.pipeline == 0)

    @property
    def lane_latency(self):
        """Cycles a lane takes: 0 combinational, else ``1 + tree_stages // pipeline``."""
        return (1 + len(self.register_stages)) if self.pipeline else 0

    @property
    def latency(self):
        """Cycles from accepting an activation vector to its result being valid.

        ``interval + 2 + lane_latency``: one cycle into the input register, ``interval``
        cycles issuing groups (and bits) to the lanes, ``lane_latency`` cycles through the
        lanes' pipeline registers, one cycle from the tree register to the accumulator.
        """
        return self.interval + 2 + self.lane_latency

    @property
    def throughput(self):
        """Multiply-accumulates per cycle at full rate: ``rows * cols / interval``."""
        return self.rows * self.cols / self.interval

    @property
    def product_width(self):
        """Bits of one term the adder tree sums: a multiplier product, or one weight."""
        return 2 * self.mult.width if self.datapath == "multiplier" else self.weight_bits

    @property
    def tree_width(self):
        """Columns of the adder tree, enough for ``rows`` terms: no carry is ever lost."""
        return self.product_width + ceil_log2(self.rows)

    @property
    def dot_width(self):
        """Bits of one pass's dot product (per column), before the accumulator."""
        if self.datapath == "multiplier":
            return self.tree_width
        return self.tree_width + self.act_bits

    @property
    def out_width(self):
        """Width of each result: the accumulator width."""
        return self.acc_width

    @property
    def weight_shape(self) -> Shape:
        return signed(self.weight_bits) if self.signed else unsigned(self.weight_bits)

    @property
    def act_shape(self) -> Shape:
        return signed(self.act_bits) if self.signed else unsigned(self.act_bits)

    @property
    def dot_shape(self) -> Shape:
        return signed(self.dot_width) if self.signed else unsigned(self.dot_width)

    @property
    def out_shape(self) -> Shape:
        return signed(self.acc_width) if self.signed else unsigned(self.acc_width)

    @property
    def addr_width(self):
        """Width of the weight-write row address (at least 1 bit)."""
        return max(1, ceil_log2(self.rows))

    @property
    def write_layout(self):
        """Payload of the weight-write stream: ``addr``, ``data`` (one weight per column),
        ``mask`` (per-column enables)."""
        return data.StructLayout({
            "addr": self.addr_width,
            "data": data.ArrayLayout(self.weight_shape, self.cols),
            "mask": self.cols,
        })

    @property
    def act_layout(self):
        """Payload of the activation stream: ``data`` (one activation per row), ``first``,
        ``last``."""
        return data.StructLayout({
            "data": data.ArrayLayout(self.act_shape, self.rows),
            "first": 1,
            "last": 1,
        })

    @property
    def result_layout(self):
        """Payload of the result stream: one ``out_shape`` value per column."""
        return data.ArrayLayout(self.out_shape, self.cols)

    def value_range(self, bits):
        """``(lowest, highest)`` value of a ``bits``-wide operand of this macro, inclusive."""
        if self.signed:
            return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return 0, (1 << bits) - 1

    @cached_property
    def tree_heights(self):
        """Input bits per column of the adder tree, constant-one bits included."""
        from .datapath import tree_heights
        return tree_heights(self)

    @cached_property
    def tree_plan(self):
        """The :class:`~dcim.arith.tree.ReductionPlan` the hardware and the model share."""
        return plan_reduction(self.tree_heights, schedule=self.tree,
                              assignment=self.assignment)

    @property
    def name(self):
        """Stable identifier and Verilog module name: ``dcim_r64c8_w8a8s_mul8s_log``."""
        parts = [f"dcim_r{self.rows}c{self.cols}",
                 f"w{self.weight_bits}a{self.act_bits}{'s' if self.signed else 'u'}"]
        # A bit-serial macro has no multiplier: its name leaves ``mult`` out.
        parts.append("bs" if self.datapath == "bitserial" else self.mult.name)
        if self.col_mux > 1:
            parts.append(f"cm{self.col_mux}")
        if self.tree != "dadda":
            parts.append(self.tree)
        if self.assignment is not None:
            parts.append("t" + self.assignment.summary())
        if self.acc_width != self.dot_width + GUARD_BITS:
            parts.append(f"acc{self.acc_width}")
        if self.pipeline:
            parts.append(f"p{self.pipeline}")
        return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))

    def component(self):
        """A fresh :class:`~dcim.macro.DCiMMacro` for this spec."""
        from .macro import DCiMMacro
        return DCiMMacro(spec=self)

    @property
    def signature(self):
        """The ports of :class:`~dcim.macro.DCiMMacro`: ``write``, ``act``, ``result``, ``busy``."""
        from .macro import macro_signature
        return macro_signature(self)

    clocked = True
    """The macro uses the ``sync`` domain: its module has ports ``clk`` and ``rst``."""

    def blocks(self):
        """The macro's distinct sub-blocks: its lane, its weight column and its controller.

        See :mod:`dcim.macro.blocks` and the block protocol, :mod:`dcim.eda.blocks`.
        """
        from .blocks import ColumnSpec, ControllerSpec, LaneSpec
        return (LaneSpec(self), ColumnSpec(self), ControllerSpec(self))

    def model(self, weights, activations):
        """Bit-exact results of the macro; see :meth:`dcim.macro.DCiMMacro.model`."""
        from .model import macro_model
        return macro_model(self, weights, activations)

    def describe(self):
        """Facts for reports, as ``{label: value}``."""
        totals = self.tree_plan.totals()
        return {"name": self.name, "rows": self.rows, "cols": self.cols,
                "weight_bits": self.weight_bits, "act_bits": self.act_bits,
                "signed": self.signed, "datapath": self.datapath, "mult": self.mult.name,
                "col_mux": self.col_mux, "lanes": self.lanes, "acc_width": self.acc_width,
                "pipeline": self.pipeline, "latency": self.latency,
                "interval": self.interval,
                "macs_per_cycle": self.throughput, "tree_stages": self.tree_plan.stages,
                "tree_compressors": ", ".join(f"{n} {name}"
                                              for name, n in sorted(totals.items()))}

    # -- serialisation ---------------------------------------------------------------------

    def to_dict(self):
        data = {"rows": self.rows, "cols": self.cols, "weight_bits": self.weight_bits,
                "act_bits": self.act_bits, "signed": self.signed, "datapath": self.datapath,
                "col_mux": self.col_mux, "tree": self.tree, "acc_width": self.acc_width,
                "mult": self.mult.to_dict()}
        if self.assignment is not None:
            data["assignment"] = self.assignment.to_dict()
        # Only when set: the descriptions (and TOML files) of combinational macros stay as
        # they were.
        if self.pipeline:
            data["pipeline"] = self.pipeline
        return data

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict):
            raise TypeError(f"macro description must be a table, not {short_repr(data)}")
        unknown = sorted(map(repr, set(data) - set(_FIELDS)))
        if unknown:
            raise ValueError(f"macro description has unknown keys [{', '.join(unknown)}]; "
                             f"it takes {list(_FIELDS)!r}")
        data = dict(data)
        if isinstance(data.get("mult"), dict) and "width" in data["mult"]:
            data["mult"] = MultiplierSpec.from_dict(data["mult"])
        return cls(**data)

    def to_toml(self, path=None):
        """TOML text with a ``[macro]`` table; also written to ``path`` when given."""
        return write_toml({"macro": self.to_dict()}, path)

    @classmethod
    def from_toml(cls, text_or_path):
        """Load from TOML text or a file (a ``str`` or ``Path``) holding a ``[macro]`` table
        and nothing else."""
        return cls.from_dict(read_toml(text_or_path, "macro"))

    def replace(self, **changes):
        """A copy with some parameters changed.

        ``acc_width`` and a ``mult`` given by its kind name are derived again (from the new
        widths) unless given, or unless they were not the derived ones.
        """
        if "acc_width" not in changes and self.acc_width == self.dot_width + GUARD_BITS:
            changes["acc_width"] = None
        mult = self.mult
        # Compared as specs: canonical options of a kind's default depend on the width. A
        # kind whose defaults do not fit the width (DRUM's k = 6 at width 2) has no derived
        # multiplier there, so this one was given.
        try:
            derived = mult == MultiplierSpec(width=max(2, self.weight_bits, self.act_bits),
                                             signed=self.signed, kind=mult.kind)
        except ValueError:
            derived = False
        if "mult" not in changes and derived:
            changes["mult"] = mult.kind
        return dataclasses.replace(self, **changes)
