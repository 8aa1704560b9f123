"""The weight array as a hard SRAM macro: 8T bitcells with a compute port, and its views.

A digital compute-in-memory array stores every weight bit in a bitcell with a *compute port*:
besides the 6T cell's read/write port (word line ``wl``, bit lines ``bl``/``br``), an 8T
cell has a decoupled two-transistor read stack (read word line ``rwl`` gating an NMOS whose
gate is the stored bit), so every bit can be read by its local logic at once without
disturbing the cell. Optionally a local gate per bit forms the 1-bit product with the
activation bit of the bit-serial datapath (``product="nor"``: a NOR2 of the inverted
stored bit and the inverted activation; ``"and"``: an AND2).

:class:`SramArraySpec` describes one array and follows the block protocol
(:mod:`dcim.eda.blocks`); its :meth:`~SramArraySpec.component` is the flip-flop simulation
model (:class:`~dcim.macro.RegisterArray`), the same one the platform hook
``get_dcim_array`` falls back to. :func:`sram_views` gives the figures a flow needs, from
the analytical model below; :func:`liberty_text` and :func:`lef_text` write the hard-macro
views that Yosys, OpenSTA and OpenROAD read.

The analytical model (FreePDK45 at 1.0 V, 25 C; every constant is a field of
:class:`SramTechnology`, whose docstring gives its source):

- **Area** = bitcell area x rows x bits (the 8T cell, plus the product gate if any)
  + ``row_periphery_um2`` x rows (row decoder and word-line drivers)
  + ``column_periphery_um2`` x bits (precharge, sense amplifier, write driver and data
  flip-flops of the 6T port, per bit of the word) + ``control_area_um2`` (control logic,
  address flip-flops). The three periphery constants are fitted to OpenRAM 1.2.48's
  analytical FreePDK45 SRAMs of 8 x 16, 8 x 64 and 32 x 256 words (2,310, 3,136 and
  16,004 um^2), which :func:`openram_area` reproduces to within 1 %. The array adds no
  periphery for its compute ports: their read word lines are driven by the datapath.
- **Delay** in fan-out-of-4 inverter delays (FO4 = 15 ps, from an ngspice run of the
  FreePDK45 models): control (clock buffering, input flip-flop, enable timing), a decoder of
  ``2 + ceil(log2(rows) / 2)`` stages (2-bit predecoders, final NAND, word-line driver),
  the word line's Elmore RC, then for a write the cell flipping and the compute port
  following (3 FO4), for a read of the 6T port the bit line's swing of 0.1 V by the
  cell current and the sense amplifier with output driver (3 FO4).
- **Energy**: C V^2 of the switched nodes, with OpenRAM's FreePDK45 capacitances: a row
  write charges the word line and swings one bit line of every written bit; a compute read
  toggles each bit's share of its read word line and its read node (activity 1/2 for the
  word line, 3/8 for the product of two uniformly random bits).
- **Leakage**: per 6T bit, the slope over bit count of OpenRAM's SPICE-characterized
  leakage of its FreePDK45 SRAMs; the 8T read stack adds leakage in proportion to its
  transistor width; the periphery leaks at the 6T array's leakage per um^2.

:meth:`SramTechnology.from_bitcell` replaces the bitcell's part of this model by SPICE
figures (:func:`dcim.spice.array_figures.bitcell_figures`): the cell's area, its measured
bitline capacitance (hence the write and read energies), its read and write delays with the
bitline load, and its leakage (the periphery's leakage density scaled by the same measured /
analytical ratio, since it is the same transistors at the same corner). The word lines, the
decoder, the control and the periphery's area stay analytical.
"""

import math
from dataclasses import asdict, dataclass, field, replace

from amaranth.hdl import ClockSignal, Instance, Module, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from .macro import RegisterArray, array_signature

__all__ = ["FREEPDK45", "PRODUCTS", "MeasuredBitcell", "SramArraySpec", "SramInstance",
           "SramTechnology", "SramViews", "array_pins", "check_lef", "column_group", "lef_text",
           "liberty_text", "openram_area", "openram_organization", "sram_views"]

PRODUCTS = ("none", "nor", "and")
"""The local 1-bit product gate per bit: none, NOR2 (of inverted operands) or AND2."""


