"""Multiplier specifications, the registry of multiplier kinds, and the multiplier component.

A :class:`MultiplierSpec` is the one description of a multiplier. Everything else derives from
it: the Amaranth component, the bit-exact NumPy model, the error metrics, a stable name for
files and Verilog modules, and its TOML form. It is also a leaf of the block protocol
(:mod:`dcim.eda.blocks`): ``signature`` and ``blocks() == ()``. What a kind means lives in a
:class:`MultiplierKind` registered under its name, so new kinds need no edit of existing code.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Module, Shape, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..checks import check_bool, check_int, check_integer_range, short_repr
from ..toml_io import read_toml, write_toml

__all__ = [
    "MULTIPLIER_KINDS",
    "MultiplierComponent",
    "MultiplierKind",
    "MultiplierSpec",
    "register_multiplier_kind",
    "registries",
]

MIN_WIDTH, MAX_WIDTH = 2, 32


class MultiplierKind:
    """What one kind of multiplier is: its options, model and hardware.

    Subclasses set ``name`` and ``Options`` (a frozen dataclass whose ``__post_init__``
    validates each field), and implement :meth:`model` and :meth:`elaborate`. Register an
    instance with :func:`register_multiplier_kind`.
    """

    name = None
    Options = None

    def validate(self, spec):
        """Check options against the width and signedness; raise ``ValueError`` if unfit."""

    def canonical(self, spec):
        """The options of ``spec`` in the one form shared by every spec of the same circuit.

        Called after :meth:`validate`. Options that build the same hardware (a default spelt
        out, an entry that places nothing) must come out equal here, so that one design has
        one spec, one hash and one name. The default returns the options unchanged.
        """
        return spec.options

    def name_suffix(self, options):
        """Text that makes the spec's name unique among specs of this kind."""
        parts = []
        for option in dataclasses.fields(options):
            value = getattr(options, option.name)
            if value != option.default:
                # Choice-like options read well alone ("booth4"); numbers need their name.
                parts.append(str(value) if isinstance(value, str) else f"{option.name}{value}")
        return "_".join(parts)

    def model(self, spec, a, b):
        """Products for operand arrays ``a`` and ``b`` (already range-checked int64)."""
        raise NotImplementedError

    def elaborate(self, spec, module, a, b):
        """Add the hardware to ``module``; return the product value (at least 2w bits)."""
        raise NotImplementedError

    def describe(self, spec):
        """Extra facts for reports, as ``{label: value}``."""
        return {}


MULTIPLIER_KINDS = {}
"""Every multiplier kind by name; :func:`register_multiplier_kind` adds one."""


def register_multiplier_kind(kind, *, replace=False):
    """Make ``kind`` usable as ``MultiplierSpec(kind=kind.name)``, in TOML files and the CLI."""
    if not isinstance(kind, MultiplierKind):
        raise TypeError(f"kind must be a MultiplierKind instance, not {kind!r}")
    if not isinstance(kind.name, str) or not kind.name.isidentifier():
        raise ValueError(f"kind name must be an identifier, not {kind.name!r}")
    if not (isinstance(kind.Options, type) and dataclasses.is_dataclass(kind.Options)):
        raise TypeError(f"kind {kind.name!r} needs a dataclass Options, not {kind.Options!r}")
    if kind.name in MULTIPLIER_KINDS and not replace:
        raise ValueError(f"multiplier kind {kind.name!r} is already registered")
    MULTIPLIER_KINDS[kind.name] = kind
    return kind


def registries():
    """What a spec's hardware and model depend on beyond the spec: the registered compressors
    and kinds, as ``(fingerprint, objects)``.

    The fingerprint holds identities, not names: re-registering ``my42`` with another truth
    table gives another object. A cache keyed by the fingerprint must keep ``objects`` alive,
    so that their ids cannot be reused while it holds them.
    """
    from .compressor import COMPRESSORS

    objects = (*COMPRESSORS.items(), *MULTIPLIER_KINDS.items())
    return tuple((name, id(value)) for name, value in objects), objects


_BUILT_IN = []


def record_built_in_registries():
    """Note the registries as dcim ships them (called once ``dcim.arith`` is imported)."""
    _BUILT_IN[:] = [registries()]


