"""Switching activity from real operands: simulating a mapped netlist with Liberty functions.

:class:`MappedNetlist` reads a flat, technology-mapped Yosys netlist (``write_json``) and
evaluates it with each cell's Liberty ``function``, bit-parallel, one NumPy operation per
cell type and logic level. Transitions are counted between the settled values of
consecutive clock cycles (zero-delay: glitches are not modelled, as in OpenSTA's own
vectorless analysis).

- Combinational netlists (:meth:`MappedNetlist.count`): every net holds one bit per cycle, 64
  cycles to a ``uint64`` word; consecutive operand sets are consecutive cycles.
- Clocked netlists (:meth:`MappedNetlist.count_sequential`): cycle by cycle, each flip-flop
  taking its ``next_state`` at every clock edge; the 64 bits of a word are 64 independent
  copies of the design (lanes) driven by different stimuli, so that one simulated cycle
  yields 64 samples. Every flip-flop is taken to be clocked by the one clock, once a cycle,
  whose pins see a rising and a falling transition each cycle.

- Netlists assembled from blocks (:class:`BlockNetlist`): each distinct block is a netlist
  of its own, all its instances evaluated together (their copies side by side in the words),
  at the point of their parent's evaluation where their inputs have settled; its counts are
  the sums over its instances.

All return :class:`ActivityCounts`: per net, its transitions and its time at 1; per
``internal_power`` group of every cell, how many transitions of its pin happened while its
``when`` condition held and its related pin switched in the same cycle; per
``leakage_power`` group, how many cycles its state held. :mod:`dcim.flow.analysis` turns
these counts into energy with the Liberty tables.
"""

import functools
from dataclasses import dataclass

import numpy as np

from .liberty import compile_function, expression_pins, parse_function

__all__ = ["ActivityCounts", "BlockNetlist", "MappedNetlist", "Stimulus", "block_paths",
           "pack_bits", "unpack_bits"]

_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
# Nets kept in memory at once (nets x words x 8 bytes): about 128 MB per chunk.
_CHUNK_ELEMENTS = 1 << 24


def pack_bits(values, width):
    """Bit-pack the low ``width`` bits of integer ``values`` over time.

    Returns a ``(width, words)`` ``uint64`` array: bit ``k`` of cycle ``t`` is bit ``t % 64``
    of word ``t // 64`` in row ``k``.
    """
    values = np.asarray(values).astype(np.int64)
    bits = (values[None, :] >> np.arange(width, dtype=np.int64)[:, None]) & 1
    return _pack_rows(bits.astype(np.uint8))