@dataclass(frozen=True)
class MeasuredBitcell:
    """The array's bitcell as SPICE measured it (made by :meth:`SramTechnology.from_bitcell`).

    Members
    -------
    source : str
        What was measured: cell, corner and rows, for the views' notes.
    rows : int
        Cells per bitline in the measurement; delays are scaled linearly in the bitline
        load for arrays of other row counts.
    area_um2 : float
        One cell.
    read_delay_ns, write_delay_ns : float
        With the bitline load of ``rows`` cells.
    bitline_c_per_row_f : float
        Measured bitline capacitance over ``rows``, farads.
    sense_swing : float
        Volts.
    leakage_w : float
        One cell in hold.
    temp_c : float
    """

    source: str
    rows: int
    area_um2: float
    read_delay_ns: float
    write_delay_ns: float
    bitline_c_per_row_f: float
    sense_swing: float
    leakage_w: float
    temp_c: float

    def __post_init__(self):
        for name in ("area_um2", "read_delay_ns", "write_delay_ns", "bitline_c_per_row_f",
                     "sense_swing", "leakage_w"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} of a measured bitcell must be a positive finite "
                                 f"number, not {value!r}")
        if isinstance(self.rows, bool) or not isinstance(self.rows, int) or self.rows < 1:
            raise ValueError(f"rows of a measured bitcell must be a positive int, not "
                             f"{self.rows!r}")


@dataclass(frozen=True)
class SramTechnology:
    """The technology constants of the analytical SRAM model (lengths in um, C in F).

    Sources (FreePDK45 as shipped in PyPI ``openram`` 1.2.48, ``technology/freepdk45``):

    - ``cell_6t``: boundary (layer 239) of ``gds_lib/cell_1rw.gds``, 0.705 x 1.345 um.
    - ``cell_8t``: halfway between ``cell_1rw`` and ``cell_2rw`` (1.175 x 1.495 um). The
      netlist ``sp_lib/cell_2rw.sp`` is a 10T cell: the 6T core plus two decoupled
      two-transistor read stacks (one per bit line); an 8T cell has one of them, so it adds
      half the difference: 0.94 x 1.42 um = 1.335 um^2, 1.41 times the 6T cell (Chang et
      al., VLSI 2005, report about 1.3 times for their 8T layout).
    - ``access_width_um``, ``read_width_um``: the access NMOS (135 nm) of ``cell_1rw.sp``
      and the read-stack NMOS (180 nm) of ``cell_2rw.sp``.
    - ``gate_c_per_um``: ``tech.py``'s ``c_g_ideal + c_overlap`` (cox = eps_ox / tox times
      the 50 nm channel, plus 20 % overlap); ``drain_c``: ``bitcell_drain_cap`` (0.1 fF);
      ``wire_c_per_um``, ``wire_r_per_um``: ``wire_unit_c``, ``wire_unit_r`` over the
      minimum metal-2 width of 0.07 um; ``gate_drain_c``: ``min_tx_drain_c`` (0.7 fF);
      ``on_current_per_um``: ``i_on_n``; ``setup_ns``, ``hold_ns``: ``dff_setup``,
      ``dff_hold``; ``input_c``: ``dff_in_cap``; ``clock_c_per_flop``: ``dff_clk_cin``
      over ``cap_relative_per_ff``.
    - ``fo4_ns``: an FO4 inverter delay of 15 ps from ngspice on the BSIM4 cards
      ``models_nom/{NMOS,PMOS}_VTG.inc`` (see the project's reference notes).
    - ``control_stages``: clock buffering, input flip-flop and the replica-timed enable
      chain, 8 FO4: chosen so that the read delay comes within 35 % of OpenRAM's
      (0.21 ns analytical at 8 x 16 words; its SPICE delays in ``sim_data/sim_data.csv``).
    - ``row_periphery_um2``, ``column_periphery_um2``, ``control_area_um2``: fitted to
      OpenRAM's analytical areas (see :func:`openram_area`).
    - ``leakage_6t_w``: slope over bit count of ``sim_data/leakage_data.csv`` (OpenRAM's
      SPICE leakage of FreePDK45 SRAMs, TT, 1.0 V, 25 C), 3.69 nW per bit.
    - ``nor2_um2``, ``and2_um2``, ``nor2_leakage_w``, ``and2_leakage_w``: Nangate45's
      ``NOR2_X1`` and ``AND2_X1`` (typical Liberty): a standard-cell bound on a local gate
      that a custom layout would pitch-match into the cell.
    """

    name: str = "freepdk45"
    voltage: float = 1.0
    cell_6t: tuple = (0.705, 1.345)
    cell_8t: tuple = (0.94, 1.42)
    access_width_um: float = 0.135
    read_width_um: float = 0.18
    off_width_6t_um: float = 0.43
    gate_c_per_um: float = 1.2895e-15
    drain_c: float = 0.1e-15
    gate_drain_c: float = 0.7e-15
    wire_c_per_um: float = 1.61e-16
    wire_r_per_um: float = 3.571
    on_current_per_um: float = 4.463e-4
    fo4_ns: float = 0.015
    control_stages: int = 8
    setup_ns: float = 0.009
    hold_ns: float = 0.001
    input_c: float = 0.2091e-15
    clock_c_per_flop: float = 4.08e-15
    row_periphery_um2: float = 57.74
    column_periphery_um2: float = 117.26
    control_area_um2: float = 788.6
    leakage_6t_w: float = 3.69e-9
    nor2_um2: float = 0.798
    and2_um2: float = 1.064
    nor2_leakage_w: float = 21.2e-9
    and2_leakage_w: float = 25.8e-9
    bitcell: MeasuredBitcell | None = None
    """SPICE figures of the bitcell that replace the analytical ones; ``None`` for none."""

    def __post_init__(self):
        if self.bitcell is not None and not isinstance(self.bitcell, MeasuredBitcell):
            raise TypeError(f"bitcell must be a MeasuredBitcell or None, not {self.bitcell!r}")

    @classmethod
    def from_bitcell(cls, figures, base=None):
        """The technology ``base`` (default :data:`FREEPDK45`) with SPICE bitcell figures.

        Parameters
        ----------
        figures : dcim.spice.array_figures.BitcellFigures
            From :func:`~dcim.spice.array_figures.bitcell_figures`, best with the array's
            row count (delays of other row counts are scaled linearly in the bitline load).
        base : SramTechnology or None

        Raises
        ------
        TypeError
            If ``figures`` lacks a figure or ``base`` is not an :class:`SramTechnology`.
        ValueError
            If a figure is not a positive finite number.
        """
        base = FREEPDK45 if base is None else base
        if not isinstance(base, SramTechnology):
            raise TypeError(f"base must be an SramTechnology, not {base!r}")
        try:
            bitcell = MeasuredBitcell(
                source=(f"{figures.cell} at {figures.process} {figures.vdd:g} V "
                        f"{figures.temp_c:g} C, {figures.rows} rows"),
                rows=figures.rows, area_um2=figures.area * 1e12,
                read_delay_ns=figures.read_delay * 1e9,
                write_delay_ns=figures.write_delay * 1e9,
                bitline_c_per_row_f=figures.bitline_capacitance / figures.rows,
                sense_swing=figures.sense_swing, leakage_w=figures.leakage_power,
                temp_c=figures.temp_c)
        except AttributeError as error:
            raise TypeError(f"figures must be a dcim.spice BitcellFigures, not "
                            f"{figures!r}") from error
        # The name keys nothing by itself (synthesis keys on the Liberty text) but tells
        # the views apart in reports.
        name = (f"{base.name}-spice-{figures.process.lower()}-{figures.vdd:g}v-"
                f"{figures.temp_c:g}c")
        return replace(base, name=name, voltage=figures.vdd, bitcell=bitcell)

    @property
    def cell_6t_um2(self):
        return self.cell_6t[0] * self.cell_6t[1]

    @property
    def cell_8t_um2(self):
        return self.cell_8t[0] * self.cell_8t[1]