def registries_are_built_in():
    """Whether the registries hold only dcim's own compressors and kinds, as imported.

    Then a spec's hardware is a function of the spec and dcim's source alone, so results
    derived from it can be kept across processes (see ``dcim.flow.design``); a user's own
    registrations can only be told apart by identity, which a new process does not share.
    """
    return bool(_BUILT_IN) and registries()[0] == _BUILT_IN[0][0]


@dataclass(frozen=True)
class MultiplierSpec:
    """One multiplier: ``p = f(a, b)`` with ``width``-bit operands and a ``2*width``-bit product.

    Parameters
    ----------
    width : int
        Operand width, 2 to 32.
    signed : bool
        Two's-complement operands and product, or unsigned.
    kind : str
        A name in :data:`MULTIPLIER_KINDS`: ``"exact"``, ``"approx"``, ``"mitchell"``,
        ``"log"``, ``"drum"``, or one registered by the user.
    options : kind.Options, dict or None
        Kind-specific options; a dict is turned into the kind's ``Options``; ``None`` gives
        the defaults.

    Operand order matters for non-commutative kinds: ``a`` is always the first operand (in
    the macro, the stored weight) and ``b`` the second (the activation).

    Raises
    ------
    ValueError, TypeError
        For any invalid parameter, naming it and its value.
    """

    width: int
    signed: bool = False
    kind: str = "exact"
    options: object = None

    def __post_init__(self):
        # NumPy integers and booleans are stored as Python ones: equal specs, equal hashes.
        width = check_int("width", self.width)
        if not MIN_WIDTH <= width <= MAX_WIDTH:
            raise ValueError(f"width must be {MIN_WIDTH} to {MAX_WIDTH}, not {width!r}")
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "signed", check_bool("signed", self.signed))
        if not isinstance(self.kind, str) or self.kind not in MULTIPLIER_KINDS:
            raise ValueError(f"kind must be one of {', '.join(sorted(MULTIPLIER_KINDS))}, "
                             f"not {short_repr(self.kind)}")
        kind = MULTIPLIER_KINDS[self.kind]
        options = self.options
        if options is None:
            options = kind.Options()
        elif isinstance(options, dict):
            names = {f.name for f in dataclasses.fields(kind.Options)}
            unknown = sorted(map(repr, set(options) - names))
            if unknown:
                raise ValueError(f"options [{', '.join(unknown)}] are unknown for kind "
                                 f"{self.kind!r}; it takes {sorted(names)!r}")
            options = kind.Options(**options)
        elif not isinstance(options, kind.Options):
            raise TypeError(f"options for kind {self.kind!r} must be a dict or "
                            f"{kind.Options.__name__}, not {short_repr(options)}")
        object.__setattr__(self, "options", options)
        kind.validate(self)
        object.__setattr__(self, "options", kind.canonical(self))

    @property
    def kind_object(self):
        return MULTIPLIER_KINDS[self.kind]

    @property
    def name(self):
        """Stable identifier, also the Verilog module name: ``mul8u_drum_k4``."""
        base = f"mul{self.width}{'s' if self.signed else 'u'}_{self.kind}"
        suffix = self.kind_object.name_suffix(self.options)
        return f"{base}_{suffix}" if suffix else base

    @property
    def operand_shape(self) -> Shape:
        return signed(self.width) if self.signed else unsigned(self.width)

    @property
    def product_shape(self) -> Shape:
        return signed(2 * self.width) if self.signed else unsigned(2 * self.width)

    @property
    def operand_range(self):
        """``(lowest, highest)`` operand value, inclusive."""
        if self.signed:
            return -(1 << (self.width - 1)), (1 << (self.width - 1)) - 1
        return 0, (1 << self.width) - 1

    @property
    def product_dtype(self):
        # Unsigned 32-bit products need all 64 bits; everything else fits int64.
        return np.uint64 if (self.width == 32 and not self.signed) else np.int64

    def check_operands(self, a, b):
        """Validate and broadcast operand arrays; returns them as int64.

        Raises
        ------
        TypeError
            If an operand does not hold integers.
        ValueError
            If an operand is empty, holds a value outside :attr:`operand_range`, or the two
            shapes do not broadcast; the message names the operand.
        """
        low, high = self.operand_range
        arrays = []
        for label, value in (("a", a), ("b", b)):
            array = check_integer_range(f"operand {label}", value, low, high, self.name)
            if array.size == 0:
                raise ValueError(f"operand {label} must hold at least one value, not an "
                                 f"empty array of shape {array.shape!r}")
            arrays.append(array.astype(np.int64))
        try:
            return np.broadcast_arrays(*arrays)
        except ValueError:
            raise ValueError(f"operands a and b must have shapes that broadcast together, "
                             f"not {arrays[0].shape!r} and {arrays[1].shape!r}") from None

    def model(self, a, b):
        """Bit-exact products of the hardware for operand arrays ``a`` and ``b``.

        Returns int64 values (uint64 for unsigned 32-bit), signed for signed specs.
        """
        a, b = self.check_operands(a, b)
        products = self.kind_object.model(self, a, b)
        return np.asarray(products).astype(self.product_dtype)

    @property
    def signature(self):
        """The ports of :class:`MultiplierComponent`: ``a`` and ``b`` in, ``p`` out."""
        return wiring.Signature({"a": In(self.operand_shape), "b": In(self.operand_shape),
                                 "p": Out(self.product_shape)})

    def blocks(self):
        """No sub-blocks: a multiplier is a leaf of the block protocol (:mod:`dcim.eda.blocks`)."""
        return ()

    def component(self):
        """A fresh combinational :class:`MultiplierComponent` for this spec."""
        return MultiplierComponent(self)

    def metrics(self, **kwargs):
        """Error metrics of this design; keywords go to :func:`dcim.arith.error_metrics`."""
        from .metrics import error_metrics
        return error_metrics(self.model, self.width, self.signed, **kwargs)

    def describe(self):
        """Facts for reports: name, kind, width and the kind's own details."""
        facts = {"name": self.name, "kind": self.kind, "width": self.width,
                 "signed": self.signed}
        facts.update(self.kind_object.describe(self))
        return facts

    def to_dict(self):
        if hasattr(self.options, "to_dict"):
            options = self.options.to_dict()
        else:
            # TOML has no null: an option left at None is simply absent.
            options = {f.name: getattr(self.options, f.name)
                       for f in dataclasses.fields(self.options)
                       if getattr(self.options, f.name) is not None}
        return {"width": self.width, "signed": self.signed, "kind": self.kind,
                "options": options}

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict):
            raise TypeError(f"multiplier description must be a table, not {short_repr(data)}")
        unknown = sorted(map(repr, set(data) - {"width", "signed", "kind", "options"}))
        if unknown:
            raise ValueError(f"multiplier description has unknown keys [{', '.join(unknown)}]; "
                             f"it takes 'width', 'signed', 'kind' and 'options'")
        if "width" not in data:
            raise ValueError("multiplier description needs a width")
        options = data.get("options", {})
        if not isinstance(options, dict):
            raise TypeError(f"multiplier options must be a table, not {short_repr(options)}")
        return cls(width=data["width"], signed=data.get("signed", False),
                   kind=data.get("kind", "exact"), options=dict(options))

    def to_toml(self, path=None):
        """TOML text with a ``[multiplier]`` table; also written to ``path`` when given."""
        return write_toml({"multiplier": self.to_dict()}, path)

    @classmethod
    def from_toml(cls, text_or_path):
        """Load from TOML text or a file (a ``str`` or ``Path``) holding a ``[multiplier]``
        table and nothing else."""
        return cls.from_dict(read_toml(text_or_path, "multiplier"))


class MultiplierComponent(wiring.Component):
    """Combinational multiplier hardware for a :class:`MultiplierSpec`.

    Parameters
    ----------
    spec : MultiplierSpec

    Members
    -------
    a : In(spec.operand_shape)
        First operand (the weight, in a macro).
    b : In(spec.operand_shape)
        Second operand (the activation).
    p : Out(spec.product_shape)
        Product, exactly ``spec.model(a, b)``.
    """

    def __init__(self, spec):
        if not isinstance(spec, MultiplierSpec):
            raise TypeError(f"spec must be a MultiplierSpec, not {spec!r}")
        self._spec = spec
        super().__init__(spec.signature)

    @property
    def spec(self):
        return self._spec

    @property
    def latency(self):
        """Clock cycles from operands to product: 0, the multiplier is combinational."""
        return 0

    def elaborate(self, platform):
        m = Module()
        product = self._spec.kind_object.elaborate(self._spec, m, self.a, self.b)
        m.d.comb += self.p.eq(product)
        return m
