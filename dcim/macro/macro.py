"""The SRAM compute-in-memory macro: weight array, datapath lanes and controller.

See ``docs/macro.md`` for the block diagram and the timing of the streams.
"""

from amaranth.hdl import Array, Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..eda.blocks import BlockPlatform, block_component
from .blocks import ColumnSpec, ControllerSpec, LaneSpec
from .datapath import from_platform, tree_shape
from .spec import MacroSpec

__all__ = ["ColumnArray", "DCiMMacro", "MacroController", "RegisterArray", "WeightArray",
           "array_signature",
           "controller_signature", "macro_signature"]


def array_signature(spec):
    """The signature of a weight array for ``spec`` (what a platform's array must match).

    Members
    -------
    addr : In(spec.addr_width)
        Row written when any bit of ``en`` is set; rows at or above ``spec.rows`` never are.
    data : In(ArrayLayout(spec.weight_shape, spec.cols))
        One weight per column.
    en : In(spec.cols)
        Per-column write enables, applied at the next clock edge.
    weights : Out(ArrayLayout(spec.weight_shape, spec.cols)).array(spec.rows)
        Every stored weight, ``weights[row][col]``, read combinationally by the datapath (the
        bitcells' compute ports, not an SRAM read port). One signal per row (ports
        ``weights__0``, ``weights__1``, ...): Amaranth's back-end refuses wires of 65,536 bits
        or more, which a whole rows=256, cols=64 array of 8-bit weights would be.
    """
    return wiring.Signature({
        "addr": In(spec.addr_width),
        "data": In(data.ArrayLayout(spec.weight_shape, spec.cols)),
        "en": In(spec.cols),
        "weights": Out(data.ArrayLayout(spec.weight_shape, spec.cols)).array(spec.rows),
    })


class WeightArray(wiring.Component):
    """The simulation model of the bitcell array: an :class:`amaranth.lib.memory.Memory`.

    One row (word line) per memory row; a write port with one enable per column; one
    combinational read port per row, because a compute-in-memory array exposes every bitcell
    to its local compute logic at once. Memory contents are not cleared by reset. A flow
    replaces this component with a hard array through the platform hook described in
    :class:`DCiMMacro`.

    Parameters
    ----------
    spec : MacroSpec

    Members
    -------
    See :func:`array_signature`.
    """

    def __init__(self, spec):
        self._spec = spec
        super().__init__(array_signature(spec))

    def elaborate(self, platform):
        spec = self._spec
        m = Module()
        m.submodules.memory = memory = Memory(
            shape=data.ArrayLayout(spec.weight_shape, spec.cols), depth=spec.rows, init=[])
        write = memory.write_port(granularity=1)
        in_range = self.addr < spec.rows
        m.d.comb += [write.addr.eq(self.addr), write.data.eq(self.data),
                     write.en.eq(Mux(in_range, self.en, 0))]
        for row in range(spec.rows):
            read = memory.read_port(domain="comb")
            m.d.comb += [read.addr.eq(row), self.weights[row].eq(read.data)]
        return m


class RegisterArray(wiring.Component):
    """The bitcell array as plain registers, one per row: what Verilog writers use.

    It behaves as :class:`WeightArray` (writes at the clock edge with per-column enables,
    rows at or above ``spec.rows`` never written, contents zero at power-on and kept through
    reset), but every row is its own register. Yosys maps a memory with one read port per row
    into ``rows`` multiplexer trees over all rows, which grows as ``rows**2 * cols``; here
    each row is read where it is stored.

    Parameters
    ----------
    spec : MacroSpec

    Members
    -------
    See :func:`array_signature`.
    """

    def __init__(self, spec):
        self._spec = spec
        super().__init__(array_signature(spec))

    def elaborate(self, platform):
        spec = self._spec
        m = Module()
        # Bit masks of the enabled columns: one assignment per row, as a row of per-column
        # conditions would make rows * cols statements for Amaranth to build.
        mask = Signal(spec.cols * spec.weight_bits, name="write_mask")
        m.d.comb += mask.eq(Cat(self.en[col].replicate(spec.weight_bits)
                                for col in range(spec.cols)))
        for row in range(spec.rows):
            stored = Signal(spec.cols * spec.weight_bits, name=f"row{row}", reset_less=True)
            with m.If(self.addr == row):
                m.d.sync += stored.eq((stored & ~mask) | (self.data.as_value() & mask))
            m.d.comb += self.weights[row].eq(stored)
        return m