FREEPDK45 = SramTechnology()
"""FreePDK45 (OpenRAM 1.2.48's technology files, TT, 1.0 V, 25 C)."""


def _positive_int(name, value, high):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise ValueError(f"{name} must be an int from 1 to {high}, not {value!r}")


@dataclass(frozen=True)
class SramArraySpec:
    """A weight array of 8T bitcells with compute ports: ``rows`` words of ``cols`` weights.

    Parameters
    ----------
    rows : int
        Word lines (one stored weight vector each), 1 to 1024.
    cols : int
        Weights per row, 1 to 4096.
    weight_bits : int
        Bits per weight, 1 to 32; a row holds ``cols * weight_bits`` bits.
    signed : bool
        Whether the weights are two's complement (only the port types depend on it).
    product : str
        The local product gate per bit, one of :data:`PRODUCTS`.

    Raises
    ------
    ValueError
        For a parameter out of range, naming it and its value.
    """

    rows: int = 64
    cols: int = 8
    weight_bits: int = 8
    signed: bool = True
    product: str = "none"

    def __post_init__(self):
        _positive_int("rows", self.rows, 1024)
        _positive_int("cols", self.cols, 4096)
        _positive_int("weight_bits", self.weight_bits, 32)
        if not isinstance(self.signed, bool):
            raise ValueError(f"signed must be True or False, not {self.signed!r}")
        if self.product not in PRODUCTS:
            raise ValueError(f"product must be one of {', '.join(PRODUCTS)}, "
                             f"not {self.product!r}")

    @classmethod
    def for_macro(cls, spec, product="none"):
        """The array of macro ``spec`` (a :class:`~dcim.macro.MacroSpec`)."""
        return cls(rows=spec.rows, cols=spec.cols, weight_bits=spec.weight_bits,
                   signed=spec.signed, product=product)

    @classmethod
    def for_columns(cls, spec, columns, product="none"):
        """A group of ``columns`` columns of macro ``spec``'s array (``spec.rows`` words)."""
        return cls(rows=spec.rows, cols=columns, weight_bits=spec.weight_bits,
                   signed=spec.signed, product=product)

    @property
    def bits(self):
        """Bits per row."""
        return self.cols * self.weight_bits

    @property
    def weight_shape(self):
        from amaranth.hdl import signed, unsigned

        return (signed if self.signed else unsigned)(self.weight_bits)

    @property
    def addr_width(self):
        """Address bits: enough for ``rows`` (at least one)."""
        return max(1, (self.rows - 1).bit_length())

    @property
    def name(self):
        """Stable module name, e.g. ``sram64x8w8s_8t`` (``_nor`` etc. with a product gate)."""
        kind = "s" if self.signed else "u"
        suffix = "" if self.product == "none" else f"_{self.product}"
        return f"sram{self.rows}x{self.cols}w{self.weight_bits}{kind}_8t{suffix}"

    @property
    def signature(self):
        """The weight array's signature (:func:`~dcim.macro.array_signature`)."""
        return array_signature(self)

    def blocks(self):
        """No sub-blocks: the array is a leaf."""
        return ()

    def component(self):
        """The simulation model: a :class:`~dcim.macro.RegisterArray` with the array's ports."""
        return RegisterArray(self)


