"""Local threshold-voltage mismatch of transistors (Pelgrom's law) in standard-normal units.

Yield estimators (:mod:`dcim.spice.yield_estimation`) sample a space of independent standard
normal variables ``z``, one per transistor; this module maps them to threshold shifts in
volts, ``dVt[n, k] = sigma_Vt[k] * z[n, k]``, and back, with Pelgrom's area scaling
``sigma_Vt = A_Vt / sqrt(W L)`` (Pelgrom, Duinmaijer and Welbers, IEEE JSSC 24(5), 1989), so
that a wider transistor gets less mismatch. Lengths are in metres, like every length in the
SPICE code; ``A_Vt`` is given in the customary mV um.

A transistor is anything with ``name``, ``width`` and ``length`` attributes (metres), such as
the transistors of a bitcell, or a ``(name, width, length)`` tuple.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..checks import short_repr

__all__ = ["DEFAULT_A_VT_MV_UM", "MismatchModel", "mismatch_limit_state"]

DEFAULT_A_VT_MV_UM = 1.2
"""The default Pelgrom coefficient, mV um.

Pelgrom, Tuinhout and Vertregt ("Transistor matching in analog CMOS applications", IEDM
1998) observe that ``A_Vt`` scales with the gate oxide at about 1 mV um per nm. The FreePDK45
BSIM4 cards that the SPICE code simulates (``models_nom/{NMOS,PMOS}_VTG.inc``) have ``toxe``
1.14 nm and 1.26 nm, hence 1.2 mV um: sigma_Vt 12 mV for the 205 x 50 nm pull-down of the
6T cell, 18 mV for its 90 x 50 nm pull-up. The rule is the well-matched limit; a foundry's
measured coefficient (usually higher, as random dopant and line-edge variation add to it)
belongs in ``MismatchModel(a_vt_mv_um=...)``.
"""


@dataclass(frozen=True)
class MismatchModel:
    """Pelgrom mismatch: ``sigma_Vt = A_Vt / sqrt(W L)`` for every transistor.

    Parameters
    ----------
    a_vt_mv_um : float
        The Pelgrom coefficient ``A_Vt`` in mV um, positive and finite; the default is
        :data:`DEFAULT_A_VT_MV_UM`.

    Raises
    ------
    ValueError
        If ``a_vt_mv_um`` is not a positive finite number.
    """

    a_vt_mv_um: float = DEFAULT_A_VT_MV_UM

    def __post_init__(self):
        value = self.a_vt_mv_um
        if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number))
                or not math.isfinite(value) or value <= 0):
            raise ValueError(f"a_vt_mv_um must be a positive number of mV um, not "
                             f"{short_repr(value)}")
        object.__setattr__(self, "a_vt_mv_um", float(value))

    @property
    def name(self):
        """A stable name for files and tables: ``pelgrom_avt1.2``."""
        return f"pelgrom_avt{self.a_vt_mv_um:g}"

    def sigma_vt(self, width, length):
        """The threshold standard deviation in volts of one ``width`` x ``length`` transistor.

        ``width`` and ``length`` are in metres: ``sigma_vt(205e-9, 50e-9)``.

        Raises
        ------
        ValueError
            If either is not a positive finite length, or is larger than 1 mm (a length given
            in nm or um by mistake).
        """
        _check_length("width", width)
        _check_length("length", length)
        # A_Vt [mV um] / sqrt(W L [um^2]) is in mV.
        return self.a_vt_mv_um * 1e-3 / math.sqrt(width * 1e6 * length * 1e6)

    def sigmas(self, transistors):
        """The ``sigma_Vt`` of each transistor in volts, as an array in their order.

        Raises
        ------
        ValueError
            If ``transistors`` is empty, or a transistor has no name, width and length, or a
            bad size (naming the transistor).
        """
        sizes = _sizes(transistors)
        sigmas = []
        for name, width, length in sizes:
            try:
                sigmas.append(self.sigma_vt(width, length))
            except ValueError as error:
                raise ValueError(f"transistor {name!r}: {error}") from None
        return np.array(sigmas)

    def vt_shifts(self, transistors, z):
        """Threshold shifts in volts, ``(n, k)``, of standard-normal samples ``z`` ``(n, k)``.

        Column ``k`` belongs to ``transistors[k]``; a single sample ``(k,)`` is accepted and
        gives ``(1, k)``.

        Raises
        ------
        ValueError
            If ``z`` does not have one column per transistor or holds non-finite values.
        """
        sigmas = self.sigmas(transistors)
        return _samples("z", z, len(sigmas)) * sigmas

    def standard_normal(self, transistors, vt_shifts):
        """The inverse of :meth:`vt_shifts`: standard-normal samples of shifts in volts."""
        sigmas = self.sigmas(transistors)
        return _samples("vt_shifts", vt_shifts, len(sigmas)) / sigmas


def mismatch_limit_state(margin_of_shifts, transistors, *, model=None, threshold=0.0,
                         shift_limit=None):
    """A limit state of standard-normal samples from a margin function of threshold shifts.

    Parameters
    ----------
    margin_of_shifts : callable
        ``(n, k)`` threshold shifts in volts (columns in the order of ``transistors``) to
        ``n`` margins, evaluated as one batch: e.g. ``lambda shifts:
        read_snm_batch(cell, corner, shifts)``.
    transistors : sequence
        The transistors varied, as :meth:`MismatchModel.sigmas` takes them.
    model : MismatchModel or None
        The mismatch model; ``None`` for ``MismatchModel()``.
    threshold : float
        The margin a working sample must exceed (volts for a noise margin): the limit state
        returns ``margin - threshold``, so that a sample fails where it is ``<= 0``.
    shift_limit : float or None
        Clip every threshold shift to ``+-shift_limit`` volts before the margin sees it
        (``None``: no clipping). The margins refuse shifts beyond half the supply, which only
        samples some 20 sigma out reach (an importance sampler's widening presample does);
        their weight is nil, so clipping them changes no estimate.

    Returns
    -------
    callable
        ``z (n, k) -> margins (n,)``, for :func:`~dcim.spice.yield_estimation.monte_carlo`
        and :func:`~dcim.spice.yield_estimation.importance_sampling` with
        ``dimension=len(transistors)``.

    Raises
    ------
    ValueError
        If ``model`` is not a :class:`MismatchModel`, ``threshold`` is not finite,
        ``shift_limit`` is not a positive number or ``None``, or the transistors are bad.
    TypeError
        If ``margin_of_shifts`` is not callable.
    """
    model = MismatchModel() if model is None else model
    if not isinstance(model, MismatchModel):
        raise ValueError(f"model must be a MismatchModel, not {short_repr(model)}")
    if not callable(margin_of_shifts):
        raise TypeError(f"margin_of_shifts must be callable, not {short_repr(margin_of_shifts)}")
    if (isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number))
            or not math.isfinite(threshold)):
        raise ValueError(f"threshold must be a finite number, not {short_repr(threshold)}")
    if shift_limit is not None and (
            isinstance(shift_limit, bool) or not isinstance(shift_limit, (int, float, np.number))
            or not math.isfinite(shift_limit) or not shift_limit > 0):
        raise ValueError(f"shift_limit must be a positive number of volts or None, not "
                         f"{short_repr(shift_limit)}")
    sizes = tuple(_sizes(transistors))
    model.sigmas(sizes)

    def limit_state(z):
        shifts = model.vt_shifts(sizes, z)
        if shift_limit is not None:
            shifts = np.clip(shifts, -shift_limit, shift_limit)
        return np.asarray(margin_of_shifts(shifts), dtype=float) - threshold

    return limit_state


def _check_length(parameter, value):
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number))
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"{parameter} must be a positive length in metres, not "
                         f"{short_repr(value)}")
    if value > 1e-3:
        raise ValueError(f"{parameter} must be given in metres (e.g. 205e-9), not {value!r}")


def _sizes(transistors):
    try:
        items = list(transistors)
    except TypeError:
        raise ValueError(f"transistors must be a sequence, not {short_repr(transistors)}") \
            from None
    if not items:
        raise ValueError("transistors must hold at least one transistor, not none")
    sizes = []
    for item in items:
        if isinstance(item, tuple) and len(item) == 3:
            sizes.append(item)
        elif all(hasattr(item, attribute) for attribute in ("name", "width", "length")):
            sizes.append((item.name, item.width, item.length))
        else:
            raise ValueError(f"a transistor must have a name, width and length (metres) or be "
                             f"a (name, width, length) tuple, not {short_repr(item)}")
    names = [name for name, _, _ in sizes]
    if len(set(names)) != len(names):
        raise ValueError(f"transistor names must be unique, not {names!r}")
    return sizes


def _samples(parameter, values, columns):
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[np.newaxis]
    if array.ndim != 2 or array.shape[1] != columns:
        raise ValueError(f"{parameter} must have shape (n, {columns}), one column per "
                         f"transistor, not {np.shape(values)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{parameter} must be finite, not {short_repr(array.tolist())}")
    return array