def _pack_rows(bits):
    """Pack a ``(rows, n)`` 0/1 array into ``(rows, ceil(n / 64))`` words, LSB first."""
    rows, count = bits.shape
    words = max(1, -(-count // 64))
    padded = np.zeros((rows, words * 64), dtype=np.uint8)
    padded[:, :count] = bits
    return np.packbits(padded.reshape(rows, -1, 8), axis=-1,
                       bitorder="little").reshape(rows, -1).view("<u8").astype(np.uint64)


def unpack_bits(words, count):
    """The inverse of :func:`pack_bits`: unsigned integers of ``count`` cycles (int64)."""
    return (_unpack_rows(words, count).astype(np.int64)
            << np.arange(words.shape[0], dtype=np.int64)[:, None]).sum(axis=0)


def _unpack_rows(words, count):
    words = np.ascontiguousarray(words, dtype="<u8")
    return np.unpackbits(words.view(np.uint8).reshape(words.shape[0], -1), axis=-1,
                         bitorder="little")[:, :count]


def _popcount(words):
    return np.bitwise_count(words).sum(axis=-1, dtype=np.int64)


@dataclass(frozen=True)
class Stimulus:
    """Input bits of a clocked design, cycle by cycle and lane by lane.

    Parameters
    ----------
    ports : dict of str to array
        For each input port but the clock: a 0/1 array of shape ``(cycles, lanes, width)``
        (bit 0 first).
    measure : (int, int)
        The cycles ``[start, stop)`` whose transitions are counted (e.g. after the weights
        are loaded and the pipeline is full); transitions into ``start`` are not counted.
    """

    ports: dict
    measure: tuple

    @property
    def cycles(self):
        return next(iter(self.ports.values())).shape[0]

    @property
    def lanes(self):
        return next(iter(self.ports.values())).shape[1]


@dataclass
class ActivityCounts:
    """Transitions and states of a netlist over a stimulus.

    Members
    -------
    cycles : int
        Samples of the settled state: cycles (times lanes for a clocked design).
    transitions : int
        Cycle-to-cycle changes counted per net: ``cycles - 1`` for a combinational design,
        ``(measured cycles - 1) * lanes`` for a clocked one.
    toggles, rises, ones : numpy arrays, one per net
        Transitions of each net, its rising ones, and the samples it was 1.
    power_counts : dict
        ``(instance index, pin, group index) -> (rises, falls)``: transitions of ``pin``
        that happened while the internal power group's ``when`` held and its related pin
        switched in the same cycle.
    pin_transitions : dict
        ``(instance index, pin) -> (rises, falls)`` of every output pin, and of every input
        pin that has internal power of its own.
    leakage_counts : dict
        ``instance index -> {leakage group index: samples its state held}``.
    """

    cycles: int
    transitions: int
    toggles: np.ndarray
    rises: np.ndarray
    ones: np.ndarray
    power_counts: dict
    pin_transitions: dict
    leakage_counts: dict


class _TypeGroup:
    """All instances of one cell type at one level, with index arrays for their pins."""

    def __init__(self, cell, instances, nets):
        self.cell = cell
        self.instances = instances
        self.pin_nets = {pin: np.array([nets[i][pin] for i in instances], dtype=np.int64)
                         for pin in nets[instances[0]]}
        self.outputs = []
        for pin in cell.outputs:
            if pin.name in self.pin_nets and pin.function is not None:
                names, evaluate = compile_function(pin.function)
                self.outputs.append((pin.name, names, evaluate))


class _Flops:
    """All flip-flops of one cell type: how to compute their next state."""

    def __init__(self, cell, instances, nets):
        self.cell = cell
        self.instances = instances
        sequential = cell.sequential
        self.state, self.state_inverted = sequential["outputs"][:2]
        self.pin_nets = {pin: np.array([nets[i][pin] for i in instances], dtype=np.int64)
                         for pin in nets[instances[0]]}
        self.next_state = _condition(sequential["next_state"])
        self.clear = _condition(sequential["clear"]) if "clear" in sequential else None
        self.preset = _condition(sequential["preset"]) if "preset" in sequential else None

    def _evaluate(self, function, values):
        names, evaluate = function
        result = evaluate(*(values[self.pin_nets[name]] for name in names))
        return np.broadcast_to(result, (len(self.instances), values.shape[1]))

    def update(self, values):
        """Write the state after the clock edge into the state nets of ``values``."""
        state = self._evaluate(self.next_state, values).copy()
        if self.preset is not None:
            state |= self._evaluate(self.preset, values)
        if self.clear is not None:
            state &= ~self._evaluate(self.clear, values)
        values[self.pin_nets[self.state]] = state
        values[self.pin_nets[self.state_inverted]] = ~state


class MappedNetlist:
    """A flat netlist of Liberty cells, evaluated bit-parallel.

    Parameters
    ----------
    module : dict
        One module of a Yosys JSON netlist (``write_json``; flat, or one block of a
        hierarchy).
    library : dcim.flow.liberty.Library
        The library its cells come from.
    blocks : dict or None
        Modules that ``module`` instantiates (cells whose type is one of them are block
        instances, not library cells): module name to ``{port: (direction, width)}``. All
        instances of one block are evaluated together, in one step, when their inputs are
        settled (see :class:`BlockNetlist`).

    Members
    -------
    inputs, outputs : dict of str to list of int
        Port name to net indices, least significant bit first.
    instances : list of (name, Cell, {pin: net})
        The library cells.
    block_instances : dict of str to list of (name, {port: list of int})
        The block instances of each block, by instance name.
    net_count : int
    flop_count : int
        Flip-flops (a netlist with any can only be simulated cycle by cycle).

    Raises
    ------
    ValueError
        If the netlist has latches, a cell pin the library does not know, an output pin
        without a function, or a combinational loop (through the blocks too: every output
        of a block is taken to depend on all its inputs).
    """

    def __init__(self, module, library, blocks=None):
        self.library = library
        blocks = blocks or {}
        self.block_instances = {}
        self._block_directions = {kind: {port: direction for port, (direction, _)
                                         in ports.items()} for kind, ports in blocks.items()}
        self._net_of = {"0": 0, "1": 1, "x": 0, "z": 0}
        self.inputs, self.outputs = {}, {}
        for name, port in module["ports"].items():
            nets = [self._net(bit) for bit in port["bits"]]
            if port["direction"] == "input":
                self.inputs[name] = nets
            elif port["direction"] == "output":
                self.outputs[name] = nets
            else:
                raise ValueError(f"port {name!r} is {port['direction']}; only input and "
                                 f"output ports can be simulated")
        self.instances = []
        for name, cell_data in sorted(module["cells"].items()):
            if cell_data["type"] in blocks:
                self._add_block(name, cell_data, blocks[cell_data["type"]])
                continue
            cell = library.cell(cell_data["type"])
            if cell.is_sequential and cell.sequential["kind"] != "ff":
                raise ValueError(f"instance {name!r} is a latch ({cell.name}); only "
                                 f"flip-flops can be simulated")
            pins = {}
            for pin, bits in cell_data["connections"].items():
                if pin not in cell.pins:
                    raise ValueError(f"instance {name!r}: cell {cell.name} has no pin {pin!r}")
                if len(bits) != 1:
                    raise ValueError(f"instance {name!r}: pin {pin!r} is {len(bits)} bits wide")
                pins[pin] = self._net(bits[0])
            for pin in cell.outputs:
                # An unconnected output still switches and burns internal power: give it a
                # net of its own so that it is simulated.
                if pin.name not in pins and pin.function is not None:
                    pins[pin.name] = self._net(f"{name}/{pin.name}")
            if cell.is_sequential:
                # The flip-flop's state variables (IQ, IQN) are nets of their own, which the
                # output pins' functions read.
                for variable in cell.sequential["outputs"][:2]:
                    pins[variable] = self._net(f"{name}/{variable}")
            self.instances.append((name, cell, pins))
        self.net_count = len(self._net_of) - 2
        self._levelise()

    def net(self, bit):
        """The index of Yosys net ``bit`` in the counts, or ``None`` if nothing uses it."""
        index = self._net_of.get(bit)
        return None if bit in ("x", "z") else index

    def _net(self, bit):
        if bit not in self._net_of:
            self._net_of[bit] = len(self._net_of) - 2  # "x" and "z" share net 0
        return self._net_of[bit]

    def _add_block(self, name, cell_data, ports):
        connections = {}
        for port, (direction, width) in ports.items():
            bits = cell_data["connections"].get(port)
            if bits is None or len(bits) != width:
                if direction == "input" and bits is None:
                    bits = ["0"] * width  # an unconnected input reads 0
                elif bits is None:
                    bits = [f"{name}/{port}[{index}]" for index in range(width)]
                else:
                    raise ValueError(f"block instance {name!r}: port {port!r} has "
                                     f"{len(bits)} bits, not {width}")
            connections[port] = [self._net(bit) for bit in bits]
        self.block_instances.setdefault(cell_data["type"], []).append((name, connections))

    def _levelise(self):
        driver = {}
        blocks = sorted(self.block_instances)
        base = len(self.instances)
        for number, kind in enumerate(blocks):
            for name, connections in self.block_instances[kind]:
                for port, nets in connections.items():
                    if self._block_directions[kind][port] != "output":
                        continue
                    for net in nets:
                        if net < 2:
                            continue  # a block output tied off in its parent
                        if net in driver:
                            raise ValueError(f"net of {name}/{port} has more than one driver")
                        driver[net] = base + number
        for index, (name, cell, pins) in enumerate(self.instances):
            for pin in cell.outputs:
                if pin.name not in pins:
                    continue
                if pin.function is None:
                    raise ValueError(f"instance {name!r}: output {pin.name} of {cell.name} has "
                                     f"no function and cannot be simulated")
                net = pins[pin.name]
                if net in driver or net < 2:
                    raise ValueError(f"net of {name}/{pin.name} has more than one driver")
                driver[net] = index
        for port, nets in self.inputs.items():
            for net in nets:
                if net in driver:
                    raise ValueError(f"input port {port!r} is also driven by a cell")

        def sources(index):
            if index >= base:
                # A block: all its instances at once, every output hanging on every input.
                kind = blocks[index - base]
                return sorted({driver[net] for _, connections in self.block_instances[kind]
                               for port, nets in connections.items()
                               if self._block_directions[kind][port] == "input"
                               for net in nets if net in driver})
            # What the outputs read: a flip-flop's outputs read its state, not its D input.
            _, cell, pins = self.instances[index]
            found = set()
            for pin in cell.outputs:
                if pin.name in pins and pin.function is not None:
                    for name in compile_function(pin.function)[0]:
                        source = driver.get(pins.get(name, 0))
                        if source is not None:
                            found.add(source)
            return sorted(found)

        nodes = base + len(blocks)
        level = [None] * nodes
        on_path = [False] * nodes
        for root in range(nodes):
            if level[root] is not None:
                continue
            stack = [(root, iter(sources(root)))]
            on_path[root] = True
            while stack:
                index, pending = stack[-1]
                for child in pending:
                    if on_path[child]:
                        through = (self.instances[child][0] if child < base
                                   else f"the instances of block {blocks[child - base]}")
                        raise ValueError(f"netlist has a combinational loop through "
                                         f"{through!r}")
                    if level[child] is None:
                        on_path[child] = True
                        stack.append((child, iter(sources(child))))
                        break
                else:
                    level[index] = 1 + max((level[s] for s in sources(index)), default=-1)
                    on_path[index] = False
                    stack.pop()
        groups = {}
        for index, (_, cell, pins) in enumerate(self.instances):
            groups.setdefault((level[index], cell.name, tuple(sorted(pins))), []).append(index)
        nets = [pins for _, _, pins in self.instances]
        ordered = sorted(groups.items(), key=lambda item: item[0][:2])
        self._groups = [_TypeGroup(self.instances[members[0]][1], members, nets)
                        for key, members in ordered]
        # Evaluation order: cell groups and blocks by level (a block after what feeds it).
        steps = [(key[0], 0, number) for number, (key, _) in enumerate(ordered)]
        steps += [(level[base + number], 1, kind) for number, kind in enumerate(blocks)]
        self._steps = [(kind == 1, item) for _, kind, item in
                       sorted(steps, key=lambda step: (step[0], step[1], str(step[2])))]
        flops = {}
        for index, (_, cell, pins) in enumerate(self.instances):
            if cell.is_sequential:
                flops.setdefault((cell.name, tuple(sorted(pins))), []).append(index)
        self._flops = [_Flops(self.instances[members[0]][1], members, nets)
                       for members in flops.values()]
        self.flop_count = sum(len(group.instances) for group in self._flops)
        self.depth = 1 + max(level, default=-1)

    # -- evaluation -----------------------------------------------------------------------

    def _settle(self, values, evaluate_block=None):
        values[0] = 0
        values[1] = _ONES
        for is_block, item in self._steps:
            if is_block:
                if evaluate_block is None:
                    raise ValueError(f"the netlist instantiates block {item}: simulate it "
                                     f"with a BlockNetlist")
                evaluate_block(item, values)
                continue
            group = self._groups[item]
            for pin, names, evaluate in group.outputs:
                if names:
                    result = evaluate(*(values[group.pin_nets[name]] for name in names))
                else:  # a tie cell: the function is a constant
                    result = evaluate()
                values[group.pin_nets[pin]] = result

    def _stimulus(self, operands):
        if not isinstance(operands, dict):
            raise TypeError(f"operands must be a dict of input port name to values, "
                            f"not {type(operands).__name__}")
        unknown = sorted(set(operands) - set(self.inputs))
        missing = sorted(set(self.inputs) - set(operands))
        if unknown or missing:
            raise ValueError(f"operands must give every input port ({', '.join(self.inputs)})"
                             f" and no other; unknown {unknown}, missing {missing}")
        lengths = {len(np.atleast_1d(values)) for values in operands.values()}
        if len(lengths) != 1:
            raise ValueError(f"operands must all have the same length, not {sorted(lengths)}")
        count = lengths.pop()
        if count < 1:
            raise ValueError("operands must hold at least one cycle")
        packed = {name: pack_bits(np.atleast_1d(values), len(self.inputs[name]))
                  for name, values in operands.items()}
        return packed, count

    def _combinational(self, what):
        if self.flop_count:
            raise ValueError(f"the netlist has {self.flop_count} flip-flops: {what} needs a "
                             f"combinational design; simulate clocked designs cycle by cycle "
                             f"with a Stimulus")

    def _evaluate(self, packed, start, stop):
        values = np.zeros((self.net_count, stop - start), dtype=np.uint64)
        for name, nets in self.inputs.items():
            values[nets] = packed[name][:, start:stop]
        self._settle(values)
        return values

    def simulate(self, operands):
        """Output port values of a combinational netlist for ``operands``.

        ``operands`` maps every input port to an integer array (one value per cycle);
        returns ``{output port: int64 array}`` of unsigned values, one per cycle.
        """
        self._combinational("simulate()")
        packed, count = self._stimulus(operands)
        words = packed[next(iter(packed))].shape[1]
        results = {name: [] for name in self.outputs}
        step = max(1, _CHUNK_ELEMENTS // self.net_count)
        for start in range(0, words, step):
            values = self._evaluate(packed, start, min(words, start + step))
            for name, nets in self.outputs.items():
                results[name].append(values[nets])
        return {name: unpack_bits(np.concatenate(parts, axis=1), count)
                for name, parts in results.items()}

    def count(self, operands):
        """Simulate a combinational netlist on ``operands`` and count its activity.

        Parameters
        ----------
        operands : dict of str to integer array
            One value per cycle for every input port (negative values are taken in two's
            complement); consecutive values are consecutive clock cycles.

        Returns
        -------
        ActivityCounts
        """
        self._combinational("count()")
        packed, count = self._stimulus(operands)
        words = packed[next(iter(packed))].shape[1]
        toggles = np.zeros(self.net_count, dtype=np.int64)
        rises = np.zeros(self.net_count, dtype=np.int64)
        ones = np.zeros(self.net_count, dtype=np.int64)
        totals = {}
        carry = np.zeros(self.net_count, dtype=np.uint64)
        step = max(1, _CHUNK_ELEMENTS // self.net_count)
        for start in range(0, words, step):
            stop = min(words, start + step)
            values = self._evaluate(packed, start, stop)
            valid = np.full(stop - start, _ONES, dtype=np.uint64)
            if stop == words and count % 64:
                valid[-1] = np.uint64((1 << (count % 64)) - 1)
            changed = valid.copy()
            if start == 0:
                changed[0] &= ~np.uint64(1)  # cycle 0 has no predecessor
            previous = values << np.uint64(1)
            previous[:, 0] |= carry
            previous[:, 1:] |= values[:, :-1] >> np.uint64(63)
            carry = values[:, -1] >> np.uint64(63)
            switched = (values ^ previous) & changed
            toggles += _popcount(switched)
            rises += _popcount(switched & values)
            ones += _popcount(values & valid)
            self._count_groups(values, switched, valid, totals, frozenset())
        power_counts, pin_transitions, leakage_counts = self._finish(totals)
        return ActivityCounts(cycles=count, transitions=count - 1, toggles=toggles,
                              rises=rises, ones=ones, power_counts=power_counts,
                              pin_transitions=pin_transitions, leakage_counts=leakage_counts)

    # -- clocked designs ------------------------------------------------------------------

    def _clock_nets(self, clock):
        if clock is None:
            return frozenset()
        if clock not in self.inputs:
            raise ValueError(f"clock must be an input port of the netlist, not {clock!r}")
        return frozenset(self.inputs[clock])

    def _sequential_inputs(self, stimulus, clock):
        if not isinstance(stimulus, Stimulus):
            raise TypeError(f"stimulus must be a Stimulus, not {type(stimulus).__name__}")
        expected = set(self.inputs) - {clock}
        if set(stimulus.ports) != expected:
            raise ValueError(f"stimulus must give every input port but the clock "
                             f"({', '.join(sorted(expected))}); it gives "
                             f"{', '.join(sorted(stimulus.ports))}")
        packed = {}
        for name, bits in stimulus.ports.items():
            bits = np.asarray(bits)
            if bits.ndim != 3 or bits.shape[2] != len(self.inputs[name]):
                raise ValueError(f"stimulus for port {name!r} must have shape (cycles, lanes, "
                                 f"{len(self.inputs[name])}), not {bits.shape}")
            cycles, lanes, width = bits.shape
            # (cycles, width, words): the lanes of one bit in one cycle share a word.
            rows = bits.transpose(0, 2, 1).reshape(cycles * width, lanes).astype(np.uint8)
            packed[name] = _pack_rows(rows).reshape(cycles, width, -1)
        return packed

    def simulate_sequential(self, stimulus, clock="clk"):
        """Output port bits of a clocked netlist, cycle by cycle.

        Returns ``{output port: 0/1 array of shape (cycles, lanes, width)}`` with the settled
        outputs of each cycle (before its clock edge). Flip-flops start at 0.
        """
        return _simulate(self, {}, stimulus, clock)

    def count_sequential(self, stimulus, clock="clk", block=16):
        """Simulate a clocked netlist cycle by cycle and count its activity.

        Parameters
        ----------
        stimulus : Stimulus
        clock : str or None
            The clock input port: its pins see one rising and one falling transition per
            cycle (its own net is an input port, so it carries no switching energy here, as
            in OpenSTA).
        block : int
            Cycles counted together (memory: nets x block x lanes / 8 bytes).

        Returns
        -------
        ActivityCounts
        """
        return _count(self, {}, stimulus, clock, block)[None]

    def _reset_state(self, values):
        # Flip-flops start at 0: their inverted state variables at 1.
        for flops in self._flops:
            values[flops.pin_nets[flops.state_inverted]] = _ONES

    # -- counting -------------------------------------------------------------------------

    def _count_groups(self, values, switched, valid, totals, clock_nets):
        for number, group in enumerate(self._groups):
            cell, nets = group.cell, group.pin_nets
            shape = (len(group.instances), values.shape[1])
            states = {}

            def state(text, nets=nets, states=states, shape=shape):
                if text not in states:
                    names, evaluate = _condition(text)
                    if any(name not in nets for name in names):
                        states[text] = None
                    else:
                        result = evaluate(*(values[nets[name]] for name in names))
                        states[text] = np.broadcast_to(result, shape) & valid
                return states[text]

            for pin in cell.pins.values():
                if pin.name not in nets or (pin.direction == "input" and not pin.internal_power):
                    continue
                level, change = values[nets[pin.name]], switched[nets[pin.name]]
                clocked = pin.direction == "input" and int(nets[pin.name][0]) in clock_nets
                rising_all, falling_all = change & level, change & ~level
                if clocked:
                    falling_all = rising_all  # one rise and one fall per cycle
                _add(totals, (number, pin.name, None),
                     _popcount(rising_all), _popcount(falling_all))
                for index, power in enumerate(pin.internal_power):
                    condition = change
                    if power.related_pin is not None:
                        if power.related_pin not in nets:
                            continue
                        condition = condition & switched[nets[power.related_pin]]
                    if power.when is not None:
                        held = state(power.when)
                        if held is None:
                            continue
                        condition = condition & held
                    rising = _popcount(condition & level)
                    falling = rising if clocked else _popcount(condition & ~level)
                    _add(totals, (number, pin.name, index), rising, falling)
            for index, (when, _) in enumerate(cell.leakage):
                held = np.broadcast_to(valid, shape) if when is None else state(when)
                if held is not None:
                    _add(totals, (number, "leakage", index), _popcount(held), 0)

    def _finish(self, totals):
        """Turn per-type-group arrays into per-instance dictionaries."""
        power_counts, pin_transitions, leakage_counts = {}, {}, {}
        for (number, pin, index), (first, second) in totals.items():
            instances = self._groups[number].instances
            if pin == "leakage":
                for row, instance in enumerate(instances):
                    leakage_counts.setdefault(instance, {})[index] = int(first[row])
                continue
            target = pin_transitions if index is None else power_counts
            for row, instance in enumerate(instances):
                key = (instance, pin) if index is None else (instance, pin, index)
                target[key] = (int(first[row]), int(second[row]))
        return power_counts, pin_transitions, leakage_counts


def _add(totals, key, first, second):
    if key in totals:
        old = totals[key]
        totals[key] = (old[0] + first, old[1] + second)
    else:
        totals[key] = (np.array(first, dtype=np.int64), np.array(second, dtype=np.int64))


@functools.lru_cache(maxsize=4096)
def _condition(text):
    expression = parse_function(text)
    return expression_pins(expression), compile_function(text)[1]


class BlockNetlist:
    """A netlist assembled from blocks, simulated block by block.

    Each distinct block (module) is a :class:`MappedNetlist` of its own cells, built once;
    all instances of a block are evaluated together, their copies side by side in the words
    of one bit-parallel array (``instances x lanes`` bits a cycle), at the point of their
    parent's evaluation where their inputs have settled. The result is the same as
    simulating the flat expansion (tests), without building it.

    Parameters
    ----------
    modules : dict of str to dict
        Every distinct module of the hierarchy (Yosys JSON ``ports`` and ``cells``); a cell
        whose type is one of ``modules`` is an instance of that block, any other a library
        cell.
    top : str
    library : dcim.flow.liberty.Library

    Members
    -------
    top : str
    netlists : dict of str to MappedNetlist
        Each module reached from ``top``, with its own cells and its block instances.
    instances : dict of str to int
        Instances of each module over the whole hierarchy (1 for ``top``).
    paths : dict of str to str
        One instance of each module, by its instance path (``lane0.instance``; ``""`` for
        ``top``): the first in name order at each level.

    Raises
    ------
    ValueError
        As :class:`MappedNetlist`, for any block; or if ``top`` is not in ``modules``.
    """

    def __init__(self, modules, top, library):
        if top not in modules:
            raise ValueError(f"top must be one of the modules ({', '.join(sorted(modules))}), "
                             f"not {top!r}")
        self.top = top
        self.netlists, self.instances = {}, {top: 1}
        ports = {name: {port: (facts["direction"], len(facts["bits"]))
                        for port, facts in module["ports"].items()}
                 for name, module in modules.items()}
        self.paths = block_paths(modules, top)
        for name in self.paths:
            kinds = {cell["type"] for cell in modules[name]["cells"].values()} & set(modules)
            self.netlists[name] = MappedNetlist(modules[name], library,
                                                {kind: ports[kind] for kind in kinds})
        # Instances over the hierarchy: parents before children (the tree has no cycles:
        # a module that instantiated itself would never finish elaborating in Yosys).
        for name in self._parents_first():
            for kind, members in self.netlists[name].block_instances.items():
                self.instances[kind] = (self.instances.get(kind, 0)
                                        + self.instances[name] * len(members))

    def _parents_first(self):
        order, seen = [], set()

        def visit(name):
            if name in seen:
                return
            seen.add(name)
            for kind in self.netlists[name].block_instances:
                visit(kind)
            order.append(name)

        visit(self.top)
        return order[::-1]

    @property
    def flop_count(self):
        return sum(self.instances[name] * netlist.flop_count
                   for name, netlist in self.netlists.items())

    def simulate_sequential(self, stimulus, clock="clk"):
        """The top's output port bits, cycle by cycle, as ``MappedNetlist`` gives them."""
        return _simulate(self.netlists[self.top], self.netlists, stimulus, clock)

    def count_sequential(self, stimulus, clock="clk", block=16):
        """Simulate cycle by cycle and count each block's activity, summed over its instances.

        Returns ``{module: ActivityCounts}``: per net and cell of the module, the sum over
        all its instances (and lanes); ``cycles`` and ``transitions`` count the samples of
        all instances (``instances x`` those of the top).
        """
        return _count(self.netlists[self.top], self.netlists, stimulus, clock, block,
                      self.top)


def block_paths(modules, top):
    """One instance of each module reached from ``top``, by its instance path.

    The first instance in name order at each level (``lane0.instance``, then
    ``lane0.instance/mul0.instance``), as OpenSTA names the instances of the hierarchical
    netlist; ``""`` for ``top``. Returns ``{module: path}``, parents before children.
    """
    paths, pending = {top: ""}, [top]
    while pending:
        name = pending.pop(0)
        for instance, cell in sorted(modules[name]["cells"].items()):
            kind = cell["type"]
            if kind in modules and kind not in paths:
                paths[kind] = f"{paths[name]}/{instance}" if paths[name] else instance
                pending.append(kind)
    return paths


class _Run:
    """One block's simulation: its nets in every copy (lanes times instances), its counts."""

    def __init__(self, netlist, netlists, words, lane_mask, clock_nets, copies=1):
        self.netlist, self.words, self.mask, self.copies = netlist, words, lane_mask, copies
        self.clock_nets = frozenset(clock_nets)
        self.clock_rows = np.array(sorted(self.clock_nets), dtype=np.int64)
        self.values = np.zeros((netlist.net_count, words), dtype=np.uint64)
        netlist._reset_state(self.values)
        self.children = {}
        for kind, members in netlist.block_instances.items():
            if kind not in netlists:
                raise ValueError(f"the netlist instantiates block {kind}: simulate it with a "
                                 f"BlockNetlist")
            child = netlists[kind]
            inputs = [port for port in child.inputs if port in members[0][1]]
            outputs = [port for port in child.outputs if port in members[0][1]]
            child_in = np.array([net for port in inputs for net in child.inputs[port]],
                                dtype=np.int64)
            parent_in = np.array([[net for port in inputs for net in connections[port]]
                                  for _, connections in members], dtype=np.int64)
            child_out = np.array([net for port in outputs for net in child.outputs[port]],
                                 dtype=np.int64)
            parent_out = np.array([[net for port in outputs for net in connections[port]]
                                   for _, connections in members], dtype=np.int64)
            # Output bits tied off in the parent (constant nets 0 and 1) are not written.
            instance, bit = np.nonzero(parent_out >= 2)
            child_clock = [int(net) for net, outer in zip(child_in, parent_in[0], strict=True)
                           if int(outer) in self.clock_nets]
            run = _Run(child, netlists, words * len(members), np.tile(lane_mask, len(members)),
                       child_clock, copies * len(members))
            self.children[kind] = (run, child_in, parent_in, child_out,
                                   (bit, instance, parent_out[instance, bit]))
        self.toggles = np.zeros(netlist.net_count, dtype=np.int64)
        self.rises = np.zeros(netlist.net_count, dtype=np.int64)
        self.ones = np.zeros(netlist.net_count, dtype=np.int64)
        self.totals, self.history, self.previous = {}, [], None

    def runs(self):
        """This run and every run below it."""
        yield self
        for run, *_ in self.children.values():
            yield from run.runs()

    def settle(self):
        self.netlist._settle(self.values, self._evaluate_block)

    def _evaluate_block(self, kind, values):
        run, child_in, parent_in, child_out, (bit, instance, nets) = self.children[kind]
        count = parent_in.shape[0]
        # (instances, bits, words) -> (bits, instances x words): instance-major copies.
        run.values[child_in] = values[parent_in].transpose(1, 0, 2).reshape(len(child_in), -1)
        run.settle()
        values[nets] = run.values[child_out].reshape(len(child_out), count, self.words)[
            bit, instance]

    def update(self):
        """The clock edge: every flip-flop of every instance takes its next state."""
        for flops in self.netlist._flops:
            flops.update(self.values)
        for run, *_ in self.children.values():
            run.update()

    def record(self, block):
        """Keep the settled values of a measured cycle; count them ``block`` cycles at a time."""
        if self.previous is None:
            self.previous = self.values.copy()  # the first measured cycle: the reference
            return
        self.history.append(self.values.copy())
        # Fewer cycles at a time for a block of many instances, whose words are many.
        if len(self.history) >= max(1, min(block, _CHUNK_ELEMENTS // self.values.size)):
            self.flush()

    def flush(self):
        if not self.history:
            return
        words, history = self.words, self.history
        current = np.concatenate(history, axis=1)
        before = np.concatenate([self.previous, current[:, :-words]], axis=1)
        valid = np.tile(self.mask, len(history))
        switched = (current ^ before) & valid
        if len(self.clock_rows):
            # The clock switches every cycle; its level is taken as high (a rise), and its
            # pins are also charged a fall (see _count_groups).
            switched[self.clock_rows] = valid
            current[self.clock_rows] = valid
        self.netlist._count_groups(current, switched, valid, self.totals, self.clock_nets)
        self.toggles += _popcount(switched)
        self.rises += _popcount(switched & current)
        self.ones += _popcount(current & valid)
        self.previous, self.history = current[:, -words:].copy(), []

    def counts(self, samples):
        power_counts, pin_transitions, leakage_counts = self.netlist._finish(self.totals)
        return ActivityCounts(cycles=samples, transitions=samples, toggles=self.toggles,
                              rises=self.rises, ones=self.ones, power_counts=power_counts,
                              pin_transitions=pin_transitions, leakage_counts=leakage_counts)


def _start(top, netlists, stimulus, clock):
    clock_nets = top._clock_nets(clock)
    packed = top._sequential_inputs(stimulus, clock)
    lanes = stimulus.lanes
    words = -(-lanes // 64)
    lane_mask = np.full(words, _ONES, dtype=np.uint64)
    if lanes % 64:
        lane_mask[-1] = np.uint64((1 << (lanes % 64)) - 1)
    return _Run(top, netlists, words, lane_mask, clock_nets), packed


def _cycle(run, packed, cycle):
    values = run.values
    for name, nets in run.netlist.inputs.items():
        if name in packed:
            values[nets] = packed[name][cycle]
    for net in run.clock_nets:
        values[net] = 0
    run.settle()


def _simulate(top, netlists, stimulus, clock):
    run, packed = _start(top, netlists, stimulus, clock)
    cycles, lanes = stimulus.cycles, stimulus.lanes
    outputs = {name: np.zeros((cycles, lanes, len(nets)), dtype=np.uint8)
               for name, nets in top.outputs.items()}
    for cycle in range(cycles):
        _cycle(run, packed, cycle)
        for name, nets in top.outputs.items():
            outputs[name][cycle] = _unpack_rows(run.values[nets], lanes).T
        run.update()
    return outputs


def _count(top, netlists, stimulus, clock, block, name=None):
    """Activity of ``top`` and every block below it: ``{module: ActivityCounts}``."""
    run, packed = _start(top, netlists, stimulus, clock)
    start, stop = stimulus.measure
    if not 0 <= start < stop <= stimulus.cycles:
        raise ValueError(f"measure must be a range of cycles within 0..{stimulus.cycles}, "
                         f"not {stimulus.measure!r}")
    runs = list(run.runs())
    for cycle in range(stimulus.cycles):
        _cycle(run, packed, cycle)
        if start <= cycle < stop:
            for each in runs:
                each.record(block)
        run.update()
    samples = (stop - start - 1) * stimulus.lanes
    found = {}
    for each in runs:
        each.flush()
        module = name if each is run else next(kind for kind, netlist in netlists.items()
                                               if netlist is each.netlist)
        counts = each.counts(samples * each.copies)
        found[module] = _merge(found[module], counts) if module in found else counts
    return found


def _merge(first, second):
    """Counts of one module reached along two paths of the hierarchy, added up."""
    def add(a, b):
        keys = set(a) | set(b)
        return {key: tuple(x + y for x, y in zip(a.get(key, (0, 0)), b.get(key, (0, 0)),
                                                  strict=True)) for key in keys}

    leakage = {index: {group: first.leakage_counts.get(index, {}).get(group, 0)
                       + second.leakage_counts.get(index, {}).get(group, 0)
                       for group in set(first.leakage_counts.get(index, {}))
                       | set(second.leakage_counts.get(index, {}))}
               for index in set(first.leakage_counts) | set(second.leakage_counts)}
    return ActivityCounts(cycles=first.cycles, transitions=first.transitions,
                          toggles=first.toggles + second.toggles,
                          rises=first.rises + second.rises, ones=first.ones + second.ones,
                          power_counts=add(first.power_counts, second.power_counts),
                          pin_transitions=add(first.pin_transitions, second.pin_transitions),
                          leakage_counts=leakage)
