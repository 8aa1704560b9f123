"""The design a network runs on, checked against its gate netlist once, and remembered.

:func:`check_design` synthesizes the design's multiplier to gates with Yosys
(:class:`dcim.verify.GateNetlist`) and compares it with exactly what :mod:`dcim.nn` computes
with: up to 8 bits, the product table itself, every entry; up to 12 bits, the model on every
operand pair (:func:`dcim.verify.check_exhaustive`); wider, the model on a seeded sample of
pairs. The result is kept in the cache (kind ``nn-check``), keyed by the content of the
Verilog and the Yosys script, the Yosys version, and the table or model's own products, so a
design is checked once per machine and a changed design is checked again.

A macro is checked through its multiplier (the products its lanes form); its adder tree and
accumulator are the model's, which the macro's own co-simulation tests hold to the
hardware. A bit-serial macro forms exact 1-bit products: it has no multiplier netlist, and
the check reports that scope; so does an analog array (:class:`~dcim.nn.AnalogCiM`), which
is a model of analog behaviour with no netlist to compare.
"""

import dataclasses
import hashlib
import time

import numpy as np

from ..arith.multiplier import MultiplierSpec, registries
from ..checks import check_bool
from ..eda import cache
from .analog import AnalogCiM
from .layers import design_of

__all__ = ["CHECK_VERSION", "DesignCheck", "DesignCheckError", "check_design"]

CHECK_VERSION = "1"
"""Changes whenever what is checked changes, so that older cached verdicts are not reused."""

_SAMPLED_PAIRS = 1 << 20
_EXHAUSTIVE_WIDTH = 12
_CHECKED = {}        # per process: (spec, registries) -> (DesignCheck, registered objects)


class DesignCheckError(AssertionError):
    """The gate netlist of a design computes other products than its table or model."""


@dataclasses.dataclass(frozen=True)
class DesignCheck:
    """What :func:`check_design` compared, and the verdict.

    Members
    -------
    design : str
        The checked design's name (a macro's own name, not its multiplier's).
    scope : str
        What was compared: ``"product table"`` (every entry), ``"model, every pair"``,
        ``"model, sampled pairs"`` or ``"bit-serial: exact 1-bit products"`` (nothing to
        synthesize).
    vectors : int
        Operand pairs compared.
    mismatches : int
    examples : tuple of (a, b, netlist, expected)
        The first mismatching pairs, at most eight.
    seconds : float
        How long the check took when it ran (synthesis included).
    cached : bool
        Whether this verdict was read from the cache.
    """

    design: str
    scope: str
    vectors: int
    mismatches: int
    examples: tuple
    seconds: float
    cached: bool

    @property
    def ok(self):
        return self.mismatches == 0

    def as_dict(self):
        data = dataclasses.asdict(self)
        data["examples"] = [list(example) for example in self.examples]
        data["ok"] = self.ok
        return data


def _multiplier(spec):
    """The multiplier whose netlist stands for ``spec``'s products, or None (bit-serial, or
    an analog array)."""
    if isinstance(spec, MultiplierSpec):
        return spec
    if isinstance(spec, AnalogCiM) or spec.datapath == "bitserial":
        return None
    return spec.mult


def _key(mult, table_digest):
    from ..eda.tools import tool_version
    from ..flow.design import resolve_design
    from ..verify.netlist import SYNTH_SCRIPT

    verilog = resolve_design(mult).verilog()
    return cache.cache_key(step="nn-check", version=CHECK_VERSION,
                           verilog=cache.text_digest(verilog),
                           script=cache.text_digest(SYNTH_SCRIPT),
                           yosys=tool_version("yosys"), products=table_digest)


def _products_digest(mult):
    """The digest of the products dcim.nn computes with: the table, or the model on a fixed
    set of pairs (the model's behaviour, not its name, keys the verdict)."""
    from .matmul import TABLE_MAX_WIDTH, product_table

    if mult.width <= TABLE_MAX_WIDTH:
        values = product_table(mult)
    else:
        a, b = _sample(mult, 4096)
        values = np.asarray(mult.model(a, b), dtype=np.int64)
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


def _sample(mult, count):
    low, high = mult.operand_range
    rng = np.random.default_rng(0)
    return rng.integers(low, high + 1, count), rng.integers(low, high + 1, count)


def _run_check(mult):
    """``(scope, CheckReport-like fields)`` from the netlist against the table or model."""
    from ..verify.netlist import GateNetlist, check_against_model, check_exhaustive
    from .matmul import TABLE_MAX_WIDTH, product_table

    netlist = GateNetlist.from_design(mult)
    if mult.width <= TABLE_MAX_WIDTH:
        low, high = mult.operand_range
        values = np.arange(low, high + 1, dtype=np.int64)
        a = np.repeat(values, len(values))
        b = np.tile(values, len(values))
        got = netlist.evaluate({"a": a, "b": b})["p"].astype(np.int64)
        expected = product_table(mult).reshape(-1)
        wrong = np.flatnonzero(got != expected)
        examples = tuple((int(a[i]), int(b[i]), int(got[i]), int(expected[i]))
                         for i in wrong[:8])
        return "product table", len(a), len(wrong), examples
    if mult.width <= _EXHAUSTIVE_WIDTH:
        report = check_exhaustive(mult, netlist=netlist, threads=1)
        return "model, every pair", report.vectors, report.mismatches, report.examples
    a, b = _sample(mult, _SAMPLED_PAIRS)
    report = check_against_model(mult, a, b, netlist=netlist)
    return "model, sampled pairs", report.vectors, report.mismatches, report.examples


def check_design(design, *, use_cache=True):
    """Check the products a network on ``design`` computes with against its gate netlist.

    Once per process and, with ``use_cache``, once per machine (see the module description).

    Parameters
    ----------
    design : MultiplierSpec, MacroSpec or DCiMMacro
    use_cache : bool
        Read and write the verdict in the cache folder.

    Returns
    -------
    DesignCheck

    Raises
    ------
    ToolNotFoundError
        If Yosys is missing (with how to install it).
    """
    spec = design_of(design)
    use_cache = check_bool("use_cache", use_cache)
    # Keyed as the product tables are: a re-registered compressor is another design.
    fingerprint, objects = registries()
    memo_key = (spec, fingerprint)
    if memo_key in _CHECKED:
        return _CHECKED[memo_key][0]
    mult = _multiplier(spec)
    if mult is None:
        scope = ("analog array: a model, no netlist" if isinstance(spec, AnalogCiM)
                 else "bit-serial: exact 1-bit products")
        result = DesignCheck(spec.name, scope, 0, 0, (), 0.0, cached=False)
        _CHECKED[memo_key] = (result, objects)
        return result
    key = _key(mult, _products_digest(mult)) if use_cache else None
    stored = cache.load("nn-check", key) if use_cache else None
    if stored is not None:
        result = DesignCheck(**{**stored, "design": spec.name, "cached": True,
                                "examples": tuple(map(tuple, stored["examples"]))})
    else:
        start = time.perf_counter()
        scope, vectors, mismatches, examples = _run_check(mult)
        result = DesignCheck(spec.name, scope, vectors, mismatches, tuple(examples),
                             time.perf_counter() - start, cached=False)
        if use_cache:
            fields = result.as_dict()
            del fields["ok"], fields["cached"]
            cache.store("nn-check", key, fields)
    _CHECKED[memo_key] = (result, objects)
    return result