class ColumnArray(wiring.Component):
    """The weight array as equal groups of columns side by side, each its own array.

    What writers and flows use (a :class:`~dcim.eda.blocks.BlockPlatform`): each group is
    a component with the signature :func:`array_signature` of an array of ``columns``
    columns (the one-column :class:`~dcim.macro.blocks.ColumnSpec` block, or a hard SRAM
    array), which gets the shared address, its columns' weights and write enables, and
    drives its columns of every row. The behaviour is :class:`RegisterArray`'s over the
    whole array.

    Parameters
    ----------
    spec : MacroSpec
    group : callable
        Returns a fresh component for one group (called ``spec.cols // columns`` times).
    columns : int
        Columns per group, a divisor of ``spec.cols``.

    Members
    -------
    See :func:`array_signature`.

    Raises
    ------
    ValueError
        If ``columns`` does not divide ``spec.cols``.
    """

    def __new__(cls, spec, group, columns=1):
        # Refuse bad columns before the object exists: Amaranth warns about every component
        # that is created and never elaborated, which a rejected one never could be.
        if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1 \
                or spec.cols % columns:
            raise ValueError(f"columns must be a divisor of cols ({spec.cols}), "
                             f"not {columns!r}")
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, spec, group, columns=1):
        self._spec = spec
        self._group = group
        self._columns = columns
        super().__init__(array_signature(spec))

    def elaborate(self, platform):
        spec, columns = self._spec, self._columns
        bits = columns * spec.weight_bits
        m = Module()
        units = []
        for index in range(spec.cols // columns):
            m.submodules[f"col{index}"] = unit = self._group()
            first = index * columns
            m.d.comb += [unit.addr.eq(self.addr),
                         unit.data.eq(self.data.as_value().word_select(index, bits)),
                         unit.en.eq(self.en[first:first + columns])]
            units.append(unit)
        # One assignment per row, not per bit: many partial assignments to one signal slow
        # Amaranth's netlist builder down.
        for row in range(spec.rows):
            m.d.comb += self.weights[row].eq(Cat(unit.weights[row] for unit in units))
        return m


def macro_signature(spec):
    """The signature of :class:`DCiMMacro` for ``spec`` (see its members)."""
    return wiring.Signature({
        "write": In(stream.Signature(spec.write_layout)),
        "act": In(stream.Signature(spec.act_layout)),
        "result": Out(stream.Signature(spec.result_layout)),
        "busy": Out(1),
    })


class DCiMMacro(wiring.Component):
    """A digital SRAM compute-in-memory macro: ``cols`` dot products of length ``rows``.

    Build it from keyword parameters (those of :class:`MacroSpec`, all with defaults) or from
    a spec: ``DCiMMacro(rows=64, mult="log")`` or ``DCiMMacro(spec=MacroSpec(...))``.

    Operation: write the weight matrix row by row through ``write``; stream activation vectors
    into ``act``; collect one result per vector (per column, ``sum_r f(w[r, c], x[r])``,
    accumulated) from ``result``. All three streams use valid/ready handshakes (a transfer
    happens in a cycle where both are high); ``result`` honours back-pressure by stalling the
    pipeline, which in turn holds ``act.ready`` low.

    Accumulation across passes (matrices with more than ``rows`` rows): each activation beat
    carries ``first`` (start from zero rather than from the accumulator) and ``last`` (emit
    the accumulator as a result after this beat). Rewrite the weights between the beats of
    one result; ``write.ready`` stays low while the array is still being read for an earlier
    beat, so a write never changes a computation in flight. A write accepted in the same
    cycle as an activation beat takes effect before that beat is computed.

    Pipeline: an activation beat is accepted into the input register, then issued to the
    lanes for ``interval = col_mux * steps`` cycles (``steps`` is ``act_bits`` bit-serially,
    else 1), each issue's tree sum is registered, and the following cycle updates the
    accumulators (bit-serially: shift-accumulates, and adds into the accumulator after the
    last bit). Pipelined lanes (``spec.pipeline``) add ``spec.lane_latency`` cycles between
    issue and tree-sum register, the controller carrying each issue's control bits alongside
    and stalling the lanes (their ``en``, its ``advance``) with itself. Hence
    :attr:`latency` is ``interval + 2 + lane_latency`` cycles from the ``act`` transfer to
    ``result.valid``, and a new vector is accepted every ``interval`` cycles.

    Reset (the ``sync`` domain's) empties the pipeline and clears the accumulators; the stored
    weights are kept.

    Structure: the macro is its weight array, a controller (:class:`MacroController`:
    handshakes, sequencing, pipeline registers, accumulators), ``lanes`` datapath lanes and
    the column multiplexers between array and lanes. The controller and the lanes are
    blocks (:mod:`dcim.macro.blocks`; a lane's are its multipliers and its adder tree),
    which a platform with a ``get_block(block)`` hook may supply, e.g. as instances of
    modules written once (see :mod:`dcim.eda.blocks`).

    Platform hooks: when the platform passed to ``elaborate`` has a method
    ``get_dcim_array(spec)``, the macro uses the component it returns as its weight array
    (it must have the signature :func:`array_signature` ``(spec)``), e.g. a wrapper of an
    ``Instance`` of a hard bitcell array. Otherwise it uses :class:`WeightArray`, the
    :class:`~amaranth.lib.memory.Memory` model (simulation, and ``platform=None``), or
    :class:`RegisterArray` on a :class:`~dcim.eda.blocks.BlockPlatform` (Verilog writers
    and the flow).

    Parameters
    ----------
    spec : MacroSpec, optional
    **parameters
        Keyword parameters of :class:`MacroSpec` (when ``spec`` is not given).

    Members
    -------
    write : In(stream.Signature(write_layout))
        Weight writes. Payload fields: ``addr`` (row), ``data`` (one weight per column),
        ``mask`` (per-column write enables). Rows at or above ``rows`` are not written.
    act : In(stream.Signature(act_layout))
        Activation vectors. Payload fields: ``data`` (one activation per row), ``first``,
        ``last``.
    result : Out(stream.Signature(ArrayLayout(out_shape, cols)))
        One result per activation beat with ``last`` set: the accumulator of every column.
    busy : Out(1)
        High while an accepted beat is still being computed or its result is not yet taken.

    Raises
    ------
    TypeError, ValueError
        For invalid parameters (see :class:`MacroSpec`), naming the parameter and its value.
    """

    def __new__(cls, *, spec=None, **parameters):
        # Reject bad parameters before the object exists: Amaranth warns about every component
        # that is created and never elaborated, which a rejected one never could be.
        cls._spec_from(spec, parameters)
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, *, spec=None, **parameters):
        spec = self._spec_from(spec, parameters)
        self._spec = spec
        super().__init__(macro_signature(spec))

    @staticmethod
    def _spec_from(spec, parameters):
        if spec is None:
            return MacroSpec(**parameters)
        if parameters:
            raise TypeError(f"give either spec or keyword parameters, not both: "
                            f"{sorted(parameters)!r}")
        if not isinstance(spec, MacroSpec):
            raise TypeError(f"spec must be a MacroSpec, not {spec!r}")
        return spec

    # -- parameters and derived facts ------------------------------------------------------

    @property
    def spec(self):
        """The macro's :class:`MacroSpec`.

        Reading it counts as using the component: dcim's model, compiled simulation, flow and
        ``dcim.nn`` work from the spec and never elaborate this object, and Amaranth must not
        then warn, when it is collected, that it was created but never used.
        """
        self._MustUse__used = True
        return self._spec

    @property
    def name(self):
        """Stable name, also the Verilog module name (see :attr:`MacroSpec.name`)."""
        return self._spec.name

    @property
    def rows(self):
        return self._spec.rows

    @property
    def cols(self):
        return self._spec.cols

    @property
    def latency(self):
        """Cycles from an ``act`` transfer to its ``result.valid``: ``interval + 2``."""
        return self._spec.latency

    @property
    def interval(self):
        """Cycles between accepted activation vectors at full rate: ``col_mux * steps``."""
        return self._spec.interval

    @property
    def throughput(self):
        """Multiply-accumulates per cycle at full rate: ``rows * cols / interval``."""
        return self._spec.throughput

    @property
    def out_width(self):
        """Bits of each result (the accumulator width)."""
        return self._spec.out_width

    @property
    def write_layout(self):
        return self._spec.write_layout

    @property
    def act_layout(self):
        return self._spec.act_layout

    @property
    def result_layout(self):
        return self._spec.result_layout

    def model(self, weights, activations):
        """Bit-exact NumPy results for ``weights`` and ``activations``.

        Parameters
        ----------
        weights : int array of shape (R, cols)
            ``R`` rows; more than ``rows`` are computed in passes of ``rows`` (the last one
            padded with zeros) accumulated as the hardware does.
        activations : int array of shape (n, R) or (R,)

        Returns
        -------
        array of shape (n, cols), or (cols,) for a single vector
            int64, or Python ints (``object``) when ``out_width`` exceeds 62 bits.

        Raises
        ------
        ValueError, TypeError
            For mismatched shapes or values out of range, naming the array.
        """
        return self.spec.model(weights, activations)

    # -- hardware --------------------------------------------------------------------------

    def elaborate(self, platform):
        spec = self._spec
        array = from_platform(platform, "get_dcim_array", spec, array_signature(spec),
                              lambda: _default_array(spec, platform))
        m = Module()
        m.submodules.array = array
        m.submodules.ctrl = ctrl = block_component(platform, ControllerSpec(spec))
        write = self.write.payload
        m.d.comb += [
            ctrl.write_valid.eq(self.write.valid),
            ctrl.write_mask.eq(write.mask),
            self.write.ready.eq(ctrl.write_ready),
            array.addr.eq(write.addr),
            array.data.eq(write.data),
            array.en.eq(ctrl.write_en),
            self.busy.eq(ctrl.busy),
        ]
        wiring.connect(m, wiring.flipped(self.act), ctrl.act)
        wiring.connect(m, wiring.flipped(self.result), ctrl.result)

        lane_spec = LaneSpec(spec)
        lanes, col_mux = spec.lanes, spec.col_mux
        for lane in range(lanes):
            unit = block_component(platform, lane_spec)
            m.submodules[f"lane{lane}"] = unit
            if spec.datapath == "multiplier":
                m.d.comb += unit.acts.eq(ctrl.acts)
            else:
                m.d.comb += unit.bits.eq(ctrl.bits)
            if spec.pipeline:
                m.d.comb += unit.en.eq(ctrl.advance)
            weights = []
            for row in range(spec.rows):
                # Column `group * lanes + lane` is the one this lane serves in `group`.
                candidates = [array.weights[row][group * lanes + lane]
                              for group in range(col_mux)]
                weights.append(candidates[0] if col_mux == 1
                               else Cat(*candidates).word_select(ctrl.group, spec.weight_bits))
            # One assignment per lane, not per row: Amaranth's netlist builder slows down
            # with many partial assignments to one signal (rows * lanes of them).
            m.d.comb += [unit.weights.eq(Cat(weights)), ctrl.sums[lane].eq(unit.sum)]
        return m


