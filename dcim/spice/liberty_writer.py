"""Writing characterized cells as a Liberty library that Yosys, OpenSTA and dcim.flow read.

:func:`liberty_text` prints a library of :class:`~dcim.spice.liberty_char.CharacterizedCell`
objects: units (nanoseconds, femtofarads, nanowatts, volts, milliamperes, as Nangate45, so that
the flow's reports compare the two directly), the corner's operating conditions, the slew and
delay thresholds of the characterization (30/70 % slews, 50 % delays), one
``lu_table_template`` and one ``power_lut_template`` per grid, optional wire-load models, and
per cell its area, leakage (per state), pins with capacitances and functions, ``ff`` groups,
timing groups (delay and transition tables, setup and hold constraints) and internal power
tables. Internal energies are written in the library's energy unit (capacitance unit times
voltage unit squared: femtojoules), as OpenSTA reads them. :func:`write_liberty` writes the
same text to a file.
"""

from dataclasses import dataclass
from pathlib import Path

from .liberty_char import CharacterizedCell

__all__ = ["WireLoad", "liberty_text", "write_liberty"]

_TIME = 1e-9
_CAPACITANCE = 1e-15
_POWER = 1e-9
_ENERGY = 1e-15


@dataclass(frozen=True)
class WireLoad:
    """A Liberty wire-load model: pre-layout net capacitance and resistance by fan-out.

    Parameters
    ----------
    name : str
    capacitance, resistance, slope : float
        Per unit length, in the library's units (femtofarads... as the Liberty file states
        them: the table's own units), and the length per fan-out beyond the table.
    fanout_length : tuple of (int, float)
    """

    name: str
    capacitance: float
    resistance: float
    slope: float
    fanout_length: tuple


def _numbers(values, scale):
    return ",".join(f"{value / scale:.6g}" for value in values)


def _table(kind, template, grid, rows, scale, indent):
    """An NLDM table over a grid's slews (index 1) and loads (index 2)."""
    return _indexed_table(kind, template, (grid.slews, _TIME), (grid.loads, _CAPACITANCE), rows,
                          scale, indent)


def _indexed_table(kind, template, index_1, index_2, rows, scale, indent):
    pad = "  " * indent
    lines = [f"{pad}{kind} ({template}) {{", f'{pad}  index_1 ("{_numbers(*index_1)}");',
             f'{pad}  index_2 ("{_numbers(*index_2)}");']
    body = ", \\\n".join(f'{pad}    "{_numbers(row, scale)}"' for row in rows)
    lines += [f"{pad}  values ( \\\n{body});", f"{pad}}}"]
    return lines


def _constraint_template_name(constraint):
    return f"constraint_{len(constraint.related_slews)}x{len(constraint.constrained_slews)}_" \
        + "_".join(f"{slew / _TIME:.6g}".replace(".", "p")
                   for slew in (*constraint.related_slews, *constraint.constrained_slews))


def _constraint_table(kind, template, constraint, rows):
    """A setup or hold table over the clock's (index 1) and the data's slews (index 2)."""
    return _indexed_table(kind, template, (constraint.related_slews, _TIME),
                          (constraint.constrained_slews, _TIME), rows, _TIME, 4)


def _template_name(grid):
    return f"delay_{grid.name}"


def _power_template_name(grid):
    return f"energy_{grid.name}"


