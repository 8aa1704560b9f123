"""SRAM bitcells as frozen specifications that generate their transistor netlists.

A bitcell is a small frozen dataclass of transistor sizes. From it come its transistors (each
named, so that Monte Carlo can shift each one's threshold), its ``.subckt`` and the netlist of
one copy of it inside a larger deck, with the storage loop optionally broken for butterfly
curves. Sizes are SI (metres).

Threshold shifts use BSIM4's ``delvto`` instance parameter (ngspice adds it to ``vth0``). dcim's
convention is that a positive shift makes a transistor weaker (a larger ``|Vt|``) whatever its
type, so the PMOS's ``delvto`` is the negated shift.
"""

import math
from dataclasses import dataclass

from .corners import NMOS_MODEL, PMOS_MODEL

__all__ = ["BITCELLS", "Bitcell", "Bitcell6T", "Bitcell8T", "Transistor"]


@dataclass(frozen=True)
class Transistor:
    """One transistor of a bitcell: its name, type, terminals (the cell's node names) and size.

    The body is tied to ground for an NMOS and to the supply for a PMOS.
    """

    name: str
    polarity: str
    drain: str
    gate: str
    source: str
    width: float
    length: float

    def netlist_line(self, prefix, nodes, shift=0.0, gate_nodes=None):
        """Return the element line of this transistor in a copy of its cell.

        Parameters
        ----------
        prefix : str
            Prepended to the element and to the cell's internal nodes (``"c3_"``).
        nodes : dict of str to str
            Deck node of each external cell node (``"bl"``, ``"vdd"``, ``"gnd"``, ...); nodes
            not named here are internal and get the prefix.
        shift : float
            Threshold shift in volts, positive = weaker.
        gate_nodes : dict of str to str or None
            Deck nodes that replace a cell node at gates only: ``{"q": "in"}`` drives the
            gates that ``q`` drives from ``in``, which breaks the storage loop.
        """
        def node(name, at_gate=False):
            if at_gate and gate_nodes and name in gate_nodes:
                return gate_nodes[name]
            return nodes.get(name, f"{prefix}{name}")

        model, body, delvto = ((NMOS_MODEL, node("gnd"), shift) if self.polarity == "n"
                               else (PMOS_MODEL, node("vdd"), 0.0 - shift))
        return (f"m{prefix}{self.name} {node(self.drain)} {node(self.gate, True)} "
                f"{node(self.source)} {body} {model} w={self.width:.6g} l={self.length:.6g} "
                f"delvto={delvto:.6g}")


def _check_size(name, value):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 20e-9 <= value <= 10e-6:
        raise ValueError(f"{name} must be a size in metres between 20 nm and 10 um, not {value!r}")


class Bitcell:
    """What every bitcell offers; see :class:`Bitcell6T` and :class:`Bitcell8T`."""

    kind = ""
    external_nodes = ()
    """The cell's pins, ``.subckt`` order."""
    single_ended_read = False
    """True when a separate read port (``rbl``, ``rwl``) reads the cell."""

    def __post_init__(self):
        for name, value in vars(self).items():
            _check_size(name, value)

    @property
    def transistors(self):
        """The cell's transistors, in the order of the columns of a shift array."""
        raise NotImplementedError

    @property
    def transistor_names(self):
        """The transistor names, in the order of the columns of a shift array."""
        return tuple(transistor.name for transistor in self.transistors)

    @property
    def name(self):
        """A stable name from the sizes, e.g. ``"sram6t_pd205_pu90_pg135_l50"`` (nm)."""
        sizes = "_".join(f"{key}{round(value * 1e9)}" for key, value in self._short_sizes())
        return f"{self.kind}_{sizes}"

    def netlist(self, prefix, nodes, shifts=None, gate_nodes=None):
        """Return the element lines of one copy of the cell (see
        :meth:`Transistor.netlist_line`); ``shifts`` holds one threshold shift per transistor.
        """
        shifts = [0.0] * len(self.transistors) if shifts is None else list(shifts)
        if len(shifts) != len(self.transistors):
            raise ValueError(f"shifts must hold {len(self.transistors)} values, one per "
                             f"transistor {self.transistor_names}, not {len(shifts)}")
        return [transistor.netlist_line(prefix, nodes, shift, gate_nodes)
                for transistor, shift in zip(self.transistors, shifts, strict=True)]

    def subcircuit(self):
        """Return the cell as a ``.subckt`` named after :attr:`name`."""
        nodes = {node: node for node in self.external_nodes}
        return "\n".join([f".subckt {self.name} {' '.join(self.external_nodes)}",
                          *self.netlist("", nodes), f".ends {self.name}"]) + "\n"