def _default_array(spec, platform):
    """The weight array when the platform supplies none.

    Writers and flows (a :class:`~dcim.eda.blocks.BlockPlatform`) get registers, one per
    row, which Yosys handles in linear time, in a block per column (the macro's own module
    then holds none of them); the :class:`~amaranth.lib.memory.Memory` model is for
    simulation.
    """
    if not isinstance(platform, BlockPlatform):
        return WeightArray(spec)
    column = ColumnSpec(spec)
    return ColumnArray(spec, lambda: block_component(platform, column))


def controller_signature(spec):
    """The signature of the controller of ``spec`` (:class:`MacroController`).

    Members
    -------
    write_valid : In(1)
    write_mask : In(spec.cols)
        The weight-write stream's ``valid`` and per-column ``mask``.
    write_ready : Out(1)
        The stream's ``ready``: low while the array is still read for an earlier beat.
    write_en : Out(spec.cols)
        The array's per-column write enables: ``mask`` of an accepted write, else 0.
    act : In(stream.Signature(spec.act_layout))
    result : Out(stream.Signature(spec.result_layout))
    busy : Out(1)
        The macro's own streams and ``busy``.
    acts : Out(ArrayLayout(spec.act_shape, spec.rows))
        Multiplier datapath: the activation vector being issued to the lanes.
    bits : Out(spec.rows)
        Bit-serial datapath: the bit of every activation being issued (the read word lines).
    group : Out(range(spec.col_mux))
        Only when ``col_mux > 1``: the group of columns the lanes serve in this cycle.
    advance : Out(1)
        Only with ``spec.pipeline``: high in cycles where the pipeline moves on (no
        back-pressure); drives the lanes' ``en``, so that their registers hold with the
        controller's.
    sums : In(tree shape).array(spec.lanes)
        The tree sum of every lane.
    """
    members = {
        "write_valid": In(1),
        "write_mask": In(spec.cols),
        "write_ready": Out(1),
        "write_en": Out(spec.cols),
        "act": In(stream.Signature(spec.act_layout)),
        "result": Out(stream.Signature(spec.result_layout)),
        "busy": Out(1),
    }
    if spec.datapath == "multiplier":
        members["acts"] = Out(data.ArrayLayout(spec.act_shape, spec.rows))
    else:
        members["bits"] = Out(spec.rows)
    if spec.col_mux > 1:
        members["group"] = Out(range(spec.col_mux))
    if spec.pipeline:
        members["advance"] = Out(1)
    members["sums"] = In(tree_shape(spec)).array(spec.lanes)
    return wiring.Signature(members)