class SramInstance(wiring.Component):
    """An instance of the hard array ``spec.name``, with the signature of the weight array.

    What a flow's platform returns from ``get_dcim_array``: the macro's ports are the clock
    ``clk`` and the members of :func:`~dcim.macro.array_signature` (see :func:`array_pins`).

    Parameters
    ----------
    spec : SramArraySpec
    """

    def __new__(cls, spec):
        # Refuse a bad spec before the object exists: Amaranth warns about every component
        # that is created and never elaborated, which a rejected one never could be.
        if not isinstance(spec, SramArraySpec):
            raise TypeError(f"spec must be an SramArraySpec, not {spec!r}")
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, spec):
        self._spec = spec
        super().__init__(array_signature(spec))

    def elaborate(self, platform):
        m = Module()
        ports = {"i_clk": ClockSignal()}
        for path, member, value in self.signature.flatten(self):
            prefix = "i_" if member.flow == In else "o_"
            ports[prefix + "__".join(map(str, path))] = Value.cast(value)
        m.submodules.instance = Instance(self._spec.name, **ports)
        return m


def array_pins(spec):
    """The hard array's pins: ``(name, direction, width)``, clock first, inputs before outputs.

    ``clk``, ``addr``, ``data`` (``bits`` wide), ``en`` (``cols``) and one output
    ``weights__<row>`` of ``bits`` per row: the compute ports, every stored bit.
    """
    pins = [("clk", "input", 1), ("addr", "input", spec.addr_width),
            ("data", "input", spec.bits), ("en", "input", spec.cols)]
    pins += [(f"weights__{row}", "output", spec.bits) for row in range(spec.rows)]
    return pins


# -- the analytical model ---------------------------------------------------------------------

def openram_organization(num_words, word_size, technology=FREEPDK45):
    """OpenRAM's bank organization ``(rows, columns, words_per_row)`` for an SRAM.

    OpenRAM's rule (``sram_config.compute_sizes``): the column-mux way (1, 2, 4, 8 or 16)
    nearest to making the bitcell array square, fewer ways if rows exceed 512.
    """
    _positive_int("num_words", num_words, 1 << 16)
    _positive_int("word_size", word_size, 4096)
    width, height = technology.cell_6t
    side = math.sqrt(width * height * num_words * word_size)
    ways = int(side / width) / word_size
    per_row = min((1, 2, 4, 8, 16), key=lambda way: abs(way - ways))
    rows = num_words / per_row
    if rows > 512:
        per_row = int(per_row * rows / 512)
    return num_words // per_row, word_size * per_row, per_row


def openram_area(num_words, word_size, technology=FREEPDK45):
    """Area (um^2) of a plain 6T SRAM by this model, to compare with OpenRAM's own figure.

    The periphery constants of ``technology`` are fitted so that OpenRAM's analytical
    FreePDK45 areas of 8 x 16, 8 x 64 and 32 x 256 words (word size x words: 2,310, 3,136
    and 16,004 um^2) are reproduced.
    """
    rows, columns, _ = openram_organization(num_words, word_size, technology)
    return (technology.cell_6t_um2 * rows * columns + technology.row_periphery_um2 * rows
            + technology.column_periphery_um2 * word_size + technology.control_area_um2)