def _cell(cell):
    delay, energy = _template_name(cell.grid), _power_template_name(cell.grid)
    lines = [f"  cell ({cell.name}) {{", f"    area : {cell.area * 1e12:.6g};",
             f"    cell_leakage_power : {cell.leakage_power / _POWER:.6g};"]
    if len(cell.leakage) > 1:
        for when, power in cell.leakage:
            lines += ["    leakage_power () {", f'      when : "{when}";',
                      f"      value : {power / _POWER:.6g};", "    }"]
    if cell.flip_flop is not None:
        clocked_on, next_state = cell.flip_flop
        lines += ["    ff (IQ, IQN) {", f'      clocked_on : "{clocked_on}";',
                  f'      next_state : "{next_state}";', "    }"]
    for pin in cell.inputs:
        lines += [f"    pin ({pin}) {{", "      direction : input;",
                  f"      capacitance : {cell.pin_capacitance[pin] / _CAPACITANCE:.6g};"]
        if pin == cell.clock:
            lines.append("      clock : true;")
        for constraint in cell.constraints:
            if constraint.pin != pin:
                continue
            template = _constraint_template_name(constraint)
            lines += ["      timing () {", f'        related_pin : "{constraint.related_pin}";',
                      f"        timing_type : {constraint.timing_type};",
                      *_constraint_table("rise_constraint", template, constraint,
                                         constraint.rise),
                      *_constraint_table("fall_constraint", template, constraint,
                                         constraint.fall),
                      "      }"]
        lines.append("    }")
    for pin, function in cell.functions:
        lines += [f"    pin ({pin}) {{", "      direction : output;",
                  f'      function : "{function}";',
                  f"      max_capacitance : {max(cell.grid.loads) / _CAPACITANCE:.6g};"]
        for arc in cell.arcs:
            if arc.pin != pin:
                continue
            lines += ["      timing () {", f'        related_pin : "{arc.related_pin}";',
                      *([f'        when : "{arc.when}";'] if arc.when else []),
                      f"        timing_sense : {arc.timing_sense};",
                      f"        timing_type : {arc.timing_type};"]
            for kind in ("cell_rise", "cell_fall", "rise_transition", "fall_transition"):
                lines += _table(kind, delay, cell.grid, getattr(arc, kind), _TIME, 4)
            lines += ["      }"]
        for arc in cell.arcs:
            if arc.pin != pin:
                continue
            lines += ["      internal_power () {", f'        related_pin : "{arc.related_pin}";',
                      *([f'        when : "{arc.when}";'] if arc.when else [])]
            lines += _table("rise_power", energy, cell.grid, arc.rise_energy, _ENERGY, 4)
            lines += _table("fall_power", energy, cell.grid, arc.fall_energy, _ENERGY, 4)
            lines += ["      }"]
        lines.append("    }")
    lines.append("  }")
    return lines