@dataclass(frozen=True)
class Bitcell6T(Bitcell):
    """The 6T bitcell, sized as OpenRAM's FreePDK45 ``cell_1rw``.

    Two cross-coupled inverters store ``q`` and ``qb``; the pass gates connect them to the
    bitlines ``bl`` and ``br`` when the word line ``wl`` is high. Transistors: ``pd_l``,
    ``pu_l``, ``pg_l`` (driving ``q``) and ``pd_r``, ``pu_r``, ``pg_r`` (driving ``qb``).

    Parameters
    ----------
    pull_down_width, pull_up_width, pass_gate_width, length : float
        Metres; default 205, 90, 135 and 50 nm.

    Raises
    ------
    ValueError
        If a size is not a number between 20 nm and 10 um.
    """

    pull_down_width: float = 205e-9
    pull_up_width: float = 90e-9
    pass_gate_width: float = 135e-9
    length: float = 50e-9

    kind = "sram6t"
    external_nodes = ("bl", "br", "wl", "vdd", "gnd")

    def _short_sizes(self):
        return [("pd", self.pull_down_width), ("pu", self.pull_up_width),
                ("pg", self.pass_gate_width), ("l", self.length)]

    @property
    def transistors(self):
        length = self.length
        return (
            Transistor("pd_l", "n", "q", "qb", "gnd", self.pull_down_width, length),
            Transistor("pu_l", "p", "q", "qb", "vdd", self.pull_up_width, length),
            Transistor("pg_l", "n", "bl", "wl", "q", self.pass_gate_width, length),
            Transistor("pd_r", "n", "qb", "q", "gnd", self.pull_down_width, length),
            Transistor("pu_r", "p", "qb", "q", "vdd", self.pull_up_width, length),
            Transistor("pg_r", "n", "br", "wl", "qb", self.pass_gate_width, length),
        )


@dataclass(frozen=True)
class Bitcell8T(Bitcell):
    """The 8T bitcell: the 6T cell written through ``bl``/``br``/``wl``, read through a
    separate two-transistor stack that leaves the storage nodes undisturbed.

    The read stack discharges the read bitline ``rbl`` through ``ra`` (gate: read word line
    ``rwl``) and ``rd`` (gate: ``qb``) when ``q`` is 0. Both are sized like the pull-down
    (205 nm), so the read current matches the 6T's pull-down-limited path without the 6T's
    read disturb.

    Parameters
    ----------
    pull_down_width, pull_up_width, pass_gate_width, length : float
        The 6T core; as :class:`Bitcell6T`.
    read_driver_width, read_access_width : float
        The read stack; default 205 nm each.
    """

    pull_down_width: float = 205e-9
    pull_up_width: float = 90e-9
    pass_gate_width: float = 135e-9
    length: float = 50e-9
    read_driver_width: float = 205e-9
    read_access_width: float = 205e-9

    kind = "sram8t"
    external_nodes = ("bl", "br", "wl", "rbl", "rwl", "vdd", "gnd")
    single_ended_read = True

    def _short_sizes(self):
        return [*Bitcell6T._short_sizes(self), ("rd", self.read_driver_width),
                ("ra", self.read_access_width)]

    @property
    def transistors(self):
        core = Bitcell6T(self.pull_down_width, self.pull_up_width, self.pass_gate_width,
                         self.length).transistors
        return (*core,
                Transistor("rd", "n", "rx", "qb", "gnd", self.read_driver_width, self.length),
                Transistor("ra", "n", "rbl", "rwl", "rx", self.read_access_width, self.length))


BITCELLS = {"6t": Bitcell6T, "8t": Bitcell8T}
"""The bitcell classes by short name."""