class MacroController(wiring.Component):
    """The control logic of a macro: handshakes, issue sequencing, pipeline, accumulators.

    Everything of :class:`DCiMMacro` but its weight array, its lanes and the column
    multiplexers between them (see :class:`DCiMMacro` for the pipeline and the streams): the
    macro's own module is this controller, the array and the lanes, wired together.

    Parameters
    ----------
    spec : MacroSpec

    Members
    -------
    See :func:`controller_signature`.
    """

    def __init__(self, spec):
        self._spec = spec
        super().__init__(controller_signature(spec))

    def elaborate(self, platform):
        spec = self._spec
        lanes, col_mux, steps = spec.lanes, spec.col_mux, spec.steps
        m = Module()

        # Stage 1: the accepted activation beat and the (group, bit) being issued.
        s1_valid = Signal()
        s1_acts = Signal(data.ArrayLayout(spec.act_shape, spec.rows))
        s1_first = Signal()
        s1_last = Signal()
        s1_group = Signal(range(col_mux))
        s1_step = Signal(range(steps))
        # Stage 2: the registered tree sums of every lane.
        s2_valid = Signal()
        s2_first = Signal()
        s2_last = Signal()
        s2_group = Signal(range(col_mux))
        s2_step = Signal(range(steps))
        s2_sums = [Signal(tree_shape(spec), name=f"s2_sum{lane}") for lane in range(lanes)]
        # Stage 3: the accumulators, which are also the result register.
        acc = Signal(data.ArrayLayout(spec.out_shape, spec.cols))
        out_valid = Signal()

        # The issue's control, carried alongside the lanes' pipeline registers (if any): what
        # reaches stage 2 in the cycle the lanes deliver that issue's sums.
        issued = [s1_valid, s1_first, s1_last, s1_group, s1_step]
        in_lanes = [[Signal.like(signal, name=f"lane_q{cycle}_{signal.name}")
                     for signal in issued] for cycle in range(spec.lane_latency)]
        issue_last = (s1_group == col_mux - 1) & (s1_step == 0)
        # The accumulators hold the pending result: nothing may change them until it is taken.
        advance = Signal()
        m.d.comb += [
            advance.eq(~(s2_valid & out_valid & ~self.result.ready)),
            self.act.ready.eq(advance & (~s1_valid | issue_last)),
            self.write_ready.eq(~s1_valid),
            self.write_en.eq(Mux(self.write_valid & self.write_ready, self.write_mask, 0)),
            self.result.valid.eq(out_valid),
            self.result.payload.eq(acc),
            self.busy.eq(s1_valid | s2_valid | out_valid
                         | Cat(stage[0] for stage in in_lanes).any()),
        ]

        if spec.datapath == "bitserial":
            # The read word lines of this cycle: bit `s1_step` of every activation.
            m.d.comb += self.bits.eq(Cat(s1_acts[row].bit_select(s1_step, 1)
                                         for row in range(spec.rows)))
        else:
            m.d.comb += self.acts.eq(s1_acts)
        if col_mux > 1:
            m.d.comb += self.group.eq(s1_group)
        if spec.pipeline:
            # Back-pressure stops the lanes' pipelines with the controller's.
            m.d.comb += self.advance.eq(advance)
        with m.If(advance):
            m.d.sync += [s2_sums[lane].eq(self.sums[lane]) for lane in range(lanes)]

        with m.If(self.result.valid & self.result.ready):
            m.d.sync += out_valid.eq(0)

        with m.If(advance):
            with m.If(self.act.valid & self.act.ready):
                payload = self.act.payload
                m.d.sync += [s1_valid.eq(1), s1_acts.eq(payload.data),
                             s1_first.eq(payload.first), s1_last.eq(payload.last),
                             s1_group.eq(0), s1_step.eq(steps - 1)]
            with m.Elif(s1_valid & issue_last):
                m.d.sync += s1_valid.eq(0)
            with m.Elif(s1_valid & (s1_step == 0)):
                m.d.sync += [s1_group.eq(s1_group + 1), s1_step.eq(steps - 1)]
            with m.Elif(s1_valid):
                m.d.sync += s1_step.eq(s1_step - 1)
            for source, target in zip([issued, *in_lanes],
                                      [*in_lanes, [s2_valid, s2_first, s2_last, s2_group,
                                                   s2_step]], strict=True):
                m.d.sync += [held.eq(signal) for held, signal in zip(target, source,
                                                                    strict=True)]

        update = advance & s2_valid
        column_done = update & (s2_step == 0)
        with m.If(column_done & s2_last & (s2_group == col_mux - 1)):
            m.d.sync += out_valid.eq(1)
        for lane in range(lanes):
            total = self._shift_accumulate(m, lane, s2_sums[lane], s2_step, update)
            current = (acc[lane] if col_mux == 1
                       else Array(acc[group * lanes + lane] for group in range(col_mux))[s2_group])
            following = Signal(spec.out_shape, name=f"acc{lane}_next")
            m.d.comb += following.eq(Mux(s2_first, 0, current) + total)
            for group in range(col_mux):
                with m.If(column_done & (s2_group == group)):
                    m.d.sync += acc[group * lanes + lane].eq(following)
        return m

    def _shift_accumulate(self, m, lane, tree_sum, step, update):
        """The dot product a lane delivers: the tree sum, or bit-serially its shift-sum."""
        spec = self._spec
        if spec.datapath == "multiplier":
            return tree_sum
        local = Signal(spec.dot_shape, name=f"local{lane}")
        following = Signal(spec.dot_shape, name=f"local{lane}_next")
        # Most significant activation bit first; in two's complement it weighs negative.
        term = (Mux(step == spec.act_bits - 1, -tree_sum, tree_sum) if spec.signed
                else tree_sum)
        m.d.comb += following.eq(Mux(step == spec.steps - 1, 0, local << 1) + term)
        with m.If(update):
            m.d.sync += local.eq(following)
        return following