@dataclass(frozen=True)
class SramViews:
    """Area, timing, energy and leakage of one array (um, um^2, ns, pJ, W).

    Members
    -------
    spec : SramArraySpec
    technology : str
    voltage : float
    bitcell_area_um2 : float
        One bit: the 8T cell and its product gate, if any.
    array_area_um2, row_periphery_um2, column_periphery_um2, control_area_um2 : float
    area_um2 : float
        Their sum: the macro's area.
    width_um, height_um : float
        The macro outline (its LEF size): the bit columns and the row periphery side by
        side, the height making up the area.
    write_delay_ns : float
        Clock edge to the compute ports showing a written row (the clk -> ``weights`` arc).
    read_delay_ns : float
        Clock to data out of a read through the 6T port (for comparison with OpenRAM).
    output_transition_ns, setup_ns, hold_ns : float
    write_energy_pj : float
        One row written (all its bits).
    read_energy_pj : float
        One row read through the 6T port.
    compute_energy_per_bit_pj : float
        One compute port over one cycle of the bit-serial datapath, at random data.
    leakage_per_bit_w, leakage_w : float
        Leakage of one bit (cell and gate) and of the whole macro (periphery included).
    input_capacitance_f, clock_capacitance_f : float
    """

    spec: SramArraySpec
    technology: str
    voltage: float
    bitcell_area_um2: float
    array_area_um2: float
    row_periphery_um2: float
    column_periphery_um2: float
    control_area_um2: float
    area_um2: float
    width_um: float
    height_um: float
    write_delay_ns: float
    read_delay_ns: float
    output_transition_ns: float
    setup_ns: float
    hold_ns: float
    write_energy_pj: float
    read_energy_pj: float
    compute_energy_per_bit_pj: float
    leakage_per_bit_w: float
    leakage_w: float
    input_capacitance_f: float
    clock_capacitance_f: float
    notes: tuple = field(default=(), compare=False)

    @property
    def bits(self):
        return self.spec.rows * self.spec.bits

    @property
    def area_per_bit_um2(self):
        """Macro area per stored bit, periphery included."""
        return self.area_um2 / self.bits

    @property
    def compute_energy_per_cycle_pj(self):
        """All compute ports over one cycle."""
        return self.compute_energy_per_bit_pj * self.bits

    def as_dict(self):
        """A JSON-ready dictionary (the spec as its fields)."""
        data = asdict(self)
        data["spec"] = asdict(self.spec)
        data["name"] = self.spec.name
        data["area_per_bit_um2"] = self.area_per_bit_um2
        data["notes"] = list(self.notes)
        return data


def _decoder_stages(rows):
    return 2 + math.ceil(math.log2(rows) / 2) if rows > 1 else 1


def sram_views(spec, technology=FREEPDK45):
    """The area, timing, energy and leakage of array ``spec`` (see the module description).

    Raises
    ------
    TypeError
        If ``spec`` is not an :class:`SramArraySpec` or ``technology`` not an
        :class:`SramTechnology`.
    """
    if not isinstance(spec, SramArraySpec):
        raise TypeError(f"spec must be an SramArraySpec, not {spec!r}")
    if not isinstance(technology, SramTechnology):
        raise TypeError(f"technology must be an SramTechnology, not {technology!r}")
    t = technology
    rows, bits = spec.rows, spec.bits
    measured = t.bitcell
    cell_width, cell_height = t.cell_8t
    if measured is not None:
        cell_height = measured.area_um2 / cell_width
    gate_area = {"none": 0.0, "nor": t.nor2_um2, "and": t.and2_um2}[spec.product]
    gate_leakage = {"none": 0.0, "nor": t.nor2_leakage_w, "and": t.and2_leakage_w}[spec.product]
    bitcell = cell_width * cell_height + gate_area
    array = bitcell * rows * bits
    row_periphery = t.row_periphery_um2 * rows
    column_periphery = t.column_periphery_um2 * bits
    area = array + row_periphery + column_periphery + t.control_area_um2
    width = bits * cell_width + t.row_periphery_um2 / t.cell_6t[1]
    height = area / width

    # Word line: every bit loads it with two access gates and its share of wire.
    wl_c = bits * (2 * t.gate_c_per_um * t.access_width_um + cell_width * t.wire_c_per_um)
    wl_r = t.wire_r_per_um * bits * cell_width
    wl_ns = 0.38 * wl_r * wl_c * 1e9
    front_ns = t.fo4_ns * (t.control_stages + _decoder_stages(rows)) + wl_ns
    if measured is None:
        swing = 0.1
        bl_c = rows * (t.drain_c + cell_height * t.wire_c_per_um)
        # The cell current flows through access and pull-down in series: about half of I_on.
        cell_current = t.on_current_per_um * t.access_width_um / 2
        bl_ns = bl_c * swing / cell_current * 1e9
        # Write driver and the cell flipping (2 FO4), the compute port following (1 FO4).
        write_ns = front_ns + 3 * t.fo4_ns
    else:
        swing = measured.sense_swing
        bl_c = rows * measured.bitline_c_per_row_f
        # The bitline's swing takes a time proportional to its load at the cell's current.
        bl_ns = measured.read_delay_ns * rows / measured.rows
        write_ns = front_ns + measured.write_delay_ns * rows / measured.rows + t.fo4_ns
    read_ns = front_ns + bl_ns + 3 * t.fo4_ns

    v2 = t.voltage ** 2
    write_pj = (wl_c + bits * bl_c) * v2 * 1e12
    read_pj = (wl_c + bits * bl_c * swing / t.voltage) * v2 * 1e12
    rwl_c = t.gate_c_per_um * t.read_width_um + cell_width * t.wire_c_per_um
    node_c = t.drain_c + cell_height * t.wire_c_per_um
    if spec.product != "none":
        node_c += 2 * t.gate_drain_c
    # Per toggle C V^2 / 2: the word line (activation bit) toggles every other cycle, the
    # product of two random bits (1 with probability 1/4) with probability 2 * 1/4 * 3/4.
    compute_pj = 0.5 * v2 * (0.5 * rwl_c + 0.375 * node_c) * 1e12

    cell_leakage = t.leakage_6t_w * (1 + t.read_width_um / t.off_width_6t_um)
    density = t.leakage_6t_w / t.cell_6t_um2
    notes = ("analytical model of dcim.macro.sram (OpenRAM 1.2.48 FreePDK45 constants)",
             f"{t.voltage:g} V, 25 C; compute energy at random bits")
    if measured is not None:
        density *= measured.leakage_w / cell_leakage
        cell_leakage = measured.leakage_w
        notes = (f"bitcell from SPICE ({measured.source}): area, bitline capacitance, read "
                 f"and write delay, leakage; word lines and periphery analytical "
                 f"(dcim.macro.sram)", f"{t.voltage:g} V, {measured.temp_c:g} C; compute "
                 f"energy at random bits")
    leakage_bit = cell_leakage + gate_leakage
    leakage = (leakage_bit * rows * bits
               + density * (row_periphery + column_periphery + t.control_area_um2))
    flops = spec.addr_width + bits + spec.cols
    return SramViews(
        spec=spec, technology=t.name, voltage=t.voltage, bitcell_area_um2=bitcell,
        array_area_um2=array, row_periphery_um2=row_periphery,
        column_periphery_um2=column_periphery, control_area_um2=t.control_area_um2,
        area_um2=area, width_um=width, height_um=height, write_delay_ns=write_ns,
        read_delay_ns=read_ns, output_transition_ns=2 * t.fo4_ns, setup_ns=t.setup_ns,
        hold_ns=t.hold_ns, write_energy_pj=write_pj, read_energy_pj=read_pj,
        compute_energy_per_bit_pj=compute_pj, leakage_per_bit_w=leakage_bit,
        leakage_w=leakage, input_capacitance_f=t.input_c,
        clock_capacitance_f=t.clock_c_per_flop * flops, notes=notes)


