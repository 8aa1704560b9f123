"""Timing by block: one instance of each of the top's blocks in full, the others as their loads.

The instances of a block in a macro (its lanes, its weight columns) have the same cells, and
see the same context: the same kind of driver on every input, the same kind of load on every
output. Their worst paths are then the same, and timing one of them in full, in its place,
finds the design's worst path. Each other instance still loads the nets of its parent as it
does in the whole design (the delay of a net depends on every pin it drives, and on their
number through the wire-load model), so it is kept as its *load*: a module of only the cells
that its inputs drive (those of its sub-blocks that its inputs reach as their own loads),
whose outputs drive nothing. OpenSTA then computes the delays of one lane, not of all, and
of the first level of cells of the others.

What it misses: a path through two instances of one block (none in a macro: lanes and
columns talk only to the top), and an instance whose context differs from the first one's
(it is the first in name order that is kept, as for power per block,
:func:`~dcim.flow.activity.block_paths`). A macro's lanes differ in one respect: the
parent's cells after each lane's outputs are its own (abc maps each accumulator its own
way), and those after a load see no arrival times, so the worst path found can be a little
short (-2.2 % for a rows=8, cols=4 macro of 4-bit log multipliers; see ``docs/flow.md``,
*Timing*), never long. Inside the kept instance nothing is abstracted: a
lane's multipliers feed its tree at different depths, so each is kept.
"""

import re

__all__ = ["LOAD_SUFFIX", "load_netlist"]

LOAD_SUFFIX = "__load"
"""Suffix of the module that stands for a block's loads (``<block>__load``)."""

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _escaped(name):
    """``name`` as a Verilog identifier: plain, or escaped (``\\name `` with its space)."""
    return name if _PLAIN.fullmatch(name) else "\\" + name + " "


def _load_module(name, modules, library, written):
    """Verilog of ``<name>__load`` (and, first, of the load modules it instantiates)."""
    if name in written:
        return []
    module = modules[name]
    ports = module["ports"]
    input_nets = {bit for port in ports.values() if port["direction"] == "input"
                  for bit in port["bits"] if isinstance(bit, int)}
    texts = []
    kept = []
    for cell_name, cell in sorted(module["cells"].items()):
        kind = cell["type"].lstrip("\\")
        if kind in modules:
            child = modules[kind]["ports"]
            inputs = [pin for pin, port in child.items() if port["direction"] == "input"]
            kind_written = kind + LOAD_SUFFIX
        else:
            inputs = [pin for pin in cell["connections"]
                      if library.cells[kind].pins[pin].direction == "input"]
            kind_written = kind
        if any(bit in input_nets for pin in inputs for bit in cell["connections"][pin]):
            if kind in modules:
                texts += _load_module(kind, modules, library, written)
            kept.append((cell_name, kind_written, cell["connections"]))
    written.add(name)

    port_bit = {}
    for port, facts in ports.items():
        for index, bit in enumerate(facts["bits"]):
            if isinstance(bit, int) and bit not in port_bit:
                port_bit[bit] = (_escaped(port) if len(facts["bits"]) == 1
                                 else f"{_escaped(port)}[{index}]")
    wires = set()

    def net(bit):
        if bit in ("0", "x", "z"):
            return "1'b0"
        if bit == "1":
            return "1'b1"
        if bit in port_bit:
            return port_bit[bit]
        wires.add(bit)
        return f"n{bit}"

    body = []
    for cell_name, kind, connections in kept:
        pins = []
        for pin, bits in connections.items():
            values = [net(bit) for bit in reversed(bits)]
            value = values[0] if len(values) == 1 else "{ " + ", ".join(values) + " }"
            pins.append(f"    .{_escaped(pin)}({value})")
        body.append(f"  {kind} {_escaped(cell_name)} (\n" + ",\n".join(pins) + "\n  );")
    lines = [f"module {name}{LOAD_SUFFIX}({', '.join(_escaped(port) for port in ports)});"]
    for port, facts in ports.items():
        width = len(facts["bits"])
        lines.append(f"  {facts['direction']} " + (f"[{width - 1}:0] " if width > 1 else "")
                     + f"{_escaped(port)};")
    lines += [f"  wire n{bit};" for bit in sorted(wires)]
    lines += body
    lines.append("endmodule")
    return [*texts, "\n".join(lines) + "\n"]


def load_netlist(netlist, modules, top, library, macros=()):
    """The hierarchical netlist for timing by block (see the module description).

    Parameters
    ----------
    netlist : str
        The design's gate-level Verilog, each distinct module once (as Yosys writes it).
    modules : dict
        The same modules as Yosys JSON (``modules.json``'s ``"modules"``).
    top : str
    library : Library
        The cells' Liberty library (for the directions of their pins).
    macros : collection of str
        Hard macros: cells of their own Liberty files, kept as they are.

    Returns
    -------
    str
        The netlist, in which every instance in ``top`` of a block but the first in name
        order is an instance of the block's load module (appended to the text).

    Raises
    ------
    ValueError
        If ``top`` is not a module of ``netlist``.
    """
    blocks = {name for name in modules if name != top and name not in macros}
    kept = {}
    for cell_name, cell in sorted(modules[top]["cells"].items()):
        kind = cell["type"].lstrip("\\")
        if kind in blocks:
            kept.setdefault(kind, cell_name)
    replaced = {cell_name: cell["type"].lstrip("\\")
                for cell_name, cell in modules[top]["cells"].items()
                if cell["type"].lstrip("\\") in kept
                and kept[cell["type"].lstrip("\\")] != cell_name}
    header = re.search(rf"^module {re.escape(top)}\(", netlist, re.M)
    if header is None:
        raise ValueError(f"top must be a module of the netlist, not {top!r}")
    end = netlist.index("\nendmodule", header.end())
    own = netlist[header.start():end]

    def rename(match):
        name = match[3]
        plain = name[1:].rstrip() if name.startswith("\\") else name
        if replaced.get(plain) == match[2]:
            return f"{match[1]}{match[2]}{LOAD_SUFFIX} {name}"
        return match[0]

    own = re.sub(r"^(\s+)(\S+) (\\\S+ |\S+)", rename, own, flags=re.M)
    written = set()
    texts = []
    for kind in sorted(set(replaced.values())):
        texts += _load_module(kind, modules, library, written)
    text = netlist[:header.start()] + own + netlist[end:] + "\n" + "\n".join(texts)
    return text