def liberty_text(library_name, characterized_cells, corner, *, wire_loads=(),
                 default_wire_load=None):
    """Return a Liberty library of characterized cells, as text.

    Parameters
    ----------
    library_name : str
        The ``library (...)`` name: letters, digits and ``_``.
    characterized_cells : sequence of CharacterizedCell
        Every cell of the library; each must have been characterized at ``corner``, and
        names must be unique.
    corner : Corner
        The operating conditions the library states.
    wire_loads : sequence of WireLoad
    default_wire_load : str or None
        One of ``wire_loads`` by name, or ``None``.

    Raises
    ------
    ValueError
        If the name is not an identifier, there are no cells, a cell is not characterized
        or was characterized at another corner, names repeat, or ``default_wire_load`` names
        no wire-load model.
    """
    if not isinstance(library_name, str) or not library_name \
            or not library_name.replace("_", "a").isalnum() or not library_name[0].isalpha():
        raise ValueError(f"library_name must be letters, digits and '_', starting with a "
                         f"letter, not {library_name!r}")
    cells = list(characterized_cells)
    if not cells:
        raise ValueError("characterized_cells must hold at least one cell, not none")
    for cell in cells:
        if not isinstance(cell, CharacterizedCell):
            raise ValueError(f"characterized_cells must hold CharacterizedCell objects, "
                             f"not {cell!r}")
        if cell.corner != corner:
            raise ValueError(f"cell {cell.name} was characterized at {cell.corner.name}, "
                             f"not at the library's corner {corner.name}")
    names = [cell.name for cell in cells]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"characterized_cells must have unique names, not {repeated}")
    wire_loads = tuple(wire_loads)
    if default_wire_load is not None and default_wire_load not in {w.name for w in wire_loads}:
        raise ValueError(f"default_wire_load must name one of the wire_loads "
                         f"{[w.name for w in wire_loads]}, not {default_wire_load!r}")
    lines = [
        f"/* {library_name}: cells characterized by dcim.spice.liberty_char with ngspice and",
        f"   the FreePDK45 BSIM4 cards of OpenRAM, corner {corner.name}. */",
        f"library ({library_name}) {{",
        "  technology (cmos);", "  delay_model : table_lookup;",
        '  time_unit : "1ns";', '  voltage_unit : "1V";', '  current_unit : "1mA";',
        '  leakage_power_unit : "1nW";', '  pulling_resistance_unit : "1kohm";',
        "  capacitive_load_unit (1, ff);",
        "  nom_process : 1.0;", f"  nom_voltage : {corner.vdd:g};",
        f"  nom_temperature : {corner.temp_c:g};",
        f"  operating_conditions ({corner.name}) {{",
        "    process : 1.0;", f"    voltage : {corner.vdd:g};",
        f"    temperature : {corner.temp_c:g};", "    tree_type : balanced_tree;", "  }",
        f"  default_operating_conditions : {corner.name};",
        "  slew_lower_threshold_pct_rise : 30;", "  slew_upper_threshold_pct_rise : 70;",
        "  slew_lower_threshold_pct_fall : 30;", "  slew_upper_threshold_pct_fall : 70;",
        "  slew_derate_from_library : 1.0;",
        "  input_threshold_pct_rise : 50;", "  input_threshold_pct_fall : 50;",
        "  output_threshold_pct_rise : 50;", "  output_threshold_pct_fall : 50;",
        "  default_input_pin_cap : 1.0;", "  default_output_pin_cap : 0.0;",
        "  default_inout_pin_cap : 1.0;", "  default_fanout_load : 1.0;",
        "  default_cell_leakage_power : 0.0;", "  default_leakage_power_density : 0.0;",
    ]
    for wire in wire_loads:
        lines += [f'  wire_load ("{wire.name}") {{', f"    capacitance : {wire.capacitance:g};",
                  f"    resistance : {wire.resistance:g};", f"    slope : {wire.slope:g};",
                  *(f"    fanout_length ({fanout}, {length:g});"
                    for fanout, length in wire.fanout_length), "  }"]
    if default_wire_load is not None:
        lines.append(f'  default_wire_load : "{default_wire_load}";')
    for grid in dict.fromkeys(cell.grid for cell in cells):
        for template, variable_2 in ((_template_name(grid), "lu_table_template"),
                                     (_power_template_name(grid), "power_lut_template")):
            lines += [f"  {variable_2} ({template}) {{",
                      "    variable_1 : input_net_transition;" if variable_2 ==
                      "lu_table_template" else "    variable_1 : input_transition_time;",
                      "    variable_2 : total_output_net_capacitance;",
                      f'    index_1 ("{_numbers(grid.slews, _TIME)}");',
                      f'    index_2 ("{_numbers(grid.loads, _CAPACITANCE)}");', "  }"]
    constraints = {_constraint_template_name(constraint): constraint
                   for cell in cells for constraint in cell.constraints}
    for template, constraint in constraints.items():
        # Setup and hold tables: the clock's (related pin's) slew, then the data's.
        lines += [f"  lu_table_template ({template}) {{",
                  "    variable_1 : related_pin_transition;",
                  "    variable_2 : constrained_pin_transition;",
                  f'    index_1 ("{_numbers(constraint.related_slews, _TIME)}");',
                  f'    index_2 ("{_numbers(constraint.constrained_slews, _TIME)}");', "  }"]
    for cell in cells:
        lines += _cell(cell)
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_liberty(path, library_name, characterized_cells, corner, **options):
    """Write :func:`liberty_text` to ``path`` (parent folders are created); returns the path."""
    path = Path(path)
    text = liberty_text(library_name, characterized_cells, corner, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
