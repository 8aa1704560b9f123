"""What a macro design is, in numbers a user reads: :func:`summarize_macro`.

The facts come from the :class:`~dcim.macro.MacroSpec` alone (shape, timing, throughput and
the column adder tree) and cost nothing to compute. The area split (storage, arithmetic,
control) needs synthesis, which takes minutes for a rows=64 macro, so it is only added when
asked for (``ppa=True``) or when a :class:`~dcim.flow.PPAReport` is passed in.
"""

from dataclasses import dataclass

from .spec import MacroSpec

__all__ = ["MacroSummary", "summarize_macro"]


@dataclass(frozen=True)
class MacroSummary:
    """The facts of one macro design and, optionally, its power, performance and area.

    Members
    -------
    spec : MacroSpec
    facts : dict of str to object
        :meth:`MacroSpec.describe` and the adder tree's widths and input heights.
    ppa : PPAReport or None
        The flow's report, when it was run.
    """

    spec: MacroSpec
    facts: dict
    ppa: object = None

    @property
    def area_split(self):
        """``{group: area in um^2}`` (storage, arithmetic, control); empty without a report."""
        if self.ppa is None:
            return {}
        return dict(self.ppa.synthesis.groups)

    def as_dict(self):
        """A JSON-ready dictionary: the facts, and the PPA figures when there are any."""
        data = {"design": dict(self.facts)}
        if self.ppa is not None:
            data["area_split_um2"] = self.area_split
            data["ppa"] = self.ppa.as_dict()
        return data


def _tree_facts(spec):
    heights = spec.tree_heights
    return {"product_width": spec.product_width, "tree_width": spec.tree_width,
            "tree_max_height": max(heights), "tree_inputs": sum(heights),
            "tree": spec.tree, "tree_exact": spec.assignment is None,
            "dot_width": spec.dot_width, "out_width": spec.out_width}


def summarize_macro(spec, *, ppa=False, ppa_report=None, **ppa_options):
    """Describe ``spec``; with ``ppa=True`` also synthesize it and measure its PPA.

    Parameters
    ----------
    spec : MacroSpec
    ppa : bool
        Run :func:`dcim.flow.ppa` (synthesis, timing, power; each step cached).
    ppa_report : PPAReport or None
        A report already at hand; used instead of running the flow.
    **ppa_options
        Passed to :func:`dcim.flow.ppa` (``corner``, ``clock_ns``, ``pdk_root``, ``pdk``,
        ``progress``, ...).

    Raises
    ------
    TypeError
        If ``spec`` is not a :class:`MacroSpec`.
    ValueError
        If ``ppa_report`` is for another design.
    """
    if not isinstance(spec, MacroSpec):
        raise TypeError(f"spec must be a MacroSpec, not {spec!r}")
    if ppa_report is not None and ppa_report.design != spec.name:
        raise ValueError(f"ppa_report is for {ppa_report.design!r}, not for {spec.name!r}")
    facts = {**spec.describe(), **_tree_facts(spec)}
    if spec.datapath == "bitserial":
        # Bit-serial macros multiply by AND gates: naming a multiplier would mislead.
        facts["mult"] = None
    if ppa and ppa_report is None:
        from ..flow.ppa import ppa as run_ppa

        ppa_report = run_ppa(spec, **ppa_options)
    return MacroSummary(spec, facts, ppa_report)