# -- Liberty ----------------------------------------------------------------------------------

def _scalar(kind, value):
    return f'{kind} (scalar) {{ values ("{value:.6g}"); }}'


def liberty_text(views):
    """A Liberty library holding the array as one hard-macro cell.

    Units: ns, fF, V, nW (internal energy in fJ, capacitance unit times volts squared).
    Arcs: ``clk`` rising to every ``weights`` bit (the write delay); setup and hold of
    ``addr``, ``data`` and ``en`` to ``clk``. Internal power: one compute cycle of every
    compute port per rising clock edge, and one bit column written per rising ``en`` bit.

    Raises
    ------
    TypeError
        If ``views`` is not an :class:`SramViews`.
    """
    if not isinstance(views, SramViews):
        raise TypeError(f"views must be an SramViews, not {views!r}")
    spec = views.spec
    name = spec.name
    fj = 1e3  # pJ to fJ
    cap_ff = views.input_capacitance_f * 1e15
    widths = sorted({width for _, _, width in array_pins(spec) if width > 1})
    lines = [
        f"/* {name}: {spec.rows} x {spec.bits} bits of 8T SRAM with compute ports, written",
        "   by dcim.macro.sram from its analytical model. */",
        f"library ({name}) {{",
        "  delay_model : table_lookup;",
        '  time_unit : "1ns";', '  voltage_unit : "1V";', '  current_unit : "1mA";',
        '  leakage_power_unit : "1nW";', '  pulling_resistance_unit : "1kohm";',
        "  capacitive_load_unit (1, ff);",
        f"  nom_process : 1.0; nom_voltage : {views.voltage:g}; nom_temperature : 25.0;",
        f"  operating_conditions (typical) {{ process : 1.0; voltage : {views.voltage:g}; "
        "temperature : 25.0; }",
        "  default_operating_conditions : typical;",
        "  input_threshold_pct_rise : 50; input_threshold_pct_fall : 50;",
        "  output_threshold_pct_rise : 50; output_threshold_pct_fall : 50;",
        "  slew_lower_threshold_pct_rise : 20; slew_upper_threshold_pct_rise : 80;",
        "  slew_lower_threshold_pct_fall : 20; slew_upper_threshold_pct_fall : 80;",
        "  default_max_transition : 0.5;",
    ]
    for width in widths:
        lines.append(f"  type (bus{width}) {{ base_type : array; data_type : bit; "
                     f"bit_width : {width}; bit_from : {width - 1}; bit_to : 0; "
                     f"downto : true; }}")
    lines += [
        f"  cell ({name}) {{",
        f"    area : {views.area_um2:.4f};",
        "    is_macro_cell : true;",
        "    dont_touch : true;",
        "    interface_timing : true;",
        f"    cell_leakage_power : {views.leakage_w * 1e9:.6g};",
        "    pin (clk) {",
        "      direction : input;",
        "      clock : true;",
        f"      capacitance : {views.clock_capacitance_f * 1e15:.6g};",
        "      internal_power () {",
        f"        {_scalar('rise_power', views.compute_energy_per_cycle_pj * fj)}",
        f"        {_scalar('fall_power', 0.0)}",
        "      }",
        "    }",
    ]
    column_write_fj = views.write_energy_pj * fj / spec.cols
    for pin, direction, width in array_pins(spec)[1:]:
        head = f"bus ({pin}) {{ bus_type : bus{width};" if width > 1 else f"pin ({pin}) {{"
        lines.append(f"    {head}")
        lines.append(f"      direction : {direction};")
        if direction == "input":
            lines.append(f"      capacitance : {cap_ff:.6g};")
            for kind, value in (("setup_rising", views.setup_ns),
                                ("hold_rising", views.hold_ns)):
                lines += ["      timing () {", '        related_pin : "clk";',
                          f"        timing_type : {kind};",
                          f"        {_scalar('rise_constraint', value)}",
                          f"        {_scalar('fall_constraint', value)}", "      }"]
            if pin == "en":
                lines += ["      internal_power () {",
                          f"        {_scalar('rise_power', column_write_fj)}",
                          f"        {_scalar('fall_power', 0.0)}", "      }"]
        else:
            lines += ["      timing () {", '        related_pin : "clk";',
                      "        timing_type : rising_edge;",
                      f"        {_scalar('cell_rise', views.write_delay_ns)}",
                      f"        {_scalar('cell_fall', views.write_delay_ns)}",
                      f"        {_scalar('rise_transition', views.output_transition_ns)}",
                      f"        {_scalar('fall_transition', views.output_transition_ns)}",
                      "      }"]
        lines.append("    }")
    lines += ["  }", "}", ""]
    return "\n".join(lines)


