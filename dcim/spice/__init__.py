"""Transistor-level views: threshold mismatch and the statistics of bitcell yield."""

from .variation import DEFAULT_A_VT_MV_UM, MismatchModel, mismatch_limit_state
from .yield_estimation import (
    ShiftPoint,
    YieldEstimate,
    equivalent_sigma,
    failure_probability,
    find_shift_point,
    importance_sampling,
    monte_carlo,
)

__all__ = ["DEFAULT_A_VT_MV_UM", "MismatchModel", "ShiftPoint", "YieldEstimate",
           "equivalent_sigma", "failure_probability", "find_shift_point", "importance_sampling",
           "mismatch_limit_state", "monte_carlo"]