# -- LEF --------------------------------------------------------------------------------------

PIN_PITCH_UM = 0.1
"""Pin spacing along the outline: pins alternate metal2 (pitch 0.19 um) and metal3 (0.14)."""
PIN_SIZE_UM = 0.07
"""Pin squares of the minimum metal-2/metal-3 width."""


def _grid(value):
    # LEF coordinates on a 5 nm grid (Nangate45's manufacturing grid is 5 nm).
    return round(value / 0.005) * 0.005


def _pin_sides(views):
    """The sides of the outline, ``(name, usable length)``, and the pins each has room for."""
    width, height = _grid(views.width_um), _grid(views.height_um)
    margin = 2 * PIN_PITCH_UM
    sides = [("bottom", width - 2 * margin), ("right", height - 2 * margin),
             ("top", width - 2 * margin), ("left", height - 2 * margin)]
    return sides, [int(length // PIN_PITCH_UM) + 1 for _, length in sides]


def column_group(spec, product="none", technology=FREEPDK45):
    """The most columns of macro ``spec`` that one hard array can hold with its pins.

    Every stored bit is a pin of the array (its compute port), so a large array has more
    pins than its outline has room for; the flow then builds the weight array from equal
    groups of columns, each its own array with its own row periphery.

    Returns
    -------
    int
        The largest divisor of ``spec.cols`` whose array's pins fit on its outline.

    Raises
    ------
    ValueError
        If not even a one-column array's pins fit.
    """
    for columns in range(spec.cols, 0, -1):
        if spec.cols % columns:
            continue
        array = SramArraySpec.for_columns(spec, columns, product)
        views = sram_views(array, technology)
        pins = sum(size for _, _, size in array_pins(array))
        if pins <= sum(_pin_sides(views)[1]):
            return columns
    raise ValueError(f"a one-column SRAM array of {spec.rows} rows of {spec.weight_bits}-bit "
                     f"weights has more pins than its outline has room for")


def _pin_places(views):
    """Each pin bit's ``(name, direction, layer, x0, y0, x1, y1)`` along the outline.

    Bits go round the outline anticlockwise from the lower left corner, inputs first, one
    every :data:`PIN_PITCH_UM`, alternating metal2 and metal3.
    """
    spec = views.spec
    bits = [(name if size == 1 else f"{name}[{index}]", direction)
            for name, direction, size in array_pins(spec) for index in range(size)]
    sides, slots = _pin_sides(views)
    width, height = _grid(views.width_um), _grid(views.height_um)
    margin = 2 * PIN_PITCH_UM
    if len(bits) > sum(slots):
        raise ValueError(
            f"array {spec.name} needs {len(bits)} pins but its {width:.1f} x {height:.1f} um "
            f"outline has room for {sum(slots)} at a {PIN_PITCH_UM} um pitch: rows * cols * "
            f"weight_bits ({spec.rows * spec.bits} compute ports) is too many for pins on "
            f"the boundary")
    places, side, position = [], 0, 0
    half = PIN_SIZE_UM / 2
    for index, (name, direction) in enumerate(bits):
        while position >= slots[side]:
            side, position = side + 1, 0
        offset = _grid(margin + position * PIN_PITCH_UM)
        position += 1
        kind = sides[side][0]
        if kind == "bottom":
            x, y = offset, half
        elif kind == "right":
            x, y = width - half, offset
        elif kind == "top":
            x, y = width - offset, height - half
        else:
            x, y = half, height - offset
        layer = "metal2" if index % 2 == 0 else "metal3"
        places.append((name, direction, layer, _grid(x - half), _grid(y - half),
                       _grid(x + half), _grid(y + half)))
    return places


def lef_text(views):
    """A LEF macro of the array: its outline, and a pin on the boundary for every port bit.

    Raises
    ------
    TypeError
        If ``views`` is not an :class:`SramViews`.
    ValueError
        If the outline's perimeter has no room for every pin bit.
    """
    if not isinstance(views, SramViews):
        raise TypeError(f"views must be an SramViews, not {views!r}")
    spec = views.spec
    width, height = _grid(views.width_um), _grid(views.height_um)
    lines = ["VERSION 5.7 ;", 'BUSBITCHARS "[]" ;', 'DIVIDERCHAR "/" ;', "",
             f"MACRO {spec.name}", "  CLASS BLOCK ;", "  ORIGIN 0 0 ;",
             f"  FOREIGN {spec.name} 0 0 ;", f"  SIZE {width:.3f} BY {height:.3f} ;",
             "  SYMMETRY X Y R90 ;"]
    for name, direction, layer, x0, y0, x1, y1 in _pin_places(views):
        use = "CLOCK" if name == "clk" else "SIGNAL"
        lines += [f"  PIN {name}", f"    DIRECTION {direction.upper()} ;",
                  f"    USE {use} ;", "    PORT", f"      LAYER {layer} ;",
                  f"        RECT {x0:.3f} {y0:.3f} {x1:.3f} {y1:.3f} ;", "    END",
                  f"  END {name}"]
    # The array's own wiring and cells block metal1 to metal3 over the whole outline.
    lines += ["  OBS"]
    for layer in ("metal1", "metal2", "metal3"):
        lines += [f"    LAYER {layer} ;",
                  f"      RECT {PIN_PITCH_UM:.3f} {PIN_PITCH_UM:.3f} "
                  f"{width - PIN_PITCH_UM:.3f} {height - PIN_PITCH_UM:.3f} ;"]
    lines += ["  END", f"END {spec.name}", "", "END LIBRARY", ""]
    return "\n".join(lines)


def check_lef(text, views):
    """Check a LEF macro against ``views``: name, size, pins, all on the boundary, apart.

    Returns the number of pin bits. Raises ``ValueError`` naming the first inconsistency.
    """
    import re

    spec = views.spec
    macro = re.search(r"^MACRO (\S+)$", text, re.M)
    if macro is None or macro[1] != spec.name:
        raise ValueError(f"LEF defines no macro {spec.name!r}")
    size = re.search(r"SIZE ([0-9.]+) BY ([0-9.]+) ;", text)
    width, height = float(size[1]), float(size[2])
    if abs(width * height - views.area_um2) > 0.01 * views.area_um2:
        raise ValueError(f"LEF size {width} x {height} um does not match the area "
                         f"{views.area_um2:.1f} um^2 of {spec.name}")
    pins = dict(re.findall(r"^  PIN (\S+)\n(?:.*\n)*?        RECT ([0-9. ]+) ;", text, re.M))
    expected = {name if size == 1 else f"{name}[{index}]"
                for name, _, size in array_pins(spec) for index in range(size)}
    if set(pins) != expected:
        missing = sorted(expected - set(pins))[:3]
        extra = sorted(set(pins) - expected)[:3]
        raise ValueError(f"LEF pins differ from the array's ports: missing {missing}, "
                         f"extra {extra}")
    taken = {}
    for name, rect in pins.items():
        x0, y0, x1, y1 = map(float, rect.split())
        if x0 < 0 or y0 < 0 or x1 > width + 1e-9 or y1 > height + 1e-9:
            raise ValueError(f"LEF pin {name} lies outside the outline")
        if min(x0, y0) > 1e-9 and x1 < width - 1e-9 and y1 < height - 1e-9:
            raise ValueError(f"LEF pin {name} is not on the boundary")
        key = (round(x0, 3), round(y0, 3))
        if key in taken:
            raise ValueError(f"LEF pins {taken[key]} and {name} overlap")
        taken[key] = name
    return len(pins)
